//! The `#[pickle(...)]` attribute macro of [`serde_pickle_vm`]: maps Python classes onto
//! Rust types that derive `serde::Deserialize`.
//!
//! The macro is re-exported as `serde_pickle_vm::pickle` (feature `derive`, on by
//! default); see [`macro@pickle`] for every attribute.
//!
//! # How it works
//!
//! `#[pickle]` goes *above* `#[derive(Deserialize)]`, so it rewrites the item before
//! serde's derive reads it: it removes its own attributes and adds
//! `#[serde(rename(deserialize = "..."))]` names that encode them (module, class, which
//! constructor argument a field is, an enum member's value). serde hands those names to
//! the pickle deserializer, which checks classes and serves constructor arguments under
//! them. Every serde attribute keeps working; serialization is untouched; other
//! deserializers only see unusual names.
//!
//! [`serde_pickle_vm`]: https://docs.rs/serde_pickle_vm

mod attr;
mod expand;

use proc_macro::TokenStream;

/// Maps a Python class (or family of classes, or Python enum) onto a Rust type.
///
/// Place it above `#[derive(Deserialize)]`. All attributes are optional; a bare
/// `#[pickle]` just enables the field attributes.
///
/// # On a struct
///
/// * `module = "m", class = "C"`: the object must be an instance of `m.C` (for Python 2
///   pickles, after the usual module renames); anything else is an error naming both
///   classes. Fields come from the object's state (the `__dict__` and slots a `BUILD`
///   restored), as they would without the macro.
/// * `args` (tuple structs): the fields are the constructor's positional arguments, as
///   for a `namedtuple` or a class whose `__reduce__` returns `(cls, (a, b))`.
///
/// ```
/// use serde::Deserialize;
/// use serde_pickle_vm::pickle;
///
/// // class Greeter:  (pickled as Greeter("World", True), protocol 2)
/// //     def __init__(self, name, excited): self.name = name; self.excited = excited
/// #[pickle(module = "__main__", class = "Greeter")]
/// #[derive(Deserialize, Debug)]
/// struct Greeter {
///     name: String,
///     excited: bool,
/// }
/// let data = b"\x80\x02c__main__\nGreeter\nq\x00)\x81q\x01}q\x02(X\x04\x00\x00\x00nameq\x03X\x05\x00\x00\x00Worldq\x04X\x07\x00\x00\x00excitedq\x05\x88ub.";
/// let g: Greeter = serde_pickle_vm::from_slice(data).unwrap();
/// assert_eq!((g.name.as_str(), g.excited), ("World", true));
///
/// // Point = collections.namedtuple("Point", "x y"); Point(1, 2)
/// #[pickle(module = "__main__", class = "Point", args)]
/// #[derive(Deserialize)]
/// struct Point(i32, i32);
/// let data = b"\x80\x02c__main__\nPoint\nq\x00K\x01K\x02\x86q\x01\x81q\x02.";
/// let p: Point = serde_pickle_vm::from_slice(data).unwrap();
/// assert_eq!((p.0, p.1), (1, 2));
///
/// // The class is checked:
/// let err = serde_pickle_vm::from_slice::<Greeter>(data).unwrap_err();
/// assert_eq!(err.to_string(), "expected an instance of __main__.Greeter, found object __main__.Point (at byte 27)");
/// ```
///
/// # On a field
///
/// * `arg = N`: the field is positional constructor argument `N` (REDUCE, NEWOBJ args).
/// * `kwarg = "name"`: the field is keyword argument `name` (NEWOBJ_EX).
/// * `state`: the field is the whole state, whatever its shape (what `__setstate__`
///   would receive), e.g. a tuple.
///
/// ```
/// use serde::Deserialize;
/// use serde_pickle_vm::pickle;
///
/// // class Temp:
/// //     def __reduce__(self): return (Temp, (21.5, "C"))
/// #[pickle(module = "__main__", class = "Temp")]
/// #[derive(Deserialize)]
/// struct Temp {
///     #[pickle(arg = 0)]
///     degrees: f64,
///     #[pickle(arg = 1)]
///     unit: char,
/// }
/// let data = b"\x80\x02c__main__\nTemp\nq\x00G@5\x80\x00\x00\x00\x00\x00X\x01\x00\x00\x00Cq\x01\x86q\x02Rq\x03.";
/// let t: Temp = serde_pickle_vm::from_slice(data).unwrap();
/// assert_eq!((t.degrees, t.unit), (21.5, 'C'));
///
/// // class Pair:
/// //     def __getstate__(self): return (self.a, self.b)     # Pair(1, "b")
/// #[pickle(module = "__main__", class = "Pair")]
/// #[derive(Deserialize)]
/// struct Pair {
///     #[pickle(state)]
///     state: (i32, String),
/// }
/// let data = b"\x80\x02c__main__\x0aPair\x0aq\x00)\x81q\x01K\x01X\x01\x00\x00\x00bq\x02\x86q\x03b.";
/// let p: Pair = serde_pickle_vm::from_slice(data).unwrap();
/// assert_eq!(p.state, (1, "b".to_string()));
/// ```
///
/// # On an enum
///
/// * Python `enum.Enum` members: give the enum `module`/`class` and each variant
///   `value = 1` (an int, string or bool literal). A member is matched by its value, or
///   by name when it was pickled as a global (`module.Color.RED`) or its value is the
///   variant's name.
/// * A family of classes, one variant per class: `class = "C"` on each variant (its
///   `module` on the variant or once on the enum). The variant's fields come from the
///   instance as for a struct; `args` on a tuple variant reads constructor arguments.
/// * Variants without pickle attributes keep serde's externally tagged form (a str for
///   a unit variant, a one-pair dict `{name: content}`).
///
/// ```
/// use serde::Deserialize;
/// use serde_pickle_vm::pickle;
///
/// // class Color(enum.Enum): RED = 1; GREEN = 2      [Color.GREEN, Color.RED]
/// #[pickle(module = "__main__", class = "Color")]
/// #[derive(Deserialize, Debug, PartialEq)]
/// enum Color {
///     #[pickle(value = 1)]
///     Red,
///     #[pickle(value = 2)]
///     Green,
/// }
/// let data = b"\x80\x02]q\x00(c__main__\nColor\nq\x01K\x02\x85q\x02Rq\x03h\x01K\x01\x85q\x04Rq\x05e.";
/// let colors: Vec<Color> = serde_pickle_vm::from_slice(data).unwrap();
/// assert_eq!(colors, [Color::Green, Color::Red]);
///
/// // [shapes.Circle(1.0), shapes.Square(2.0)]
/// #[pickle(module = "shapes")]
/// #[derive(Deserialize, Debug, PartialEq)]
/// enum Shape {
///     #[pickle(class = "Circle")]
///     Circle { r: f64 },
///     #[pickle(class = "Square")]
///     Square { side: f64 },
/// }
/// let data = b"\x80\x02]q\x00(cshapes\nCircle\nq\x01)\x81q\x02}q\x03X\x01\x00\x00\x00rq\x04G?\xf0\x00\x00\x00\x00\x00\x00sbcshapes\nSquare\nq\x05)\x81q\x06}q\x07X\x04\x00\x00\x00sideq\x08G@\x00\x00\x00\x00\x00\x00\x00sbe.";
/// let shapes: Vec<Shape> = serde_pickle_vm::from_slice(data).unwrap();
/// assert_eq!(shapes, [Shape::Circle { r: 1.0 }, Shape::Square { side: 2.0 }]);
/// ```
///
/// # Limits
///
/// A container with a `#[serde(flatten)]` field is read by serde as a plain map, so its
/// class is not checked and `arg`/`kwarg`/`state` fields are not served. The macro
/// owns the deserialize name of what it annotates: a `#[serde(rename = ...)]` there is an
/// error (keep `rename(serialize = ...)`).
#[proc_macro_attribute]
pub fn pickle(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::expand(args.into(), input.into()).into()
}
