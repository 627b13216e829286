//! Read Python pickles and PyTorch checkpoints without Python.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod error;
pub mod json;
mod load;
#[cfg(feature = "mmap")]
#[allow(unsafe_code)]
mod mmap;
pub mod numpy;
pub mod opcode;
mod options;
mod read;
mod resolve;
pub mod torch;
pub mod value;
mod vm;

pub use error::{Error, ErrorKind, Result};
pub use load::{load_reader, load_slice, Unpickler};
pub use options::{Encoding, Errors, Limits, Options};
pub use resolve::hooks::{ClassAction, Literal};
pub use value::{Emulated, Graph, Node, NodeId, Slot, Value};
