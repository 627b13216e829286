//! Arrays and tensors, below the graph: what numpy, torch (and pandas) data is, whatever
//! file it came from.
//!
//! - [`Dtype`] (torch's element types) and [`NpDtype`] (a numpy dtype in full: strings,
//!   datetimes with their unit, records with fields);
//! - [`Storage`] and [`Bytes`]: shared, lazily loaded or memory-mapped bytes;
//! - [`Tensor`]: a strided, bounds-checked view of a storage, read as `Vec<T>` or a slice
//!   ([`Element`]: the Rust types of the elements);
//! - [`NdArray`] (a numpy array of any fixed-size dtype; numeric ones carry a `Tensor`
//!   view) and [`NpScalar`]; [`Item`], one element decoded;
//! - [`TensorOf<T>`]: a tensor or numeric array whose dtype serde checks.
//!
//! A numpy array and a torch tensor are one kind of thing to serde: a numeric numpy
//! array deserializes into [`Tensor`] / [`TensorOf<T>`] as a tensor does.
//!
//! ```
//! use serde_pickle_vm::array::{ByteOrder, Bytes, Dtype, Storage, Tensor};
//! let data: Vec<u8> = (0..6).flat_map(|i| (i as f32).to_le_bytes()).collect();
//! let storage = Storage::from_bytes("0", Dtype::F32, ByteOrder::Little, Bytes::new(data));
//! let t = Tensor::new(storage, Dtype::F32, 0, &[2, 3], &[3, 1], false).unwrap();
//! assert_eq!(t.to_vec::<f32>().unwrap(), [0., 1., 2., 3., 4., 5.]);
//! ```
//!
//! This module knows nothing of pickles, archives or the graph.

mod de;
mod dtype;
mod element;
mod ndarray;
mod npdtype;
mod storage;
mod tensor;

pub(crate) use de::hand_off_from;
pub use de::TensorOf;
#[doc(hidden)]
pub use de::{hand_off, TENSOR_TOKEN};
pub use dtype::{ByteOrder, Dtype};
pub(crate) use element::f16_to_f64;
pub use element::{Element, Scalar};
pub use ndarray::{Item, NdArray, NpScalar, Order};
pub use npdtype::{Field, NpDtype, NpKind, TimeUnit};
pub use storage::{Bytes, Storage};
pub use tensor::Tensor;
pub(crate) use tensor::{write_nested, write_scalar};
