//! Whole checkpoints into typed structs in one pass: scalars and config dicts as plain
//! values, tensors as `Tensor` / `TensorOf<T>`, state dicts through their dotted names
//! or their unflattened groups, optimizer state by parameter index.
#![cfg(feature = "torch")]

use serde::Deserialize;
use serde_pickle_vm::torch::{self, Checkpoint, Tensor, TensorOf, TypedOptions};
use serde_pickle_vm::ErrorKind;
use std::collections::{BTreeMap, HashMap};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/torch");

// ---- fixtures/torch/checkpoint.pt: {"epoch", "model", "optimizer" (Adam), "config"}

#[derive(Deserialize)]
struct Training {
    epoch: u32,
    model: Model,
    optimizer: Adam,
    config: Config,
}

#[derive(Deserialize)]
struct Config {
    d_model: usize,
    nhead: usize,
    lr: f64,
    name: String,
}

#[derive(Deserialize)]
struct Model {
    layer: EncoderLayer,
    // A full dotted name and a group, side by side.
    #[serde(rename = "head.weight")]
    head_weight: TensorOf<f32>,
    head: Linear,
}

#[derive(Deserialize)]
struct EncoderLayer {
    self_attn: Attention,
    linear1: Linear,
    linear2: Linear,
    norm1: Linear,
    norm2: Linear,
}

#[derive(Deserialize)]
struct Attention {
    in_proj_weight: TensorOf<f32>,
    in_proj_bias: Tensor,
    out_proj: Linear,
}

#[derive(Deserialize)]
struct Linear {
    weight: TensorOf<f32>,
    bias: TensorOf<f32>,
}

#[derive(Deserialize)]
struct Adam {
    state: HashMap<u32, AdamState>,
    param_groups: Vec<ParamGroup>,
}

#[derive(Deserialize)]
struct AdamState {
    step: TensorOf<f32>,
    exp_avg: TensorOf<f32>,
    exp_avg_sq: TensorOf<f32>,
}

#[derive(Deserialize)]
struct ParamGroup {
    lr: f64,
    betas: (f64, f64),
    eps: f64,
    weight_decay: f64,
    amsgrad: bool,
    foreach: Option<bool>,
    params: Vec<u32>,
}

#[test]
fn training_checkpoint_in_one_pass() {
    let ckpt: Training = torch::load_typed(format!("{DIR}/checkpoint.pt")).unwrap();
    assert_eq!(ckpt.epoch, 3);
    let c = &ckpt.config;
    assert_eq!(
        (c.d_model, c.nhead, c.lr, c.name.as_str()),
        (8, 2, 1e-3, "tiny")
    );

    let m = &ckpt.model;
    assert_eq!(m.layer.self_attn.in_proj_weight.shape(), &[24, 8]);
    assert_eq!(m.layer.self_attn.in_proj_bias.shape(), &[24]);
    assert_eq!(m.layer.self_attn.out_proj.weight.shape(), &[8, 8]);
    assert_eq!(m.layer.linear1.weight.shape(), &[16, 8]);
    assert_eq!(m.layer.linear2.bias.shape(), &[8]);
    assert_eq!(m.layer.norm1.bias.shape(), &[8]);
    assert_eq!(m.layer.norm2.weight.shape(), &[8]);
    assert_eq!(m.head_weight.shape(), &[2, 8]);
    assert!(m.head_weight.storage().same(m.head.weight.storage()));
    assert_eq!(m.head.bias.shape(), &[2]);

    // The same values as the untyped walk.
    let untyped = Checkpoint::open(format!("{DIR}/checkpoint.pt")).unwrap();
    let w = untyped.tensor("model.layer.linear1.weight").unwrap();
    assert_eq!(
        m.layer.linear1.weight.sha256().unwrap(),
        w.sha256().unwrap()
    );

    let opt = &ckpt.optimizer;
    assert_eq!(opt.state.len(), 14);
    let s0 = &opt.state[&0];
    assert_eq!(s0.step.shape(), &[] as &[usize]);
    assert_eq!(s0.step.to_vec().unwrap(), [1.0]);
    assert_eq!(s0.exp_avg.shape(), &[24, 8]);
    assert_eq!(s0.exp_avg_sq.shape(), &[24, 8]);
    let g = &opt.param_groups[0];
    assert_eq!((g.lr, g.betas, g.eps), (1e-3, (0.9, 0.999), 1e-8));
    assert_eq!((g.weight_decay, g.amsgrad, g.foreach), (0.0, false, None));
    assert_eq!(g.params, (0..14).collect::<Vec<_>>());
}

