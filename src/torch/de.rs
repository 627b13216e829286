//! A state dict through serde: [`Nested`] (an unflattened state dict) is a
//! `Deserializer`, so a state dict deserializes into nested typed structs and `Vec<Layer>`;
//! its tensors travel by the hand-off of `array::de`.

use super::state_dict::Nested;
use crate::array::{hand_off, TENSOR_TOKEN};
use crate::error::{Error, ErrorKind};
use serde::de::{self, Deserializer, IntoDeserializer, Visitor};

impl super::StateDict {
    /// Deserializes the state dict, unflattened at its dots (see
    /// [`unflatten`](Self::unflatten)), into `T`: nested structs for dotted prefixes,
    /// `Vec`s for `0..n` indices, [`Tensor`](crate::array::Tensor) / [`TensorOf`](crate::array::TensorOf) for leaves. Extra tensors
    /// are ignored unless `T` denies unknown fields; a missing one is an error naming it.
    pub fn deserialize<T: serde::de::DeserializeOwned>(&self) -> crate::Result<T> {
        let tree = self.unflatten()?;
        T::deserialize(&tree)
    }
}

impl<'de> IntoDeserializer<'de, Error> for &'de Nested {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> Deserializer<'de> for &'de Nested {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Nested::Tensor(t) => Err(Error::new(
                ErrorKind::Type,
                format!(
                    "found a {} tensor of shape {:?}; deserialize it as Tensor or TensorOf",
                    t.dtype(),
                    t.shape()
                ),
            )),
            Nested::Map(items) => visitor.visit_map(de::value::MapDeserializer::new(
                items.iter().map(|(k, v)| (k.as_str(), v)),
            )),
            Nested::Seq(items) => visitor.visit_seq(de::value::SeqDeserializer::new(items.iter())),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self {
            Nested::Tensor(t) if name == TENSOR_TOKEN => {
                hand_off(t.clone(), || visitor.visit_unit())
            }
            _ if name == TENSOR_TOKEN => Err(Error::new(
                ErrorKind::Type,
                "expected a tensor, found a group of tensors",
            )),
            _ => visitor.visit_newtype_struct(self),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct enum identifier
    }
}
