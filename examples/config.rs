//! A configuration object (nested dataclasses) into Rust structs.
//!
//! The pickle (`fixtures/serde/config.p5.pickle`) was written by
//! `fixtures/generate_serde.py`, in essence:
//!
//! ```python
//! @dataclasses.dataclass
//! class Server:
//!     host: str
//!     port: int
//!     tags: list
//!
//! @dataclasses.dataclass
//! class Config:
//!     name: str
//!     debug: bool
//!     servers: list
//!     retries: int = 3
//!     timeout: float = 1.5
//!     owner: object = None
//!
//! pickle.dumps(Config("prod", False, [Server("a.example", 80, ["web"]),
//!                                     Server("b.example", 8080, [])],
//!                     owner={"team": "infra"}), protocol=5)
//! ```
//!
//! Run with `cargo run --example config`.

use serde::Deserialize;
use serde_pickle_vm::pickle;
use std::collections::HashMap;

#[pickle(module = "__main__", class = "Server")]
#[derive(Deserialize, Debug)]
struct Server {
    host: String,
    port: u16,
    #[serde(default)]
    tags: Vec<String>,
}

#[pickle(module = "__main__", class = "Config")]
#[derive(Deserialize, Debug)]
struct Config {
    name: String,
    debug: bool,
    servers: Vec<Server>,
    retries: u32,
    /// Seconds; an int in the pickle would be accepted too.
    timeout: f64,
    owner: Option<HashMap<String, String>>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/serde/config.p5.pickle"
    ))?;
    let config: Config = serde_pickle_vm::from_slice(&data)?;
    println!(
        "{} (debug: {}, retries: {}, timeout: {}s, owner: {:?})",
        config.name, config.debug, config.retries, config.timeout, config.owner
    );
    for s in &config.servers {
        println!("  server {}:{} tags {:?}", s.host, s.port, s.tags);
    }
    // The same file as untyped JSON-like data.
    let json: serde_json::Value = serde_pickle_vm::from_slice(&data)?;
    println!("{json}");
    Ok(())
}
