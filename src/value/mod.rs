//! The object graph the VM builds, and [`Value`], a handle for walking it.
//!
//! The graph is an arena: every non-scalar Python object is a [`Node`] addressed by a
//! [`NodeId`], and containers hold values [`Packed`] in 8 bytes: a scalar stored inline
//! (None, bool, int, float, most strings) or an edge to a node. [`Slot`] is the same
//! value unpacked, for matching on. The contents of all containers live in two stores of
//! the graph (elements, dict pairs); a container holds a [`Span`] of one. The memo shares nodes, so `[a, a]`
//! is two edges to one node and `L.append(L)` is a cycle; the graph keeps both. Because
//! nodes refer to each other by index, dropping a graph never recurses, however deep.
//!
//! This module knows nothing of bytes or opcodes (the VM fills the graph) nor of serde.

mod access;
mod emulated;
mod packed;
mod store;

pub use access::{DictIter, Value, ValueKind};
pub use emulated::{DictClass, Emulated, UtcOffset};
pub use packed::Packed;
pub(crate) use store::{append as store_append, TooLong};
pub use store::{Items, Pairs, Span};

use num_bigint::BigInt;
use std::borrow::Cow;

/// The index of a node in a [`Graph`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) u32);

impl NodeId {
    /// The id of the node at `index` in a graph's node list: what a graph built by hand
    /// with [`Graph::empty`] refers to its nodes by.
    pub const fn from_index(index: u32) -> NodeId {
        NodeId(index)
    }

    /// The index as a `usize`.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One value of the graph, unpacked: a scalar stored inline, or a reference to a node.
/// Containers store it [`Packed`] (8 bytes); [`Graph::slot`] unpacks.
///
/// Scalars have no identity in the graph (as in the JSON rendering), so they are copied;
/// everything else is a [`NodeId`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Slot {
    /// Python `None`.
    None,
    /// Python `bool`.
    Bool(bool),
    /// A Python `int` that fits in an `i64`.
    Int(i64),
    /// A Python `float`.
    Float(f64),
    /// A Python `str` of up to 65535 bytes, a range of the input (slice loads) or of the
    /// graph's own text buffer (stream loads); read it with [`Graph::str_of`] or
    /// [`Value::as_str`]. Most strings of a pickle are stored this way: no node, no
    /// allocation.
    Str(StrRef),
    /// Any other value: a node of the graph.
    Node(NodeId),
}

/// A [`Slot`] or a [`Packed`] one: what [`Graph::value`] and [`Value::with`] take.
pub trait SlotLike: Copy {
    /// The value unpacked, as a slot of `graph`.
    fn unpacked(self, graph: &Graph<'_>) -> Slot;
}

impl SlotLike for Slot {
    #[inline(always)]
    fn unpacked(self, _: &Graph<'_>) -> Slot {
        self
    }
}

impl SlotLike for Packed {
    #[inline(always)]
    fn unpacked(self, graph: &Graph<'_>) -> Slot {
        graph.slot(self)
    }
}

/// Where an inline [`Slot::Str`] lies: a range of the input (`input`), or of the graph's
/// own text buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StrRef {
    pub(crate) start: u32,
    pub(crate) len: u16,
    pub(crate) input: bool,
}

/// How an object-building opcode would have constructed the object in Python.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Construct {
    /// REDUCE: `callable(*args)`.
    Call,
    /// NEWOBJ / NEWOBJ_EX: `cls.__new__(cls, *args, **kwargs)`.
    New,
    /// INST / OBJ: CPython's `_instantiate(cls, args)`.
    Inst,
}

/// The index of an [`Object`] in its graph ([`Graph::object`]): objects live in an
/// arena of their own, not one allocation each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId(pub(crate) u32);

