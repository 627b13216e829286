//! serde deserialization from the object graph into Rust types.
//!
//! The VM builds a [`Graph`]; this module walks it as a `serde::Deserializer`, so any
//! `Deserialize` type can be read from a pickle. It knows nothing of bytes or opcodes:
//! the entry points that take bytes run the VM first. See the crate docs for how each
//! Python value maps onto serde's data model.
//!
//! numpy arrays, numpy scalars, object arrays and torch tensors of the graph are answered
//! by one part of the same walk (`array.rs`): an array is a block of cells (fixed-size
//! elements over its bytes, or the graph values of an object array) with a shape and
//! strides, read as nested sequences in logical C order, records as maps of their fields,
//! 0-d arrays and scalars as their element, ndarray's `{v, dim, data}` struct for
//! `ndarray::ArrayD` and friends, and the tensor hand-off for `Tensor`. The crate docs
//! list what each becomes.
//!
//! The walk shares one budget: each node reached counts against
//! [`Limits::max_expansion`](crate::Limits::max_expansion) (a shared node counts each time),
//! nesting is bounded by [`Limits::max_depth`](crate::Limits::max_depth) (each dimension of
//! an array a level), and a cycle is an error naming its path. Array elements are bounded
//! by the array's bytes, except zero-size items, each visit of which counts against the
//! expansion budget.

mod access;
mod array;
mod deser;
mod enums;
pub(crate) mod magic;
mod object;
mod tensor;
mod walk;

#[cfg(feature = "pandas")]
pub(crate) use deser::visit_pair as visit_complex;
#[cfg(feature = "pandas")]
pub(crate) use object::describe as describe_value;

use crate::compress::Codec;
use crate::error::{Error, ErrorKind, Result};
use crate::load::Unpickler;
use crate::options::Options;
use crate::value::{Graph, Value};
use serde::de::{Deserialize, DeserializeOwned};
use std::io;

/// Deserializes a `T` from a pickle held in a byte slice.
///
/// Strings and bytes may borrow from `data`: a `&'de str` or `&'de [u8]` field (with
/// `serde_bytes` or `#[serde(borrow)]`) points into the input, no copy made.
///
/// A compressed pickle (`df.to_pickle("df.pkl.gz")`, `.bz2`, `.xz`, `.zst`, `.zip`, and
/// joblib's codecs) is recognised by its first bytes and the pickle inside is read, so
/// `from_slice::<T>(&fs::read("df.pkl.gz")?)` works as for the plain file (see
/// [`Options::decompress`]). Its strings are then inflated into a buffer of the load's
/// own, so borrowed `&str` / `&[u8]` fields fail with an error that says so: use
/// `String`, `Cow<str>` or `Vec<u8>` for inputs that may be compressed.
///
/// ```
/// // pickle.dumps(["alpha", "beta"], protocol=4)
/// let data = b"\x80\x04\x95\x12\x00\x00\x00\x00\x00\x00\x00]\x94(\x8c\x05alpha\x94\x8c\x04beta\x94e.";
/// let words: Vec<&str> = serde_pickle_vm::from_slice(data).unwrap();
/// assert_eq!(words, ["alpha", "beta"]);
/// ```
pub fn from_slice<'de, T: Deserialize<'de>>(data: &'de [u8]) -> Result<T> {
    from_slice_with_options(data, &Options::default())
}

/// [`from_slice`] with [`Options`] for the VM and the walk's [`Limits`](crate::Limits).
///
/// ```
/// use serde_pickle_vm::{Limits, Options};
/// // pickle.dumps([[1]], protocol=2)
/// let data = b"\x80\x02]q\x00]q\x01K\x01aa.";
/// let shallow = Options { limits: Limits { max_depth: 1, ..Limits::default() }, ..Options::default() };
/// let err = serde_pickle_vm::from_slice_with_options::<Vec<Vec<i32>>>(data, &shallow).unwrap_err();
/// assert_eq!(err.kind(), serde_pickle_vm::ErrorKind::Limit);
/// ```
pub fn from_slice_with_options<'de, T: Deserialize<'de>>(
    data: &'de [u8],
    options: &Options,
) -> Result<T> {
    let (graph, codec) = Unpickler::with_options(options.clone()).load_slice_sniffed(data)?;
    from_graph_with_options(&graph, options).map_err(|e| in_decompressed(e, codec))
}

/// A serde error of a pickle that was decompressed: its offset counts in the decompressed
/// bytes, and a borrowed string cannot borrow from them.
fn in_decompressed(e: Error, codec: Option<Codec>) -> Error {
    let Some(codec) = codec else {
        return e;
    };
    let e = if e.kind() == ErrorKind::Type && e.message().contains("expected a borrowed") {
        e.note(
            "; a compressed input is inflated into a buffer of its own, so strings cannot \
             borrow from it (use String, Cow<str> or Vec<u8>)",
        )
    } else {
        e
    };
    e.within(codec.decompressed())
}

