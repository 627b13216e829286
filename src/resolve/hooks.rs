//! The hooks of CPython's `Unpickler`, as data-only callbacks: `find_class`,
//! `persistent_load`, the extension registry and out-of-band buffers.
//!
//! A hook never runs Python; it tells the VM what to put in the graph instead.

use crate::error::Result;
use crate::value::Value;
use num_bigint::BigInt;
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
}