impl ObjectId {
    /// The index as a `usize`.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A recorded construction: the call the pickle asked for and every later step applied to
/// the same object (BUILD state, APPEND(S) items, SETITEM(S) pairs). Nothing is executed.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// Which opcode family made it.
    pub construct: Construct,
    /// The callable (REDUCE) or class (NEWOBJ, INST, OBJ); usually a [`Node::Global`].
    pub callable: Packed,
    /// The positional arguments ([`Graph::items`]).
    pub args: Items,
    /// NEWOBJ_EX's keyword arguments (a dict node), if any.
    pub kwargs: Option<Packed>,
    /// The last BUILD state, if any.
    pub state: Option<Packed>,
    /// Items appended by APPEND/APPENDS (and ADDITEMS) to this object ([`Graph::items`]).
    pub items: Items,
    /// Pairs set by SETITEM/SETITEMS on this object ([`Graph::pairs`]).
    pub dictitems: Pairs,
}

/// A global reference (GLOBAL, STACK_GLOBAL, INST, OBJ's class): a name, never imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global<'de> {
    /// The module, after Python 2 renames (`__builtin__` → `builtins`) when enabled.
    pub module: Cow<'de, str>,
    /// The qualified name inside the module (may contain dots).
    pub name: Cow<'de, str>,
}

