//! The static scanner: `scan_bytes` on anything (plain pickles, streams of several,
//! joblib files with inline arrays, torch zip/legacy/tar archives, .npy and .npz files),
//! then every way the CLI reads its report: the verdict, the exit code, each finding's
//! description, the arrays, and the JSON form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_pickle_vm::scan::scan_bytes;

fuzz_target!(|data: &[u8]| {
    let report = scan_bytes(data);
    let _ = report.severity();
    let code = report.exit_code();
    assert!(code <= 3, "exit code {code}");
    let _ = report.unreadable();
    for p in &report.pickles {
        let _ = p.severity();
    }
    for (_, finding) in report.findings() {
        let _ = finding.what();
    }
    for a in &report.arrays {
        assert!(a.offset <= a.end, "array {a:?}");
        let _ = a.len();
    }
    let _ = report.describe_format();
    let _ = serde_json::to_string(&report).expect("a report always serializes");
});
