//! [`Deser`]: serde's `Deserializer` over one value of the graph. It answers each of
//! serde's requests from the node it points at, per the mapping in the crate docs, and
//! hands children to [`access`](super::access), which adds their path segments.

use super::access::{locate, ByteSeq, PairMap, SlotSeq, Special};
use super::array::Block;
use super::magic::Magic;
use super::object::{big_text, class_mismatch, describe, Instance};
use super::walk::Walk;
use crate::error::{Error, ErrorKind, Result};
use crate::value::{DictIter, Emulated, Node, Packed, Slot, SlotLike, Value};
use num_traits::ToPrimitive;
use serde::de::{self, Deserializer as _, Expected, IntoDeserializer, Visitor};
use std::borrow::Cow;

/// A deserializer for one value of a graph, sharing the walk's limits.
pub(crate) struct Deser<'a, 'g, 'de> {
    pub(crate) v: Value<'g, 'de>,
    pub(crate) walk: &'a Walk,
    /// A dict key: scalars may stand in for strings (as in JSON object keys).
    key: bool,
}

/// Where the elements of a sequence request come from.
enum SeqSource<'g> {
    Slots(&'g [Packed]),
    Bytes(&'g [u8]),
    Pair(f64, f64),
}

impl<'a, 'g, 'de> Deser<'a, 'g, 'de> {
    #[inline]
    pub(crate) fn new(v: Value<'g, 'de>, walk: &'a Walk) -> Self {
        Deser {
            v,
            walk,
            key: false,
        }
    }

    #[inline]
    pub(crate) fn key(v: Value<'g, 'de>, walk: &'a Walk) -> Self {
        Deser { v, walk, key: true }
    }

    fn child(&self, slot: impl SlotLike) -> Result<Self> {
        let slot = slot.unpacked(self.v.graph());
        self.walk.charge(self.v.graph(), slot)?;
        Ok(Deser::new(self.v.graph().value(slot), self.walk))
    }

    fn invalid(&self, exp: &dyn Expected) -> Error {
        Error::new(
            ErrorKind::Type,
            format!("invalid type: {}, expected {exp}", describe(self.v)),
        )
    }

    /// Answers a request from a numpy array, numpy scalar or tensor; any other value is
    /// of the wrong type.
    #[inline(never)]
    fn or_array<V: Visitor<'de>>(
        self,
        visitor: V,
        f: impl FnOnce(Block<'a, 'g, 'de>, V) -> Result<V::Value>,
    ) -> Result<V::Value> {
        match Block::of(self.v, self.walk)? {
            Some(b) => f(b, visitor),
            None => Err(self.invalid(&visitor)),
        }
    }

    /// A pandas DataFrame or Series at this value, rebuilt (`None` for anything else).
    /// Only objects of a class named like pandas' get the closer look.
    #[cfg(feature = "pandas")]
    #[inline]
    fn pandas(&self) -> Option<Result<crate::pandas::Pandas>> {
        if !self.is_frame() {
            return None;
        }
        // Each visit rebuilds the frame: its bytes count against the walk's budget, so
        // a frame reached a million times through shared references is refused.
        let (p, cost) = crate::pandas::pandas_with_cost(self.v);
        Some(
            p.and_then(|p| self.walk.charge_bytes(cost).map(|_| p))
                .map_err(|e| locate(self.v, e)),
        )
    }

    /// `true` when this value is a pandas DataFrame or Series (nothing rebuilt).
    #[cfg(feature = "pandas")]
    #[inline]
    fn is_frame(&self) -> bool {
        let Some(Node::Object(obj)) = self.v.node() else {
            return false;
        };
        let class = self.v.graph().object(*obj).callable;
        let Some(g) = self.v.with(class).as_global() else {
            return false;
        };
        (g.module.starts_with("pandas")
            || g.name.ends_with("DataFrame")
            || g.name.ends_with("Series"))
            && crate::pandas::is_pandas_object(self.v)
    }

    /// Answers a request from a pandas frame or Series.
    #[cfg(feature = "pandas")]
    #[inline(never)]
    fn frame<V: Visitor<'de>>(
        &self,
        p: crate::pandas::Pandas,
        visitor: V,
        f: impl FnOnce(crate::pandas::FrameDe<'_, '_>, V) -> Result<V::Value>,
    ) -> Result<V::Value> {
        let _guard = self.walk.descend(self.v)?;
        let charge = |n: u64| self.walk.charge_bytes(n);
        let budget = crate::pandas::Budget::new(Some(&charge));
        f(
            crate::pandas::FrameDe {
                pandas: (&p).into(),
                budget: &budget,
            },
            visitor,
        )
    }

    fn out_of_range(&self, ty: &str) -> Error {
        Error::new(
            ErrorKind::Type,
            format!("invalid value: {} does not fit in {ty}", describe(self.v)),
        )
    }

    #[inline]
    fn float(&self) -> Option<f64> {
        match self.v.slot() {
            Slot::Float(f) => Some(f),
            Slot::Int(i) => Some(i as f64),
            Slot::Node(_) => match self.v.node() {
                Some(Node::BigInt(b)) => b.to_f64().filter(|f| f.is_finite()),
                Some(Node::Emulated(e)) => match **e {
                    Emulated::TimeDelta { .. } => total_seconds(e),
                    Emulated::Decimal(ref d) => d.parse().ok(),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        }
    }

    fn seq_source(&self) -> Option<SeqSource<'g>> {
        let graph = self.v.graph();
        match self.v.node()? {
            Node::List(x) | Node::Tuple(x) | Node::Set(x) | Node::FrozenSet(x) => {
                Some(SeqSource::Slots(graph.items(*x)))
            }
            Node::Bytes(b) | Node::ByteArray(b) => Some(SeqSource::Bytes(b)),
            Node::Object(obj) => {
                let obj = graph.object(*obj);
                if !obj.items.is_empty() {
                    return Some(SeqSource::Slots(graph.items(obj.items)));
                }
                match obj.state {
                    Some(s) => graph.value(s).seq().map(SeqSource::Slots),
                    None => Instance::of(self.v).map(|i| SeqSource::Slots(i.args)),
                }
            }
            Node::Emulated(e) => match &**e {
                Emulated::Complex(re, im) => Some(SeqSource::Pair(*re, *im)),
                Emulated::Range(s) | Emulated::Slice(s) => Some(SeqSource::Slots(&s[..])),
                _ => None,
            },
            _ => None,
        }
    }

    /// Visits a sequence; with `exact`, elements the visitor left unread are an error
    /// (a tuple of the wrong length).
    #[inline]
    fn visit_seq_from<V: Visitor<'de>>(
        self,
        src: SeqSource<'g>,
        visitor: V,
        exact: bool,
    ) -> Result<V::Value> {
        match src {
            SeqSource::Slots(slots) => self.visit_slots(slots, visitor, exact),
            SeqSource::Bytes(b) => visitor.visit_seq(ByteSeq { bytes: b.iter() }),
            SeqSource::Pair(re, im) => visit_pair(re, im, visitor),
        }
    }

    fn visit_dict<V: Visitor<'de>>(
        self,
        pairs: &'g [(Packed, Packed)],
        visitor: V,
    ) -> Result<V::Value> {
        let pairs = DictIter::new(self.v.graph(), pairs);
        self.visit_map_from(Vec::new(), Some(pairs), visitor)
    }

    // On the recursion path of nested sequences: small on purpose.
    fn visit_slots<V: Visitor<'de>>(
        self,
        slots: &'g [Packed],
        visitor: V,
        exact: bool,
    ) -> Result<V::Value> {
        let guard = self.walk.descend(self.v)?;
        let mut seq = SlotSeq::new(self.walk, self.v.graph(), slots);
        seq._guard = Some(guard);
        // Every level of nesting passes here or in `visit_map_from`: grow the stack
        // on demand so that no target type, however large its frames, can overflow it
        // before `Limits::max_depth` stops the walk.
        stacker::maybe_grow(RED_ZONE, STACK_CHUNK, move || {
            if exact {
                visit_exact(seq, visitor)
            } else {
                // By value: no `&mut` forwarding frame per element.
                visitor.visit_seq(seq)
            }
        })
    }

    /// The pairs a map request reads: a dict's, an object's state dict's, or the pairs
    /// SETITEMS gave an object (a dict subclass).
    fn map_pairs(&self) -> Option<DictIter<'g, 'de>> {
        if self.v.dict_pairs().is_some() {
            return self.v.items();
        }
        let inst = Instance::of(self.v)?;
        if let Some(pairs) = inst.state_pairs(self.v) {
            return Some(pairs);
        }
        let obj = inst.obj;
        if obj.state.is_none() && !obj.dictitems.is_empty() {
            let graph = self.v.graph();
            return Some(DictIter::new(graph, graph.pairs(obj.dictitems)));
        }
        None
    }

    fn visit_map_from<V: Visitor<'de>>(
        self,
        special: Vec<Special>,
        pairs: Option<DictIter<'g, 'de>>,
        visitor: V,
    ) -> Result<V::Value> {
        let guard = self.walk.descend(self.v)?;
        let map = PairMap::new(self.walk, self.v.graph(), special, pairs, Some(guard));
        stacker::maybe_grow(RED_ZONE, STACK_CHUNK, move || visitor.visit_map(map))
    }

    /// A struct (or struct variant) from this value; `magic` is the container's (or the
    /// variant's) pickle attributes, `check` whether to check its class here.
    #[inline]
    pub(crate) fn struct_from<V: Visitor<'de>>(
        self,
        name: &'static str,
        magic: Option<Magic<'_>>,
        fields: &'static [&'static str],
        visitor: V,
        check: bool,
    ) -> Result<V::Value> {
        match self.plan_struct(magic, fields, check)? {
            Plan::Map(special, pairs) => self.visit_map_from(special, pairs, visitor),
            Plan::Seq(slots) => self.visit_slots(slots, visitor, true),
            Plan::Invalid => self.or_array(visitor, |b, v| b.deserialize_struct(name, fields, v)),
        }
    }

    fn plan_struct(
        &self,
        magic: Option<Magic<'_>>,
        fields: &'static [&'static str],
        check: bool,
    ) -> Result<Plan<'g, 'de>> {
        if let Some(Node::Dict(pairs)) = self.v.node() {
            if magic.is_none_or(|m| m.class.is_none()) {
                return Ok(Plan::Map(
                    Vec::new(),
                    Some(DictIter::new(self.v.graph(), self.v.graph().pairs(*pairs))),
                ));
            }
        }
        let expected_class = magic.and_then(|m| m.qualified_class(None));
        let Some(inst) = Instance::of(self.v) else {
            if let Some(c) = expected_class {
                return Err(class_mismatch(&c, self.v));
            }
            if let Some(pairs) = self.v.items() {
                return Ok(Plan::Map(Vec::new(), Some(pairs)));
            }
            return Ok(match self.seq_source() {
                Some(SeqSource::Slots(slots)) => Plan::Seq(slots),
                _ => Plan::Invalid,
            });
        };
        if check {
            if let (Some(m), Some(class)) = (magic, magic.and_then(|m| m.class)) {
                if !inst.is(m.module, class) {
                    return Err(class_mismatch(&expected_class.unwrap_or_default(), self.v));
                }
            }
        }
        let mut special = Vec::new();
        let mut has_special = false;
        if magic.is_some() {
            for &f in fields {
                let Some(fm) = Magic::parse(f).filter(Magic::is_special_field) else {
                    continue;
                };
                has_special = true;
                let slot = if let Some(i) = fm.arg {
                    inst.args.get(i).copied()
                } else if let Some(k) = fm.kwarg {
                    inst.kwarg(self.v, k)
                } else {
                    inst.obj.state
                };
                if let Some(slot) = slot {
                    special.push(Special {
                        key: f,
                        label: fm.name.to_string(),
                        slot: self.v.graph().slot(slot),
                    });
                }
            }
        }
        let pairs = self.map_pairs();
        if pairs.is_none() && !has_special {
            match inst.obj.state.map(|s| self.v.graph().value(s)) {
                Some(state) if state.seq().is_some() => {
                    return Ok(Plan::Seq(state.seq().unwrap_or(&[])));
                }
                Some(state) if !state.is_none() => {
                    return Err(Error::new(
                        ErrorKind::Type,
                        format!(
                            "the state of {} is {}, not a dict: map it with a #[pickle(state)] field or a tuple struct",
                            inst.class_name(),
                            describe(state)
                        ),
                    ))
                }
                _ if !inst.args.is_empty() => return Ok(Plan::Seq(inst.args)),
                _ => {}
            }
        }
        Ok(Plan::Map(special, pairs))
    }

    /// A tuple struct or tuple variant: the constructor args (`args` mode), else the
    /// object's sequence (state tuple, items, or args).
    pub(crate) fn tuple_from<V: Visitor<'de>>(
        self,
        magic: Option<Magic<'_>>,
        visitor: V,
        check: bool,
    ) -> Result<V::Value> {
        if let Some(m) = magic {
            if let Some(expected) = m.qualified_class(None) {
                match Instance::of(self.v) {
                    Some(i) if !check || i.is(m.module, m.class.unwrap_or_default()) => {}
                    _ => return Err(class_mismatch(&expected, self.v)),
                }
            }
            if m.args {
                return match Instance::of(self.v) {
                    Some(i) => self.visit_seq_from(SeqSource::Slots(i.args), visitor, true),
                    None => Err(self.invalid(&visitor)),
                };
            }
        }
        match self.seq_source() {
            Some(src) => self.visit_seq_from(src, visitor, true),
            None => self.or_array(visitor, |b, v| b.deserialize_tuple(0, v)),
        }
    }

    fn any_other<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        use de::Deserializer as _;
        let node = match self.v.slot() {
            Slot::None => return visitor.visit_unit(),
            Slot::Bool(b) => return visitor.visit_bool(b),
            Slot::Int(i) => return visitor.visit_i64(i),
            Slot::Float(f) => return visitor.visit_f64(f),
            Slot::Str(_) => return self.deserialize_str(visitor),
            Slot::Node(_) => self.v.node().expect("a node slot has a node"),
        };
        match node {
            Node::BigInt(b) => {
                if let Some(i) = b.to_i128() {
                    visitor.visit_i128(i)
                } else if let Some(u) = b.to_u128() {
                    visitor.visit_u128(u)
                } else {
                    Err(Error::new(
                        ErrorKind::Type,
                        format!(
                            "invalid value: int {} does not fit in 128 bits",
                            big_text(b)
                        ),
                    ))
                }
            }
            Node::Str(_) | Node::StrCodepoints(_) => self.deserialize_str(visitor),
            Node::Bytes(_) | Node::ByteArray(_) => self.deserialize_bytes(visitor),
            Node::List(x) | Node::Tuple(x) | Node::Set(x) | Node::FrozenSet(x) => {
                let items = self.v.graph().items(*x);
                self.visit_seq_from(SeqSource::Slots(items), visitor, false)
            }
            Node::Dict(_) => {
                let pairs = self.v.items();
                self.visit_map_from(Vec::new(), pairs, visitor)
            }
            Node::Global(g) => visitor.visit_string(format!("{}.{}", g.module, g.name)),
            Node::PersId(_) => Err(Error::new(
                ErrorKind::Unsupported,
                "an unresolved persistent id has no serde form: load with a persistent_load hook",
            )),
            Node::Object(obj) => {
                #[cfg(feature = "pandas")]
                if let Some(p) = self.pandas() {
                    return self.frame(p?, visitor, |d, v| d.deserialize_any(v));
                }
                let obj = self.v.graph().object(*obj);
                if let Some(pairs) = self.map_pairs() {
                    return self.visit_map_from(Vec::new(), Some(pairs), visitor);
                }
                match obj.state {
                    Some(s) if !s.is_none() => {
                        // The object is on the path while its state is walked: a state
                        // that is (or holds) the object itself is a cycle, not a loop.
                        let _guard = self.walk.descend(self.v)?;
                        self.child(s)?.deserialize_any(visitor)
                    }
                    _ => match self.seq_source() {
                        Some(src) => self.visit_seq_from(src, visitor, false),
                        None => visitor.visit_unit(),
                    },
                }
            }
            Node::Emulated(e) => match &**e {
                Emulated::Dict { .. } => {
                    let pairs = self.v.items();
                    self.visit_map_from(Vec::new(), pairs, visitor)
                }
                Emulated::TimeDelta { .. } => {
                    visitor.visit_f64(total_seconds(e).unwrap_or_default())
                }
                Emulated::Complex(..) | Emulated::Range(_) | Emulated::Slice(_) => {
                    match self.seq_source() {
                        Some(src) => self.visit_seq_from(src, visitor, false),
                        None => Err(self.invalid(&visitor)),
                    }
                }
                Emulated::NdArray(_)
                | Emulated::ObjectArray { .. }
                | Emulated::NpScalar(_)
                | Emulated::Tensor(_) => self.or_array(visitor, |b, v| b.deserialize_any(v)),
                other => match emulated_text(other) {
                    Some(s) => visitor.visit_string(s),
                    None => Err(self.invalid(&visitor)),
                },
            },
        }
    }

    fn str_for_key(&self) -> Option<String> {
        Some(match self.v.slot() {
            Slot::Int(i) => i.to_string(),
            Slot::Bool(b) => b.to_string(),
            Slot::Float(f) => format!("{f:?}"),
            Slot::None => "null".to_string(),
            Slot::Str(_) => self.v.as_str()?.to_string(),
            Slot::Node(_) => match self.v.node()? {
                Node::BigInt(b) => b.to_string(),
                _ => return None,
            },
        })
    }
}