/// A node of the graph: every Python value that is not stored inline in a [`Slot`].
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'de> {
    /// An `int` outside the `i64` range.
    BigInt(Box<BigInt>),
    /// A `str` (borrowed from the input when possible).
    Str(Cow<'de, str>),
    /// A `str` that is not valid Unicode (contains lone surrogates), as code points.
    StrCodepoints(Box<[u32]>),
    /// `bytes` (borrowed from the input when possible).
    Bytes(Cow<'de, [u8]>),
    /// `bytearray` (borrowed from the input when possible).
    ByteArray(Cow<'de, [u8]>),
    /// `list`.
    List(Items),
    /// `tuple`.
    Tuple(Items),
    /// `dict`, in insertion order; keys may be any value.
    Dict(Pairs),
    /// `set`, in the order the pickle gives.
    Set(Items),
    /// `frozenset`, in the order the pickle gives.
    FrozenSet(Items),
    /// A global name.
    Global(Box<Global<'de>>),
    /// A persistent id that no hook resolved.
    PersId(Packed),
    /// A recorded construction (class instance or call): read it with
    /// [`Graph::object`] (or [`Value::as_object`]).
    Object(ObjectId),
    /// A standard-library value the resolver recognised.
    Emulated(Box<Emulated>),
}

/// The object graph of one pickle: an arena of nodes and the root value.
///
/// ```
/// let graph = serde_pickle_vm::load_slice(b"\x80\x04]\x94(K\x01K\x02e.").unwrap();
/// let root = graph.root();
/// assert_eq!(root.len(), Some(2));
/// assert_eq!(root.get(1).and_then(|v| v.as_i64()), Some(2));
/// ```
#[derive(Debug, Clone)]
pub struct Graph<'de> {
    /// The input of a slice load (empty for stream loads): where [`StrRef`]s with
    /// `input` point. Their text was validated as UTF-8 when the VM read it.
    pub(crate) input: &'de [u8],
    /// Inline strings of stream loads, appended one after the other.
    pub(crate) text: String,
    pub(crate) nodes: Vec<Node<'de>>,
    /// Creation offsets, saturated at `u32::MAX` (4 bytes a node instead of 8).
    pub(crate) offsets: Vec<u32>,
    /// Ints and floats that do not pack in 8 bytes by themselves (see [`Packed`]).
    pub(crate) wide: Vec<u64>,
    /// The elements of every list, tuple, set, and object's args and items.
    pub(crate) items: Vec<Packed>,
    /// The pairs of every dict and object's SETITEMS.
    pub(crate) pairs: Vec<(Packed, Packed)>,
    /// Every recorded construction ([`Node::Object`] refers to one).
    pub(crate) objects: Vec<Object>,
    pub(crate) root: Slot,
    /// How many input bytes the VM read to build the graph (0 for hand-built graphs):
    /// the `N` that the default expansion budgets scale with.
    pub(crate) input_len: u64,
}

impl<'de> Graph<'de> {
    pub(crate) fn new() -> Self {
        Graph {
            input: &[],
            text: String::new(),
            nodes: Vec::new(),
            offsets: Vec::new(),
            wide: Vec::new(),
            items: Vec::new(),
            pairs: Vec::new(),
            objects: Vec::new(),
            root: Slot::None,
            input_len: 0,
        }
    }

    /// An empty graph (root `None`), for building values by hand: add nodes with
    /// [`add`](Self::add), container contents with [`new_items`](Self::new_items) and
    /// [`new_pairs`](Self::new_pairs), then set the root.
    ///
    /// With no input, [`input_len`](Self::input_len) (what the default expansion budgets
    /// scale with) is the bytes of text the added nodes carry: every string, byte string,
    /// big int and global name counted once.
    ///
    /// ```
    /// use serde_pickle_vm::{Graph, Node, Packed, Slot};
    /// use std::borrow::Cow;
    /// let mut g = Graph::empty();
    /// let hello = g.add(Node::Str(Cow::Borrowed("hello")));
    /// let items = g.new_items(&[Packed::node(hello); 2]);
    /// let list = g.add(Node::List(items));
    /// g.set_root(Slot::Node(list));
    /// assert_eq!(g.input_len(), 5);
    /// assert_eq!(g.root().get(1).and_then(|v| v.as_str()), Some("hello"));
    /// ```
    pub fn empty() -> Self {
        Graph::new()
    }

    /// Adds a node (see [`empty`](Self::empty)); the spans it holds must come from this
    /// graph.
    pub fn add(&mut self, node: Node<'de>) -> NodeId {
        let id = self.push(node, 0);
        self.input_len += self.scalar_bytes(Slot::Node(id));
        id
    }

    /// Adds a recorded construction, to refer to from a [`Node::Object`] (see
    /// [`empty`](Self::empty)).
    pub fn add_object(&mut self, object: Object) -> ObjectId {
        self.objects.push(object);
        ObjectId((self.objects.len() - 1) as u32)
    }

    /// The recorded construction `id` refers to.
    ///
    /// # Panics
    /// If `id` does not belong to this graph.
    pub fn object(&self, id: ObjectId) -> &Object {
        &self.objects[id.index()]
    }

    /// Sets the root value (see [`empty`](Self::empty)).
    pub fn set_root(&mut self, root: Slot) {
        self.root = root;
    }

    #[inline]
    pub(crate) fn push(&mut self, node: Node<'de>, offset: u64) -> NodeId {
        // Ids are u32 and u32::MAX is reserved; the VM stops long before (see
        // `Vm::run`: nodes count against `Limits::max_alloc`).
        debug_assert!(self.nodes.len() < u32::MAX as usize);
        let id = NodeId(self.nodes.len() as u32);
        self.nodes.push(node);
        self.offsets.push(u32::try_from(offset).unwrap_or(u32::MAX));
        id
    }

    /// The root value (what `pickle.loads` would return).
    pub fn root(&self) -> Value<'_, 'de> {
        Value::new(self, self.root)
    }

    /// The root slot.
    pub fn root_slot(&self) -> Slot {
        self.root
    }

    /// A handle on any value of this graph, a [`Slot`] or a [`Packed`] one (an element
    /// of a container).
    #[inline]
    pub fn value(&self, slot: impl SlotLike) -> Value<'_, 'de> {
        Value::new(self, slot.unpacked(self))
    }

    /// The node `id` refers to.
    ///
    /// # Panics
    /// If `id` does not belong to this graph.
    pub fn node(&self, id: NodeId) -> &Node<'de> {
        &self.nodes[id.index()]
    }

    pub(crate) fn node_mut(&mut self, id: NodeId) -> &mut Node<'de> {
        &mut self.nodes[id.index()]
    }

    /// The text of a `str` value, whether stored inline ([`Slot::Str`]) or as a
    /// [`Node::Str`]; `None` for anything else (and for strings with lone surrogates).
    ///
    /// ```
    /// // pickle.dumps("héllo", protocol=4)
    /// let g = serde_pickle_vm::load_slice(b"\x80\x04\x95\n\x00\x00\x00\x00\x00\x00\x00\x8c\x06h\xc3\xa9llo\x94.").unwrap();
    /// assert_eq!(g.str_of(g.root_slot()), Some("héllo"));
    /// ```
    #[inline]
    pub fn str_of(&self, slot: Slot) -> Option<&str> {
        match slot {
            Slot::Str(r) => self.inline_str(r),
            Slot::Node(id) => match self.node(id) {
                Node::Str(s) => Some(s),
                _ => None,
            },
            _ => None,
        }
    }

    /// Like [`str_of`](Self::str_of), but borrowed for the input's lifetime `'de` when
    /// the string lies in the input (loads from a slice): what zero-copy `&'de str`
    /// deserialization needs.
    #[inline]
    pub fn borrowed_str(&self, slot: Slot) -> Option<&'de str> {
        match slot {
            Slot::Str(r) if r.input => self.input_str(r),
            Slot::Node(id) => match self.node(id) {
                Node::Str(Cow::Borrowed(s)) => Some(s),
                _ => None,
            },
            _ => None,
        }
    }

    /// The text of an inline string of the input. The VM validated it when it read it;
    /// validating again (a few nanoseconds for the short strings that are stored
    /// inline) is what lets the graph keep 8 bytes per string, not a 16-byte `&str`.
    #[inline]
    fn input_str(&self, r: StrRef) -> Option<&'de str> {
        let start = r.start as usize;
        let input: &'de [u8] = self.input;
        std::str::from_utf8(input.get(start..start + r.len as usize)?).ok()
    }

    #[inline]
    fn inline_str(&self, r: StrRef) -> Option<&str> {
        if r.input {
            return self.input_str(r);
        }
        let start = r.start as usize;
        self.text.get(start..start + r.len as usize)
    }

    /// The slot of a string that lies in the input at `bytes` (a subslice of the input
    /// this graph was given, already validated): inline when it is short enough and its
    /// offset fits, a borrowed node otherwise.
    #[inline]
    pub(crate) fn push_input_str(&mut self, s: &'de str, offset: u64) -> Packed {
        let at = (s.as_ptr() as usize).wrapping_sub(self.input.as_ptr() as usize);
        if s.len() <= packed::MAX_INLINE_STR
            && at <= u32::MAX as usize
            && self.input.get(at..at + s.len()).map(<[u8]>::as_ptr) == Some(s.as_ptr())
        {
            return Packed::str(StrRef {
                start: at as u32,
                len: s.len() as u16,
                input: true,
            });
        }
        Packed::node(self.push(Node::Str(Cow::Borrowed(s)), offset))
    }

    /// Stores `s` in the graph's own text buffer and returns its slot (for strings that
    /// do not lie in the input). Falls back to a node past 4 GiB of text and for strings
    /// longer than 65535 bytes.
    pub(crate) fn push_owned_str(&mut self, s: &str, offset: u64) -> Packed {
        if let Some(r) = self.append_text(s, u32::MAX as u64) {
            return Packed::str(r);
        }
        Packed::node(self.push(Node::Str(Cow::Owned(s.to_string())), offset))
    }

    /// Appends `s` to the text buffer if it fits as an inline string within `limit`
    /// bytes of text.
    fn append_text(&mut self, s: &str, limit: u64) -> Option<StrRef> {
        let start = self.text.len() as u64;
        if s.len() > packed::MAX_INLINE_STR || start + s.len() as u64 > limit {
            return None;
        }
        self.text.push_str(s);
        Some(StrRef {
            start: start as u32,
            len: s.len() as u16,
            input: false,
        })
    }

    /// The byte offset in the pickle of the opcode that created node `id`.
    pub fn offset_of(&self, id: NodeId) -> u64 {
        self.offsets.get(id.index()).copied().unwrap_or(0) as u64
    }

    /// How many nodes the graph holds.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// How many bytes of input the VM read to build the graph, up to and including STOP
    /// (for a graph built by hand, see [`empty`](Self::empty), the bytes of text its
    /// nodes carry). The default
    /// expansion budgets ([`Limits::max_expanded_bytes`](crate::Limits::max_expanded_bytes),
    /// [`JsonOptions::max_expanded_bytes`](crate::json::JsonOptions::max_expanded_bytes))
    /// are proportional to it.
    ///
    /// ```
    /// let graph = serde_pickle_vm::load_slice(b"\x80\x04K\x07.trailing").unwrap();
    /// assert_eq!(graph.input_len(), 5);
    /// ```
    pub fn input_len(&self) -> u64 {
        self.input_len
    }

    /// How many bytes of text a scalar value carries: a string's or byte string's length
    /// (4 a code point for a string with lone surrogates), a big int's decimal digits
    /// (about), a global's names; 0 for everything else. What the byte budgets of the
    /// serde walk and the JSON rendering count, since such values carry no identity and
    /// are copied at each reference.
    pub(crate) fn scalar_bytes(&self, slot: Slot) -> u64 {
        let n = match slot {
            Slot::Str(r) => r.len as usize,
            Slot::Node(id) => match self.node(id) {
                Node::Str(s) => s.len(),
                Node::StrCodepoints(c) => c.len().saturating_mul(4),
                Node::Bytes(b) | Node::ByteArray(b) => b.len(),
                Node::BigInt(b) => (b.bits() / 3 + 1) as usize,
                Node::Global(g) => g.module.len() + g.name.len(),
                _ => 0,
            },
            _ => 0,
        };
        n as u64
    }

    /// Turns every borrowed string and byte string into an owned one, so the graph no
    /// longer borrows the input.
    pub fn into_owned(self) -> Graph<'static> {
        self.into_owned_within(u32::MAX as u64)
    }

    /// [`into_owned`](Self::into_owned) with the text buffer limited to `limit` bytes
    /// (u32 offsets: 4 GiB); strings that do not fit become nodes. A parameter so that a
    /// test can reach the fallback without 4 GiB of text.
    fn into_owned_within(self, limit: u64) -> Graph<'static> {
        let input = self.input;
        let mut owned = Graph {
            input: &[],
            text: self.text,
            nodes: self.nodes.into_iter().map(Node::into_owned).collect(),
            offsets: self.offsets,
            wide: self.wide,
            items: self.items,
            pairs: self.pairs,
            objects: self.objects,
            root: Slot::None,
            input_len: self.input_len,
        };
        // Strings of the input move to the owned text buffer (or, past its reach, become
        // nodes of their own); every reference to one is rewritten to the same copy.
        let mut moved: std::collections::HashMap<(u32, u16), Packed> =
            std::collections::HashMap::new();
        let mut fix = |g: &mut Graph<'static>, p: Packed| -> Packed {
            let Ok(Slot::Str(r)) = p.unpack() else {
                return p;
            };
            if !r.input {
                return p;
            }
            *moved.entry((r.start, r.len)).or_insert_with(|| {
                let start = r.start as usize;
                let s = input
                    .get(start..start + r.len as usize)
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .unwrap_or("");
                match g.append_text(s, limit) {
                    Some(r) => Packed::str(r),
                    None => {
                        // Where the string lay in the input is not kept.
                        let id = g.push(Node::Str(Cow::Owned(s.to_string())), u32::MAX as u64);
                        Packed::node(id)
                    }
                }
            })
        };
        // Every value of the stores (garbage left by moved spans too: harmless), then
        // the values nodes hold themselves.
        let mut items = std::mem::take(&mut owned.items);
        for p in items.iter_mut() {
            *p = fix(&mut owned, *p);
        }
        owned.items = items;
        let mut pairs = std::mem::take(&mut owned.pairs);
        for (k, v) in pairs.iter_mut() {
            *k = fix(&mut owned, *k);
            *v = fix(&mut owned, *v);
        }
        owned.pairs = pairs;
        let mut objects = std::mem::take(&mut owned.objects);
        for o in objects.iter_mut() {
            o.callable = fix(&mut owned, o.callable);
            o.kwargs = o.kwargs.map(|p| fix(&mut owned, p));
            o.state = o.state.map(|p| fix(&mut owned, p));
        }
        owned.objects = objects;
        for i in 0..owned.nodes.len() {
            let mut node = std::mem::replace(&mut owned.nodes[i], Node::List(Items::EMPTY));
            node.for_each_slot_mut(|p| *p = fix(&mut owned, *p));
            owned.nodes[i] = node;
        }
        owned.root = match Packed::new(self.root) {
            Some(p) => {
                let p = fix(&mut owned, p);
                owned.slot(p)
            }
            None => self.root,
        };
        owned
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn into_owned_keeps_strings_beyond_the_text_buffer() {
        // ["abc", "defg", "abc", "hi"] from a slice: borrowed strings.
        let data = b"\x80\x04](\x8c\x03abc\x94\x8c\x04defg\x94h\x00\x8c\x02hi\x94e.";
        let g = crate::load_slice(data).unwrap();
        let want = ["abc", "defg", "abc", "hi"];
        let texts = |g: &super::Graph<'_>| -> Vec<String> {
            g.root()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(texts(&g), want);
        // Room for 5 bytes of text: "abc" and "hi" fit, "defg" becomes a node.
        let nodes = g.node_count();
        let owned = g.clone().into_owned_within(5);
        assert_eq!(texts(&owned), want);
        assert_eq!(owned.node_count(), nodes + 1);
        assert_eq!(texts(&g.into_owned()), want);
    }

    #[test]
    fn into_owned_rewrites_strings_in_every_store() {
        // pickle.dumps([argparse.Namespace(name='héllo', tags=['a', 'bb']),
        //               {'k': 'v', 'k2': ('t', 'u')}, 'tail'], protocol=4):
        // strings in the element store, the pair store, an object's state and the root.
        let data = b"\x80\x04\x95l\x00\x00\x00\x00\x00\x00\x00]\x94(\x8c\x08argparse\x94\x8c\tNamespace\x94\x93\x94)\x81\x94}\x94(\x8c\x04name\x94\x8c\x06h\xc3\xa9llo\x94\x8c\x04tags\x94]\x94(\x8c\x01a\x94\x8c\x02bb\x94eub}\x94(\x8c\x01k\x94\x8c\x01v\x94\x8c\x02k2\x94\x8c\x01t\x94\x8c\x01u\x94\x86\x94u\x8c\x04tail\x94e.";
        let g = crate::load_slice(data).unwrap();
        let json = |g: &super::Graph<'_>| crate::json::to_string(g, &Default::default()).unwrap();
        let before = json(&g);
        assert!(
            before.contains("héllo") && before.contains("\"k2\""),
            "{before}"
        );
        let owned = g.clone().into_owned();
        assert!(owned.input.is_empty());
        assert_eq!(json(&owned), before);
        // Nothing refers to the input any more: every inline string is in the text.
        let in_input = |p: &super::Packed| matches!(p.unpack(), Ok(super::Slot::Str(r)) if r.input);
        assert!(!owned.items.iter().any(in_input));
        assert!(!owned.pairs.iter().any(|(k, v)| in_input(k) || in_input(v)));
    }
}

