use serde::Deserialize;
use serde_pickle_vm::pickle;

#[pickle(class = "Greeter")]
#[derive(Deserialize)]
struct Greeter {
    name: String,
}

#[pickle(module = "shapes")]
#[derive(Deserialize)]
struct NoClass {
    name: String,
}

fn main() {}
