//! [`Value`]: a cheap, copyable handle on one value of a [`Graph`], with type checks,
//! indexing and iteration.

use super::{Emulated, Global, Graph, Node, NodeId, Object, Packed, Slot, SlotLike};
use num_bigint::BigInt;
use std::fmt;

/// The Python type of a [`Value`], coarsely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// `None`.
    None,
    /// `bool`.
    Bool,
    /// `int` (any size).
    Int,
    /// `float`.
    Float,
    /// `str`.
    Str,
    /// `bytes`.
    Bytes,
    /// `bytearray`.
    ByteArray,
    /// `list`.
    List,
    /// `tuple`.
    Tuple,
    /// `dict` (and recognised dict subclasses).
    Dict,
    /// `set`.
    Set,
    /// `frozenset`.
    FrozenSet,
    /// A global name.
    Global,
    /// An unresolved persistent id.
    PersId,
    /// A recorded construction.
    Object,
    /// Another recognised standard-library value (complex, datetime, …).
    Emulated,
}

/// A handle on one value of a [`Graph`]: copy it freely, walk the graph through it.
///
/// ```
/// // {'a': [1, 2.5, 'x']}, protocol 4
/// let data = b"\x80\x04\x95\x19\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94]\x94(K\x01G@\x04\x00\x00\x00\x00\x00\x00\x8c\x01x\x94es.";
/// let graph = serde_pickle_vm::load_slice(data).unwrap();
/// let list = graph.root().get("a").unwrap();
/// assert_eq!(list.get(0).and_then(|v| v.as_i64()), Some(1));
/// assert_eq!(list.get(1).and_then(|v| v.as_f64()), Some(2.5));
/// assert_eq!(list.get(2).and_then(|v| v.as_str()), Some("x"));
/// assert_eq!(list.iter().count(), 3);
/// ```
#[derive(Clone, Copy)]
pub struct Value<'g, 'de> {
    graph: &'g Graph<'de>,
    slot: Slot,
}

/// Something a [`Value`] can be indexed by: `usize` for sequences, `&str` for dicts
/// (and for the state of objects).
pub trait Index {
    #[doc(hidden)]
    fn index_into<'g, 'de>(&self, v: Value<'g, 'de>) -> Option<Value<'g, 'de>>;
}

impl Index for usize {
    fn index_into<'g, 'de>(&self, v: Value<'g, 'de>) -> Option<Value<'g, 'de>> {
        v.seq().and_then(|s| s.get(*self)).map(|s| v.with(*s))
    }
}

impl Index for &str {
    fn index_into<'g, 'de>(&self, v: Value<'g, 'de>) -> Option<Value<'g, 'de>> {
        v.items()?
            .find(|(k, _)| k.as_str() == Some(self))
            .map(|(_, val)| val)
    }
}

impl<'g, 'de> Value<'g, 'de> {
    #[inline]
    pub(crate) fn new(graph: &'g Graph<'de>, slot: Slot) -> Self {
        Value { graph, slot }
    }

    /// Another value of the same graph (an element of this one, say).
    #[inline]
    pub fn with(self, slot: impl SlotLike) -> Self {
        Value {
            graph: self.graph,
            slot: slot.unpacked(self.graph),
        }
    }

    /// The graph this value belongs to.
    pub fn graph(self) -> &'g Graph<'de> {
        self.graph
    }

    /// The slot this handle points at.
    pub fn slot(self) -> Slot {
        self.slot
    }

    /// The node behind the value, if it is not an inline scalar.
    pub fn node(self) -> Option<&'g Node<'de>> {
        match self.slot {
            Slot::Node(id) => Some(self.graph.node(id)),
            _ => None,
        }
    }

    /// The node id behind the value, if it is not an inline scalar.
    pub fn node_id(self) -> Option<NodeId> {
        match self.slot {
            Slot::Node(id) => Some(id),
            _ => None,
        }
    }

    /// The byte offset of the opcode that created this value, when it is a node.
    pub fn offset(self) -> Option<u64> {
        self.node_id().map(|id| self.graph.offset_of(id))
    }

