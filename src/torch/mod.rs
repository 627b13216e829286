//! PyTorch checkpoints without Python: archives, storages, tensors and state dicts.
//!
//! ```
//! # #[cfg(feature = "torch")] {
//! use serde_pickle_vm::torch::{Checkpoint, Dtype};
//! let ckpt = Checkpoint::open("fixtures/torch/params.pt").unwrap();
//! for (name, t) in ckpt.tensors() {
//!     println!("{name}: {} {:?}", t.dtype(), t.shape());
//! }
//! let w = ckpt.tensor("w").unwrap();
//! assert_eq!(w.dtype(), Dtype::F32);
//! assert!(w.requires_grad());
//! let values: Vec<f32> = w.to_vec().unwrap();
//! assert_eq!(values.len(), 6);
//! # }
//! ```
//!
//! A whole checkpoint deserializes into your own structs in one pass with
//! `load_typed` (feature `torch`; tensors as [`Tensor`] / [`TensorOf<T>`], state dicts
//! through their dotted names or their unflattened groups); see
//! `examples/torch_checkpoint.rs`.
//!
//! The core types ([`Dtype`], [`Storage`], [`Tensor`], [`Element`]) live in
//! [`array`](crate::array), shared with numpy, and are re-exported here; reading
//! checkpoint files needs the `torch` feature, memory maps the `mmap` feature.
//!
//! A file is recognised by its content, whatever its name: a zip archive with
//! `<dir>/data.pkl` (`torch.save` since 1.6, TorchScript), the legacy format
//! (`_use_new_zipfile_serialization=False`) or the legacy tar format. Opening reads the
//! pickle and the zip directory only (through the `zip` crate); a tensor's bytes are
//! read when asked for — for a memory-mapped file, a slice of the map.

mod de;

#[cfg(feature = "torch")]
mod archive;
#[cfg(feature = "torch")]
mod checkpoint;
#[cfg(feature = "safetensors")]
mod convert;
#[cfg(feature = "torch")]
mod rebuild;
#[cfg(any(feature = "torch", feature = "npz"))]
#[cfg_attr(not(feature = "torch"), allow(dead_code))]
pub(crate) mod source;
mod state_dict;
#[cfg(feature = "torch")]
mod typed;
#[cfg(any(feature = "torch", feature = "npz"))]
#[cfg_attr(not(feature = "torch"), allow(dead_code))]
pub(crate) mod zip;

#[doc(hidden)]
pub use crate::array::{hand_off, TENSOR_TOKEN};
pub use crate::array::{ByteOrder, Bytes, Dtype, Element, Scalar, Storage, Tensor, TensorOf};

/// The first bytes of a legacy-format checkpoint: the pickled magic number
/// `0x1950a86a20f9469cfc6c` (protocol 2, LONG1), by which the file reader and the scanner
/// recognise the format.
pub(crate) const LEGACY_MAGIC_PICKLE: &[u8] =
    b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19";
#[cfg(feature = "torch")]
pub use archive::{Format, LoadOptions};
#[cfg(feature = "torch")]
pub use checkpoint::{as_tensor, named_tensors, Checkpoint};
#[cfg(feature = "safetensors")]
pub use convert::{safetensors_supports, save_safetensors};
#[cfg(feature = "torch")]
pub use state_dict::load_sharded;
pub use state_dict::{Nested, StateDict};
#[cfg(feature = "torch")]
pub use typed::{load_typed, load_typed_with, TypedOptions};

/// Loads a checkpoint file (see [`Checkpoint::open`]).
///
/// ```
/// let ckpt = serde_pickle_vm::torch::load("fixtures/torch/dtypes.pt").unwrap();
/// assert_eq!(ckpt.tensor("bfloat16").unwrap().shape(), &[2, 3]);
/// ```
#[cfg(feature = "torch")]
pub fn load<P: AsRef<std::path::Path>>(path: P) -> crate::Result<Checkpoint> {
    Checkpoint::open(path)
}
