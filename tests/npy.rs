//! `.npy` and `.npz` files written by numpy 2.4 (`fixtures/generate_files.py`), read
//! through the one entry point: dtype, shape, memory order, element digests and values
//! match what numpy saved and loads back; object arrays come through their pickles;
//! `dis` of an object array's pickle is what pickletools prints.
#![cfg(feature = "npz")]

mod files_common;

use files_common::{check_array, manifest, DIR};
use serde_pickle_vm::dis::DisOptions;
use serde_pickle_vm::file::{self, FileOptions, Format};
use serde_pickle_vm::{ErrorKind, Value};

fn entries(format: &str) -> Vec<serde_json::Value> {
    manifest()
        .into_iter()
        .filter(|e| e["format"] == format)
        .collect()
}

#[test]
fn every_npy_file_loads_as_numpy_saved_it() {
    let all = entries("npy");
    assert!(all.len() >= 30, "{}", all.len());
    for e in all {
        let name = e["file"].as_str().unwrap();
        let path = format!("{DIR}/{name}");
        let v = e["version"].as_array().unwrap();
        let version = (v[0].as_u64().unwrap() as u8, v[1].as_u64().unwrap() as u8);
        for loaded in [
            file::load_file(&path).unwrap(),
            file::load_bytes(&std::fs::read(&path).unwrap()).unwrap(),
            file::load_file_with(
                &path,
                &FileOptions {
                    mmap: false,
                    ..FileOptions::default()
                },
            )
            .unwrap(),
        ] {
            assert_eq!(loaded.format, Format::Npy { version }, "{name}");
            check_array(name, loaded.root(), &e["arrays"][""]);
        }
    }
}

#[test]
fn every_version_is_covered() {
    let versions: std::collections::BTreeSet<String> = entries("npy")
        .iter()
        .map(|e| e["version"].to_string())
        .collect();
    assert_eq!(
        versions.into_iter().collect::<Vec<_>>(),
        ["[1,0]", "[2,0]", "[3,0]"]
    );
}

#[test]
fn plain_arrays_view_the_file_without_copying() {
    let path = format!("{DIR}/npy_v1_f8.npy");
    let bytes = serde_pickle_vm::array::Bytes::new(std::fs::read(&path).unwrap());
    let loaded = file::load_shared(bytes.clone(), &FileOptions::default()).unwrap();
    let a = loaded.array().unwrap();
    let start = bytes.as_ptr() as usize;
    let at = a.raw_bytes().as_ptr() as usize;
    assert_eq!(
        at - start,
        128,
        "the data is the file's bytes after the header"
    );
    assert_eq!(
        a.tensor().unwrap().to_vec::<f64>().unwrap(),
        [0.0, 1.0, 2.0, 3.0, 4.0]
    );
}

#[test]
fn object_arrays_dis_as_pickletools_does() {
    for e in entries("npy")
        .into_iter()
        .filter(|e| e.get("dis").is_some())
    {
        let name = e["file"].as_str().unwrap();
        let data = std::fs::read(format!("{DIR}/{name}")).unwrap();
        let expected =
            std::fs::read_to_string(format!("{DIR}/{}", e["dis"].as_str().unwrap())).unwrap();
        let mut out = String::new();
        let format = file::dis(&data, &mut out, &DisOptions::default()).unwrap();
        assert!(matches!(format, Format::Npy { .. }));
        assert_eq!(out, expected, "{name}");
    }
}

#[test]
fn dis_of_a_plain_npy_says_there_is_no_pickle() {
    let data = std::fs::read(format!("{DIR}/npy_v1_fortran.npy")).unwrap();
    let err = file::dis(&data, &mut String::new(), &DisOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "this .npy file holds no pickle: a float64 array of shape [3, 4], 96 bytes of data at byte 128"
    );
}

