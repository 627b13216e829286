//! joblib dumps written by joblib 1.6 (every pickle protocol, a stream without `tell()`)
//! and by joblib 0.9.4 (multi-file dumps), from `fixtures/generate_files.py`: what
//! `joblib.load` returns, through the entry point, `load_slice` and `load_reader`; the
//! arrays' bytes where joblib read them; `dis` lines in place of the array data.
#![cfg(feature = "npz")]

mod files_common;

use files_common::{check_array, json_eq, manifest, to_json, DIR};
use serde_json::Value as Json;
use serde_pickle_vm::dis::DisOptions;
use serde_pickle_vm::file::{self, FileOptions, Format};
use serde_pickle_vm::{Emulated, ErrorKind, Graph, Options, Unpickler, Value};

fn joblib_entries() -> Vec<Json> {
    manifest()
        .into_iter()
        .filter(|e| e["format"] == "joblib" && e.get("compress").is_none())
        .collect()
}

/// The value at `path` (keys and indices joined with '.'; "" for the root).
fn at<'g, 'de>(root: Value<'g, 'de>, path: &str) -> Value<'g, 'de> {
    if path.is_empty() {
        return root;
    }
    path.split('.')
        .fold(root, |v, seg| match seg.parse::<usize>() {
            Ok(i) if v.seq().is_some() => v.get(i).unwrap(),
            _ => v.get(seg).unwrap_or_else(|| panic!("no {seg} in {path}")),
        })
}

/// The plain values of the dump with every array as null, like the manifest's `values`.
fn plain(v: Value<'_, '_>) -> Json {
    if matches!(
        v.as_emulated(),
        Some(Emulated::NdArray(_) | Emulated::ObjectArray { .. })
    ) {
        return Json::Null;
    }
    if v.seq().is_some() {
        return Json::Array(v.iter().map(plain).collect());
    }
    if let (Some(items), None) = (v.items(), v.seq()) {
        if v.as_str().is_none() {
            return Json::Object(
                items
                    .map(|(k, x)| (k.as_str().unwrap().to_string(), plain(x)))
                    .collect(),
            );
        }
    }
    to_json(v)
}

fn check_dump(name: &str, graph: &Graph<'_>, e: &Json) {
    let root = graph.root();
    for (path, spec) in e["arrays"].as_object().unwrap() {
        check_array(&format!("{name}:{path}"), at(root, path), spec);
    }
    assert!(
        json_eq(&plain(root), &e["values"]),
        "{name}: {} != {}",
        plain(root),
        e["values"]
    );
}

#[test]
fn every_joblib_dump_loads_as_joblib_loads_it() {
    let all = joblib_entries();
    assert!(all.len() >= 9, "{}", all.len());
    for e in &all {
        let name = e["file"].as_str().unwrap();
        let path = format!("{DIR}/{name}");
        let loaded = file::load_file(&path).unwrap();
        let n = e["arrays"].as_object().unwrap().len();
        assert_eq!(loaded.format, Format::Joblib { arrays: n }, "{name}");
        check_dump(name, &loaded.graph, e);
        // The plain loaders read joblib's arrays too (Options::joblib, on by default).
        let data = std::fs::read(&path).unwrap();
        check_dump(name, &serde_pickle_vm::load_slice(&data).unwrap(), e);
        check_dump(name, &serde_pickle_vm::load_reader(&data[..]).unwrap(), e);
        check_dump(name, &file::load_bytes(&data).unwrap().graph, e);
    }
}

#[test]
fn every_protocol_and_the_unaligned_stream_are_covered() {
    let all = joblib_entries();
    for p in 0..=5 {
        assert!(all.iter().any(|e| e["protocol"] == p), "protocol {p}");
    }
    assert!(all.iter().any(|e| e["aligned"] == false));
}

/// Where the loader found each inline array, from the `dis` listing's gap lines.
fn gaps(listing: &str) -> Vec<(u64, Option<u64>)> {
    listing
        .lines()
        .filter_map(|l| {
            let (pos, rest) = l.split_once(": ")?;
            let pos: u64 = pos.trim().parse().ok()?;
            if let Some(r) = rest.strip_prefix("[joblib array data, ") {
                let len: u64 = r.split(' ').next()?.parse().ok()?;
                Some((pos, Some(pos + len)))
            } else if rest.starts_with("[joblib object array") {
                Some((pos, None))
            } else {
                None
            }
        })
        .collect()
}

