//! PyTorch checkpoints without Python: archives, storages, tensors and state dicts.
//!
//! The core types ([`Dtype`], [`Storage`], [`Tensor`], [`Element`]) are always built;
//! reading checkpoint files needs the `torch` feature, memory maps the `mmap` feature.

mod dtype;
mod element;
mod storage;
mod tensor;

pub use dtype::{ByteOrder, Dtype};
pub use element::{Element, Scalar};
pub use storage::{Bytes, Storage};
pub use tensor::Tensor;
pub(crate) use tensor::{contiguous_strides, hex_digest, write_nested, write_scalar};
