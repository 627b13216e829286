//! Shared by the benches and the memory-measuring examples (included with `#[path]`):
//! reading `/proc/self/status`, and the model type of the torch workload.

// Each includer uses only part of this.
#![allow(dead_code)]

use serde::Deserialize;
use serde_pickle_vm::torch::TensorOf;

/// A field of `/proc/self/status` in KiB (`"VmRSS:"`, `"VmHWM:"`).
pub fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// The typed view of the torch workload's state dict (`layers.N.weight`/`bias`).
#[derive(Deserialize)]
pub struct Model {
    pub layers: Vec<Layer>,
}

/// One layer of [`Model`].
#[derive(Deserialize)]
pub struct Layer {
    pub weight: TensorOf<f32>,
    pub bias: TensorOf<f32>,
}