#[test]
fn array_bytes_are_where_joblib_reads_them() {
    for e in joblib_entries() {
        let name = e["file"].as_str().unwrap();
        let data = std::fs::read(format!("{DIR}/{name}")).unwrap();
        let mut out = String::new();
        let format = file::dis(&data, &mut out, &DisOptions::default()).unwrap();
        assert!(matches!(format, Format::Joblib { .. }), "{name}");
        let found = gaps(&out);
        let blocks: Vec<(u64, u64)> = e["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| (b[0].as_u64().unwrap(), b[1].as_u64().unwrap()))
            .collect();
        assert_eq!(found.len(), blocks.len(), "{name}\n{out}");
        for ((start, end), (s, e)) in found.iter().zip(&blocks) {
            assert_eq!(start, s, "{name}");
            if let Some(end) = end {
                assert_eq!(end, e, "{name}");
            }
        }
        // The listing goes on after each gap, to the dump's STOP.
        assert!(
            out.contains(": .    STOP\nhighest protocol among opcodes = "),
            "{name}\n{out}"
        );
        // A nested pickle's listing ends before the next opcode of the outer one.
        for (start, end) in &blocks {
            let next = out
                .lines()
                .find(|l| l.trim_start().starts_with(&format!("{end}: ")));
            assert!(
                next.is_some() || *end as usize == data.len(),
                "{name}: nothing at {end} after the block at {start}"
            );
        }
    }
}

#[test]
fn dis_of_a_plain_pickle_is_unchanged() {
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/pickles/nested.p4.pkl"
    ))
    .unwrap();
    let expected = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/pickles/nested.p4.dis"
    ))
    .unwrap();
    let mut out = String::new();
    assert_eq!(
        file::dis(&data, &mut out, &DisOptions::default()).unwrap(),
        Format::Pickle
    );
    assert_eq!(out, expected);
}

#[test]
fn the_joblib_switch() {
    let data = std::fs::read(format!("{DIR}/joblib_p4.joblib")).unwrap();
    // Off: the bytes after the first wrapper are read as opcodes, as pickle.load does.
    let off = Options {
        joblib: false,
        ..Options::default()
    };
    let err = Unpickler::with_options(off).load_slice(&data).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOpcode, "{err}");
    // Without emulation the wrappers stay as recorded, and the data is skipped.
    let raw = Options {
        emulate: false,
        ..Options::default()
    };
    let g = Unpickler::with_options(raw).load_slice(&data).unwrap();
    let root = g.root();
    let after = root
        .items()
        .unwrap()
        .find(|(k, _)| k.as_str() == Some("after"));
    assert!(after.is_some(), "the pickle after the arrays was read");
    let f8 = root
        .items()
        .unwrap()
        .find(|(k, _)| k.as_str() == Some("f8"))
        .unwrap()
        .1;
    let cls = g
        .value(f8.as_object().unwrap().callable)
        .as_global()
        .unwrap();
    assert_eq!(
        (&*cls.module, &*cls.name),
        ("joblib.numpy_pickle", "NumpyArrayWrapper")
    );
}

#[test]
fn slice_loads_copy_file_loads_share() {
    let path = format!("{DIR}/joblib_doc.joblib");
    let bytes = serde_pickle_vm::array::Bytes::new(std::fs::read(&path).unwrap());
    let loaded = file::load_shared(bytes.clone(), &FileOptions::default()).unwrap();
    let Some(Emulated::NdArray(w)) = loaded.root().get("weights").and_then(|v| v.as_emulated())
    else {
        panic!()
    };
    let offset = w.raw_bytes().as_ptr() as usize - bytes.as_ptr() as usize;
    let e = manifest()
        .into_iter()
        .find(|e| e["file"] == "joblib_doc.joblib")
        .unwrap();
    // The data ends where joblib's read ended.
    assert_eq!(offset as u64 + 32, e["blocks"][0][1].as_u64().unwrap());
}

#[test]
fn joblib_before_0_10_reads_its_sibling_files() {
    let e = manifest()
        .into_iter()
        .find(|e| e["file"] == "old_multi.pkl")
        .expect("fixtures/files/old_multi.pkl (OLD_JOBLIB when generating)");
    let path = format!("{DIR}/old_multi.pkl");
    let loaded = file::load_file(&path).unwrap();
    let Format::JoblibSiblings { files } = &loaded.format else {
        panic!("{:?}", loaded.format)
    };
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(Json::from(names), e["siblings"]);
    check_dump("old_multi.pkl", &loaded.graph, &e);

    // Without a path the siblings cannot be found: the error names the file.
    let data = std::fs::read(&path).unwrap();
    let err = file::load_bytes(&data).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(
        err.to_string().starts_with(
            "a joblib < 0.10 dump: the array is in the separate file \"old_multi.pkl_01.npy\" next to the pickle"
        ),
        "{err}"
    );
    let err = serde_pickle_vm::load_slice(&data).unwrap_err();
    assert!(err.to_string().contains("old_multi.pkl_01.npy"), "{err}");
    let no = FileOptions {
        siblings: false,
        ..FileOptions::default()
    };
    assert!(file::load_file_with(&path, &no).is_err());
}

