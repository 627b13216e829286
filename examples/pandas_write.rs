//! Writes a pickled DataFrame (or a Series, as one column) as Parquet and Arrow IPC
//! (feather) files.
//!
//! ```text
//! cargo run --example pandas_write --features arrow,parquet -- frame.pkl out.parquet out.feather [ROWS]
//! ```

use serde_pickle_vm::pandas::{self, Pandas, WriteOptions};
use std::fs::File;
use std::io::BufWriter;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [src, parquet, feather, rest @ ..] = args.as_slice() else {
        return Err("usage: pandas_write FILE OUT.parquet OUT.feather [ROWS]".into());
    };
    let rows = match rest.first() {
        Some(r) => r.parse()?,
        None => WriteOptions::default().batch_rows,
    };
    let df = match pandas::read_pickle(src)? {
        Pandas::DataFrame(df) => df,
        Pandas::Series(s) => s.into_frame(),
    };
    let opts = || WriteOptions {
        batch_rows: rows,
        ..WriteOptions::default()
    };
    pandas::write_parquet(&df, BufWriter::new(File::create(parquet)?), opts())?;
    pandas::write_ipc(&df, BufWriter::new(File::create(feather)?), opts())?;
    Ok(())
}
