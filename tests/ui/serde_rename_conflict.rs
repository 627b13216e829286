use serde::Deserialize;
use serde_pickle_vm::pickle;

#[pickle(module = "__main__", class = "Greeter")]
#[derive(Deserialize)]
#[serde(rename = "Hello")]
struct Greeter {
    #[pickle(arg = 0)]
    #[serde(rename(deserialize = "nom"))]
    name: String,
    // Renaming for serialization only is fine.
    #[serde(rename(serialize = "Excited"))]
    excited: bool,
}

fn main() {}
