//! Tensors and arrays through serde: [`Tensor`] and [`TensorOf<T>`] implement
//! `Deserialize`, from a torch tensor or a numeric numpy array alike.
//!
//! A tensor cannot travel through serde's data model (it is not a number, string or
//! map), so it is handed over beside it: a deserializer that holds a tensor, asked for
//! the newtype struct named [`TENSOR_TOKEN`], parks the tensor in a thread-local slot
//! ([`hand_off`]) and calls `visit_unit`; `Tensor`'s visitor takes it from there. Any
//! other deserializer reaching a `Tensor` field fails with a clear error. The graph
//! `Deserializer` of the serde layer follows the same protocol for
//! [`Emulated::Tensor`](crate::Emulated::Tensor) nodes.

use super::dtype::ByteOrder;
use super::element::Element;
use super::npdtype::NpDtype;
use super::tensor::Tensor;
use crate::error::{Error, ErrorKind};
use serde::de::{self, Deserialize, Deserializer, Visitor};
use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;

/// The newtype-struct name by which `Tensor`'s `Deserialize` asks for a tensor.
#[doc(hidden)]
pub const TENSOR_TOKEN: &str = "$serde_pickle_vm::private::Tensor";

thread_local! {
    /// The tensor handed over, and whether it is a numpy array (for messages).
    static SLOT: RefCell<Option<(Tensor, bool)>> = const { RefCell::new(None) };
}

/// Parks `tensor` for the `Tensor` visitor and runs `f` (which calls `visit_unit` on
/// the visitor of a [`TENSOR_TOKEN`] newtype request). For deserializer authors.
#[doc(hidden)]
pub fn hand_off<R>(tensor: Tensor, f: impl FnOnce() -> R) -> R {
    hand_off_from(tensor, false, f)
}

/// [`hand_off`] of the tensor view of a numpy array (`numpy`) or of a torch tensor.
pub(crate) fn hand_off_from<R>(tensor: Tensor, numpy: bool, f: impl FnOnce() -> R) -> R {
    SLOT.with(|s| *s.borrow_mut() = Some((tensor, numpy)));
    let r = f();
    SLOT.with(|s| s.borrow_mut().take());
    r
}

fn take_slot<E: de::Error>() -> Result<(Tensor, bool), E> {
    SLOT.with(|s| s.borrow_mut().take()).ok_or_else(|| {
        E::custom(
            "a Tensor can only be deserialized from a torch checkpoint, a state dict or a \
             numpy array",
        )
    })
}

struct TensorVisitor;

impl<'de> Visitor<'de> for TensorVisitor {
    type Value = Tensor;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a torch tensor")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Tensor, E> {
        take_slot().map(|(t, _)| t)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Tensor, D::Error> {
        // The graph deserializer's answer for anything that is not a tensor.
        Err(de::Error::custom(format_args!(
            "invalid type: {}, expected a torch tensor",
            d.deserialize_any(Describe)
                .unwrap_or_else(|_| "a value".into())
        )))
    }
}

/// Names what a deserializer holds, for the error of a `Tensor` field that finds
/// something else.
struct Describe;

impl<'de> Visitor<'de> for Describe {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("anything")
    }
    fn visit_bool<E>(self, v: bool) -> Result<String, E> {
        Ok(format!("bool {}", if v { "True" } else { "False" }))
    }
    fn visit_i64<E>(self, v: i64) -> Result<String, E> {
        Ok(format!("int {v}"))
    }
    fn visit_u64<E>(self, v: u64) -> Result<String, E> {
        Ok(format!("int {v}"))
    }
    fn visit_f64<E>(self, v: f64) -> Result<String, E> {
        Ok(format!("float {v}"))
    }
    fn visit_str<E>(self, v: &str) -> Result<String, E> {
        Ok(format!("str {v:?}"))
    }
    fn visit_bytes<E>(self, _: &[u8]) -> Result<String, E> {
        Ok("bytes".into())
    }
    fn visit_unit<E>(self) -> Result<String, E> {
        Ok("None".into())
    }
    fn visit_none<E>(self) -> Result<String, E> {
        Ok("None".into())
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Ok("a sequence".into())
    }
    fn visit_map<A: de::MapAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Ok("a dict (a group of tensors?)".into())
    }
}

