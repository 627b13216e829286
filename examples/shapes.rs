//! A heterogeneous list of Python objects into one Rust enum, one variant per class.
//!
//! The pickle (`fixtures/serde/shapes.p4.pickle`) was written by
//! `fixtures/generate_serde.py`, in essence:
//!
//! ```python
//! # module shapes
//! class Circle:
//!     def __init__(self, r): self.r = r
//! class Square:
//!     def __init__(self, side): self.side = side
//! class Segment:
//!     def __init__(self, a, b): self.a, self.b = a, b
//!     def __reduce__(self): return (Segment, (self.a, self.b))
//!
//! pickle.dumps([Circle(1.0), Square(2.0), Segment((0, 0), (1, 1)), Circle(0.5)], protocol=4)
//! ```
//!
//! Run with `cargo run --example shapes`.

use serde::Deserialize;
use serde_pickle_vm::pickle;

#[pickle(module = "shapes")]
#[derive(Deserialize, Debug)]
enum Shape {
    /// Fields from the instance's `__dict__`.
    #[pickle(class = "Circle")]
    Circle { r: f64 },
    #[pickle(class = "Square")]
    Square { side: f64 },
    /// Fields from the constructor arguments `__reduce__` returned.
    #[pickle(class = "Segment", args)]
    Segment((f64, f64), (f64, f64)),
}

impl Shape {
    fn area(&self) -> f64 {
        match self {
            Shape::Circle { r } => std::f64::consts::PI * r * r,
            Shape::Square { side } => side * side,
            Shape::Segment(..) => 0.0,
        }
    }

    fn length(&self) -> f64 {
        match self {
            Shape::Segment((x0, y0), (x1, y1)) => (x1 - x0).hypot(y1 - y0),
            _ => 0.0,
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/serde/shapes.p4.pickle"
    ))?;
    let shapes: Vec<Shape> = serde_pickle_vm::from_slice(&data)?;
    for s in &shapes {
        println!("{s:?}: area {:.3}, length {:.3}", s.area(), s.length());
    }
    Ok(())
}
