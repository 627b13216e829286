//! torch checkpoints: every fixture written by `fixtures/generate_torch.py` loads, and
//! every tensor matches what torch itself reported (dtype, shape, strides, offset,
//! requires_grad, and the sha256 of its elements).
#![cfg(feature = "torch")]

use serde_json::Value as Json;
use serde_pickle_vm::torch::{Checkpoint, Dtype, Format, Tensor};
use std::collections::BTreeMap;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/torch");

fn expected(name: &str) -> BTreeMap<String, Json> {
    let text = std::fs::read_to_string(format!("{DIR}/{name}.json")).unwrap();
    let doc: Json = serde_json::from_str(&text).unwrap();
    doc["tensors"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn check_tensor(file: &str, name: &str, t: &Tensor, e: &Json) {
    let ctx = format!("{file}: {name}");
    assert_eq!(
        t.dtype().name(),
        e["dtype"].as_str().unwrap(),
        "{ctx} dtype"
    );
    let ints = |j: &Json| -> Vec<usize> {
        j.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect()
    };
    assert_eq!(t.shape(), ints(&e["shape"]), "{ctx} shape");
    assert_eq!(t.strides(), ints(&e["stride"]), "{ctx} stride");
    assert_eq!(
        t.storage_offset() as u64,
        e["storage_offset"].as_u64().unwrap(),
        "{ctx} offset"
    );
    assert_eq!(
        t.requires_grad(),
        e["requires_grad"].as_bool().unwrap(),
        "{ctx} requires_grad"
    );
    assert_eq!(
        t.storage().nbytes(),
        e["storage_nbytes"].as_u64().unwrap(),
        "{ctx} storage size"
    );
    assert_eq!(
        t.sha256().unwrap(),
        e["sha256"].as_str().unwrap(),
        "{ctx} data"
    );
}

fn check_file(name: &str) -> Checkpoint {
    let ckpt =
        Checkpoint::open(format!("{DIR}/{name}.pt")).unwrap_or_else(|e| panic!("{name}: {e}"));
    let exp = expected(name);
    let got = ckpt.tensors();
    let mut names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    names.sort();
    let exp_names: Vec<&str> = exp.keys().map(String::as_str).collect();
    assert_eq!(names, exp_names, "{name}: tensor names");
    for (n, t) in &got {
        check_tensor(name, n, t, &exp[n]);
    }
    ckpt
}

#[test]
fn every_dtype() {
    let ckpt = check_file("dtypes");
    for d in [
        "float16",
        "float32",
        "float64",
        "bfloat16",
        "complex64",
        "complex128",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "bool",
        "float8_e4m3fn",
        "float8_e5m2",
        "float8_e4m3fnuz",
        "float8_e5m2fnuz",
        "float8_e8m0fnu",
    ] {
        let t = ckpt.tensor(d).unwrap();
        assert_eq!(t.dtype(), Dtype::from_name(d).unwrap());
    }
    let f = ckpt.tensor("float32").unwrap();
    assert_eq!(
        f.to_vec::<f32>().unwrap(),
        [0.0, 1.5, -2.25, 3.0, -0.5, 100.0]
    );
    let b = ckpt.tensor("bfloat16").unwrap();
    assert_eq!(
        b.to_vec::<half::bf16>().unwrap()[1],
        half::bf16::from_f32(1.5)
    );
    let h = ckpt.tensor("float16").unwrap();
    assert_eq!(
        h.to_vec::<half::f16>().unwrap()[2],
        half::f16::from_f32(-2.25)
    );
    let c = ckpt.tensor("complex64").unwrap();
    assert_eq!(c.to_vec::<[f32; 2]>().unwrap()[1], [1.5, -1.5]);
    assert_eq!(
        ckpt.tensor("bool").unwrap().to_vec::<bool>().unwrap()[..3],
        [true, false, true]
    );
    assert_eq!(
        ckpt.tensor("big_i64").unwrap().to_vec::<i64>().unwrap(),
        [i64::MIN, i64::MAX, -1]
    );
    assert_eq!(
        ckpt.tensor("uint64").unwrap().to_vec::<u64>().unwrap()[5],
        127
    );
    let s = ckpt.tensor("scalar0d").unwrap();
    assert_eq!(s.shape(), &[] as &[usize]);
    assert_eq!(s.to_vec::<f32>().unwrap(), [3.5]);
    assert_eq!(ckpt.tensor("empty").unwrap().numel(), 0);
    // float8 values decode for display.
    use serde_pickle_vm::torch::Scalar;
    for d in [
        "float8_e4m3fn",
        "float8_e5m2",
        "float8_e4m3fnuz",
        "float8_e5m2fnuz",
    ] {
        let t = ckpt.tensor(d).unwrap();
        // -2.25 needs 3 mantissa bits; e5m2 has 2 and rounds it to -2.
        let v = if d.contains("e5m2") { -2.0 } else { -2.25 };
        assert_eq!(t.scalar(2).unwrap(), Scalar::Float(v), "{d}");
        assert_eq!(t.scalar(5).unwrap(), Scalar::Float(96.0), "{d}"); // 100 rounds to 96
    }
    let e8 = ckpt.tensor("float8_e8m0fnu").unwrap();
    assert_eq!(e8.scalar(3).unwrap(), Scalar::Float(0.5));
    // Wrong type is an error, not a reinterpretation.
    assert!(f.to_vec::<i32>().is_err());
}

#[test]
fn views_share_storages() {
    let ckpt = check_file("views");
    let base = ckpt.tensor("base").unwrap();
    for n in ["transposed", "row2", "col3", "strided"] {
        assert!(
            ckpt.tensor(n).unwrap().storage().same(base.storage()),
            "{n}"
        );
    }
    assert!(!ckpt.tensor("other").unwrap().storage().same(base.storage()));
    let col = ckpt.tensor("col3").unwrap();
    assert_eq!(col.to_vec::<f32>().unwrap(), [3.0, 9.0, 15.0, 21.0]);
    assert!(col.as_slice::<f32>().is_err());
    let row = ckpt.tensor("row2").unwrap();
    assert_eq!(
        row.as_slice::<f32>().unwrap(),
        [12., 13., 14., 15., 16., 17.]
    );
    let c = ckpt.tensor("strided").unwrap().to_contiguous().unwrap();
    assert!(c.is_contiguous());
    assert_eq!(
        c.as_slice::<f32>().unwrap(),
        [6., 8., 10., 12., 14., 16., 18., 20., 22.]
    );
    let e = ckpt.tensor("expanded").unwrap();
    assert_eq!(e.strides(), &[1, 0]);
    assert_eq!(
        e.to_vec::<i16>().unwrap(),
        [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]
    );
}

#[test]
fn parameters_and_state_dicts() {
    let p = check_file("params");
    assert!(p.tensor("w").unwrap().requires_grad());
    assert!(!p.tensor("b").unwrap().requires_grad());
    assert!(p.tensor("plain").unwrap().requires_grad());
    let sd = check_file("layer_state_dict");
    // The OrderedDict keeps its `_metadata` state.
    assert!(sd.root().as_emulated().is_some());
    assert!(sd.root().get("head.weight").is_some());
}

#[test]
fn training_checkpoint() {
    let ckpt = check_file("checkpoint");
    let root = ckpt.root();
    assert_eq!(root.get("epoch").unwrap().as_i64(), Some(3));
    assert_eq!(
        root.get("config").unwrap().get("name").unwrap().as_str(),
        Some("tiny")
    );
    let sd = ckpt.state_dict();
    assert!(sd.get("optimizer.state.0.exp_avg").is_some());
    let model = sd.strip_prefix("model.");
    assert!(model.get("head.weight").is_some());
}

#[test]
fn whole_module_and_torchscript() {
    let m = check_file("module");
    assert!(m.root().as_object().is_some());
    let s = Checkpoint::open(format!("{DIR}/scripted.pt")).unwrap();
    assert!(matches!(
        s.format(),
        Format::Zip {
            torchscript: true,
            ..
        }
    ));
    let exp = expected("scripted");
    let got = s.tensors();
    assert_eq!(got.len(), exp.len());
    for (name, e) in &exp {
        let (_, t) = got
            .iter()
            .find(|(n, _)| n.ends_with(name.as_str()))
            .unwrap_or_else(|| panic!("scripted: {name}"));
        check_tensor("scripted", name, t, e);
    }
}

#[test]
fn legacy_formats() {
    let l = check_file("legacy");
    assert_eq!(l.format(), &Format::Legacy);
    let t = check_file("legacy_tar");
    assert_eq!(t.format(), &Format::Tar);
    assert_eq!(
        t.tensor("b").unwrap().to_vec::<f32>().unwrap(),
        [1.0, 3.0, 5.0]
    );
}

#[test]
fn big_endian_archive() {
    let ckpt = check_file("big_endian");
    assert!(matches!(
        ckpt.format(),
        Format::Zip {
            byte_order: serde_pickle_vm::torch::ByteOrder::Big,
            ..
        }
    ));
    let t = ckpt.tensor("f32").unwrap();
    assert_eq!(t.to_vec::<f32>().unwrap(), [1.0, -2.5, 3.25]);
    assert!(t.as_slice::<f32>().is_err());
    assert_eq!(
        t.to_contiguous().unwrap().as_slice::<f32>().unwrap(),
        [1.0, -2.5, 3.25]
    );
    assert_eq!(
        ckpt.tensor("i64").unwrap().to_vec::<i64>().unwrap()[3],
        1 << 40
    );
}

#[test]
fn opening_reads_no_tensor_bytes() {
    let ckpt = Checkpoint::open(format!("{DIR}/layer_state_dict.pt")).unwrap();
    assert!(ckpt.tensors().iter().all(|(_, t)| !t.storage().is_loaded()));
    let (_, t) = &ckpt.tensors()[0];
    t.to_vec::<f32>().unwrap();
    assert!(t.storage().is_loaded());
}

#[test]
fn bytes_and_readers() {
    let data = std::fs::read(format!("{DIR}/views.pt")).unwrap();
    let a = Checkpoint::from_slice(&data).unwrap();
    let b = Checkpoint::from_reader(std::io::Cursor::new(data)).unwrap();
    for ((na, ta), (nb, tb)) in a.tensors().iter().zip(b.tensors()) {
        assert_eq!(na, &nb);
        assert_eq!(ta.sha256().unwrap(), tb.sha256().unwrap());
    }
}

#[test]
fn sharded_checkpoint() {
    let sd =
        serde_pickle_vm::torch::load_sharded(format!("{DIR}/sharded/pytorch_model.bin.index.json"))
            .unwrap();
    // The shards hold the model after the training step, as checkpoint.pt does.
    let full = Checkpoint::open(format!("{DIR}/checkpoint.pt"))
        .unwrap()
        .state_dict()
        .strip_prefix("model.");
    assert_eq!(sd.len(), full.len());
    for (n, t) in full.iter() {
        assert_eq!(
            sd.get(n).unwrap().sha256().unwrap(),
            t.sha256().unwrap(),
            "{n}"
        );
    }
}

#[test]
fn unflatten_state_dict() {
    use serde_pickle_vm::torch::Nested;
    let ckpt = Checkpoint::open(format!("{DIR}/checkpoint.pt")).unwrap();
    let tree = ckpt.state_dict().unflatten().unwrap();
    let state = tree.get("optimizer").unwrap().get("state").unwrap();
    assert!(matches!(state, Nested::Seq(v) if !v.is_empty()));
    assert!(matches!(
        tree.get("model").unwrap().get("head").unwrap().get("bias"),
        Some(Nested::Tensor(_))
    ));
}

#[test]
fn typed_state_dict() {
    use serde::Deserialize;
    use serde_pickle_vm::torch::TensorOf;

    #[derive(Deserialize)]
    struct Linear {
        weight: TensorOf<f32>,
        bias: Tensor,
    }
    #[derive(Deserialize)]
    struct Attn {
        in_proj_weight: TensorOf<f32>,
        out_proj: Linear,
    }
    #[derive(Deserialize)]
    struct Layer {
        self_attn: Attn,
        linear1: Linear,
        norm1: Linear,
    }
    #[derive(Deserialize)]
    struct Model {
        layer: Layer,
        head: Linear,
    }
    #[derive(Deserialize)]
    struct Moments {
        exp_avg: TensorOf<f32>,
        step: Tensor,
    }
    #[derive(Deserialize)]
    struct Optim {
        state: Vec<Moments>,
    }
    #[derive(Deserialize)]
    struct Ckpt {
        model: Model,
        optimizer: Optim,
    }
    let sd = Checkpoint::open(format!("{DIR}/checkpoint.pt"))
        .unwrap()
        .state_dict();
    let ck: Ckpt = sd.deserialize().unwrap();
    assert_eq!(ck.model.layer.self_attn.in_proj_weight.shape(), &[24, 8]);
    assert_eq!(ck.model.layer.linear1.weight.shape(), &[16, 8]);
    assert_eq!(ck.model.layer.self_attn.out_proj.weight.shape(), &[8, 8]);
    assert_eq!(ck.model.head.bias.shape(), &[2]);
    assert_eq!(ck.model.layer.norm1.weight.to_vec().unwrap().len(), 8);
    assert_eq!(ck.optimizer.state.len(), sd.strip_prefix("model.").len());
    assert_eq!(
        ck.optimizer.state[0].exp_avg.shape(),
        ck.model.layer.self_attn.in_proj_weight.shape()
    );
    assert_eq!(ck.optimizer.state[0].step.numel(), 1);

    // The dtype is checked: a float32 tensor is not a TensorOf<f64>.
    #[derive(Deserialize, Debug)]
    struct Wrong {
        #[allow(dead_code)]
        head: WrongLinear,
    }
    #[derive(Deserialize, Debug)]
    struct WrongLinear {
        #[allow(dead_code)]
        weight: TensorOf<f64>,
    }
    let err = sd
        .strip_prefix("model.")
        .deserialize::<Wrong>()
        .unwrap_err();
    assert!(err.to_string().contains("float64"), "{err}");
    // A missing tensor is named.
    #[derive(Deserialize, Debug)]
    struct Missing {
        #[allow(dead_code)]
        nope: Tensor,
    }
    let err = sd.deserialize::<Missing>().unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
}

#[cfg(feature = "cli")]
#[test]
fn convert_skips_unsupported_dtypes_when_asked() {
    let exe = env!("CARGO_BIN_EXE_pickle-vm");
    let dir = std::env::temp_dir().join(format!("spvm-convert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("dtypes.safetensors");
    let run = |extra: &[&str]| {
        std::process::Command::new(exe)
            .args(["torch", "convert", &format!("{DIR}/dtypes.pt")])
            .arg(&out)
            .args(["--force"])
            .args(extra)
            .output()
            .unwrap()
    };
    // complex128 has no safetensors dtype: the whole file fails without the flag …
    let r = run(&[]);
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("complex128"));
    // … and is left out, by name, with it.
    let r = run(&["--skip-unsupported"]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "{err}");
    assert!(err.contains("skipping complex128"), "{err}");
    let bytes = std::fs::read(&out).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert!(st.tensor("complex128").is_err());
    assert_eq!(st.tensor("float32").unwrap().shape(), &[2, 3]);
    std::fs::remove_dir_all(&dir).ok();
}
