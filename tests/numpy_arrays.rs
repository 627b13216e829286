//! Every dtype × memory order of `fixtures/numpy/arrays` (written by numpy 2.4, protocols
//! 2–5, see `fixtures/generate_numpy.py`): the JSON rendering gives numpy's `dtype.str`,
//! record fields, shape, order, the digest of the C-order little-endian elements, and
//! (`--data`) every element as numpy's `tolist()` has it.
#![cfg(feature = "numpy")]

use serde_json::Value as Json;
use serde_pickle_vm::json::{to_string, JsonOptions};
use serde_pickle_vm::Unpickler;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/numpy");

fn manifest() -> Json {
    serde_json::from_str(&std::fs::read_to_string(format!("{DIR}/manifest.json")).unwrap()).unwrap()
}

fn render(file: &str, data: bool, buffers: Vec<Vec<u8>>) -> Json {
    let bytes = std::fs::read(format!("{DIR}/{file}")).unwrap();
    let graph = Unpickler::new()
        .buffers(buffers)
        .load_slice(&bytes)
        .unwrap();
    let opts = JsonOptions {
        data,
        ..JsonOptions::default()
    };
    serde_json::from_str(&to_string(&graph, &opts).unwrap()).unwrap()
}

/// The manifest's `values` in the `--data` conventions: `S` bytes as `{"bytes": hex}`,
/// NaT as `null` (the manifest keeps numpy's raw int64 for both kinds).
fn as_data(values: &Json, dtype: &str) -> Json {
    match values {
        Json::Array(items) if dtype.starts_with("|S") && items.iter().all(Json::is_number) => {
            let hex: String = items
                .iter()
                .map(|b| format!("{:02x}", b.as_u64().unwrap()))
                .collect();
            serde_json::json!({ "bytes": hex })
        }
        Json::Array(items) => Json::Array(items.iter().map(|v| as_data(v, dtype)).collect()),
        Json::Number(n)
            if (dtype.contains("M8") || dtype.contains("m8")) && n.as_i64() == Some(i64::MIN) =>
        {
            Json::Null
        }
        v => v.clone(),
    }
}

/// The manifest's fields `[[name, dtype, offset], …]` against the rendering's
/// `[{"name", "dtype", "offset", …}]` (sub-array and nested fields: numpy's `|V` size).
fn check_fields(case: &str, exp: &Json, got: &Json) {
    let exp = exp.as_array().unwrap();
    let got = got
        .as_array()
        .unwrap_or_else(|| panic!("{case}: no fields"));
    assert_eq!(exp.len(), got.len(), "{case}: field count");
    for (e, g) in exp.iter().zip(got) {
        assert_eq!(e[0], g["name"], "{case}");
        assert_eq!(e[2], g["offset"], "{case}");
        if g.get("shape").is_none() && g.get("fields").is_none() {
            assert_eq!(e[1], g["dtype"], "{case}");
        }
    }
}

fn check_array(case: &str, exp: &Json, digest: &Json, data: &Json, loaded_dtype: Option<&Json>) {
    let d = &digest["ndarray"];
    assert!(d.is_object(), "{case}: not an ndarray: {digest}");
    // The dtype the pickle gives: numpy's unpickler swaps some big-endian arrays to native
    // order (`loaded_dtype`), with the same values.
    let _ = loaded_dtype;
    let dtype = &exp["dtype"];
    assert_eq!(&d["dtype"], dtype, "{case}: dtype");
    assert_eq!(d["shape"], exp["shape"], "{case}: shape");
    if exp["dtype"] == "|O" {
        // Object arrays: their Python values, in C order.
        let items = d["items"].as_array().unwrap();
        let rank = exp["shape"].as_array().unwrap().len();
        let flat: Vec<Json> = flatten(&exp["values"], rank);
        assert_eq!(items.len(), flat.len(), "{case}");
        for (g, e) in items.iter().zip(&flat) {
            // Ints, None and str render as themselves; floats and lists tagged.
            if e.is_i64() || e.is_null() || e.is_string() {
                assert_eq!(g, e, "{case}");
            }
        }
        return;
    }
    assert_eq!(d["sha256"], exp["sha256"], "{case}: sha256");
    if !exp["fields"].is_null() {
        check_fields(case, &exp["fields"], &d["fields"]);
    }
    let got = &data["ndarray"]["data"];
    assert_eq!(
        got,
        &as_data(&exp["values"], dtype.as_str().unwrap()),
        "{case}: data"
    );
}

/// The elements of nested lists `rank` deep, in order.
fn flatten(v: &Json, rank: usize) -> Vec<Json> {
    match v {
        Json::Array(items) if rank > 0 => items.iter().flat_map(|i| flatten(i, rank - 1)).collect(),
        v => vec![v.clone()],
    }
}

fn dict_get<'a>(dict: &'a Json, key: &str) -> &'a Json {
    dict["dict"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p[0] == key)
        .map(|p| &p[1])
        .unwrap_or_else(|| panic!("no key {key}"))
}

#[test]
fn every_case_in_every_protocol() {
    let m = manifest();
    let mut checked = 0;
    for p in m["pickles"].as_array().unwrap() {
        let file = p["file"].as_str().unwrap();
        let buffers: Vec<Vec<u8>> = p["buffers"]
            .as_array()
            .map(|b| {
                b.iter()
                    .map(|f| std::fs::read(format!("{DIR}/{}", f.as_str().unwrap())).unwrap())
                    .collect()
            })
            .unwrap_or_default();
        let digest = render(file, false, buffers.clone());
        let data = render(file, true, buffers);
        match p["kind"].as_str().unwrap() {
            "array" => {
                let case = p["case"].as_str().unwrap();
                let exp = &m["arrays"][case];
                check_array(case, exp, &digest, &data, p.get("loaded_dtype"));
                checked += 1;
            }
            "dict" => {
                for (key, case) in p["cases"].as_object().unwrap() {
                    let exp = &m["arrays"][case.as_str().unwrap()];
                    check_array(
                        &format!("{file}[{key}]"),
                        exp,
                        dict_get(&digest, key),
                        dict_get(&data, key),
                        None,
                    );
                    checked += 1;
                }
            }
            "scalars" => {
                for name in p["scalars"].as_array().unwrap() {
                    let name = name.as_str().unwrap();
                    let exp = &m["scalars"][name];
                    let got = &dict_get(&digest, name)["npscalar"];
                    assert_eq!(got["dtype"], exp["dtype"], "{file} {name}");
                    let value = match &got["value"] {
                        Json::Object(o) if o.contains_key("float") => o["float"].clone(),
                        Json::Object(o) if o.contains_key("complex") => Json::Array(
                            o["complex"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .map(|f| f["float"].clone())
                                .collect(),
                        ),
                        v => v.clone(),
                    };
                    let dtype = exp["dtype"].as_str().unwrap();
                    assert_eq!(value, as_data(&exp["value"], dtype), "{file} {name}");
                    checked += 1;
                }
            }
            other => panic!("unknown kind {other}"),
        }
    }
    assert!(checked > 200, "only {checked} arrays checked");
}