impl<'de> Deserialize<'de> for Tensor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Tensor, D::Error> {
        d.deserialize_newtype_struct(TENSOR_TOKEN, TensorVisitor)
    }
}

/// A tensor whose dtype is checked while deserializing: `TensorOf<f32>` accepts only
/// `float32` tensors, `TensorOf<half::bf16>` only `bfloat16`, …
///
/// ```
/// # #[cfg(feature = "torch")] {
/// use serde::Deserialize;
/// use serde_pickle_vm::torch::{Checkpoint, TensorOf};
///
/// #[derive(Deserialize)]
/// struct Linear { weight: TensorOf<f32>, bias: TensorOf<f32> }
/// #[derive(Deserialize)]
/// struct Model { head: Linear }
///
/// let sd = Checkpoint::open("fixtures/torch/layer_state_dict.pt").unwrap().state_dict();
/// let model: Model = sd.deserialize().unwrap();
/// assert_eq!(model.head.weight.shape(), &[2, 8]);
/// let w: Vec<f32> = model.head.weight.to_vec().unwrap();
/// assert_eq!(w.len(), 16);
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TensorOf<T: Element> {
    tensor: Tensor,
    _t: PhantomData<T>,
}

impl<T: Element> TensorOf<T> {
    /// Checks `tensor`'s dtype.
    pub fn new(tensor: Tensor) -> crate::Result<Self> {
        Self::checked(tensor, false)
    }

    /// Checks the dtype of a tensor that may be a numpy array's view (named so in the
    /// error: `expected a float64 tensor, found a numpy float32 array of shape [3, 4]`).
    fn checked(tensor: Tensor, numpy: bool) -> crate::Result<Self> {
        if tensor.dtype() != T::DTYPE {
            let found = match numpy
                .then(|| NpDtype::from_tensor_dtype(tensor.dtype(), ByteOrder::native()))
                .flatten()
            {
                Some(d) => format!("a numpy {} array", d.name()),
                None => tensor.dtype().to_string(),
            };
            return Err(Error::new(
                ErrorKind::Type,
                format!(
                    "expected a {} tensor, found {found} of shape {:?}",
                    T::DTYPE,
                    tensor.shape()
                ),
            ));
        }
        Ok(TensorOf {
            tensor,
            _t: PhantomData,
        })
    }

    /// The elements in row-major order.
    pub fn to_vec(&self) -> crate::Result<Vec<T>> {
        self.tensor.to_vec()
    }

    /// The elements without copying (contiguous, native-endian, aligned tensors).
    pub fn as_slice(&self) -> crate::Result<&[T]> {
        self.tensor.as_slice()
    }

    /// The untyped tensor.
    pub fn into_inner(self) -> Tensor {
        self.tensor
    }
}

impl<T: Element> std::ops::Deref for TensorOf<T> {
    type Target = Tensor;
    fn deref(&self) -> &Tensor {
        &self.tensor
    }
}

/// `TensorVisitor`, then the dtype check.
struct TypedVisitor<T>(PhantomData<T>);

impl<'de, T: Element> Visitor<'de> for TypedVisitor<T> {
    type Value = TensorOf<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} tensor", T::DTYPE)
    }
    fn visit_unit<E: de::Error>(self) -> Result<TensorOf<T>, E> {
        let (t, numpy) = take_slot()?;
        TensorOf::checked(t, numpy).map_err(E::custom)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<TensorOf<T>, D::Error> {
        TensorVisitor.visit_newtype_struct(d).map(|t| TensorOf {
            tensor: t,
            _t: PhantomData,
        })
    }
}

impl<'de, T: Element> Deserialize<'de> for TensorOf<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_newtype_struct(TENSOR_TOKEN, TypedVisitor(PhantomData))
    }
}
