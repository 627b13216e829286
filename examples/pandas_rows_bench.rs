//! Times reading a pickled frame: loading the graph, the rebuild
//! (`pandas::Pandas::from_graph`) and serde into rows, for `benches/compare.py`.
//!
//! ```text
//! cargo run --release --example pandas_rows_bench -- frame.pkl
//! ```
use serde::Deserialize;
use std::time::Instant;

#[derive(Deserialize)]
#[allow(dead_code)]
struct Row {
    id: i64,
    score: Option<f64>,
    name: Option<String>,
    grade: Option<String>,
    ts: Option<i64>,
    flag: bool,
    count: Option<i64>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: pandas_rows_bench FILE")?;
    for _ in 0..3 {
        let t = Instant::now();
        let loaded = serde_pickle_vm::load_file(&path)?;
        let t0 = t.elapsed();
        let t = Instant::now();
        let p = serde_pickle_vm::pandas::Pandas::from_graph(&loaded.graph)?;
        let t1 = t.elapsed();
        drop(p);
        drop(loaded);
        let t = Instant::now();
        let rows: Vec<Row> = serde_pickle_vm::from_file(&path)?;
        let t2 = t.elapsed();
        println!(
            "load {:.1} ms, rebuild {:.1} ms, rows (all of it) {:.1} ms ({} rows)",
            t0.as_secs_f64() * 1e3,
            t1.as_secs_f64() * 1e3,
            t2.as_secs_f64() * 1e3,
            rows.len()
        );
    }
    Ok(())
}
