//! Reads Python objects into a Rust struct, with the class checked.
//!
//! The pickle (`fixtures/serde/greeter_example.pickle`) was written by:
//!
//! ```python
//! import pickle
//!
//! class Greeter:
//!     def __init__(self, name, excited):
//!         self.name = name
//!         self.excited = excited
//!
//! with open("greeter_example.pickle", "wb") as f:
//!     pickle.dump([Greeter("World", True), Greeter("Rust", False)], f, protocol=4)
//! ```
//!
//! Run with `cargo run --example greeter [path]`.

use serde::Deserialize;
use serde_pickle_vm::pickle;

#[pickle(module = "__main__", class = "Greeter")]
#[derive(Deserialize, Debug)]
struct Greeter {
    name: String,
    excited: bool,
}

impl Greeter {
    fn greet(&self) -> String {
        format!(
            "Hello, {}{}",
            self.name,
            if self.excited { "!" } else { "." }
        )
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/serde/greeter_example.pickle"
        )
        .into()
    });
    let file = std::fs::File::open(&path)?;
    let greeters: Vec<Greeter> = serde_pickle_vm::from_reader(std::io::BufReader::new(file))?;
    for g in &greeters {
        println!("{}", g.greet());
    }
    Ok(())
}
