//! Every pickle of `fixtures/pickles/` (written by CPython for protocols 0–5, plus
//! Python 2 pickles) renders exactly as the expected JSON computed by the fixture
//! generator from CPython's own objects, in default and `--raw` mode, from a slice and
//! from a reader.

use serde::Deserialize;
use serde_pickle_vm::json::{to_string, JsonOptions};
use serde_pickle_vm::{Encoding, Options, Unpickler};
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
struct Case {
    name: String,
    protocol: u8,
    file: String,
    json: Option<String>,
    raw: Option<String>,
    encoding: Option<String>,
    #[serde(default)]
    buffers: Vec<String>,
    error: Option<ExpectedError>,
}

#[derive(Deserialize)]
struct ExpectedError {
    #[serde(rename = "type")]
    kind: String,
    message: String,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pickles")
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(dir().join("manifest.json")).expect("fixtures manifest");
    serde_json::from_str(&text).expect("manifest parses")
}

fn unpickler(case: &Case, raw: bool) -> Unpickler<'static> {
    let encoding = case
        .encoding
        .as_deref()
        .map(|e| e.parse::<Encoding>().unwrap())
        .unwrap_or_default();
    let mut u = Unpickler::with_options(Options {
        encoding,
        emulate: !raw,
        ..Options::default()
    });
    if !case.buffers.is_empty() {
        u = u.buffers(
            case.buffers
                .iter()
                .map(|b| std::fs::read(dir().join(b)).unwrap()),
        );
    }
    u
}

fn expected(file: &str) -> String {
    let text = std::fs::read_to_string(dir().join(file)).unwrap();
    text.strip_suffix('\n').unwrap_or(&text).to_string()
}

#[test]
fn fixtures_render_as_cpython_says() {
    let cases = cases();
    assert!(cases.len() > 100, "expected a broad fixture matrix");
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in &cases {
        let data = std::fs::read(dir().join(&case.file)).unwrap();
        for (raw, want) in [(false, &case.json), (true, &case.raw)] {
            let from_slice = unpickler(case, raw).load_slice(&data);
            let from_reader = unpickler(case, raw).load_reader(&data[..]);
            match (&case.error, want) {
                (Some(err), _) => {
                    for got in [from_slice.map(|_| ()), from_reader.map(|_| ())] {
                        if got.is_ok() {
                            failures.push(format!(
                                "{} (p{}): CPython fails with {}: {}, we load it",
                                case.name, case.protocol, err.kind, err.message
                            ));
                        }
                    }
                }
                (None, Some(want)) => {
                    let want = expected(want);
                    for (how, got) in [("slice", from_slice), ("reader", from_reader)] {
                        match got {
                            Ok(g) => {
                                let got = to_string(&g, &JsonOptions::default()).unwrap();
                                if got != want {
                                    failures.push(format!(
                                        "{} ({}, {how}, raw={raw}):\n  want {}\n  got  {}",
                                        case.name,
                                        case.file,
                                        truncate(&want),
                                        truncate(&got)
                                    ));
                                }
                            }
                            Err(e) => failures.push(format!("{} ({how}): {e}", case.file)),
                        }
                    }
                    checked += 1;
                }
                (None, None) => {}
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} renderings differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_protocol_is_covered() {
    let cases = cases();
    for p in 0..=5u8 {
        let n = cases.iter().filter(|c| c.protocol == p).count();
        assert!(n >= 20, "protocol {p} has only {n} fixtures");
    }
}

fn truncate(s: &str) -> String {
    if s.len() <= 400 {
        return s.to_string();
    }
    let mut end = 400;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}
