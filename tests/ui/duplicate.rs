use serde::Deserialize;
use serde_pickle_vm::pickle;

#[pickle(module = "a", module = "b", class = "C")]
#[derive(Deserialize)]
struct C {
    #[pickle(state)]
    first: (i32, i32),
    #[pickle(state)]
    second: (i32, i32),
    #[pickle(arg = 0, kwarg = "x")]
    both: i32,
}

fn main() {}
