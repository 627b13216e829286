//! The torch hand-off: a `Tensor` / `TensorOf<T>` asks for the newtype struct named
//! [`TENSOR_TOKEN`]; at an [`Emulated::Tensor`] node the tensor is parked in the torch
//! layer's thread-local slot and the visitor called with `visit_unit` (see
//! `torch::de`). Anything else is visited as an ordinary newtype, whose visitor says
//! what it expected.

use super::deser::Deser;
use crate::error::Result;
use crate::torch::hand_off;
#[cfg(doc)]
use crate::torch::TENSOR_TOKEN;
use crate::value::Emulated;
use serde::de::Visitor;

/// Answers the newtype request named [`TENSOR_TOKEN`].
pub(crate) fn deserialize_tensor<'de, V: Visitor<'de>>(
    de: Deser<'_, '_, 'de>,
    visitor: V,
) -> Result<V::Value> {
    match de.v.as_emulated() {
        Some(Emulated::Tensor(t)) => hand_off((**t).clone(), || visitor.visit_unit()),
        _ => visitor.visit_newtype_struct(de),
    }
}
