//! Prints `df.info()` of a pickled DataFrame or Series, then its first rows as JSON.
//!
//! ```text
//! cargo run --example pandas_info -- frame.pkl
//! ```

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: pandas_info FILE")?;
    let p = serde_pickle_vm::pandas::read_pickle(&path)?;
    print!("{}", p.info());
    let rows: Vec<serde_json::Value> = serde_pickle_vm::from_file(&path)?;
    for r in rows.iter().take(5) {
        println!("{r}");
    }
    Ok(())
}
