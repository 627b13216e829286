use serde::Deserialize;
use serde_pickle_vm::pickle;

#[pickle(module = "__main__", class = "Point", args)]
#[derive(Deserialize)]
struct Point {
    x: i32,
    y: i32,
}

#[pickle(module = "__main__", class = "Pair")]
#[derive(Deserialize)]
struct Pair(#[pickle(arg = 0)] i32, i32);

fn main() {}
