//! The file readers against the fixtures helper's files (`fixtures/numpy/`, written by
//! `fixtures/generate_numpy.py` with numpy 2.4, joblib 1.6 and 0.9.4): every `.npy`
//! (wide headers, UTF-8 names), `.npz` (zip64 members), joblib dump (every compressor,
//! the multi-file layouts) and hostile file, through `file::load_file`.
#![cfg(feature = "npz")]

mod files_common;

use files_common::{item_json, json_eq, to_json};
use serde_json::Value as Json;
use serde_pickle_vm::array::{NdArray, Order};
use serde_pickle_vm::file::{self, Format};
use serde_pickle_vm::{Emulated, ErrorKind, Value};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/numpy");

fn manifest() -> Json {
    let text = std::fs::read_to_string(format!("{DIR}/manifest.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// An element by the fixtures' convention: `S` as its byte values, non-finite floats as
/// `"nan"`, `"inf"`, `"-inf"`.
fn element(a: &NdArray, i: usize) -> Json {
    use serde_pickle_vm::array::Item;
    let float = |f: f64| -> Json {
        if f.is_nan() {
            "nan".into()
        } else if f.is_infinite() {
            if f > 0.0 { "inf" } else { "-inf" }.into()
        } else {
            f.into()
        }
    };
    match a.item(i).unwrap() {
        Item::Bytes(b) => b.iter().map(|&x| Json::from(x)).collect(),
        Item::Float(f) => float(f),
        Item::Complex(re, im) => Json::Array(vec![float(re), float(im)]),
        Item::DateTime(n, _) | Item::TimeDelta(n, _) => n.into(),
        other => item_json(other),
    }
}

fn flatten(v: &Json, depth: usize, out: &mut Vec<Json>) {
    match v {
        Json::Array(items) if depth > 0 => items.iter().for_each(|x| flatten(x, depth - 1, out)),
        other => out.push(other.clone()),
    }
}

/// The array at `v` against the fixtures' array convention.
fn check(name: &str, v: Value<'_, '_>, spec: &Json) {
    let shape: Vec<usize> = spec["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    match v.as_emulated() {
        Some(Emulated::ObjectArray {
            shape: s, items, ..
        }) => {
            assert_eq!(spec["dtype"], "|O", "{name}");
            assert_eq!(s, &shape, "{name}");
            let got: Vec<Json> = v
                .graph()
                .items(*items)
                .iter()
                .map(|p| to_json(v.with(*p)))
                .collect();
            let mut want = Vec::new();
            flatten(&spec["values"], shape.len(), &mut want);
            assert!(
                json_eq(&Json::Array(got.clone()), &Json::Array(want.clone())),
                "{name}: {got:?} != {want:?}"
            );
        }
        Some(Emulated::NdArray(a)) => {
            assert_eq!(a.descr(), spec["dtype"], "{name}");
            assert_eq!(a.shape(), shape.as_slice(), "{name}");
            let order = if a.order() == Order::F { "F" } else { "C" };
            // numpy calls 1-d, 0-d and empty arrays C whatever the header says.
            if shape.iter().filter(|&&n| n > 1).count() > 1 {
                assert_eq!(order, spec["order"], "{name}");
            }
            if let Some(h) = spec.get("sha256") {
                assert_eq!(a.sha256().unwrap(), *h, "{name}");
            }
            if let Some(fields) = spec["fields"].as_array() {
                let got: Vec<Json> = a
                    .dtype()
                    .fields()
                    .iter()
                    .map(|f| serde_json::json!([f.name, f.dtype.str(), f.offset]))
                    .collect();
                assert_eq!(&got, fields, "{name}");
            } else if a.dtype().unit().is_some()
                || a.tensor().is_some()
                || matches!(spec["dtype"].as_str(), Some(d) if d.contains('U') || d.contains('S'))
            {
                let mut want = Vec::new();
                flatten(&spec["values"], shape.len(), &mut want);
                let got: Vec<Json> = (0..a.numel()).map(|i| element(a, i)).collect();
                assert!(
                    json_eq(&Json::Array(got.clone()), &Json::Array(want.clone())),
                    "{name}: {got:?} != {want:?}"
                );
            }
        }
        _ => panic!("{name}: a {}, not an array", v.type_name()),
    }
}

/// A tagged structure (`{"dict": …}`, `{"list": …}`, `{"ndarray": …}`, `{"scalar": …}`).
fn check_tagged(name: &str, v: Value<'_, '_>, want: &Json) {
    let Some(obj) = want.as_object().filter(|o| o.len() == 1) else {
        assert!(
            json_eq(&to_json(v), want),
            "{name}: {} != {want}",
            to_json(v)
        );
        return;
    };
    let (tag, inner) = obj.iter().next().unwrap();
    match tag.as_str() {
        "ndarray" => check(name, v, inner),
        "scalar" => {
            let Some(Emulated::NpScalar(s)) = v.as_emulated() else {
                panic!("{name}: not a numpy scalar")
            };
            assert_eq!(s.descr(), inner["dtype"], "{name}");
            assert!(json_eq(&item_json(s.item()), &inner["value"]), "{name}");
        }
        "dict" => {
            for (k, x) in inner.as_object().unwrap() {
                let child = v
                    .get(k.as_str())
                    .unwrap_or_else(|| panic!("{name}: no {k}"));
                check_tagged(&format!("{name}.{k}"), child, x);
            }
        }
        "list" | "tuple" => {
            let items = inner.as_array().unwrap();
            assert_eq!(v.len(), Some(items.len()), "{name}");
            for (i, x) in items.iter().enumerate() {
                check_tagged(&format!("{name}[{i}]"), v.get(i).unwrap(), x);
            }
        }
        _ => assert!(json_eq(&to_json(v), want), "{name}"),
    }
}

#[test]
fn every_npy_file() {
    let m = manifest();
    let all = m["npy"].as_array().unwrap();
    assert!(all.len() >= 20);
    for e in all {
        let name = e["file"].as_str().unwrap();
        let loaded =
            file::load_file(format!("{DIR}/{name}")).unwrap_or_else(|err| panic!("{name}: {err}"));
        let v = e["version"].as_array().unwrap();
        let version = (v[0].as_u64().unwrap() as u8, v[1].as_u64().unwrap() as u8);
        assert_eq!(loaded.format, Format::Npy { version }, "{name}");
        check(name, loaded.root(), e);
    }
}

#[test]
fn every_npz_file() {
    let m = manifest();
    for e in m["npz"].as_array().unwrap() {
        let name = e["file"].as_str().unwrap();
        let loaded = file::load_file(format!("{DIR}/{name}")).unwrap();
        let keys: Vec<String> = loaded
            .root()
            .items()
            .unwrap()
            .map(|(k, _)| k.as_str().unwrap().to_string())
            .collect();
        let want: Vec<String> = e["zip_members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().trim_end_matches(".npy").to_string())
            .collect();
        assert_eq!(keys, want, "{name}");
        for (k, spec) in e["members"].as_object().unwrap() {
            check(
                &format!("{name}:{k}"),
                loaded.root().get(k.as_str()).unwrap(),
                spec,
            );
        }
    }
}

#[test]
fn every_joblib_dump() {
    let m = manifest();
    let j = &m["joblib"];
    let expected = &j["expected"];
    let files = j["files"].as_array().unwrap();
    let mut old = 0;
    for f in files {
        let name = f["file"].as_str().unwrap();
        let loaded =
            file::load_file(format!("{DIR}/{name}")).unwrap_or_else(|err| panic!("{name}: {err}"));
        let mut format = &loaded.format;
        if let Format::Compressed { inner, .. } = format {
            assert_ne!(f["compression"], "none", "{name}");
            format = inner;
        }
        if f.get("siblings").is_some() {
            old += 1;
            assert!(
                matches!(format, Format::JoblibSiblings { .. } | Format::Pickle),
                "{name}: {format:?}"
            );
        } else {
            assert!(
                matches!(format, Format::Joblib { .. }),
                "{name}: {format:?}"
            );
        }
        check_tagged(name, loaded.root(), f.get("expected").unwrap_or(expected));
    }
    assert!(old >= 2, "{old}");
}

#[test]
fn every_hostile_file_fails_as_expected() {
    let text = std::fs::read_to_string(format!("{DIR}/hostile/expected.json")).unwrap();
    let all: Json = serde_json::from_str(&text).unwrap();
    for e in all.as_array().unwrap() {
        let name = e["file"].as_str().unwrap();
        let err = match file::load_file(format!("{DIR}/hostile/{name}")) {
            Ok(l) => panic!("{name} loaded: {:?}", l.format),
            Err(err) => err,
        };
        let kinds: Vec<String> = e["error"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap().to_string())
            .collect();
        let kind = format!("{:?}", err.kind());
        assert!(
            kinds.contains(&kind),
            "{name}: {kind} ({err}) not in {kinds:?}"
        );
        assert!(err.kind() != ErrorKind::Custom);
    }
}
