//! Shared by the `serde_*` tests: the CPython fixtures of `fixtures/generate_serde.py`.
#![allow(dead_code)]

use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/serde")
}

/// The pickle of `case` written with `protocol`.
pub fn fixture(case: &str, protocol: u8) -> Vec<u8> {
    let path = dir().join(format!("{case}.p{protocol}.pickle"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn entry(case: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(dir().join("expected.json")).unwrap();
    let all: serde_json::Value = serde_json::from_str(&text).unwrap();
    all.get(case)
        .unwrap_or_else(|| panic!("no case {case}"))
        .clone()
}

/// The protocols `case` was written with.
pub fn protocols(case: &str) -> Vec<u8> {
    entry(case)["protocols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().unwrap() as u8)
        .collect()
}

/// The expected value of `case`, as JSON.
pub fn expected(case: &str) -> serde_json::Value {
    entry(case)["expected"].clone()
}

/// Every `(protocol, pickle)` of `case`.
pub fn each(case: &str) -> Vec<(u8, Vec<u8>)> {
    protocols(case)
        .into_iter()
        .map(|p| (p, fixture(case, p)))
        .collect()
}