#[test]
fn typed_load_reads_no_tensor_bytes() {
    let ckpt = Checkpoint::open(format!("{DIR}/checkpoint.pt")).unwrap();
    let t: Training = ckpt.deserialize().unwrap();
    assert!(!t.model.head.weight.storage().is_loaded());
    assert_eq!(t.model.head.weight.to_vec().unwrap().len(), 16);
    assert!(t.model.head.weight.storage().is_loaded());
}

// ---- fixtures/torch/encoder.pt: the example, with a list of layers

#[derive(Deserialize)]
struct EncoderCheckpoint {
    epoch: u32,
    config: EncoderConfig,
    model_state_dict: Encoder,
}

#[derive(Deserialize)]
struct EncoderConfig {
    vocab: usize,
    dim: usize,
    layers: usize,
}

#[derive(Deserialize)]
struct Encoder {
    #[serde(rename = "embed.weight")]
    embed: TensorOf<f32>,
    layers: Vec<Layer>,
}

#[derive(Deserialize)]
struct Layer {
    attn: Linear,
    #[serde(rename = "norm.weight")]
    norm_weight: TensorOf<f32>,
    norm: Linear,
}

#[test]
fn unflattened_keys_fill_lists_of_layers() {
    let ckpt: EncoderCheckpoint = torch::load_typed(format!("{DIR}/encoder.pt")).unwrap();
    assert_eq!(ckpt.epoch, 7);
    let c = &ckpt.config;
    let m = &ckpt.model_state_dict;
    assert_eq!(m.embed.shape(), &[c.vocab, c.dim]);
    assert_eq!(m.layers.len(), c.layers);
    for l in &m.layers {
        assert_eq!(l.attn.weight.shape(), &[4, 4]);
        assert_eq!(l.norm_weight.as_slice().unwrap(), &[1.0; 4]);
        assert_eq!(l.norm.bias.to_vec().unwrap(), [0.0; 4]);
    }
    let flat = Checkpoint::open(format!("{DIR}/encoder.pt")).unwrap();
    let w = flat
        .tensor("model_state_dict.layers.2.attn.weight")
        .unwrap();
    assert_eq!(
        m.layers[2].attn.weight.sha256().unwrap(),
        w.sha256().unwrap()
    );
}

#[test]
fn flat_maps_with_unflatten_off() {
    #[derive(Deserialize)]
    struct Flat {
        model_state_dict: BTreeMap<String, Tensor>,
    }
    let opts = TypedOptions {
        unflatten: false,
        ..TypedOptions::default()
    };
    let f: Flat = torch::load_typed_with(format!("{DIR}/encoder.pt"), &opts).unwrap();
    assert_eq!(f.model_state_dict.len(), 1 + 3 * 4);
    assert_eq!(f.model_state_dict["layers.1.norm.bias"].shape(), &[4]);
    // With groups added, a flat map of tensors meets a group and says so.
    let err = torch::load_typed::<Flat, _>(format!("{DIR}/encoder.pt"))
        .err()
        .unwrap();
    assert!(err.to_string().contains("expected a torch tensor"), "{err}");
    // Without unflattening, a group field is missing.
    let err = torch::load_typed_with::<EncoderCheckpoint, _>(format!("{DIR}/encoder.pt"), &opts)
        .err()
        .unwrap();
    assert!(err.to_string().contains("layers"), "{err}");
}

#[test]
fn wrong_dtype_and_non_tensors_are_named() {
    #[derive(Debug, Deserialize)]
    struct Bad {
        #[allow(dead_code)]
        epoch: Tensor,
    }
    let err = torch::load_typed::<Bad, _>(format!("{DIR}/checkpoint.pt")).unwrap_err();
    assert!(
        err.to_string().contains("int 3, expected a torch tensor"),
        "{err}"
    );
    assert!(err.to_string().contains("epoch"), "{err}");

    #[derive(Debug, Deserialize)]
    struct Half {
        #[allow(dead_code)]
        #[serde(rename = "embed.weight")]
        embed: TensorOf<half::f16>,
    }
    #[derive(Debug, Deserialize)]
    struct Outer {
        #[allow(dead_code)]
        model_state_dict: Half,
    }
    let err = torch::load_typed::<Outer, _>(format!("{DIR}/encoder.pt")).unwrap_err();
    // Through serde, the dtype error comes back as a custom error with its path.
    assert_eq!(err.kind(), ErrorKind::Custom, "{err}");
    assert!(
        err.to_string()
            .contains("expected a float16 tensor, found float32"),
        "{err}"
    );
}
