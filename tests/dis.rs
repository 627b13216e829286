//! The disassembler against CPython 3.11's `pickletools.dis`, byte for byte.
//!
//! Expected outputs come from `fixtures/dis/gen.py` (committed with its results, so
//! no Python is needed here) and, when present, from `fixtures/pickles/manifest.json`.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use serde_pickle_vm::dis::{dis, dis_fmt, dis_to_string, DisOptions};
use serde_pickle_vm::ErrorKind;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the disassembler, returning the text written (also on error) and the message.
fn run(data: &[u8], opts: &DisOptions) -> (String, Option<String>) {
    let mut out = String::new();
    let res = dis_fmt(data, &mut out, opts);
    (out, res.err().map(|e| e.message().to_string()))
}

/// pickletools' exception text is `Type: message`; we compare the message.
fn py_message(err: &str) -> &str {
    err.split_once(": ").map_or(err, |(_, m)| m)
}

fn first_diff(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}:\n  got:  {x:?}\n  want: {y:?}", i + 1);
        }
    }
    format!(
        "tails differ: got {} lines, want {}; got ends {:?}, want ends {:?}",
        a.lines().count(),
        b.lines().count(),
        &a[a.len().saturating_sub(40)..],
        &b[b.len().saturating_sub(40)..]
    )
}