/// Stack left below which a nested container gets a fresh stack segment.
const RED_ZONE: usize = 128 * 1024;
/// Size of each fresh segment.
const STACK_CHUNK: usize = 2 * 1024 * 1024;

pub(crate) fn visit_pair<'de, V: Visitor<'de>>(re: f64, im: f64, visitor: V) -> Result<V::Value> {
    let mut seq = de::value::SeqDeserializer::<_, Error>::new([re, im].into_iter());
    let out = visitor.visit_seq(&mut seq)?;
    seq.end()?;
    Ok(out)
}

fn visit_exact<'de, V: Visitor<'de>>(
    mut seq: SlotSeq<'_, '_, 'de>,
    visitor: V,
) -> Result<V::Value> {
    let out = visitor.visit_seq(&mut seq)?;
    if seq.remaining() > 0 {
        return Err(length_error(seq.index + seq.remaining(), seq.remaining()));
    }
    Ok(out)
}

#[cold]
fn length_error(len: usize, left: usize) -> Error {
    Error::new(
        ErrorKind::Type,
        format!("invalid length: {len} elements, expected {}", len - left),
    )
}

/// How a struct request is answered.
enum Plan<'g, 'de> {
    Map(Vec<Special>, Option<DictIter<'g, 'de>>),
    Seq(&'g [Packed]),
    Invalid,
}

/// The text serde sees for an emulated value asked for as a string.
fn emulated_text(e: &Emulated) -> Option<String> {
    match e {
        Emulated::Decimal(s) => Some(s.clone()),
        Emulated::Uuid(u) => Some(Emulated::uuid_string(*u)),
        _ => e.isoformat(),
    }
}

/// `timedelta.total_seconds()`.
fn total_seconds(e: &Emulated) -> Option<f64> {
    match *e {
        Emulated::TimeDelta {
            days,
            seconds,
            microseconds,
        } => Some((days as f64) * 86400.0 + (seconds as f64) + (microseconds as f64) / 1e6),
        _ => None,
    }
}

fn surrogates() -> Error {
    Error::new(
        ErrorKind::Type,
        "invalid value: a str with lone surrogates is not valid Unicode, expected a string",
    )
}

macro_rules! int_method {
    ($method:ident, $visit:ident, $ty:ty, $to:ident) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            let n = match self.v.slot() {
                Slot::Int(i) => <$ty>::try_from(i).ok(),
                Slot::Node(_) => match self.v.node() {
                    Some(Node::BigInt(b)) => b.$to(),
                    Some(Node::Emulated(e)) => match **e {
                        Emulated::Uuid(u) => <$ty>::try_from(u).ok(),
                        _ => return self.or_array(visitor, |b, v| b.$method(v)),
                    },
                    _ => return Err(self.invalid(&visitor)),
                },
                _ => return Err(self.invalid(&visitor)),
            };
            match n {
                Some(n) => visitor.$visit(n),
                None => Err(self.out_of_range(stringify!($ty))),
            }
        }
    };
}

