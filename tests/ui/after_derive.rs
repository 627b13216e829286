use serde::Deserialize;
use serde_pickle_vm::pickle;

#[derive(Deserialize)]
#[pickle(module = "__main__", class = "Greeter")]
struct Greeter {
    name: String,
}

fn main() {}