#[test]
fn generated_cases_match_pickletools() {
    let dir = root().join("fixtures/dis");
    let cases: Json =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    let mut failures = Vec::new();
    let mut compared = 0;
    for case in cases.as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let want_err = case["error"].as_str().map(py_message);
        let data = std::fs::read(dir.join(format!("{name}.pkl"))).unwrap();
        for (suffix, opts) in [("", DisOptions::default()), ("-a", DisOptions::annotated())] {
            let want = std::fs::read_to_string(dir.join(format!("{name}{suffix}.txt"))).unwrap();
            let (got, err) = run(&data, &opts);
            compared += 1;
            if got != want {
                failures.push(format!("{name}{suffix}: {}", first_diff(&got, &want)));
            } else if err.as_deref() != want_err {
                failures.push(format!("{name}{suffix}: error {err:?}, want {want_err:?}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(compared >= 400, "only {compared} comparisons");
}

#[test]
fn damaged_pickles_match_pickletools() {
    let path = root().join("fixtures/dis/mutants.json");
    let cases: Json = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut failures = Vec::new();
    let cases = cases.as_array().unwrap();
    for (i, case) in cases.iter().enumerate() {
        let data = hex(case["hex"].as_str().unwrap());
        let opts = DisOptions {
            indent: case["indent"].as_u64().unwrap() as usize,
            annotate: case["annotate"].as_u64().unwrap() as usize,
        };
        let (got, err) = run(&data, &opts);
        let want = case["out"].as_str().unwrap();
        let want_err = case["error"].as_str().map(py_message);
        if got != want {
            failures.push(format!("#{i} {}: {}", case["hex"], first_diff(&got, want)));
        } else if err.as_deref() != want_err {
            failures.push(format!(
                "#{i} {}: error {err:?}, want {want_err:?}",
                case["hex"]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The shared fixture corpus (another branch generates it); skipped until it exists.
/// Entries are `{file, dis, dis_annotate}` with paths relative to the manifest.
#[test]
fn fixture_manifest_matches_pickletools() {
    // `PICKLE_FIXTURES_DIR` points at another copy of the corpus (e.g. a worktree).
    let base = std::env::var_os("PICKLE_FIXTURES_DIR")
        .map_or_else(|| root().join("fixtures/pickles"), PathBuf::from);
    let Ok(text) = std::fs::read_to_string(base.join("manifest.json")) else {
        eprintln!("fixtures/pickles/manifest.json not present; skipping");
        return;
    };
    let manifest: Json = serde_json::from_str(&text).unwrap();
    let entries = match &manifest {
        Json::Array(a) => a.clone(),
        Json::Object(o) => o
            .get("entries")
            .or_else(|| o.get("pickles"))
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let mut failures = Vec::new();
    let mut compared = 0;
    for entry in &entries {
        let Some(file) = entry["file"].as_str() else {
            continue;
        };
        let data = std::fs::read(resolve(&base, file)).unwrap();
        for (key, opts) in [
            ("dis", DisOptions::default()),
            ("dis_annotate", DisOptions::annotated()),
        ] {
            let Some(expected) = entry.get(key).and_then(Json::as_str) else {
                continue;
            };
            let want = std::fs::read_to_string(resolve(&base, expected)).unwrap();
            let (got, _) = run(&data, &opts);
            compared += 1;
            if got != want {
                failures.push(format!("{file} ({key}): {}", first_diff(&got, &want)));
            }
        }
    }
    eprintln!("compared {compared} fixture listings");
    assert!(
        failures.is_empty(),
        "{} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn resolve(base: &Path, file: &str) -> PathBuf {
    let p = base.join(file);
    if p.exists() {
        p
    } else {
        root().join(file)
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn err_of(data: &[u8]) -> (String, serde_pickle_vm::Error) {
    let mut out = String::new();
    let err = dis_fmt(data, &mut out, &DisOptions::default()).unwrap_err();
    (out, err)
}

#[test]
fn truncated_input() {
    let (out, err) = err_of(b"\x80\x04\x95\x05\x00");
    assert_eq!(out, "    0: \\x80 PROTO      4\n");
    assert_eq!(err.kind(), ErrorKind::Truncated);
    assert_eq!(err.offset(), Some(2));
    assert_eq!(err.opcode(), Some("FRAME"));
    assert_eq!(err.message(), "not enough data in stream to read uint8");

    let (_, err) = err_of(b"X\x10\x00\x00\x00abc");
    assert_eq!(err.kind(), ErrorKind::Truncated);
    assert_eq!(err.offset(), Some(0));
    assert_eq!(
        err.message(),
        "expected 16 bytes in a unicodestring4, but only 3 remain"
    );

    let (out, err) = err_of(b"NN");
    assert_eq!(out, "    0: N    NONE\n    1: N    NONE\n");
    assert_eq!(err.kind(), ErrorKind::Truncated);
    assert_eq!(err.offset(), Some(2));
    assert_eq!(err.message(), "pickle exhausted before seeing STOP");

    // A huge length must not allocate: only what is there is read.
    let (_, err) = err_of(b"\x8e\xff\xff\xff\xff\xff\xff\xff\x7fab");
    assert_eq!(
        err.message(),
        "expected 9223372036854775807 bytes in a bytes8, but only 2 remain"
    );
}

#[test]
fn unknown_opcode() {
    let (out, err) = err_of(b"\x80\x02N\xff.");
    assert_eq!(out, "    0: \\x80 PROTO      2\n    2: N    NONE\n");
    assert_eq!(err.kind(), ErrorKind::UnknownOpcode);
    assert_eq!(err.offset(), Some(3));
    assert_eq!(err.message(), "at position 3, opcode b'\\xff' unknown");
}

#[test]
fn stack_errors() {
    let (out, err) = err_of(b"K\x01a.");
    assert_eq!(out, "    0: K    BININT1    1\n    2: a    APPEND\n");
    assert_eq!(err.kind(), ErrorKind::Stack);
    assert_eq!(err.offset(), Some(2));
    assert_eq!(err.opcode(), Some("APPEND"));
    assert_eq!(
        err.message(),
        "tries to pop 2 items from stack with only 1 items"
    );

    let (out, err) = err_of(b"K\x01t.");
    assert_eq!(
        out,
        "    0: K    BININT1    1\n    2: t    TUPLE      no MARK exists on stack\n"
    );
    assert_eq!((err.kind(), err.offset()), (ErrorKind::Stack, Some(2)));

    let (out, err) = err_of(b"K\x01K\x02.");
    assert!(out.ends_with("    4: .    STOP\nhighest protocol among opcodes = 1\n"));
    assert_eq!((err.kind(), err.offset()), (ErrorKind::Stack, Some(4)));
    assert_eq!(err.message(), "stack not empty after STOP: [int]");

    let (_, err) = err_of(b"h\x03.");
    assert_eq!((err.kind(), err.offset()), (ErrorKind::Memo, Some(0)));
    assert_eq!(err.message(), "memo key 3 has never been stored into");
}

#[test]
fn bad_arguments() {
    let (_, err) = err_of(b"NI12x\n.");
    assert_eq!(
        (err.kind(), err.offset()),
        (ErrorKind::BadArgument, Some(1))
    );
    assert_eq!(
        err.message(),
        "invalid literal for int() with base 10: b'12x'"
    );
    let (_, err) = err_of(b"\x8c\x01\xff.");
    assert_eq!((err.kind(), err.offset()), (ErrorKind::Decode, Some(0)));
}

#[test]
fn io_writer_and_string_agree() {
    let data = std::fs::read(root().join("fixtures/dis/nested-p2.pkl")).unwrap();
    let mut bytes = Vec::new();
    dis(&data, &mut bytes, &DisOptions::annotated()).unwrap();
    let s = dis_to_string(&data, &DisOptions::annotated()).unwrap();
    assert_eq!(String::from_utf8(bytes).unwrap(), s);
}

#[test]
fn never_panics_on_prefixes_and_flips() {
    let data = std::fs::read(root().join("fixtures/dis/objects-p4.pkl")).unwrap();
    for n in 0..data.len() {
        let _ = dis_to_string(&data[..n], &DisOptions::annotated());
        let mut d = data.clone();
        d[n] ^= 0xa5;
        let _ = dis_to_string(&d, &DisOptions::default());
    }
}

/// A differential corpus in the format of `fixtures/dis/mutants.json`, named by the
/// `DIS_CORPUS` environment variable (for ad-hoc runs against fresh pickletools output).
#[test]
#[ignore = "needs DIS_CORPUS=path/to/corpus.json"]
fn external_corpus() {
    let path = std::env::var("DIS_CORPUS").expect("set DIS_CORPUS");
    let cases: Json = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut failures = Vec::new();
    let cases = cases.as_array().unwrap();
    for (i, case) in cases.iter().enumerate() {
        let data = hex(case["hex"].as_str().unwrap());
        let opts = DisOptions {
            indent: case["indent"].as_u64().unwrap() as usize,
            annotate: case["annotate"].as_u64().unwrap() as usize,
        };
        let (got, err) = run(&data, &opts);
        let want = case["out"].as_str().unwrap();
        let want_err = case["error"].as_str().map(py_message);
        if got != want || err.as_deref() != want_err {
            failures.push(format!(
                "#{i} {}: {} / error {err:?}, want {want_err:?}",
                case["hex"],
                first_diff(&got, want)
            ));
        }
    }
    failures.truncate(30);
    assert!(
        failures.is_empty(),
        "of {}:\n{}",
        cases.len(),
        failures.join("\n")
    );
}
