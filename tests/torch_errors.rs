//! Malformed torch files fail with clear errors (never a panic, never a wrong tensor).
#![cfg(feature = "torch")]

use serde_pickle_vm::torch::{Checkpoint, LoadOptions};
use serde_pickle_vm::ErrorKind;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/torch/bad");

#[test]
fn every_bad_fixture_fails_with_its_message() {
    let text = std::fs::read_to_string(format!("{DIR}/bad.json")).unwrap();
    let cases: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert!(cases.len() >= 14);
    for (name, needle) in &cases {
        let err = Checkpoint::open(format!("{DIR}/{name}.pt"))
            .and_then(|c| {
                // Errors may only show when data is read; read everything.
                for (_, t) in c.tensors() {
                    t.sha256()?;
                }
                Ok(c)
            })
            .err()
            .unwrap_or_else(|| panic!("{name} loaded"));
        let msg = err.to_string();
        assert!(
            msg.contains(needle.as_str().unwrap()),
            "{name}: {msg:?} lacks {needle}"
        );
        assert_eq!(err.kind(), ErrorKind::Format, "{name}: {msg}");
    }
}

#[test]
fn truncated_and_garbage_bytes_never_panic() {
    let good = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/torch/views.pt"
    ))
    .unwrap();
    for cut in (0..good.len()).step_by(97) {
        let _ = Checkpoint::from_slice(&good[..cut]);
    }
    let mut flipped = good.clone();
    for i in (0..flipped.len()).step_by(31) {
        flipped[i] ^= 0x5a;
        let _ = Checkpoint::from_slice(&flipped).map(|c| {
            c.tensors().iter().for_each(|(_, t)| {
                let _ = t.sha256();
            })
        });
        flipped[i] ^= 0x5a;
    }
    let legacy = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/torch/legacy.pt"
    ))
    .unwrap();
    for cut in (0..legacy.len()).step_by(53) {
        let _ = Checkpoint::from_slice(&legacy[..cut]);
    }
}

#[test]
fn empty_input() {
    let err = Checkpoint::from_slice(b"").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Format);
}

#[test]
fn a_member_that_inflates_1000x_is_refused() {
    // 8 MiB of zeros deflated to ~8 KiB: over the default ratio limit (100x).
    let ckpt = Checkpoint::open(format!("{DIR}/zip_bomb.pt")).unwrap();
    let err = ckpt.tensor("t").unwrap().to_vec::<f32>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit, "{err}");
    assert!(err.to_string().contains("max_inflate_ratio"), "{err}");
    // With the limit raised, it is an ordinary (compressed) tensor.
    let opts = LoadOptions {
        max_inflate_ratio: 10_000,
        ..LoadOptions::default()
    };
    let ckpt = Checkpoint::open_with(format!("{DIR}/zip_bomb.pt"), &opts).unwrap();
    let t = ckpt.tensor("t").unwrap().to_vec::<f32>().unwrap();
    assert_eq!(t.len(), 1 << 21);
    // And an absolute cap below its size refuses it again.
    let opts = LoadOptions {
        max_inflate_ratio: 10_000,
        max_inflated: 1 << 20,
        ..LoadOptions::default()
    };
    let ckpt = Checkpoint::open_with(format!("{DIR}/zip_bomb.pt"), &opts).unwrap();
    let err = ckpt.tensor("t").unwrap().sha256().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit, "{err}");
}

#[test]
fn a_member_that_inflates_past_its_header_is_refused() {
    // Both headers say 4096 bytes; the stream holds 8 MiB. Reading stops one byte past
    // the declared size.
    let ckpt = Checkpoint::open(format!("{DIR}/zip_bomb_lying.pt")).unwrap();
    let err = ckpt.tensor("t").unwrap().to_vec::<f32>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Format, "{err}");
    assert!(err.to_string().contains("its header says 4096"), "{err}");
}