/// Deserializes a `T` from a pickle read from `reader` (up to its STOP opcode). A
/// compressed pickle is recognised by its first bytes and inflated as it is read (see
/// [`Options::decompress`]).
///
/// For a file, `std::fs::read` and [`from_slice`] is faster (strings borrow instead of
/// being copied, and buffers are sized from the input's length).
///
/// ```
/// use std::collections::HashMap;
/// // pickle.dumps({"a": 1}, protocol=0)
/// let file: &[u8] = b"(dp0\nVa\np1\nI1\ns.";
/// let map: HashMap<String, i64> = serde_pickle_vm::from_reader(file).unwrap();
/// assert_eq!(map["a"], 1);
/// ```
pub fn from_reader<R: io::Read, T: DeserializeOwned>(reader: R) -> Result<T> {
    from_reader_with_options(reader, &Options::default())
}

/// [`from_reader`] with [`Options`].
pub fn from_reader_with_options<R: io::Read, T: DeserializeOwned>(
    reader: R,
    options: &Options,
) -> Result<T> {
    let (graph, codec) = Unpickler::with_options(options.clone()).load_reader_sniffed(reader)?;
    from_graph_with_options(&graph, options).map_err(|e| in_decompressed(e, codec))
}

/// Deserializes a `T` from an already loaded graph (its root value).
///
/// ```
/// let graph = serde_pickle_vm::load_slice(b"\x80\x04]\x94(K\x01K\x02e.").unwrap();
/// let v: Vec<u8> = serde_pickle_vm::from_graph(&graph).unwrap();
/// assert_eq!(v, [1, 2]);
/// ```
pub fn from_graph<'de, T: Deserialize<'de>>(graph: &Graph<'de>) -> Result<T> {
    from_value(graph.root())
}

/// [`from_graph`] with the limits of `options` (only [`Options::limits`] matters here).
pub fn from_graph_with_options<'de, T: Deserialize<'de>>(
    graph: &Graph<'de>,
    options: &Options,
) -> Result<T> {
    from_value_with_options(graph.root(), options)
}

/// Deserializes a `T` from any value of a graph, e.g. one field of a larger pickle.
///
/// ```
/// // pickle.dumps({"a": [1, 2.5, "x"]}, protocol=4)
/// let data = b"\x80\x04\x95\x19\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94]\x94(K\x01G@\x04\x00\x00\x00\x00\x00\x00\x8c\x01x\x94es.";
/// let graph = serde_pickle_vm::load_slice(data).unwrap();
/// let list = graph.root().get("a").unwrap();
/// let (i, f, s): (i32, f64, String) = serde_pickle_vm::from_value(list).unwrap();
/// assert_eq!((i, f, s.as_str()), (1, 2.5, "x"));
/// ```
pub fn from_value<'de, T: Deserialize<'de>>(value: Value<'_, 'de>) -> Result<T> {
    from_value_with_options(value, &Options::default())
}

/// [`from_value`] with the limits of `options`.
pub fn from_value_with_options<'de, T: Deserialize<'de>>(
    value: Value<'_, 'de>,
    options: &Options,
) -> Result<T> {
    let walk = walk::Walk::new(value.graph(), &options.limits);
    let fail = |e| access::locate(value, e);
    walk.charge(value.graph(), value.slot()).map_err(fail)?;
    T::deserialize(deser::Deser::new(value, &walk)).map_err(fail)
}

impl Unpickler<'_> {
    /// Loads a pickle from a slice with this unpickler's options and hooks, then
    /// deserializes a `T` from it.
    ///
    /// ```
    /// use serde_pickle_vm::{ClassAction, Unpickler};
    /// // c__main__\nPoint\n)R}(Vx\nK\x01Vy\nK\x02ub. — a Point with state {x: 1, y: 2}
    /// let data = b"c__main__\nPoint\n)R}(Vx\nI1\nVy\nI2\nub.";
    /// #[derive(serde::Deserialize)]
    /// struct Point { x: i32, y: i32 }
    /// let p: Point = Unpickler::new().deserialize_slice(data).unwrap();
    /// assert_eq!((p.x, p.y), (1, 2));
    /// ```
    pub fn deserialize_slice<'de, T: Deserialize<'de>>(&mut self, data: &'de [u8]) -> Result<T> {
        let (graph, codec) = self.load_slice_sniffed(data)?;
        from_graph_with_options(&graph, self.options()).map_err(|e| in_decompressed(e, codec))
    }

    /// Loads a pickle from a reader with this unpickler's options and hooks, then
    /// deserializes a `T` from it.
    pub fn deserialize_reader<R: io::Read, T: DeserializeOwned>(&mut self, reader: R) -> Result<T> {
        let (graph, codec) = self.load_reader_sniffed(reader)?;
        from_graph_with_options(&graph, self.options()).map_err(|e| in_decompressed(e, codec))
    }
}