impl<'de> Node<'de> {
    /// Calls `f` on every value the node holds itself (not those of the stores, which
    /// its spans refer to).
    pub(crate) fn for_each_slot_mut(&mut self, mut f: impl FnMut(&mut Packed)) {
        match self {
            Node::List(_) | Node::Tuple(_) | Node::Set(_) | Node::FrozenSet(_) => {}
            Node::Dict(_) => {}
            Node::PersId(s) => f(s),
            Node::Object(_) => {}
            Node::Emulated(e) => match &mut **e {
                Emulated::Dict {
                    default_factory,
                    state,
                    ..
                } => {
                    default_factory.iter_mut().for_each(&mut f);
                    state.iter_mut().for_each(&mut f);
                }
                Emulated::Range(p) | Emulated::Slice(p) => p.iter_mut().for_each(f),
                Emulated::Complex(..)
                | Emulated::Decimal(_)
                | Emulated::DateTime { .. }
                | Emulated::Date(..)
                | Emulated::Time { .. }
                | Emulated::TimeDelta { .. }
                | Emulated::Uuid(_)
                | Emulated::Tensor(_)
                | Emulated::NdArray(_)
                | Emulated::ObjectArray { .. }
                | Emulated::NpScalar(_) => {}
            },
            Node::BigInt(_)
            | Node::Str(_)
            | Node::StrCodepoints(_)
            | Node::Bytes(_)
            | Node::ByteArray(_)
            | Node::Global(_) => {}
        }
    }

