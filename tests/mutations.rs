//! Robustness smoke test: every small fixture, truncated at every byte and with bytes
//! flipped at random (fixed seed), loads or fails with an error — never a panic — and
//! whatever loads also renders as JSON. (The fuzz targets in `fuzz/` go much further.)

use serde_pickle_vm::json::{to_string, JsonOptions};
use serde_pickle_vm::{load_reader, load_slice, Options, Unpickler};
use std::path::Path;

fn fixtures() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pickles");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "pkl") {
            let data = std::fs::read(&path).unwrap();
            if data.len() <= 1024 {
                out.push(data);
            }
        }
    }
    out.sort();
    out
}

fn exercise(data: &[u8]) {
    if let Ok(g) = load_slice(data) {
        let _ = to_string(&g, &JsonOptions::default());
    }
    let _ = load_reader(data);
    let raw = Options {
        emulate: false,
        ..Options::default()
    };
    if let Ok(g) = Unpickler::with_options(raw).load_slice(data) {
        let _ = to_string(
            &g,
            &JsonOptions {
                pretty: true,
                ..JsonOptions::default()
            },
        );
    }
}

#[test]
fn truncation_at_every_byte() {
    let files = fixtures();
    assert!(files.len() > 500);
    for data in &files {
        for end in 0..data.len() {
            let cut = &data[..end];
            // A pickle cut before its STOP never loads.
            assert!(
                load_slice(cut).is_err(),
                "a cut at {end} of {} loads: {:?}",
                data.len(),
                &data[..end.min(40)]
            );
            exercise(cut);
        }
    }
}

#[test]
fn random_byte_flips() {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for data in fixtures() {
        if data.is_empty() {
            continue;
        }
        for _ in 0..20 {
            let mut m = data.clone();
            for _ in 0..(1 + next() % 3) {
                let i = (next() % m.len() as u64) as usize;
                m[i] = next() as u8;
            }
            exercise(&m);
        }
    }
}
