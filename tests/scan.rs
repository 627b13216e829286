//! `scan`: every hostile pickle of `fixtures/malicious/` (written by
//! `fixtures/generate_malicious.py`, never loaded) yields exactly the imports its manifest
//! lists, with their severities and offsets, and its dangerous calls; every benign
//! fixture of the crate scans as safe or unknown, never dangerous.

use serde_json::Value as Json;
use serde_pickle_vm::scan::{scan_bytes, scan_file, Kind, Report, Severity};
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn manifest() -> Vec<Json> {
    let text = std::fs::read_to_string(format!("{ROOT}/fixtures/malicious/manifest.json")).unwrap();
    serde_json::from_str::<Json>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// Whether the case needs the zip reader of the `torch` feature.
fn needs_torch(case: &Json) -> bool {
    case["format"].as_str().unwrap().contains("zip")
}

fn globals(report: &Report) -> Vec<Json> {
    report
        .findings()
        .filter(|(_, f)| f.kind == Kind::Global)
        .map(|(member, f)| {
            serde_json::json!({
                "member": member,
                "offset": f.offset,
                "opcode": f.opcode,
                "name": f.name,
                "severity": f.severity,
            })
        })
        .collect()
}

#[test]
fn malicious_fixtures_match_the_manifest() {
    let cases = manifest();
    assert!(cases.len() >= 30);
    for case in cases {
        if needs_torch(&case) && !cfg!(feature = "torch") {
            continue;
        }
        let file = case["file"].as_str().unwrap();
        let report = scan_file(format!("{ROOT}/fixtures/malicious/{file}")).unwrap();
        assert_eq!(
            report.format,
            case["format"].as_str().unwrap(),
            "{file}: format"
        );
        assert_eq!(
            globals(&report),
            case["globals"].as_array().unwrap().clone(),
            "{file}: globals"
        );
        for call in case["dangerous_calls"].as_array().unwrap() {
            let (member, offset) = (call["member"].as_str(), call["offset"].as_u64().unwrap());
            assert!(
                report.findings().any(|(m, f)| m == member
                    && f.offset == offset
                    && f.kind == Kind::Call
                    && f.severity == Severity::Dangerous),
                "{file}: no dangerous call at {member:?} {offset}"
            );
        }
        assert_eq!(
            u64::from(report.exit_code()),
            case["exit"].as_u64().unwrap(),
            "{file}: exit code"
        );
    }
}

fn files_under(dir: &str, exts: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![PathBuf::from(format!("{ROOT}/{dir}"))];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else if p
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| exts.contains(&x))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn benign_fixtures_are_never_dangerous() {
    let mut files = files_under("fixtures/pickles", &["pkl"]);
    files.extend(files_under("fixtures/serde", &["pickle", "pkl"]));
    files.extend(files_under("fixtures/dis", &["pkl"]));
    files.extend(files_under("fixtures/errors", &["pkl"]));
    if cfg!(feature = "torch") {
        files.extend(files_under("fixtures/torch", &["pt", "pkl", "bin"]));
    }
    assert!(files.len() > 900, "{}", files.len());
    let mut safe = 0;
    for f in &files {
        let report = scan_file(f).unwrap();
        let bad: Vec<_> = report
            .findings()
            .filter(|(_, f)| f.severity == Severity::Dangerous)
            .collect();
        assert!(bad.is_empty(), "{}: {bad:#?}", f.display());
        if report.exit_code() == 0 {
            safe += 1;
        }
    }
    // Most of CPython's fixtures are plain data.
    assert!(safe > 600, "{safe}");
}

#[test]
fn cpython_fixtures_are_readable_and_classified() {
    for f in files_under("fixtures/pickles", &["pkl"]) {
        let report = scan_file(&f).unwrap();
        let name = f.file_name().unwrap().to_str().unwrap();
        assert!(!report.unreadable(), "{name}: {report:#?}");
        let expect_unknown = name.starts_with("class_")
            || name.starts_with("hm_")
            || name.starts_with("py2_exception")
            || name.starts_with("py2_newstyle")
            || name.starts_with("py2_oldstyle")
            || name.starts_with("rec_object")
            || name.starts_with("datetime_custom_tz")
            || name.starts_with("datetime_named_tz");
        if !expect_unknown {
            assert_eq!(report.severity(), Severity::Safe, "{name}: {report:#?}");
        }
    }
}

#[test]
fn enum_members_through_getattr_are_not_dangerous() {
    // Protocols 0-3 pickle an enum member as getattr(Color, 'RED').
    for p in 0..4 {
        let f = format!("{ROOT}/fixtures/pickles/class_enum.p{p}.pkl");
        if !Path::new(&f).exists() {
            continue;
        }
        let report = scan_file(&f).unwrap();
        assert_eq!(report.severity(), Severity::Unknown, "p{p}: {report:#?}");
    }
}

#[cfg(feature = "torch")]
#[test]
fn torch_checkpoints_are_safe() {
    for name in [
        "checkpoint",
        "params",
        "dtypes",
        "views",
        "legacy",
        "legacy_tar",
        "big_endian",
    ] {
        let r = scan_file(format!("{ROOT}/fixtures/torch/{name}.pt")).unwrap();
        assert_eq!(r.exit_code(), 0, "{name}: {r:#?}");
        assert!(!r.pickles.is_empty());
    }
    let r = scan_file(format!("{ROOT}/fixtures/torch/legacy.pt")).unwrap();
    assert_eq!(r.format, "torch-legacy");
    assert_eq!(r.pickles.len(), 5);
    let r = scan_file(format!("{ROOT}/fixtures/torch/legacy_tar.pt")).unwrap();
    assert_eq!(r.format, "torch-tar");
    // A pickled nn.Module imports its classes: unknown, not dangerous.
    let r = scan_file(format!("{ROOT}/fixtures/torch/module.pt")).unwrap();
    assert_eq!(r.severity(), Severity::Unknown);
    assert!(r
        .findings()
        .any(|(_, f)| f.name.as_deref() == Some("torch.nn.modules.linear.Linear")));
}

#[test]
fn data_after_stop_is_reported() {
    let r = scan_file(format!("{ROOT}/fixtures/malicious/trailing_garbage.pkl")).unwrap();
    let (_, f) = r
        .findings()
        .find(|(_, f)| f.kind == Kind::TrailingData)
        .unwrap();
    assert_eq!(f.severity, Severity::Unknown);
    assert!(f.detail.contains("not a pickle"), "{}", f.detail);
    assert_eq!(r.pickles.len(), 1);

    let r = scan_file(format!("{ROOT}/fixtures/malicious/second_pickle.pkl")).unwrap();
    assert_eq!(r.pickles.len(), 2);
    assert_eq!(r.pickles[1].start, r.pickles[0].end.unwrap());
    assert_eq!(r.pickles[1].severity(), Severity::Dangerous);

    // Trailing newlines are padding, not a finding to worry about.
    assert_eq!(scan_bytes(b"K\x01.\n").exit_code(), 0);
}

#[test]
fn extensions_and_persistent_ids_are_listed() {
    let r = scan_file(format!("{ROOT}/fixtures/malicious/ext1.pkl")).unwrap();
    let (_, f) = r
        .findings()
        .find(|(_, f)| f.kind == Kind::Extension)
        .unwrap();
    assert_eq!((f.offset, f.opcode), (2, "EXT1"));
    assert_eq!(f.name.as_deref(), Some("extension code 1"));

    // (S'storage'\nS'0'\ntQ. — BINPERSID of ('storage', '0').
    let r = scan_bytes(b"(S'storage'\nS'0'\ntQ.");
    let (_, f) = r.findings().next().unwrap();
    assert_eq!(
        (f.kind, f.opcode, f.offset),
        (Kind::PersistentId, "BINPERSID", 18)
    );
    assert_eq!(f.detail, r#"("storage", "0")"#);
    assert_eq!(r.exit_code(), 0);
}

#[test]
fn unreadable_input() {
    let r = scan_bytes(b"\x80\x04\x95");
    assert!(r.unreadable());
    assert_eq!(r.exit_code(), 3);
    let e = r.pickles[0].error.as_ref().unwrap();
    assert_eq!(e.offset, Some(2));
    // What ran before the failure still counts: dangerous wins.
    let r = scan_bytes(b"cos\nsystem\n)R\xff");
    assert!(r.unreadable());
    assert_eq!(r.exit_code(), 2);
}

#[test]
fn offsets_and_call_sites() {
    // \x80\x04 \x8c\x05posix \x8c\x06system \x93 \x8c\x02id \x85 R .
    let data = b"\x80\x04\x8c\x05posix\x8c\x06system\x93\x8c\x02id\x85R.";
    let r = scan_bytes(data);
    let f: Vec<_> = r.findings().map(|(_, f)| f.clone()).collect();
    assert_eq!(f.len(), 2);
    assert_eq!(
        (f[0].offset, f[0].opcode, f[0].name.as_deref()),
        (17, "STACK_GLOBAL", Some("posix.system"))
    );
    assert_eq!(f[0].called_by[0].offset, 23);
    assert_eq!(
        f[0].what(),
        "posix.system  called by REDUCE at 23  (executes code or touches the system)"
    );
    assert_eq!((f[1].offset, f[1].kind), (23, Kind::Call));
}

#[test]
fn json_schema() {
    let r = scan_file(format!("{ROOT}/fixtures/malicious/os_system.p2.pkl")).unwrap();
    let j = serde_json::to_value(&r).unwrap();
    assert_eq!(j["format"], "pickle");
    assert_eq!(j["error"], Json::Null);
    let p = &j["pickles"][0];
    assert_eq!(p["member"], Json::Null);
    assert_eq!(p["protocol"], 2);
    let g = &p["findings"][0];
    assert_eq!(g["severity"], "dangerous");
    assert_eq!(g["kind"], "global");
    assert_eq!(g["opcode"], "GLOBAL");
    assert_eq!(g["name"], "posix.system");
    assert_eq!(g["called_by"][0]["opcode"], "REDUCE");
}

#[cfg(feature = "cli")]
#[test]
fn cli_exit_codes() {
    use std::process::Command;
    let bin = env!("CARGO_BIN_EXE_pickle-vm");
    let run = |files: &[&str], json: bool| {
        let mut c = Command::new(bin);
        c.arg("scan");
        if json {
            c.arg("--json");
        }
        for f in files {
            c.arg(format!("{ROOT}/{f}"));
        }
        let out = c.output().unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap(),
        )
    };
    assert_eq!(run(&["fixtures/pickles/list_3.p2.pkl"], false).0, 0);
    assert_eq!(run(&["fixtures/pickles/class_plain.p2.pkl"], false).0, 1);
    let (code, text) = run(&["fixtures/malicious/os_system.p0.pkl"], false);
    assert_eq!(code, 2);
    assert!(
        text.contains("dangerous         0  GLOBAL        posix.system  called by REDUCE at 37"),
        "{text}"
    );
    assert_eq!(run(&["fixtures/errors/truncated_empty.pkl"], false).0, 3);
    // Worst over all files: dangerous wins over unreadable.
    let (code, text) = run(
        &[
            "fixtures/errors/truncated_empty.pkl",
            "fixtures/malicious/eval.p2.pkl",
            "fixtures/pickles/list_3.p2.pkl",
        ],
        true,
    );
    assert_eq!(code, 2);
    let docs: Vec<Json> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs.len(), 3);
    assert_eq!(docs[1]["severity"], "dangerous");
    assert_eq!(docs[1]["exit_code"], 2);
    assert_eq!(docs[0]["exit_code"], 3);
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn seeds() -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for f in [
            "os_system.p4.pkl",
            "getattr_import_chain.p0.pkl",
            "build_state.p2.pkl",
            "object_array.npy",
            "torch_legacy.pt",
            "torch_odd_member.pt",
        ] {
            out.push(std::fs::read(format!("{ROOT}/fixtures/malicious/{f}")).unwrap());
        }
        for f in [
            "planted.joblib",
            "planted_object_array.joblib",
            "benign_arrays.p0.joblib",
            "frame_after_build.joblib",
            "payload.npz",
            "dup_payload_first.pt",
        ] {
            out.push(std::fs::read(format!("{ROOT}/fixtures/scan/{f}")).unwrap());
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn random_bytes(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = scan_bytes(&data).exit_code();
        }

        #[test]
        fn mutated_payloads(seed in 0usize..12, edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), cut in any::<usize>()) {
            let mut data = seeds()[seed].clone();
            for (i, b) in edits {
                let n = data.len();
                data[i % n] = b;
            }
            let keep = cut % (data.len() + 1);
            data.truncate(keep.max(data.len() / 2));
            let _ = scan_bytes(&data).exit_code();
        }
    }
}

