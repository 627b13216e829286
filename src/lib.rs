//! Read Python pickles and PyTorch checkpoints without Python.
//!
//! A pickle is a program for a small stack machine. This crate runs that program on a
//! VM that **never executes anything**: a global is a name, a call (REDUCE, NEWOBJ, …)
//! is recorded as data. The result is an object graph that keeps shared references and
//! cycles; from there you can
//!
//! - walk it untyped with [`Value`] ([`load_slice`], [`load_reader`], [`Unpickler`] for
//!   options and CPython's hooks),
//! - deserialize it into your own types with serde ([`from_slice`], [`from_reader`]),
//! - render it as JSON ([`json`]) or disassemble the bytes ([`dis`]),
//! - open PyTorch checkpoints and numpy arrays as typed tensors (`torch`, `numpy`
//!   features),
//! - read pickled pandas DataFrames and Series as rows or columns ([`pandas`], feature
//!   `pandas`), and write them as Parquet, Arrow IPC or CSV (features `arrow`,
//!   `parquet`).
//!
//! ```
//! // {'a': [1, 2.5, 'x']} written by CPython with protocol 4
//! let data = b"\x80\x04\x95\x19\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94]\x94(K\x01G@\x04\x00\x00\x00\x00\x00\x00\x8c\x01x\x94es.";
//! let graph = serde_pickle_vm::load_slice(data)?;
//! let a = graph.root().get("a").unwrap();
//! assert_eq!(a.get(0).and_then(|v| v.as_i64()), Some(1));
//! assert_eq!(a.get(2).and_then(|v| v.as_str()), Some("x"));
//! assert_eq!(
//!     serde_pickle_vm::json::to_string(&graph, &Default::default())?,
//!     r#"{"dict":[["a",[1,{"float":2.5},"x"]]]}"#
//! );
//! # Ok::<(), serde_pickle_vm::Error>(())
//! ```
//!
//! Bad input is an [`Error`] with the byte offset and opcode (and, for serde, the path
//! to the value), never a panic; resources are bounded by [`Limits`].
//!
//! # Typed loading with serde
//!
//! [`from_slice`], [`from_reader`], [`from_graph`] and [`from_value`] (and their
//! `_with_options` variants) deserialize any `serde::Deserialize` type from a pickle. The
//! VM builds the object graph without executing anything; the serde layer then walks it.
//! From a slice, `&str` and `&[u8]` fields borrow from the input.
//!
//! ```
//! use serde::Deserialize;
//!
//! #[derive(Deserialize, Debug, PartialEq)]
//! struct Record<'a> {
//!     id: u32,
//!     name: &'a str,
//!     tags: Vec<String>,
//! }
//! // pickle.dumps([{"id": 1, "name": "ann", "tags": ["a"]}], protocol=4)
//! let data = b"\x80\x04\x95*\x00\x00\x00\x00\x00\x00\x00]\x94}\x94(\x8c\x02id\x94K\x01\x8c\x04name\x94\x8c\x03ann\x94\x8c\x04tags\x94]\x94\x8c\x01a\x94aua.";
//! let records: Vec<Record> = serde_pickle_vm::from_slice(data).unwrap();
//! assert_eq!(records, [Record { id: 1, name: "ann", tags: vec!["a".into()] }]);
//! ```
//!
//! Class instances deserialize like dicts of their state; the `pickle` attribute macro
//! (feature `derive`, default) checks classes, reads constructor arguments, and maps
//! Python enums and families of classes onto Rust enums.
//!
//! ## Python ↔ serde mapping
//!
//! | Python value | serde reads it as | notes |
//! | --- | --- | --- |
//! | `None` | unit, `Option::None` | `deserialize_any`: unit |
//! | `bool` | bool | not an int |
//! | `int` | every integer type, range-checked | beyond `i64`: `i128`/`u128` when it fits, else an error naming the value |
//! | `float` | `f64`, `f32` | an `int` is accepted where a float is wanted |
//! | `str` | `&str` (borrowed), `String`, `char` (one code point) | a str with lone surrogates is an error |
//! | `bytes`, `bytearray` | bytes (`serde_bytes`, `&[u8]` borrowed), or a seq of `u8` | Python 2 `str` is bytes only under [`Encoding::Bytes`] |
//! | `list`, `tuple`, `set`, `frozenset` | seq, tuple, tuple struct | a tuple of the wrong length is an error |
//! | `dict`, `OrderedDict`, `defaultdict`, `Counter` | map, struct (str keys) | keys of any type: `HashMap<(i32, i32), _>`; for string keys (`serde_json::Value`) int, float, bool and None keys become their text |
//! | instance (`NEWOBJ`/`REDUCE` + `BUILD`, protocol 0–1 `copyreg._reconstructor`) | struct from its state dict (a `(dict, slots)` state merged) | any: a map of the state; without state dict, a state tuple or the constructor args are read as a seq |
//! | instance with `__setstate__` state of another shape | `#[pickle(state)]` field, tuple struct | |
//! | constructor args (namedtuple, `__reduce__` → `(cls, args)`, `NEWOBJ_EX` kwargs) | `#[pickle(args)]` tuple struct, `#[pickle(arg = N)]`, `#[pickle(kwarg = "k")]` fields | any: a seq of the args |
//! | `enum.Enum` member | enum variant by `#[pickle(value = …)]` or by name | any: a seq of its value |
//! | instances of several classes | enum, one `#[pickle(class = …)]` variant per class | without the macro, a variant named like the class |
//! | `str` / one-pair `dict` | externally tagged enum | `"Unit"`, `{"Newtype": 5}` |
//! | `datetime`, `date`, `time` | string (ISO 8601, as `isoformat()`) | |
//! | `timedelta` | `f64` seconds (`total_seconds()`) | |
//! | `Decimal` | string (exact), or `f64` | |
//! | `complex` | `(re, im)` | |
//! | `uuid.UUID` | string (`8-4-4-4-12`), or `u128` | |
//! | `range`, `slice` | `(start, stop, step)` | |
//! | a global (a class or function itself) | string `module.name` | |
//! | unresolved persistent id | error | resolve it with [`Unpickler::persistent_load`] |
//! | numpy array (numbers, bools, `U`, `S`) | seq (`Vec<T>`), nested seqs (`Vec<Vec<T>>`, `[[T; N]; M]`, tuples) in logical C order whatever the memory order (Fortran) and byte order; [`Tensor`](array::Tensor) / [`TensorOf<T>`](array::TensorOf) (numeric dtypes); `ndarray::ArrayD<T>`, `Array2<T>`, … (feature `ndarray`) | any: nested seqs. Elements: every int width (range-checked), floats (`half::f16`/`bf16` too), bool, complex as `(re, im)` / `[f64; 2]`, `U` as `String` (UCS-4: not `&str`), `S` as bytes (`serde_bytes`, `Vec<u8>`) |
//! | 0-d array, numpy scalar (`np.float64(0.9)`, `np.int64(5)`, `np.str_`) | the plain value (`f64`, `u32`, `bool`, `String`, …) | as its element would |
//! | record array (structured dtype) | seq of structs (fields by name) or of tuples (fields in order); sub-array fields as seqs | any: a map per element |
//! | `datetime64`, `timedelta64` array | `i64` counts of the dtype's unit ([`NpDtype::unit`](array::NpDtype::unit)) | NaT is `i64::MIN`, and `None` for `Option<i64>` |
//! | object array (`dtype=object`) | seq (nested for n-d) of its Python values | walked like any value: budgets and cycle checks apply |
//! | torch tensor in a graph (a checkpoint's) | as a numeric numpy array | |
//! | pandas `DataFrame` (feature `pandas`) | seq of rows: structs (fields by column name; an index level only when a field asks for it by its name, or `index`), maps (column → value), tuples (cells in column order); into a map or struct: its columns (`HashMap<String, Vec<T>>`, a struct of `Vec`s) | any: a seq of row maps. An empty frame is an empty seq |
//! | pandas `Series` | seq of its values; into a map: index label → value | |
//! | a cell of a frame | numbers, bools, strings as such; categoricals as their category; datetimes as ISO 8601 text (`Timestamp.isoformat()`) into strings and `i64` nanoseconds since the epoch into integers; timedeltas as `i64` nanoseconds | missing values (`None`, NaN, `pd.NA`, `NaT`, code −1) are `None` in `Option<T>` and an error into `T`, except a NaN of a float64 column, which is NaN in `f64`; any: null |
//!
//! `IgnoredAny` skips any value without walking it.
//!
//! A pickled DataFrame reads as rows, the way a CSV would; errors name the column and
//! the row (`["score"][17]: expected f64, found None`). See [`pandas`] for the frame
//! itself (shape, index, dtypes, `info()`) and the columnar writers.
//!
//! ```no_run
//! # #[cfg(feature = "pandas")] {
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Row {
//!     id: i64,
//!     name: Option<String>,
//!     score: f64,          // NaN where pandas has NaN
//!     ts: Option<String>,  // "2021-01-15T12:00:00+00:00"
//! }
//! let rows: Vec<Row> = serde_pickle_vm::from_file("frame.pkl.gz")?;
//! # }
//! # Ok::<(), serde_pickle_vm::Error>(())
//! ```
//!
//! A numpy array is one kind of thing with a torch tensor: a numeric array deserializes
//! into `Tensor`/`TensorOf<T>`, and both into `Vec`s and (feature `ndarray`) ndarray's
//! types. Errors name what was found, with the path into the elements:
//! `coef_[1][2]: invalid value: numpy int8 element -5 does not fit in u8`.
//!
//! ```
//! # #[cfg(feature = "numpy")] {
//! use serde::Deserialize;
//! use serde_pickle_vm::array::TensorOf;
//!
//! #[derive(Deserialize)]
//! struct Model {
//!     coef_: Vec<Vec<f32>>,
//!     best_acc: f64,
//! }
//! #[derive(Deserialize)]
//! struct Typed {
//!     coef_: TensorOf<f32>,
//! }
//! // pickle.dumps({"coef_": np.asfortranarray(np.array([[1.5, -2, 0.25], [0.5, 1, -1]],
//! //               dtype="<f4")), "best_acc": np.float64(0.9)}, protocol=4)
//! let data = b"\x80\x04\x95\xfa\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x05coef_\x94\x8c\x16numpy._core.multiarray\x94\x8c\x0c_reconstruct\x94\x93\x94\x8c\x05numpy\x94\x8c\x07ndarray\x94\x93\x94K\x00\x85\x94C\x01b\x94\x87\x94R\x94(K\x01K\x02K\x03\x86\x94h\x05\x8c\x05dtype\x94\x93\x94\x8c\x02f4\x94\x89\x88\x87\x94R\x94(K\x03\x8c\x01<\x94NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t\x94b\x88C\x18\x00\x00\xc0?\x00\x00\x00?\x00\x00\x00\xc0\x00\x00\x80?\x00\x00\x80>\x00\x00\x80\xbf\x94t\x94b\x8c\x08best_acc\x94h\x02\x8c\x06scalar\x94\x93\x94h\x0e\x8c\x02f8\x94\x89\x88\x87\x94R\x94(K\x03h\x12NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t\x94bC\x08\xcd\xcc\xcc\xcc\xcc\xcc\xec?\x94\x86\x94R\x94u.";
//! let m: Model = serde_pickle_vm::from_slice(data).unwrap();
//! assert_eq!(m.coef_, [[1.5, -2.0, 0.25], [0.5, 1.0, -1.0]]);
//! assert_eq!(m.best_acc, 0.9);
//! let t: Typed = serde_pickle_vm::from_slice(data).unwrap();
//! assert_eq!(t.coef_.shape(), &[2, 3]);
//!
//! #[derive(Debug, Deserialize)]
//! struct Wrong {
//!     #[allow(dead_code)]
//!     coef_: Vec<Vec<u8>>,
//! }
//! let err = serde_pickle_vm::from_slice::<Wrong>(data).unwrap_err();
//! assert_eq!(err.path(), Some("coef_[0][0]"));
//! assert_eq!(err.message(), "invalid type: numpy float32 element 1.5, expected u8");
//! # }
//! ```
//!
//! ## Sharing, cycles and limits
//!
//! A node the pickle shares (`[x, x]`) is deserialized each time it is reached, counting
//! against [`Limits::max_expansion`] (default 10 × the node count + 1,000,000), so a tiny
//! "billion laughs" pickle fails with an [`ErrorKind::Limit`] error instead of exhausting
//! memory. A cycle reached by the walk is an error naming its path; nesting deeper than
//! [`Limits::max_depth`] (default 1000) is a `Limit` error. Errors carry the path from
//! the root and the byte offset of the nearest node:
//! `[1].tags[1]: invalid type: int 7, expected a string (at byte 83)`. The elements of
//! an array are bounded by its bytes, except items of no size (`V0`, records without
//! fields: a shape of 10^12 in no bytes): each of their visits counts against
//! `max_expansion` too.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod array;
pub mod compress;
pub mod de;
pub mod dis;
mod error;
pub mod file;
pub mod json;
mod load;
#[cfg(feature = "mmap")]
#[allow(unsafe_code)]
mod mmap;
pub mod numpy;
pub mod opcode;
mod options;
#[cfg(feature = "pandas")]
pub mod pandas;
mod pyrepr;
mod read;
mod resolve;
pub mod scan;
mod tar;
pub mod torch;
pub mod value;
mod vm;

pub use de::{
    from_graph, from_graph_with_options, from_reader, from_reader_with_options, from_slice,
    from_slice_with_options, from_value, from_value_with_options,
};
pub use error::{Error, ErrorKind, Result};
pub use file::{from_file, load_bytes, load_file};
pub use load::{load_reader, load_slice, Unpickler};
pub use options::{Encoding, Errors, Limits, Options};
pub use resolve::allow::AllowList;
pub use resolve::hooks::{ClassAction, Literal};
pub use value::{Emulated, Graph, Node, NodeId, Packed, Slot, SlotLike, StrRef, Value, ValueKind};

#[cfg(feature = "derive")]
pub use serde_pickle_vm_derive::pickle;

/// The examples of README.md, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
