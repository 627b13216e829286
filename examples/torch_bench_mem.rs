//! Peak memory of one torch load, for `benches/compare.py` (one process per measurement).
//!
//! `cargo run --release --features torch,mmap --example torch_bench_mem -- FILE MODE`
//!
//! MODE is one of
//! - `typed`: `torch::load_typed` into `Model { layers: Vec<Layer> }`, tensors mapped;
//! - `typed_touch`: the same, then sums every tensor through `as_slice` (every page of
//!   the map becomes resident);
//! - `copy`: opens and copies every tensor into an owned `Vec<f32>`.
//!
//! Prints one line of JSON: the file size, RSS before the load and the peak RSS
//! (`VmHWM`) after it in KiB, and the time of the whole step. Mapped pages that were
//! touched count in RSS; `peak - before - file` is what the mmap path adds above the map.

use serde_pickle_vm::torch::{self, Checkpoint};
use std::fs;

#[path = "../benches/support/mod.rs"]
mod support;
use support::{status_kib, Model};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: torch_bench_mem FILE typed|typed_touch|copy");
    let mode = args.next().unwrap_or_else(|| "typed".into());
    let file_bytes = fs::metadata(&path).expect("stat").len();
    let before = status_kib("VmRSS:");
    let t0 = std::time::Instant::now();
    let (tensors, sum) = match mode.as_str() {
        "typed" | "typed_touch" => {
            let m: Model = torch::load_typed(&path).expect("load_typed");
            let mut sum = 0f64;
            if mode == "typed_touch" {
                for l in &m.layers {
                    for t in [&l.weight, &l.bias] {
                        sum += t.as_slice().expect("as_slice").iter().sum::<f32>() as f64;
                    }
                }
            }
            std::hint::black_box(&m);
            (m.layers.len() * 2, sum)
        }
        "copy" => {
            let ckpt = Checkpoint::open(&path).expect("open");
            let owned: Vec<Vec<f32>> = ckpt
                .tensors()
                .into_iter()
                .map(|(_, t)| t.to_vec::<f32>().expect("to_vec"))
                .collect();
            std::hint::black_box(&owned);
            (owned.len(), 0.0)
        }
        other => panic!("unknown mode {other}: typed, typed_touch or copy"),
    };
    let ms = t0.elapsed().as_secs_f64() * 1e3;
    let peak = status_kib("VmHWM:");
    println!(
        "{{\"mode\":\"{mode}\",\"file_bytes\":{file_bytes},\"rss_before_kib\":{before},\"peak_kib\":{peak},\"tensors\":{tensors},\"sum\":{sum},\"ms\":{ms:.3}}}"
    );
}
