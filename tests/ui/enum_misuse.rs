use serde::Deserialize;
use serde_pickle_vm::pickle;

#[pickle(module = "shapes", args)]
#[derive(Deserialize)]
enum Shape {
    #[pickle(class = "Circle")]
    Circle { r: f64 },
    #[pickle(value = 1)]
    One,
    #[pickle(value = 2)]
    Two(i32),
    #[pickle(class = "Square", args)]
    Square { side: f64 },
    #[pickle(module = "other")]
    Other,
}

#[pickle(module = "__main__", class = "Color")]
#[derive(Deserialize)]
enum Color {
    #[pickle(value = 1)]
    Red,
    #[pickle(value = 1)]
    Crimson,
    #[pickle(value = 1.5)]
    Blue,
}

fn main() {}