    /// The same node with no borrow of the input.
    pub fn into_owned(self) -> Node<'static> {
        match self {
            Node::Str(s) => Node::Str(Cow::Owned(s.into_owned())),
            Node::Bytes(b) => Node::Bytes(Cow::Owned(b.into_owned())),
            Node::Global(g) => Node::Global(Box::new(Global {
                module: Cow::Owned(g.module.into_owned()),
                name: Cow::Owned(g.name.into_owned()),
            })),
            Node::BigInt(b) => Node::BigInt(b),
            Node::StrCodepoints(c) => Node::StrCodepoints(c),
            Node::ByteArray(b) => Node::ByteArray(Cow::Owned(b.into_owned())),
            Node::List(v) => Node::List(v),
            Node::Tuple(v) => Node::Tuple(v),
            Node::Dict(v) => Node::Dict(v),
            Node::Set(v) => Node::Set(v),
            Node::FrozenSet(v) => Node::FrozenSet(v),
            Node::PersId(s) => Node::PersId(s),
            Node::Object(o) => Node::Object(o),
            Node::Emulated(e) => Node::Emulated(e),
        }
    }

    /// The Python type name of the node, for messages (`"list"`, `"dict"`, `"object"`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Node::BigInt(_) => "int",
            Node::Str(_) | Node::StrCodepoints(_) => "str",
            Node::Bytes(_) => "bytes",
            Node::ByteArray(_) => "bytearray",
            Node::List(_) => "list",
            Node::Tuple(_) => "tuple",
            Node::Dict(_) => "dict",
            Node::Set(_) => "set",
            Node::FrozenSet(_) => "frozenset",
            Node::Global(_) => "global",
            Node::PersId(_) => "persistent id",
            Node::Object(_) => "object",
            Node::Emulated(e) => e.type_name(),
        }
    }
}

#[cfg(test)]
mod size_tests {
    #[test]
    fn sizes() {
        assert_eq!(std::mem::size_of::<super::Slot>(), 16);
        assert_eq!(std::mem::size_of::<super::Packed>(), 8);
        assert_eq!(std::mem::size_of::<Option<super::Packed>>(), 8);
        assert_eq!(std::mem::size_of::<super::Items>(), 12);
        assert_eq!(std::mem::size_of::<super::Object>(), 64);
        assert!(
            std::mem::size_of::<super::Node<'static>>() <= 32,
            "{}",
            std::mem::size_of::<super::Node<'static>>()
        );
    }
}
