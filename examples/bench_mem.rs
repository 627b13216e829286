//! Peak memory of one load, for `benches/compare.py` (one process per measurement).
//!
//! `cargo run --release --example bench_mem -- FILE [slice|reader]`
//!
//! Reads FILE into memory, notes the resident set size, loads the pickle (`load_slice`,
//! which borrows strings from the input, or `load_reader`, which copies them), and prints
//! one line of JSON: the RSS before the load and the peak RSS (`VmHWM`) after it, in KiB,
//! with the input size, the node count and the time of this first load + drop in a fresh
//! process (`load_drop_ms`). The input stays resident throughout, as it
//! does on the Python side, so `peak - before` is what the load itself added.

use std::fs;

#[path = "../benches/support/mod.rs"]
mod support;
use support::status_kib;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: bench_mem FILE [slice|reader]");
    let mode = args.next().unwrap_or_else(|| "slice".into());
    let data = fs::read(&path).expect("read input");
    let before = status_kib("VmRSS:");
    let t0 = std::time::Instant::now();
    let nodes = match mode.as_str() {
        "slice" => {
            let g = serde_pickle_vm::load_slice(&data).expect("load_slice");
            let n = g.node_count();
            drop(std::hint::black_box(g));
            n
        }
        "reader" => {
            let g = serde_pickle_vm::load_reader(&data[..]).expect("load_reader");
            let n = g.node_count();
            drop(std::hint::black_box(g));
            n
        }
        other => panic!("unknown mode {other}: slice or reader"),
    };
    let ms = t0.elapsed().as_secs_f64() * 1e3;
    let peak = status_kib("VmHWM:");
    println!(
        "{{\"mode\":\"{mode}\",\"input_bytes\":{},\"rss_before_kib\":{before},\"peak_kib\":{peak},\"nodes\":{nodes},\"load_drop_ms\":{ms:.3}}}",
        data.len()
    );
}
