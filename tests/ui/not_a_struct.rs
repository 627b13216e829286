use serde_pickle_vm::pickle;

#[pickle(module = "m", class = "f")]
fn f() {}

fn main() {}
