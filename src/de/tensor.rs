//! The tensor hand-off: a `Tensor` / `TensorOf<T>` asks for the newtype struct named
//! [`TENSOR_TOKEN`]; at an [`Emulated::Tensor`] node, or a numeric numpy array (whose
//! tensor view it takes), the tensor is parked in the array layer's thread-local slot
//! and the visitor called with `visit_unit` (see `array::de`). Anything else is an
//! error naming what was found.

use super::array::Block;
use super::deser::Deser;
use super::object::describe;
use crate::error::{Error, ErrorKind, Result};
#[cfg(doc)]
use crate::{array::TENSOR_TOKEN, value::Emulated};
use serde::de::{Deserializer as _, Visitor};

/// Answers the newtype request named [`TENSOR_TOKEN`].
pub(crate) fn deserialize_tensor<'de, V: Visitor<'de>>(
    de: Deser<'_, '_, 'de>,
    visitor: V,
) -> Result<V::Value> {
    if let Some(crate::value::Node::Emulated(e)) = de.v.node() {
        if let crate::value::Emulated::Tensor(t) = &**e {
            // Without reading its storage (a lazy one stays unloaded).
            return crate::array::hand_off((**t).clone(), || visitor.visit_unit());
        }
    }
    match Block::of(de.v, de.walk)? {
        Some(b) => b.deserialize_newtype_struct(crate::array::TENSOR_TOKEN, visitor),
        None => Err(Error::new(
            ErrorKind::Type,
            format!(
                "invalid type: {}, expected a torch tensor or a numeric numpy array",
                describe(de.v)
            ),
        )),
    }
}