    /// The coarse Python type.
    pub fn kind(self) -> ValueKind {
        match self.slot {
            Slot::None => ValueKind::None,
            Slot::Bool(_) => ValueKind::Bool,
            Slot::Int(_) => ValueKind::Int,
            Slot::Float(_) => ValueKind::Float,
            Slot::Str(_) => ValueKind::Str,
            Slot::Node(id) => match self.graph.node(id) {
                Node::BigInt(_) => ValueKind::Int,
                Node::Str(_) | Node::StrCodepoints(_) => ValueKind::Str,
                Node::Bytes(_) => ValueKind::Bytes,
                Node::ByteArray(_) => ValueKind::ByteArray,
                Node::List(_) => ValueKind::List,
                Node::Tuple(_) => ValueKind::Tuple,
                Node::Dict(_) => ValueKind::Dict,
                Node::Set(_) => ValueKind::Set,
                Node::FrozenSet(_) => ValueKind::FrozenSet,
                Node::Global(_) => ValueKind::Global,
                Node::PersId(_) => ValueKind::PersId,
                Node::Object(_) => ValueKind::Object,
                Node::Emulated(e) => match **e {
                    Emulated::Dict { .. } => ValueKind::Dict,
                    _ => ValueKind::Emulated,
                },
            },
        }
    }