impl<'de> de::Deserializer<'de> for Deser<'_, '_, 'de> {
    type Error = Error;

    // On the recursion path of `serde_json::Value` and friends: containers go straight
    // to their access, everything else to `any_other`.
    #[inline]
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.v.node() {
            Some(Node::List(x) | Node::Tuple(x) | Node::Set(x) | Node::FrozenSet(x)) => {
                let items = self.v.graph().items(*x);
                self.visit_slots(items, visitor, false)
            }
            Some(Node::Dict(pairs)) => {
                let pairs = self.v.graph().pairs(*pairs);
                self.visit_dict(pairs, visitor)
            }
            _ => self.any_other(visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.v.slot() {
            Slot::Bool(b) => visitor.visit_bool(b),
            _ => self.or_array(visitor, |b, v| b.deserialize_bool(v)),
        }
    }

    int_method!(deserialize_i8, visit_i8, i8, to_i8);
    int_method!(deserialize_i16, visit_i16, i16, to_i16);
    int_method!(deserialize_i32, visit_i32, i32, to_i32);
    int_method!(deserialize_i64, visit_i64, i64, to_i64);
    int_method!(deserialize_i128, visit_i128, i128, to_i128);
    int_method!(deserialize_u8, visit_u8, u8, to_u8);
    int_method!(deserialize_u16, visit_u16, u16, to_u16);
    int_method!(deserialize_u32, visit_u32, u32, to_u32);
    int_method!(deserialize_u64, visit_u64, u64, to_u64);
    int_method!(deserialize_u128, visit_u128, u128, to_u128);

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.float() {
            Some(f) => visitor.visit_f32(f as f32),
            None => self.or_array(visitor, |b, v| b.deserialize_f32(v)),
        }
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.float() {
            Some(f) => visitor.visit_f64(f),
            None => self.or_array(visitor, |b, v| b.deserialize_f64(v)),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if let Some(s) = self.v.as_str() {
            let mut chars = s.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                return visitor.visit_char(c);
            }
        }
        self.or_array(visitor, |b, v| b.deserialize_char(v))
    }

    #[inline]
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if let Slot::Str(_) = self.v.slot() {
            // One UTF-8 check: a string of the input borrows, one of the graph's text
            // is copied by the visitor.
            if let Some(s) = self.v.as_borrowed_str() {
                return visitor.visit_borrowed_str(s);
            }
            return match self.v.as_str() {
                Some(s) => visitor.visit_str(s),
                None => Err(self.invalid(&visitor)),
            };
        }
        match self.v.node() {
            Some(Node::Str(Cow::Borrowed(s))) => visitor.visit_borrowed_str(s),
            Some(Node::Str(Cow::Owned(s))) => visitor.visit_str(s),
            Some(Node::StrCodepoints(_)) => Err(surrogates()),
            Some(Node::Emulated(e)) => match emulated_text(e) {
                Some(s) => visitor.visit_string(s),
                None => self.or_array(visitor, |b, v| b.deserialize_str(v)),
            },
            Some(Node::Global(g)) => visitor.visit_string(format!("{}.{}", g.module, g.name)),
            _ => match self.str_for_key().filter(|_| self.key) {
                Some(s) => visitor.visit_string(s),
                None => Err(self.invalid(&visitor)),
            },
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.v.node() {
            Some(Node::Bytes(Cow::Borrowed(b)) | Node::ByteArray(Cow::Borrowed(b))) => {
                visitor.visit_borrowed_bytes(b)
            }
            Some(Node::Bytes(b) | Node::ByteArray(b)) => visitor.visit_bytes(b),
            Some(Node::List(x) | Node::Tuple(x)) => {
                let items = self.v.graph().items(*x);
                self.visit_seq_from(SeqSource::Slots(items), visitor, false)
            }
            _ => self.or_array(visitor, |b, v| b.deserialize_bytes(v)),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_bytes(visitor)
    }

    #[inline]
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.v.is_none() {
            visitor.visit_none()
        } else if let Some(Node::Emulated(e)) = self.v.node() {
            // A NaT datetime64 is None.
            match **e {
                Emulated::NpScalar(_) | Emulated::NdArray(_) => match Block::of(self.v, self.walk)?
                {
                    Some(b) => b.deserialize_option(visitor),
                    None => visitor.visit_some(self),
                },
                _ => visitor.visit_some(self),
            }
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.v.is_none() {
            visitor.visit_unit()
        } else {
            self.or_array(visitor, |b, v| b.deserialize_unit(v))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        if name == crate::array::TENSOR_TOKEN {
            return super::tensor::deserialize_tensor(self, visitor);
        }
        let Some(m) = Magic::parse(name) else {
            // numpy values (not tensors: their storage stays unread for a `Tensor`
            // inside the newtype).
            if let Some(Node::Emulated(e)) = self.v.node() {
                if let Emulated::NdArray(_) | Emulated::NpScalar(_) | Emulated::ObjectArray { .. } =
                    **e
                {
                    if let Some(b) = Block::of(self.v, self.walk)? {
                        return b.deserialize_newtype_struct(name, visitor);
                    }
                }
            }
            // `half::f16` / `half::bf16` take a float.
            if let ("f16" | "bf16", Some(f)) = (name, self.float()) {
                return visitor.visit_f64(f);
            }
            return visitor.visit_newtype_struct(self);
        };
        let inst = Instance::of(self.v);
        if let Some(expected) = m.qualified_class(None) {
            match inst {
                Some(i) if i.is(m.module, m.class.unwrap_or_default()) => {}
                _ => return Err(class_mismatch(&expected, self.v)),
            }
        }
        let Some(inst) = inst else {
            return visitor.visit_newtype_struct(self);
        };
        let inner = if m.args {
            inst.args.first().copied()
        } else {
            inst.obj.state
        };
        let label = if m.args { "[0]" } else { ".__state__" };
        let inner = inner.unwrap_or(Packed::NONE);
        // On the path while its argument or state is walked (a self-reference is a cycle).
        let _guard = self.walk.descend(self.v)?;
        let child = self.child(inner)?;
        let at = child.v;
        visitor
            .visit_newtype_struct(child)
            .map_err(|e| locate(at, e).in_path(label))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.seq_source() {
            Some(src) => self.visit_seq_from(src, visitor, false),
            // A frame's state is a dict: it has no seq source, so lists pay nothing here.
            #[cfg(feature = "pandas")]
            None if self.is_frame() => {
                let p = self.pandas().expect("checked");
                self.frame(p?, visitor, |d, v| d.deserialize_seq(v))
            }
            None => self.or_array(visitor, |b, v| b.deserialize_seq(v)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value> {
        match self.seq_source() {
            Some(src) => self.visit_seq_from(src, visitor, true),
            #[cfg(feature = "pandas")]
            None if self.is_frame() => {
                let p = self.pandas().expect("checked");
                self.frame(p?, visitor, |d, v| d.deserialize_tuple(len, v))
            }
            None => self.or_array(visitor, |b, v| b.deserialize_tuple(len, v)),
        }
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.tuple_from(Magic::parse(name), visitor, true)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        #[cfg(feature = "pandas")]
        if let Some(p) = self.pandas() {
            return self.frame(p?, visitor, |d, v| d.deserialize_map(v));
        }
        match self.map_pairs() {
            Some(pairs) => self.visit_map_from(Vec::new(), Some(pairs), visitor),
            None => {
                if let Some(inst) = Instance::of(self.v) {
                    if let Some(state) = inst.obj.state {
                        return Err(Error::new(
                            ErrorKind::Type,
                            format!(
                                "invalid type: the state of {} is {}, expected {}",
                                inst.class_name(),
                                describe(self.v.graph().value(state)),
                                &visitor as &dyn Expected
                            ),
                        ));
                    }
                    // An instance without state: an empty map.
                    return self.visit_map_from(Vec::new(), None, visitor);
                }
                self.or_array(visitor, |b, v| b.deserialize_map(v))
            }
        }
    }

    #[inline]
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        #[cfg(feature = "pandas")]
        if let Some(p) = self.pandas() {
            return self.frame(p?, visitor, |d, v| d.deserialize_struct(name, fields, v));
        }
        let magic = if name.contains('\0') {
            Magic::parse(name)
        } else {
            None
        };
        self.struct_from(name, magic, fields, visitor, true)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        super::enums::deserialize_enum(self, name, variants, visitor)
    }

    #[inline]
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if let Slot::Str(_) = self.v.slot() {
            return self.deserialize_str(visitor);
        }
        match self.v.node() {
            Some(Node::Str(Cow::Borrowed(s))) => visitor.visit_borrowed_str(s),
            Some(Node::Str(Cow::Owned(s))) => visitor.visit_str(s),
            _ => match self.v.slot() {
                Slot::Int(i) if i >= 0 => visitor.visit_u64(i as u64),
                _ => self.deserialize_any(visitor),
            },
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        // Nothing to read: the graph is already built, so skipping costs nothing.
        visitor.visit_unit()
    }
}

impl<'de> IntoDeserializer<'de, Error> for Deser<'_, '_, 'de> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}
