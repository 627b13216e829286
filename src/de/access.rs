//! serde's `SeqAccess` and `MapAccess` over the graph: sequences of slots, the bytes of a
//! `bytes` as a sequence of `u8`, and the pairs of a dict or of an object's state (with
//! the macro's special fields served first). Each one adds its path segment to the
//! errors of its children.

use super::deser::Deser;
use super::walk::{Guard, Walk};
use crate::error::{Error, Result};
use crate::value::{DictIter, Graph, Packed, Slot, Value};
use serde::de::{self, DeserializeSeed, IntoDeserializer};

/// Attaches the byte offset of `v`'s node to an error that has none yet.
#[inline]
pub(crate) fn locate(v: Value<'_, '_>, e: Error) -> Error {
    match v.offset() {
        Some(o) => e.with_offset(o),
        None => e,
    }
}

/// The path segment of a dict key: `.name` for identifier-like strings, else `[…]`.
pub(crate) fn key_segment(k: Value<'_, '_>) -> String {
    if let Some(s) = k.as_str() {
        let ident = !s.is_empty()
            && s.chars().all(|c| c.is_alphanumeric() || c == '_')
            && !s.starts_with(|c: char| c.is_ascii_digit());
        return if ident {
            format!(".{s}")
        } else {
            format!("[{s:?}]")
        };
    }
    match k.slot() {
        Slot::Int(i) => format!("[{i}]"),
        Slot::Bool(b) => format!("[{}]", if b { "True" } else { "False" }),
        Slot::None => "[None]".into(),
        Slot::Float(f) => format!("[{f:?}]"),
        Slot::Str(_) => format!("[{:?}]", k.as_str().unwrap_or_default()),
        Slot::Node(_) => format!("[<{}>]", k.type_name()),
    }
}

/// The elements of a list, tuple, set, frozenset, an object's args, …
pub(crate) struct SlotSeq<'a, 'g, 'de> {
    pub(crate) walk: &'a Walk,
    pub(crate) graph: &'g Graph<'de>,
    pub(crate) slots: std::slice::Iter<'g, Packed>,
    pub(crate) index: usize,
    pub(crate) _guard: Option<Guard<'a>>,
}

impl<'a, 'g, 'de> SlotSeq<'a, 'g, 'de> {
    pub(crate) fn new(walk: &'a Walk, graph: &'g Graph<'de>, slots: &'g [Packed]) -> Self {
        SlotSeq {
            walk,
            graph,
            slots: slots.iter(),
            index: 0,
            _guard: None,
        }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.slots.len()
    }

    #[inline]
    fn child(&self, slot: Slot) -> Result<Deser<'a, 'g, 'de>> {
        match self.walk.charge(self.graph, slot) {
            Ok(()) => Ok(Deser::new(self.graph.value(slot), self.walk)),
            Err(e) => Err(element_error(e, self.graph, slot, self.index - 1)),
        }
    }
}

impl<'de> de::SeqAccess<'de> for SlotSeq<'_, '_, 'de> {
    type Error = Error;

    // On the recursion path of every nested value: kept small (the error path is a
    // separate, non-generic function) so that deep values fit the stack.
    #[inline]
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        let Some(&p) = self.slots.next() else {
            return Ok(None);
        };
        let slot = self.graph.slot(p);
        self.index += 1;
        let de = self.child(slot)?;
        match seed.deserialize(de) {
            Ok(v) => Ok(Some(v)),
            Err(e) => Err(element_error(e, self.graph, slot, self.index - 1)),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.slots.len())
    }
}

#[cold]
#[inline(never)]
fn element_error(e: Error, graph: &Graph<'_>, slot: Slot, i: usize) -> Error {
    locate(graph.value(slot), e).in_path(&format!("[{i}]"))
}

