//! A training checkpoint into typed structs in one pass: the epoch, the config dict, the
//! model's state dict (a list of layers, through its unflattened names) — tensors
//! memory-mapped, no byte of them read until asked for.
//!
//! `cargo run --features torch,mmap --example torch_checkpoint [FILE]`
//!
//! The default FILE, `fixtures/torch/encoder.pt`, was written by
//! `fixtures/generate_torch.py`:
//!
//! ```python
//! class Encoder(torch.nn.Module):
//!     def __init__(self):
//!         super().__init__()
//!         self.embed = torch.nn.Embedding(10, 4)
//!         self.layers = torch.nn.ModuleList(
//!             torch.nn.ModuleDict({"attn": torch.nn.Linear(4, 4), "norm": torch.nn.LayerNorm(4)})
//!             for _ in range(3))
//!
//! model = Encoder()
//! torch.save({"epoch": 7, "config": {"vocab": 10, "dim": 4, "layers": 3, "name": "enc"},
//!             "model_state_dict": model.state_dict()}, "fixtures/torch/encoder.pt")
//! ```

use serde::Deserialize;
use serde_pickle_vm::torch::{self, TensorOf};

#[derive(Deserialize)]
struct Checkpoint {
    epoch: u32,
    config: Config,
    model_state_dict: Encoder,
}

#[derive(Deserialize)]
struct Config {
    vocab: usize,
    dim: usize,
    name: String,
}

#[derive(Deserialize)]
struct Encoder {
    // A tensor by its full name in the state dict …
    #[serde(rename = "embed.weight")]
    embed: TensorOf<f32>,
    // … or a group of names by their prefix: `layers.0.…`, `layers.1.…`, …
    layers: Vec<Layer>,
}

#[derive(Deserialize)]
struct Layer {
    attn: Linear,
    norm: Linear,
}

#[derive(Deserialize)]
struct Linear {
    weight: TensorOf<f32>,
    bias: TensorOf<f32>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/torch/encoder.pt").into()
    });
    let ckpt: Checkpoint = torch::load_typed(&path)?;
    let Config { vocab, dim, name } = &ckpt.config;
    println!("{name}: epoch {}, vocab {vocab}, dim {dim}", ckpt.epoch);
    let model = &ckpt.model_state_dict;
    println!("embed: {:?} {}", model.embed.shape(), model.embed.dtype());
    for (i, layer) in model.layers.iter().enumerate() {
        // Contiguous little-endian float32 in a mapped file: a slice, no copy.
        let w: &[f32] = layer.attn.weight.as_slice()?;
        let norm: Vec<f32> = layer.norm.weight.to_vec()?;
        println!(
            "layer {i}: attn {:?} (|w|₁ = {:.3}, bias {:?}), norm weight {norm:?}",
            layer.attn.weight.shape(),
            w.iter().map(|x| x.abs()).sum::<f32>(),
            layer.attn.bias.shape(),
        );
    }
    Ok(())
}
