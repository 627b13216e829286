//! The VM from a slice and from a reader, then the JSON rendering of whatever loads,
//! with emulation (default) and without (raw). The two readers must agree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_pickle_vm::json::{to_string, to_writer, JsonOptions};
use serde_pickle_vm::{load_reader, load_slice, Options, Unpickler};

fuzz_target!(|data: &[u8]| {
    let from_slice = load_slice(data);
    let from_reader = load_reader(data);
    // Both readers see the same bytes: they succeed or fail together, with one kind.
    match (&from_slice, &from_reader) {
        (Ok(_), Ok(_)) => {}
        (Err(a), Err(b)) => {
            // A lying length is "truncated" from a slice (it knows what remains) and may
            // be the allocation limit from a stream.
            if a.kind() != b.kind() {
                assert!(
                    b.kind() == serde_pickle_vm::ErrorKind::Limit,
                    "slice: {a}, reader: {b}"
                );
            }
        }
        (a, b) => panic!(
            "slice and reader disagree: {:?} vs {:?}",
            a.as_ref().err(),
            b.as_ref().err()
        ),
    }
    if let Ok(g) = from_slice {
        let _ = to_string(&g, &JsonOptions::default());
        drop(g);
    }
    if let Ok(g) = from_reader {
        let mut sink = std::io::sink();
        let _ = to_writer(
            &g,
            &JsonOptions {
                pretty: true,
                data: true,
            },
            &mut sink,
        );
    }
    let raw = Options {
        emulate: false,
        ..Options::default()
    };
    if let Ok(g) = Unpickler::with_options(raw).load_slice(data) {
        let _ = to_string(&g, &JsonOptions::default());
    }
});
