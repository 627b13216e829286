//! The file readers through the one entry point: `.npy` headers and data, `.npz`
//! archives, joblib dumps (inline arrays, nested pickles, sibling names); the JSON
//! rendering of what loads (with `--data`), the `dis` listing, and the plain loaders
//! with joblib's hook (slice and stream must agree on success).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_pickle_vm::dis::DisOptions;
use serde_pickle_vm::file::{self, FileOptions};
use serde_pickle_vm::json::{to_string, JsonOptions};

/// Rendering `--data` materialises every element: only for graphs of small arrays.
fn render(graph: &serde_pickle_vm::Graph<'_>) {
    let _ = to_string(graph, &JsonOptions::default());
    let data = JsonOptions {
        data: true,
        ..JsonOptions::default()
    };
    let _ = to_string(graph, &data);
}

fuzz_target!(|data: &[u8]| {
    let mut opts = FileOptions::default();
    opts.pickle.limits.max_inflated = 256 << 20;
    if let Ok(loaded) = file::load_bytes_with(data, &opts) {
        render(&loaded.graph);
        let _ = loaded.format.to_string();
    }
    let mut out = String::new();
    let _ = file::dis(data, &mut out, &DisOptions::default());
    let slice = serde_pickle_vm::load_slice(data);
    let stream = serde_pickle_vm::load_reader(data);
    if let (Ok(a), Ok(b)) = (&slice, &stream) {
        assert_eq!(
            to_string(a, &JsonOptions::default()).ok(),
            to_string(b, &JsonOptions::default()).ok()
        );
    }
});