// ------------------------------------------------------------------ numpy, joblib, sklearn

/// `fixtures/scan/` (written by `fixtures/generate_scan_numpy.py` with numpy, joblib and
/// scikit-learn): every file yields the imports, dangerous calls, arrays and errors its
/// manifest lists.
fn scan_manifest() -> Vec<Json> {
    let text = std::fs::read_to_string(format!("{ROOT}/fixtures/scan/manifest.json")).unwrap();
    serde_json::from_str::<Json>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn arrays(report: &Report, keys: &[&str]) -> Vec<Json> {
    report
        .arrays
        .iter()
        .map(|a| {
            let j = serde_json::to_value(a).unwrap();
            keys.iter()
                .map(|k| (k.to_string(), j[*k].clone()))
                .collect()
        })
        .collect()
}

#[test]
fn numpy_joblib_sklearn_fixtures_match_the_manifest() {
    let cases = scan_manifest();
    assert!(cases.len() >= 40);
    let mut checked = 0;
    for case in &cases {
        let file = case["file"].as_str().unwrap();
        let report = scan_file(format!("{ROOT}/fixtures/scan/{file}")).unwrap();
        if let Some(codec) = case["compression"].as_str() {
            // Offsets are in the decompressed stream; joblib spells bzip2 "bz2".
            let codec = if codec == "bz2" { "bzip2" } else { codec };
            if cfg!(feature = "compress") {
                assert_eq!(report.compression, Some(codec), "{file}: {report:#?}");
            } else {
                assert_eq!(report.exit_code(), 3, "{file}: {report:#?}");
                continue;
            }
        }
        if file.contains("deflated") && !cfg!(feature = "torch") {
            assert!(
                report.unreadable(),
                "{file}: inflating needs the torch feature"
            );
            continue;
        }
        assert_eq!(
            report.format,
            case["format"].as_str().unwrap(),
            "{file}: format"
        );
        assert_eq!(
            globals(&report),
            case["globals"].as_array().unwrap().clone(),
            "{file}: globals"
        );
        for call in case["dangerous_calls"].as_array().unwrap() {
            let (member, offset) = (call["member"].as_str(), call["offset"].as_u64().unwrap());
            assert!(
                report.findings().any(|(m, f)| m == member
                    && f.offset == offset
                    && f.kind == Kind::Call
                    && f.severity == Severity::Dangerous),
                "{file}: no dangerous call at {member:?} {offset}: {report:#?}"
            );
        }
        let expected = case["arrays"].as_array().unwrap();
        let mut keys = vec!["member", "format", "offset", "end", "object"];
        if expected.iter().any(|a| a.get("file").is_some()) {
            keys.push("file");
        }
        assert_eq!(arrays(&report, &keys), expected.clone(), "{file}: arrays");
        match case["error"].get("offset") {
            Some(o) => {
                let o = o.as_u64().unwrap();
                let errors: Vec<_> = report
                    .pickles
                    .iter()
                    .filter_map(|p| p.error.as_ref())
                    .chain(report.error.as_ref())
                    .collect();
                assert!(
                    errors.iter().any(|e| e.offset == Some(o)),
                    "{file}: no error at {o}: {errors:#?}"
                );
            }
            None => assert!(!report.unreadable(), "{file}: {report:#?}"),
        }
        assert_eq!(
            u64::from(report.exit_code()),
            case["exit"].as_u64().unwrap(),
            "{file}: exit code"
        );
        checked += 1;
    }
    assert!(checked >= 35, "{checked}");
}

fn fixture(name: &str) -> Report {
    scan_file(format!("{ROOT}/fixtures/scan/{name}")).unwrap()
}

#[test]
fn sklearn_numpy_and_rng_files_are_not_dangerous() {
    let mut seen = 0;
    for case in scan_manifest() {
        let file = case["file"].as_str().unwrap();
        if !(file.starts_with("sklearn_") || file.starts_with("rng_") || file.starts_with("benign"))
            || (file.contains("deflated") && !cfg!(feature = "torch"))
        {
            continue;
        }
        let r = fixture(file);
        assert!(r.severity() < Severity::Dangerous, "{file}: {r:#?}");
        assert!(!r.unreadable(), "{file}: {r:#?}");
        if file.starts_with("sklearn_") {
            // scikit-learn's classes are the user's classes: unknown, the rest data.
            for (_, f) in r.findings().filter(|(_, f)| f.kind == Kind::Global) {
                let name = f.name.as_deref().unwrap();
                let expected = if name.starts_with("sklearn.") {
                    Severity::Unknown
                } else {
                    Severity::Safe
                };
                assert_eq!(f.severity, expected, "{file}: {name}");
            }
        } else {
            assert_eq!(r.exit_code(), 0, "{file}: {r:#?}");
        }
        seen += 1;
    }
    assert!(seen >= 20, "{seen}");
}

#[test]
fn planted_payload_after_an_inline_array_is_found() {
    let r = fixture("planted.joblib");
    assert_eq!(r.format, "joblib");
    assert!(r.pickles[0].joblib);
    let a = &r.arrays[0];
    assert_eq!(
        (a.dtype.as_str(), a.shape.as_slice(), a.object),
        ("<i8", &[10u64][..], false)
    );
    // 80 bytes of data after the padding-length byte and its padding.
    assert_eq!(a.end - a.offset - a.padding, 80);
    let (_, g) = r
        .findings()
        .find(|(_, f)| f.name.as_deref() == Some("posix.system"))
        .unwrap();
    assert_eq!(g.severity, Severity::Dangerous);
    assert!(g.offset >= a.end, "{g:#?}");
    assert_eq!(r.exit_code(), 2);

    let r = fixture("planted_object_array.joblib");
    let obj = r.arrays.iter().find(|a| a.object).unwrap();
    let (_, g) = r
        .findings()
        .find(|(_, f)| f.name.as_deref() == Some("posix.system"))
        .unwrap();
    assert!(
        obj.offset < g.offset && g.offset < obj.end,
        "inside the nested pickle"
    );
}

#[test]
fn joblib_arrays_shorter_than_declared_are_errors() {
    for (file, what) in [
        ("truncated_array.joblib", "runs past the end of the file"),
        ("lying_shape.joblib", "declares 2040 bytes"),
    ] {
        let r = fixture(file);
        let e = r.pickles[0].error.as_ref().unwrap();
        assert!(e.message.contains(what), "{file}: {e}");
        assert_eq!(r.exit_code(), 3);
    }
    // A shape whose element count overflows (i64::MAX x 16): an error, no allocation.
    let data = std::fs::read(format!("{ROOT}/fixtures/scan/benign_arrays.p2.joblib")).unwrap();
    let key = data.windows(5).position(|w| w == b"shape").unwrap();
    let at = key
        + data[key..]
            .windows(3)
            .position(|w| w == b"K\x03\x85")
            .unwrap();
    let mut huge = data[..at].to_vec();
    huge.extend_from_slice(b"\x8a\x08\xff\xff\xff\xff\xff\xff\xff\x7fK\x10\x86");
    huge.extend_from_slice(&data[at + 3..]);
    let r = scan_bytes(&huge);
    let e = r.pickles[0].error.as_ref().unwrap();
    assert!(e.message.contains("has no valid size"), "{e}");
    assert_eq!(r.exit_code(), 3);
}

#[test]
fn both_records_of_a_duplicated_zip_name_are_scanned() {
    for file in ["dup_benign_first.pt", "dup_payload_first.pt"] {
        let r = fixture(file);
        let records: Vec<_> = r
            .pickles
            .iter()
            .filter(|p| p.member.as_deref() == Some("archive/data.pkl"))
            .collect();
        assert_eq!(records.len(), 2, "{file}");
        for (i, p) in records.iter().enumerate() {
            let f = &p.findings[0];
            assert_eq!(f.kind, Kind::DuplicateName);
            assert!(
                f.detail.starts_with(&format!("record {} of 2", i + 1)),
                "{}",
                f.detail
            );
        }
        assert_eq!(r.exit_code(), 2, "{file}");
    }
}

#[test]
fn verdicts_by_name() {
    let sev = |module: &str, name: &str| {
        let data = format!("c{module}\n{name}\n.");
        let r = scan_bytes(data.as_bytes());
        r.pickles[0].findings[0].severity
    };
    use Severity::*;
    for (m, n, s) in [
        // numpy's random generators: `_pickle` is numpy's own module here.
        ("numpy.random._pickle", "__generator_ctor", Safe),
        ("numpy.random._pickle", "__bit_generator_ctor", Safe),
        ("numpy.random._pickle", "__randomstate_ctor", Safe),
        ("numpy.random._mt19937", "MT19937", Safe),
        ("numpy.random.bit_generator", "SeedSequence", Safe),
        ("numpy._core.multiarray", "_reconstruct", Safe),
        ("numpy._core.multiarray", "scalar", Safe),
        ("numpy._core.numeric", "_frombuffer", Safe),
        ("numpy", "dtype", Safe),
        // Another package's private `_pickle` module is its own: unknown.
        ("mypkg._pickle", "helper", Unknown),
        // The pickle modules themselves, and aliases of them.
        ("_pickle", "loads", Dangerous),
        ("pickle", "loads", Dangerous),
        ("cPickle", "loads", Dangerous),
        ("six.moves.cPickle", "loads", Dangerous),
        ("six.moves.builtins", "eval", Dangerous),
        // An attribute path still reaches the module (protocol 4 dotted names).
        ("mypkg", "_pickle.loads", Dangerous),
        // joblib: the array wrappers are data, the loaders are not.
        ("joblib.numpy_pickle", "NumpyArrayWrapper", Safe),
        ("joblib.numpy_pickle_compat", "NDArrayWrapper", Safe),
        (
            "sklearn.externals.joblib.numpy_pickle",
            "NumpyArrayWrapper",
            Safe,
        ),
        ("joblib", "load", Dangerous),
        ("joblib.numpy_pickle", "load", Dangerous),
        ("joblib.memory", "MemorizedFunc", Dangerous),
        // pip installs (and runs) packages.
        ("pip", "main", Dangerous),
        ("pip._internal", "main", Dangerous),
        ("pip._internal.cli.main", "main", Dangerous),
        (
            "sklearn.linear_model._logistic",
            "LogisticRegression",
            Unknown,
        ),
    ] {
        assert_eq!(sev(m, n), s, "{m}.{n}");
    }
}

#[test]
fn npz_members_are_named() {
    let r = fixture("benign.npz");
    let names: Vec<_> = r
        .arrays
        .iter()
        .map(|a| a.member.as_deref().unwrap())
        .collect();
    assert_eq!(names, ["x.npy", "y.npy"]);
    assert!(r.pickles.is_empty());
    let r = fixture("payload.npz");
    assert_eq!(r.pickles.len(), 1);
    assert_eq!(r.pickles[0].member.as_deref(), Some("obj.npy"));
    assert_eq!(r.exit_code(), 2);
}

#[test]
fn json_schema_has_arrays_and_compression() {
    let r = fixture("planted.joblib");
    let j = serde_json::to_value(&r).unwrap();
    assert_eq!(j["format"], "joblib");
    assert_eq!(j["compression"], Json::Null);
    assert_eq!(j["pickles"][0]["joblib"], true);
    let a = &j["arrays"][0];
    for key in [
        "member", "format", "build", "offset", "padding", "end", "dtype", "shape", "order",
        "object", "file",
    ] {
        assert!(a.get(key).is_some(), "{key}");
    }
    assert_eq!(a["format"], "joblib");
    assert_eq!(a["dtype"], "<i8");
}

#[cfg(feature = "cli")]
#[test]
fn cli_explains_joblib_verdicts() {
    use std::process::Command;
    let bin = env!("CARGO_BIN_EXE_pickle-vm");
    let run = |file: &str| {
        let out = Command::new(bin)
            .args(["scan", &format!("{ROOT}/fixtures/scan/{file}")])
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap(),
        )
    };
    let (code, text) = run("sklearn_logistic_regression.joblib");
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("(joblib): unknown (not known to be data: sklearn.linear_model._logistic.LogisticRegression; nothing dangerous)"),
        "{text}"
    );
    assert!(text.contains("4 arrays that joblib reads inline"), "{text}");
    let (code, text) = run("planted.joblib");
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("posix.system  called by REDUCE at 363"),
        "{text}"
    );
    let (_, text) = run("planted_object_array.joblib");
    assert!(
        text.contains("object array (|O), shape [2]: its pickle"),
        "{text}"
    );
}
