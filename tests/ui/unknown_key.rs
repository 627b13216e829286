use serde::Deserialize;
use serde_pickle_vm::pickle;

#[pickle(modul = "__main__", class = "Greeter")]
#[derive(Deserialize)]
struct Greeter {
    #[pickle(argument = 0)]
    name: String,
}

fn main() {}
