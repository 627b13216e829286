//! Read Python pickles and PyTorch checkpoints without Python.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod de;
pub mod dis;
mod error;
pub mod json;
mod load;
#[cfg(feature = "mmap")]
#[allow(unsafe_code)]
mod mmap;
pub mod numpy;
pub mod opcode;
mod options;
mod pyrepr;
mod read;
mod resolve;
pub mod scan;
pub mod torch;
pub mod value;
mod vm;

pub use de::{
    from_graph, from_graph_with_options, from_reader, from_reader_with_options, from_slice,
    from_slice_with_options, from_value, from_value_with_options,
};
pub use error::{Error, ErrorKind, Result};
pub use load::{load_reader, load_slice, Unpickler};
pub use options::{Encoding, Errors, Limits, Options};
pub use resolve::allow::AllowList;
pub use resolve::hooks::{ClassAction, Literal};
pub use value::{Emulated, Graph, Node, NodeId, Slot, Value};

#[cfg(feature = "derive")]
pub use serde_pickle_vm_derive::pickle;

/// The examples of README.md, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
