//! Criterion benchmarks of the torch layer on a ~512 MiB float32 state dict (100 layers ×
//! weight [1024, 1308] + bias [1024]: 200 tensors), written by `benches/compare.py`
//! (`--generate-only --torch-only`) into `target/bench-data/torch_512m.pt`; this bench
//! runs the generator itself when the file is missing.
//!
//! - `open_typed`: `torch::load_typed::<Model>` — map the file, read the zip directory and
//!   the pickle, rebuild the tensors and deserialize `Model { layers: Vec<Layer> }`, no
//!   tensor byte read (mmap), then drop.
//! - `open`: the same without serde (`Checkpoint::open`).
//! - `copy_all`: open, then `to_vec::<f32>()` of every tensor into owned `Vec`s, then drop.
//! - `read_file`: `std::fs::read` of the whole file (the yardstick for `copy_all`).
//!
//! The file is in the page cache after the first run; every number is warm.
//! `PICKLE_BENCH_DATA` overrides the directory, `PICKLE_BENCH_QUICK=1` shortens the runs.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use serde_pickle_vm::torch::{self, Checkpoint};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

#[path = "support/mod.rs"]
mod support;
use support::Model;

fn data_file() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::var_os("PICKLE_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target").join("bench-data"));
    let file = dir.join("torch_512m.pt");
    if !file.exists() {
        let status = Command::new("python3")
            .arg(root.join("benches").join("compare.py"))
            .args(["--generate-only", "--torch-only", "--data-dir"])
            .arg(&dir)
            .status();
        if !matches!(status, Ok(s) if s.success()) || !file.exists() {
            panic!(
                "{} is missing; run `python3 benches/compare.py --generate-only --torch-only` (needs torch)",
                file.display()
            );
        }
    }
    file
}

fn bench(c: &mut Criterion) {
    let file = data_file();
    let quick = std::env::var("PICKLE_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let mut g = c.benchmark_group("torch");
    g.warm_up_time(Duration::from_millis(if quick { 200 } else { 1000 }));
    g.measurement_time(Duration::from_secs(if quick { 1 } else { 3 }));

    g.bench_function("open_typed", |b| {
        b.iter(|| {
            let m: Model = torch::load_typed(&file).unwrap();
            assert_eq!(m.layers.len(), 100);
            assert_eq!(m.layers[99].weight.shape()[0], m.layers[99].bias.shape()[0]);
            black_box(m)
        })
    });
    g.bench_function("open", |b| {
        b.iter(|| black_box(Checkpoint::open(&file).unwrap()))
    });

    g.sample_size(10);
    g.bench_function("copy_all", |b| {
        b.iter(|| {
            let ckpt = Checkpoint::open(&file).unwrap();
            let owned: Vec<Vec<f32>> = ckpt
                .tensors()
                .into_iter()
                .map(|(_, t)| t.to_vec::<f32>().unwrap())
                .collect();
            black_box(owned)
        })
    });
    g.bench_function("read_file", |b| {
        b.iter(|| black_box(std::fs::read(&file).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
