//! Read Python pickles and PyTorch checkpoints without Python.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod dis;
mod error;
pub mod opcode;
pub mod pyrepr;
mod read;
pub mod value;

pub use error::{Error, ErrorKind, Result};
pub use value::{Emulated, Graph, Node, NodeId, Slot, Value};
