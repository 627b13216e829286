//! Checkpoints from bytes and from a seekable reader; every tensor's bytes are read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_pickle_vm::json::{to_string, JsonOptions};
use serde_pickle_vm::torch::{Checkpoint, LoadOptions};

/// Reading a tensor materialises `nbytes` (a stride-0 view of one element may describe
/// a huge tensor, as torch's `expand` does); the fuzzer reads only what fits the budget,
/// which is what a careful caller checks before `to_vec`.
const MAX_READ: usize = 64 << 20;

fn exercise(c: &Checkpoint) {
    let mut small = true;
    for (_, t) in c.tensors() {
        small &= t.nbytes() <= MAX_READ;
        if t.nbytes() <= MAX_READ {
            let _ = t.data_le();
            let _ = t.sha256();
            let _ = t.scalar(0);
            let _ = t.to_contiguous();
        }
    }
    let _ = c.state_dict().unflatten();
    // The JSON carries each tensor's sha256, which reads it: only when all are small.
    if small {
        let _ = to_string(c.graph(), &JsonOptions::default());
    }
}

fuzz_target!(|data: &[u8]| {
    let opts = LoadOptions {
        max_inflated: 256 << 20,
        ..LoadOptions::default()
    };
    if let Ok(c) =
        Checkpoint::from_bytes_with(serde_pickle_vm::torch::Bytes::new(data.to_vec()), &opts)
    {
        exercise(&c);
    }
    if let Ok(c) = Checkpoint::from_reader_with(std::io::Cursor::new(data.to_vec()), &opts) {
        exercise(&c);
    }
});
