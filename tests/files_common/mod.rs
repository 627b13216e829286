//! What the file tests share: the manifest `fixtures/generate_files.py` writes and the
//! comparison of a loaded array with what numpy saved.
#![allow(dead_code)]

use serde_json::Value as Json;
use serde_pickle_vm::array::{Item, Order};
use serde_pickle_vm::{Emulated, Value};

pub const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/files");

pub fn manifest() -> Vec<Json> {
    let text = std::fs::read_to_string(format!("{DIR}/manifest.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The elements of a nested list `depth` levels deep (an array's `tolist()`).
fn flatten(v: &Json, depth: usize, out: &mut Vec<Json>) {
    match v {
        Json::Array(items) if depth > 0 => items.iter().for_each(|x| flatten(x, depth - 1, out)),
        other => out.push(other.clone()),
    }
}

fn float(f: f64) -> Json {
    if f.is_nan() {
        Json::String("nan".into())
    } else {
        serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)
    }
}

/// One element as the manifest's `values` writes it (numpy's `tolist()`).
pub fn item_json(item: Item<'_>) -> Json {
    match item {
        Item::Bool(b) => Json::Bool(b),
        Item::Int(i) => i.into(),
        Item::UInt(u) => u.into(),
        Item::Float(f) => float(f),
        Item::Complex(re, im) => Json::Array(vec![float(re), float(im)]),
        Item::Str(s) => Json::String(s),
        Item::Bytes(b) => Json::String(b.iter().map(|&c| c as char).collect()),
        Item::DateTime(n, _) | Item::TimeDelta(n, _) => n.into(),
        other => panic!("no JSON for {other:?}"),
    }
}

/// A plain Python value as JSON (ints, floats, strs, lists, tuples, dicts, None).
pub fn to_json(v: Value<'_, '_>) -> Json {
    if v.is_none() {
        return Json::Null;
    }
    if let Some(b) = v.as_bool() {
        return Json::Bool(b);
    }
    if let Some(i) = v.as_i64() {
        return i.into();
    }
    if let Some(f) = v.as_f64() {
        return float(f);
    }
    if let Some(s) = v.as_str() {
        return Json::String(s.into());
    }
    if let Some(pairs) = v.items() {
        if v.seq().is_none() {
            return Json::Object(
                pairs
                    .map(|(k, x)| (k.as_str().unwrap().to_string(), to_json(x)))
                    .collect(),
            );
        }
    }
    if v.seq().is_some() {
        return Json::Array(v.iter().map(to_json).collect());
    }
    panic!("no JSON for a {}", v.type_name())
}

/// Equal JSON, floats within a relative 1e-15 (serde_json's parser is not exact).
pub fn json_eq(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => {
            match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
                (Some(p), Some(q), _, _) => p == q,
                (_, _, Some(p), Some(q)) => p == q,
                _ => {
                    let (p, q) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                    p == q || (p - q).abs() <= 1e-15 * p.abs().max(q.abs())
                }
            }
        }
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn order(o: Order) -> &'static str {
    match o {
        Order::C => "C",
        Order::F => "F",
    }
}

/// Checks the array at `v` against the manifest's description of it.
pub fn check_array(name: &str, v: Value<'_, '_>, spec: &Json) {
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
            assert_eq!(spec["object"], true, "{name}: not an object array");
            assert_eq!(s, &shape, "{name}");
            let got: Vec<Json> = v
                .graph()
                .items(*items)
                .iter()
                .map(|p| to_json(v.with(*p)))
                .collect();
            assert!(
                json_eq(&Json::Array(got.clone()), &spec["items"]),
                "{name}: {got:?} != {}",
                spec["items"]
            );
        }
        Some(Emulated::NdArray(a)) => {
            assert_eq!(a.descr(), spec["dtype"], "{name}");
            assert_eq!(a.shape(), shape.as_slice(), "{name}");
            assert_eq!(order(a.order()), spec["order"], "{name}");
            assert_eq!(a.sha256().unwrap(), spec["sha256"], "{name}");
            if let Some(values) = spec.get("values") {
                let mut want = Vec::new();
                flatten(values, shape.len(), &mut want);
                let got: Vec<Json> = (0..a.numel())
                    .map(|i| {
                        let item = a.item(i).unwrap();
                        if a.dtype().unit().is_some() {
                            match item {
                                Item::DateTime(n, _) | Item::TimeDelta(n, _) => n.into(),
                                _ => unreachable!(),
                            }
                        } else {
                            item_json(item)
                        }
                    })
                    .collect();
                assert!(
                    json_eq(&Json::Array(got.clone()), &Json::Array(want.clone())),
                    "{name}: {got:?} != {want:?}"
                );
            }
        }
        _ => panic!("{name}: not an array but a {}", v.type_name()),
    }
}
