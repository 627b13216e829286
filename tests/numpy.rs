//! numpy arrays and scalars pickled by numpy 1.x and 2.x, protocols 2 and 5 (in-band and
//! out-of-band buffers): dtype, shape, order and element digests match numpy's.
#![cfg(feature = "numpy")]

use serde_json::Value as Json;
use serde_pickle_vm::json::{to_string, JsonOptions};
use serde_pickle_vm::numpy::{NdArray, Order};
use serde_pickle_vm::{Emulated, Unpickler};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/torch");

fn expected() -> Json {
    serde_json::from_str(&std::fs::read_to_string(format!("{DIR}/numpy.json")).unwrap()).unwrap()
}

fn check(file: &str, buffers: Vec<Vec<u8>>) {
    let data = std::fs::read(format!("{DIR}/{file}")).unwrap();
    let mut up = Unpickler::new();
    if !buffers.is_empty() {
        up = up.buffers(buffers);
    }
    let graph = up.load_slice(&data).unwrap();
    let json: Json =
        serde_json::from_str(&to_string(&graph, &JsonOptions::default()).unwrap()).unwrap();
    let exp = expected();
    let root = &json["dict"];
    let find = |v: &Json, key: &str| -> Json {
        v["dict"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p[0] == key)
            .map(|p| p[1].clone())
            .unwrap_or(Json::Null)
    };
    let arrays = if file.contains("oob") {
        json.clone()
    } else {
        root.as_array()
            .unwrap()
            .iter()
            .find(|p| p[0] == "arrays")
            .unwrap()[1]
            .clone()
    };
    for (name, e) in exp["arrays"].as_object().unwrap() {
        let got = find(&arrays, name);
        if got.is_null() && file.contains("oob") {
            continue;
        }
        let a = &got["ndarray"];
        assert_eq!(a["dtype"], e["dtype"], "{file} {name}");
        assert_eq!(a["shape"], e["shape"], "{file} {name}");
        if let Some(h) = e.get("sha256") {
            assert_eq!(&a["sha256"], h, "{file} {name}");
        } else {
            assert_eq!(
                a["items"],
                serde_json::json!([1, "two", null]),
                "{file} {name}"
            );
        }
    }
    if !file.contains("oob") {
        let scalars = root
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p[0] == "scalars")
            .unwrap()[1]
            .clone();
        for (name, e) in exp["scalars"].as_object().unwrap() {
            let s = &find(&scalars, name)["npscalar"];
            assert_eq!(s["dtype"], e["dtype"], "{file} {name}");
            let v = &s["value"];
            match &e["value"] {
                Json::Bool(b) => assert_eq!(v, &Json::Bool(*b)),
                Json::Number(n) if n.is_i64() => assert_eq!(v.as_i64(), n.as_i64(), "{name}"),
                Json::Number(n) => assert_eq!(v["float"].as_f64(), n.as_f64(), "{name}"),
                Json::Array(c) => assert_eq!(v["complex"][0]["float"].as_f64(), c[0].as_f64()),
                other => panic!("{other}"),
            }
        }
    }
}

#[test]
fn numpy2_protocol2() {
    check("numpy_p2.pkl", vec![]);
}

#[test]
fn numpy2_protocol5_in_band() {
    check("numpy_p5.pkl", vec![]);
}

#[test]
fn numpy1_module_names() {
    check("numpy1_p2.pkl", vec![]);
}

#[test]
fn protocol5_out_of_band_buffers() {
    let n = expected()["oob_buffers"].as_u64().unwrap();
    let bufs = (0..n)
        .map(|i| std::fs::read(format!("{DIR}/numpy_oob.buf{i}")).unwrap())
        .collect();
    check("numpy_oob.pkl", bufs);
}

#[test]
fn typed_reads_of_arrays() {
    let data = std::fs::read(format!("{DIR}/numpy_p2.pkl")).unwrap();
    let graph = serde_pickle_vm::load_slice(&data).unwrap();
    let arrays = graph.root().get("arrays").unwrap();
    let array = |name: &str| -> NdArray {
        match arrays.get(name).unwrap().as_emulated().unwrap() {
            Emulated::NdArray(a) => (**a).clone(),
            other => panic!("{other:?}"),
        }
    };
    let f = array("i2_fortran");
    assert_eq!(f.order(), Order::F);
    assert_eq!(
        f.tensor().unwrap().to_vec::<i16>().unwrap(),
        [0, 1, 2, 3, 4, 5]
    );
    let be = array("f8be");
    assert_eq!(
        be.tensor().unwrap().to_vec::<f64>().unwrap(),
        [1.5, -2.0, 1e300]
    );
    let zero_d = array("i8_0d");
    assert_eq!(zero_d.shape(), &[] as &[usize]);
    assert_eq!(zero_d.tensor().unwrap().to_vec::<i64>().unwrap(), [42]);
    let opts = JsonOptions {
        data: true,
        ..JsonOptions::default()
    };
    let text = to_string(&graph, &opts).unwrap();
    assert!(text.contains(r#""data":[[0,3],[1,4],[2,5]]"#), "{text}");
}