#[cold]
#[inline(never)]
fn value_error(e: Error, v: Value<'_, '_>, current: &Current<'_, '_>) -> Error {
    let seg = match current {
        Current::Special(label) => format!(".{label}"),
        Current::Key(k) => key_segment(*k),
        Current::None => String::new(),
    };
    locate(v, e).in_path(&seg)
}

#[cold]
#[inline(never)]
fn key_error(e: Error, k: Value<'_, '_>) -> Error {
    locate(k, e).in_path(&key_segment(k))
}

/// The bytes of a `bytes`/`bytearray`, as a sequence of `u8` (for `Vec<u8>` and arrays).
pub(crate) struct ByteSeq<'g> {
    pub(crate) bytes: std::slice::Iter<'g, u8>,
}

impl<'de> de::SeqAccess<'de> for ByteSeq<'_> {
    type Error = Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        match self.bytes.next() {
            Some(b) => seed.deserialize((*b).into_deserializer()).map(Some),
            None => Ok(None),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.bytes.len())
    }
}

/// A field the map serves before the dict's own pairs: the macro's `arg`, `kwarg` and
/// `state` fields, keyed by their (magic) serde name.
pub(crate) struct Special {
    pub(crate) key: &'static str,
    pub(crate) label: String,
    pub(crate) slot: Slot,
}

/// What the value about to be read is, for its path segment.
enum Current<'g, 'de> {
    None,
    Special(String),
    Key(Value<'g, 'de>),
}

/// The pairs of a dict, or of an object's state dict, after the special fields.
pub(crate) struct PairMap<'a, 'g, 'de> {
    pub(crate) walk: &'a Walk,
    pub(crate) graph: &'g Graph<'de>,
    pub(crate) special: std::vec::IntoIter<Special>,
    pub(crate) pairs: Option<DictIter<'g, 'de>>,
    pending: Option<Value<'g, 'de>>,
    current: Current<'g, 'de>,
    pub(crate) _guard: Option<Guard<'a>>,
}

impl<'a, 'g, 'de> PairMap<'a, 'g, 'de> {
    pub(crate) fn new(
        walk: &'a Walk,
        graph: &'g Graph<'de>,
        special: Vec<Special>,
        pairs: Option<DictIter<'g, 'de>>,
        guard: Option<Guard<'a>>,
    ) -> Self {
        PairMap {
            walk,
            graph,
            special: special.into_iter(),
            pairs,
            pending: None,
            current: Current::None,
            _guard: guard,
        }
    }
}

impl<'de> de::MapAccess<'de> for PairMap<'_, '_, 'de> {
    type Error = Error;

    #[inline]
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if let Some(s) = self.special.next() {
            self.pending = Some(self.graph.value(s.slot));
            self.current = Current::Special(s.label);
            let key: de::value::BorrowedStrDeserializer<'de, Error> =
                de::value::BorrowedStrDeserializer::new(s.key);
            return seed.deserialize(key).map(Some);
        }
        let Some((k, v)) = self.pairs.as_mut().and_then(Iterator::next) else {
            return Ok(None);
        };
        self.pending = Some(v);
        self.current = Current::Key(k);
        if let Err(e) = self.walk.charge(k.graph(), k.slot()) {
            return Err(key_error(e, k));
        }
        match seed.deserialize(Deser::key(k, self.walk)) {
            Ok(key) => Ok(Some(key)),
            Err(e) => Err(key_error(e, k)),
        }
    }

    #[inline]
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let Some(v) = self.pending.take() else {
            return Err(<Error as de::Error>::custom(
                "value requested before its key",
            ));
        };
        if let Err(e) = self.walk.charge(v.graph(), v.slot()) {
            return Err(value_error(e, v, &self.current));
        }
        match seed.deserialize(Deser::new(v, self.walk)) {
            Ok(x) => Ok(x),
            Err(e) => Err(value_error(e, v, &self.current)),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        let pairs = match &self.pairs {
            Some(p) => p.size_hint().0,
            None => 0,
        };
        Some(self.special.len() + pairs)
    }
}