    /// The Python type name (`"int"`, `"list"`, `"OrderedDict"`, …), for messages.
    pub fn type_name(self) -> &'static str {
        match self.slot {
            Slot::None => "None",
            Slot::Bool(_) => "bool",
            Slot::Int(_) => "int",
            Slot::Float(_) => "float",
            Slot::Str(_) => "str",
            Slot::Node(id) => self.graph.node(id).type_name(),
        }
    }

    /// `true` for `None`.
    pub fn is_none(self) -> bool {
        self.slot == Slot::None
    }

    /// The bool, if it is one.
    pub fn as_bool(self) -> Option<bool> {
        match self.slot {
            Slot::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The int, if it is one that fits an `i64`.
    pub fn as_i64(self) -> Option<i64> {
        match self.slot {
            Slot::Int(i) => Some(i),
            _ => None,
        }
    }

    /// The int at any size (ints that fit an `i64` are converted).
    pub fn as_bigint(self) -> Option<BigInt> {
        match self.slot {
            Slot::Int(i) => Some(BigInt::from(i)),
            Slot::Node(id) => match self.graph.node(id) {
                Node::BigInt(b) => Some((**b).clone()),
                _ => None,
            },
            _ => None,
        }
    }

    /// The float, if it is one.
    pub fn as_f64(self) -> Option<f64> {
        match self.slot {
            Slot::Float(f) => Some(f),
            _ => None,
        }
    }

    /// The text, if it is a `str` that is valid Unicode.
    #[inline]
    pub fn as_str(self) -> Option<&'g str> {
        self.graph.str_of(self.slot)
    }

    /// The text borrowed for the input's lifetime, when it lies in the input (loads
    /// from a slice): for zero-copy deserialization.
    #[inline]
    pub fn as_borrowed_str(self) -> Option<&'de str> {
        self.graph.borrowed_str(self.slot)
    }

    /// The bytes of a `bytes` or `bytearray`.
    pub fn as_bytes(self) -> Option<&'g [u8]> {
        match self.node()? {
            Node::Bytes(b) => Some(b),
            Node::ByteArray(b) => Some(b),
            _ => None,
        }
    }

    /// The global's module and name.
    pub fn as_global(self) -> Option<&'g Global<'de>> {
        match self.node()? {
            Node::Global(g) => Some(g),
            _ => None,
        }
    }

    /// The recorded construction, if this is an object.
    pub fn as_object(self) -> Option<&'g Object> {
        match self.node()? {
            Node::Object(o) => Some(self.graph.object(*o)),
            _ => None,
        }
    }

    /// The recognised standard-library value, if this is one.
    pub fn as_emulated(self) -> Option<&'g Emulated> {
        match self.node()? {
            Node::Emulated(e) => Some(e),
            _ => None,
        }
    }

    /// The elements of a list, tuple, set or frozenset, packed: unpack them with
    /// [`with`](Self::with) or [`Graph::slot`] (or walk them with [`iter`](Self::iter)).
    pub fn seq(self) -> Option<&'g [Packed]> {
        match self.node()? {
            Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => {
                Some(self.graph.items(*v))
            }
            _ => None,
        }
    }

    /// The pairs of a dict (or recognised dict subclass), packed (see [`seq`](Self::seq);
    /// [`items`](Self::items) walks them).
    pub fn dict_pairs(self) -> Option<&'g [(Packed, Packed)]> {
        match self.node()? {
            Node::Dict(v) => Some(self.graph.pairs(*v)),
            Node::Emulated(e) => match &**e {
                Emulated::Dict { items, .. } => Some(self.graph.pairs(*items)),
                _ => None,
            },
            _ => None,
        }
    }

    /// The number of elements of a sequence or pairs of a dict; the length of a str
    /// (in code points) or bytes.
    pub fn len(self) -> Option<usize> {
        if let Some(s) = self.seq() {
            return Some(s.len());
        }
        if let Some(d) = self.dict_pairs() {
            return Some(d.len());
        }
        if let Slot::Str(_) = self.slot {
            return self.as_str().map(|s| s.chars().count());
        }
        match self.node()? {
            Node::Str(s) => Some(s.chars().count()),
            Node::StrCodepoints(c) => Some(c.len()),
            Node::Bytes(b) => Some(b.len()),
            Node::ByteArray(b) => Some(b.len()),
            _ => None,
        }
    }

    /// `true` when [`len`](Self::len) is `Some(0)`.
    pub fn is_empty(self) -> bool {
        self.len() == Some(0)
    }

    /// Element `i` of a sequence, or the value under a `str` key of a dict (or of an
    /// object's state dict).
    pub fn get<I: Index>(self, index: I) -> Option<Value<'g, 'de>> {
        index.index_into(self)
    }

    /// Iterates the elements of a sequence (empty for anything else).
    pub fn iter(self) -> impl Iterator<Item = Value<'g, 'de>> + 'g
    where
        'de: 'g,
    {
        let graph = self.graph;
        self.seq()
            .unwrap_or(&[])
            .iter()
            .map(move |s| graph.value(*s))
    }

    /// Iterates the key/value pairs of a dict; for an object, of its state dict (the
    /// BUILD state, merging a `(dict, slots)` pair). `None` for anything else.
    pub fn items(self) -> Option<DictIter<'g, 'de>> {
        if let Some(pairs) = self.dict_pairs() {
            return Some(DictIter {
                graph: self.graph,
                first: pairs.iter(),
                second: [].iter(),
            });
        }
        let obj = self.as_object()?;
        let state = self.with(obj.state?);
        if let Some(pairs) = state.dict_pairs() {
            return Some(DictIter {
                graph: self.graph,
                first: pairs.iter(),
                second: [].iter(),
            });
        }
        // (dict-or-None, slots-dict)
        let parts = match state.node()? {
            Node::Tuple(t) if t.len() == 2 => self.graph.items(*t),
            _ => return None,
        };
        let first = self.with(parts[0]).dict_pairs().unwrap_or(&[]);
        let second = self.with(parts[1]).dict_pairs().unwrap_or(&[]);
        Some(DictIter {
            graph: self.graph,
            first: first.iter(),
            second: second.iter(),
        })
    }
}

/// Iterator over the pairs of a dict, see [`Value::items`].
pub struct DictIter<'g, 'de> {
    graph: &'g Graph<'de>,
    first: std::slice::Iter<'g, (Packed, Packed)>,
    second: std::slice::Iter<'g, (Packed, Packed)>,
}

impl<'g, 'de> DictIter<'g, 'de> {
    /// Iterates `pairs` (slots of `graph`).
    pub(crate) fn new(graph: &'g Graph<'de>, pairs: &'g [(Packed, Packed)]) -> Self {
        DictIter {
            graph,
            first: pairs.iter(),
            second: [].iter(),
        }
    }
}

impl<'g, 'de> Iterator for DictIter<'g, 'de> {
    type Item = (Value<'g, 'de>, Value<'g, 'de>);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let (k, v) = self.first.next().or_else(|| self.second.next())?;
        Some((self.graph.value(*k), self.graph.value(*v)))
    }
}

impl fmt::Debug for Value<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.slot {
            Slot::Node(id) => write!(f, "Value({:?} #{})", self.graph.node(id), id.0),
            s => write!(f, "Value({s:?})"),
        }
    }
}