#[test]
fn npz_archives_are_dicts_in_archive_order() {
    for e in entries("npz") {
        let name = e["file"].as_str().unwrap();
        let loaded = file::load_file(format!("{DIR}/{name}")).unwrap();
        let root = loaded.root();
        let keys: Vec<&str> = root
            .items()
            .unwrap()
            .map(|(k, _)| k.as_str().unwrap())
            .collect();
        let mut expected: Vec<&str> = e["arrays"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        if let Some(b) = e.get("bytes") {
            expected.extend(b.as_object().unwrap().keys().map(String::as_str));
        }
        // The manifest's maps are sorted; the archive's order is numpy's (insertion).
        let mut sorted = keys.clone();
        sorted.sort();
        expected.sort();
        assert_eq!(sorted, expected, "{name}");
        assert_eq!(
            loaded.format,
            Format::Npz {
                members: keys.len()
            }
        );
        for (k, spec) in e["arrays"].as_object().unwrap() {
            let v = root.get(k.as_str()).unwrap();
            check_array(&format!("{name}:{k}"), v, spec);
        }
        if let Some(b) = e.get("bytes") {
            for (k, text) in b.as_object().unwrap() {
                let v = root.get(k.as_str()).unwrap();
                assert_eq!(v.as_bytes().unwrap(), text.as_str().unwrap().as_bytes());
            }
        }
    }
    // np.savez(a=…, b=…, fortran=…, o=…, dates=…) keeps the keyword order.
    let loaded = file::load_file(format!("{DIR}/npz_savez.npz")).unwrap();
    let keys: Vec<String> = loaded
        .root()
        .items()
        .unwrap()
        .map(|(k, _)| k.as_str().unwrap().to_string())
        .collect();
    assert_eq!(keys, ["a", "b", "fortran", "o", "dates"]);
}

#[test]
fn npz_json_is_a_dict_of_arrays() {
    let loaded = file::load_file(format!("{DIR}/npz_positional.npz")).unwrap();
    let json = serde_pickle_vm::json::to_string(&loaded.graph, &Default::default()).unwrap();
    assert!(
        json.starts_with(r#"{"dict":[["arr_0",{"ndarray":{"dtype":"<f8","shape":[2]"#),
        "{json}"
    );
}

#[test]
fn deflated_npz_members_obey_the_inflate_limits() {
    let mut opts = FileOptions::default();
    opts.pickle.limits.max_inflated = 100;
    let err = file::load_file_with(format!("{DIR}/npz_compressed.npz"), &opts).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit, "{err}");
    assert!(
        err.to_string()
            .starts_with("npz member a.npy: zip entry a.npy inflates"),
        "{err}"
    );
    // Stored members are not inflated: the limit does not apply.
    assert!(file::load_file_with(format!("{DIR}/npz_savez.npz"), &opts).is_ok());
}

#[test]
fn typed_reads_of_npy_files() {
    use serde_pickle_vm::array::Tensor;
    let t: Tensor = serde_pickle_vm::from_file(format!("{DIR}/npy_v1_fortran.npy")).unwrap();
    assert_eq!(t.shape(), &[3, 4]);
    // Logical (C) order, whatever the file's memory order.
    assert_eq!(
        t.to_vec::<f64>().unwrap(),
        (0..12).map(f64::from).collect::<Vec<_>>()
    );
    let rows: Vec<Vec<f64>> =
        serde_pickle_vm::from_file(format!("{DIR}/npy_v1_fortran.npy")).unwrap();
    assert_eq!(rows[2], [8.0, 9.0, 10.0, 11.0]);
    let npz: std::collections::BTreeMap<String, serde_json::Value> =
        serde_pickle_vm::from_file(format!("{DIR}/npz_compressed.npz")).unwrap();
    assert_eq!(npz["a"], serde_json::json!([0, 1, 2]));
    assert_eq!(npz["o"], serde_json::json!([1, "two"]));
}

#[test]
fn object_npy_files_are_their_pickles() {
    let loaded = file::load_file(format!("{DIR}/npy_v1_object.npy")).unwrap();
    let v: Value<'_, '_> = loaded.root();
    assert_eq!(v.type_name(), "ndarray");
    // Errors in the embedded pickle name offsets in the file.
    let mut data = std::fs::read(format!("{DIR}/npy_v1_object.npy")).unwrap();
    data.truncate(140);
    let err = file::load_bytes(&data).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Truncated);
    assert!(err.offset().unwrap() >= 128, "{err}");
}
