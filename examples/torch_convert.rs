//! Walks a checkpoint's state dict and copies tensors out as plain `Vec`s: what a
//! conversion to another framework or format does. Shows `Checkpoint::state_dict`,
//! `StateDict::strip_prefix` / `iter`, `Tensor::to_vec::<f32>()` (a copy in C order and
//! native byte order, whatever the strides or the file's byte order) and dtype checks.
//!
//! `cargo run --features torch,mmap --example torch_convert [FILE [PREFIX]]`
//!
//! The default FILE, `fixtures/torch/checkpoint.pt`, was written by
//! `fixtures/generate_torch.py`: a `TransformerEncoderLayer` + `Linear` head after one
//! Adam step, saved as
//!
//! ```python
//! torch.save({"epoch": 3, "model": model.state_dict(), "optimizer": opt.state_dict(),
//!             "config": {"d_model": 8, "nhead": 2, "lr": 1e-3, "name": "tiny"}}, path)
//! ```
//!
//! and the default PREFIX, `model.`, picks the model's tensors out of it.

use serde_pickle_vm::torch::{Checkpoint, Dtype};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/torch/checkpoint.pt").into()
    });
    let prefix = args.next().unwrap_or_else(|| "model.".into());
    let ckpt = Checkpoint::open(&path)?;
    let sd = ckpt.state_dict().strip_prefix(&prefix);
    println!("{} tensors under {prefix:?} in {path}", sd.len());
    let mut total = 0usize;
    for (name, t) in sd.iter() {
        if t.dtype() != Dtype::F32 {
            println!(
                "{name}: {} {:?} (skipped: not float32)",
                t.dtype(),
                t.shape()
            );
            continue;
        }
        let values: Vec<f32> = t.to_vec()?;
        total += values.len();
        let mean = values.iter().sum::<f32>() / values.len().max(1) as f32;
        println!("{name}: {:?} mean {mean:+.4}", t.shape());
    }
    println!("copied {total} float32 values");
    Ok(())
}
