//! The VM from a slice and from a reader, then the JSON rendering of whatever loads,
//! with emulation (default) and without (raw). The two readers must agree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_pickle_vm::json::{to_string, to_writer, JsonOptions};
use serde_pickle_vm::{load_reader, load_slice, ErrorKind, Options, Unpickler};

fuzz_target!(|data: &[u8]| {
    let from_slice = load_slice(data);
    let from_reader = load_reader(data);
    // Both readers see the same bytes: they agree, with two known exceptions. A slice
    // checks a FRAME's length against what remains, a stream does not look ahead; and a
    // lying length is "truncated" from a slice but may hit the allocation limit first
    // from a stream (which cannot know what remains).
    match (&from_slice, &from_reader) {
        (Ok(a), Ok(b)) => {
            let (a, b) = (
                to_string(a, &JsonOptions::default()).map_err(|e| e.to_string()),
                to_string(b, &JsonOptions::default()).map_err(|e| e.to_string()),
            );
            assert_eq!(a, b, "slice and reader load different values");
        }
        (Err(a), Err(b)) => {
            if a.kind() != b.kind() {
                assert!(
                    b.kind() == ErrorKind::Limit || a.opcode() == Some("FRAME"),
                    "slice: {a}, reader: {b}"
                );
            }
        }
        (Err(a), Ok(_)) if a.opcode() == Some("FRAME") => {}
        (a, b) => panic!(
            "slice and reader disagree: {:?} vs {:?}",
            a.as_ref().err(),
            b.as_ref().err()
        ),
    }
    if let Ok(g) = from_reader {
        let mut sink = std::io::sink();
        let _ = to_writer(
            &g,
            &JsonOptions {
                pretty: true,
                data: true,
                ..JsonOptions::default()
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