#[test]
fn sibling_names_must_stay_in_the_directory() {
    let data = std::fs::read(format!("{DIR}/old_multi.pkl")).unwrap();
    let needle = b"old_multi.pkl_01.npy";
    let at = data
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    for evil in [
        &b"../_multi.pkl_01.npy"[..],
        b"/etc/passwd_01.abcde",
        b"sub/multi.pkl_01.npy",
    ] {
        let mut bad = data.clone();
        bad[at..at + needle.len()].copy_from_slice(evil);
        let dir = std::env::temp_dir().join(format!("files-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("evil.pkl");
        std::fs::write(&path, &bad).unwrap();
        let err = file::load_file(&path).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Rejected, "{err}");
        assert!(err.to_string().contains("only a plain file name"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn from_file_reads_a_dump_into_types() {
    #[derive(serde::Deserialize)]
    struct Dump {
        name: String,
        version: i64,
        after: Vec<String>,
        f8: Vec<f64>,
        fortran: Vec<Vec<f32>>,
        big_endian: [i64; 4],
        zero_d: i16,
    }
    let e = manifest()
        .into_iter()
        .find(|e| e["file"] == "joblib_p2.joblib")
        .unwrap();
    for name in ["joblib_p2.joblib", "joblib_compress_lz4.joblib.lz4"] {
        let d: Dump = serde_pickle_vm::from_file(format!("{DIR}/{name}")).unwrap();
        assert_eq!((d.name.as_str(), d.version), ("model", 3));
        assert_eq!(d.after, ["the", "pickle", "goes", "on"]);
        let arrays = &e["arrays"];
        assert_eq!(Json::from(d.f8), arrays["f8"]["values"]);
        assert_eq!(
            serde_json::to_value(&d.fortran).unwrap(),
            arrays["fortran"]["values"]
        );
        assert_eq!(
            Json::from(d.big_endian.to_vec()),
            arrays["big_endian"]["values"]
        );
        assert_eq!(Json::from(d.zero_d), arrays["zero_d"]["values"]);
    }
}

#[test]
fn compressed_dumps_load_with_every_codec() {
    use serde_pickle_vm::compress::Codec;
    let all: Vec<Json> = manifest()
        .into_iter()
        .filter(|e| e["format"] == "joblib" && e.get("compress").is_some())
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for e in &all {
        let name = e["file"].as_str().unwrap();
        let codec = match e["compress"].as_str().unwrap() {
            "zlib" => Codec::Zlib,
            "gzip" => Codec::Gzip,
            "bz2" => Codec::Bzip2,
            "lzma" => Codec::Lzma,
            "xz" => Codec::Xz,
            "lz4" => Codec::Lz4,
            other => panic!("{other}"),
        };
        seen.insert(codec.name());
        let path = format!("{DIR}/{name}");
        let loaded = file::load_file(&path).unwrap();
        let arrays = e["arrays"].as_object().unwrap().len();
        assert_eq!(
            loaded.format,
            Format::Compressed {
                codec,
                inner: Box::new(Format::Joblib { arrays })
            },
            "{name}"
        );
        check_dump(name, &loaded.graph, e);
        let data = std::fs::read(&path).unwrap();
        check_dump(name, &serde_pickle_vm::load_slice(&data).unwrap(), e);
        check_dump(name, &serde_pickle_vm::load_reader(&data[..]).unwrap(), e);
        // `dis` lists the decompressed dump, a line per array.
        let mut out = String::new();
        let format = file::dis(&data, &mut out, &DisOptions::default()).unwrap();
        assert!(matches!(format, Format::Compressed { .. }));
        assert_eq!(gaps(&out).len(), arrays, "{name}");
        // Cut short, a compressed dump is an error that says where.
        let cut = &data[..data.len() * 2 / 3];
        let err = file::load_bytes(cut).unwrap_err();
        assert!(!err.to_string().is_empty());
    }
    assert_eq!(seen.len(), 6, "{seen:?}");
}

#[test]
fn compressed_joblib_before_0_10_reads_its_zfiles() {
    use serde_pickle_vm::compress::Codec;
    let e = manifest()
        .into_iter()
        .find(|e| e["file"] == "old_compressed.pkl")
        .expect("fixtures/files/old_compressed.pkl (OLD_JOBLIB when generating)");
    let loaded = file::load_file(format!("{DIR}/old_compressed.pkl")).unwrap();
    let Format::Compressed {
        codec: Codec::Zlib,
        inner,
    } = &loaded.format
    else {
        panic!("{:?}", loaded.format)
    };
    let Format::JoblibSiblings { files } = &**inner else {
        panic!("{inner:?}")
    };
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(Json::from(names), e["siblings"]);
    check_dump("old_compressed.pkl", &loaded.graph, &e);
    assert_eq!(
        loaded.format.to_string(),
        "joblib (multi-file), zlib-compressed"
    );
}
