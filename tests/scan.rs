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
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn random_bytes(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = scan_bytes(&data).exit_code();
        }

        #[test]
        fn mutated_payloads(seed in 0usize..6, edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), cut in any::<usize>()) {
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
