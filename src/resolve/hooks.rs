//! The hooks of CPython's `Unpickler`, as data-only callbacks: `find_class`,
//! `persistent_load`, the extension registry and out-of-band buffers.
//!
//! A hook never runs Python; it tells the VM what to put in the graph instead.

use crate::error::Result;
use crate::options::Options;
use crate::value::{Emulated, Value};
use num_bigint::BigInt;
use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};

/// An owned value that a hook hands to the VM to place in the graph.
///
/// ```
/// use serde_pickle_vm::Literal;
/// let v = Literal::Tuple(vec![Literal::Str("storage".into()), Literal::Int(3)]);
/// assert!(matches!(v, Literal::Tuple(ref t) if t.len() == 2));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `None`.
    None,
    /// A bool.
    Bool(bool),
    /// An int.
    Int(i64),
    /// An int of any size.
    BigInt(BigInt),
    /// A float.
    Float(f64),
    /// A str.
    Str(String),
    /// bytes.
    Bytes(Vec<u8>),
    /// A list.
    List(Vec<Literal>),
    /// A tuple.
    Tuple(Vec<Literal>),
    /// A dict.
    Dict(Vec<(Literal, Literal)>),
    /// A global name.
    Global {
        /// The module.
        module: String,
        /// The qualified name.
        name: String,
    },
}

/// What `find_class` decides for a global.
#[derive(Debug, Clone, PartialEq)]
pub enum ClassAction {
    /// Record the global as it is.
    Keep,
    /// Record it under another module and name.
    Rename {
        /// The new module.
        module: String,
        /// The new name.
        name: String,
    },
    /// Put this value in its place.
    Replace(Literal),
    /// Refuse the pickle: the load fails with [`ErrorKind::Rejected`](crate::ErrorKind)
    /// and this reason.
    Reject(String),
}

type FindClass<'h> = Box<dyn FnMut(&str, &str) -> Result<ClassAction> + 'h>;
type PersistentLoad<'h> = Box<dyn FnMut(Value<'_, '_>) -> Result<Literal> + 'h>;

/// The hooks of one [`Unpickler`](crate::Unpickler).
#[derive(Default)]
pub(crate) struct Hooks<'h> {
    pub(crate) find_class: Option<FindClass<'h>>,
    pub(crate) persistent_load: Option<PersistentLoad<'h>>,
    pub(crate) extensions: HashMap<i32, (String, String)>,
    pub(crate) buffers: Option<VecDeque<Vec<u8>>>,
    /// Sees every object a BUILD completes and says whether data the pickle format does
    /// not know follows it in the stream (joblib's inline numpy arrays).
    pub(crate) build: Option<Box<dyn BuildHook + 'h>>,
}

/// A hook the VM calls after every BUILD (outside nested pickles), for file formats that
/// write data of their own between a pickle's opcodes: joblib writes each numpy array's
/// bytes right after the BUILD of its `NumpyArrayWrapper`. The VM knows nothing of what
/// the data means; the hook says how much there is and what it becomes.
pub(crate) trait BuildHook {
    /// `obj` has just been given its state; the next opcode would be read at byte `at`.
    fn after_build(&mut self, obj: Value<'_, '_>, at: u64, options: &Options)
        -> Result<AfterBuild>;
}

/// Turns the bytes of an [`AfterBuild::Raw`] block into the value that replaces the
/// object, or `None` to keep the object as recorded (the data is skipped).
pub(crate) type FinishRaw = Box<dyn FnOnce(RawData<'_>) -> Result<Option<Emulated>>>;

/// What a [`BuildHook`] found after a BUILD.
#[cfg_attr(not(feature = "numpy"), allow(dead_code))]
pub(crate) enum AfterBuild {
    /// A plain BUILD: the next opcode follows.
    Nothing,
    /// Replace the built object (the top of the stack) with this value.
    Replace(Emulated),
    /// Bytes follow: when `aligned`, one byte giving a padding length and that many
    /// padding bytes, then `len` bytes of data, which `finish` turns into the value.
    Raw {
        /// A padding-length byte and its padding come first.
        aligned: bool,
        /// The data's length.
        len: u64,
        /// What the data is, for errors: `joblib array of shape [3] of <f8`.
        what: String,
        /// Makes the replacing value from the data.
        finish: FinishRaw,
    },
    /// A complete pickle follows (its own stack, memo and STOP); its value replaces the
    /// built object when `replace`, else it is read and dropped.
    Pickle {
        /// Whether the nested pickle's value replaces the object.
        replace: bool,
    },
}

/// The data of an [`AfterBuild::Raw`] block.
#[cfg_attr(not(feature = "numpy"), allow(dead_code))]
pub(crate) struct RawData<'a> {
    /// The bytes: borrowed from the input for slice loads, read from the stream
    /// otherwise.
    pub(crate) bytes: Cow<'a, [u8]>,
    /// Where they start in the input.
    pub(crate) offset: u64,
    /// Where the block (its padding included) starts: just after the BUILD.
    pub(crate) start: u64,
}
