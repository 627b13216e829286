//! [`Packed`]: a [`Slot`] in 8 bytes, as containers, the VM stack and the memo store it.
//!
//! The encoding boxes everything into the NaN space of an `f64`: a float is its own bits,
//! and every other value is a tagged payload of 48 bits in the bit patterns whose top 16
//! bits are `0xFFF9..=0xFFFF`, negative quiet NaNs with a nonzero payload that no
//! arithmetic produces (x86's default NaN is `0xFFF8_0000_0000_0000`, outside the range).
//!
//! | top 16 bits | value | payload (low 48 bits) |
//! |---|---|---|
//! | below `0xFFF9` | a float | (its bits) |
//! | `0xFFF9` | None / False / True | 0 / 1 / 2 |
//! | `0xFFFA` | an int of 48 bits | the int, two's complement |
//! | `0xFFFB` | a float in the tag range | index in the graph's wide table |
//! | `0xFFFC` | an int beyond 48 bits | index in the graph's wide table |
//! | `0xFFFD` | a str in the input | start (32 bits), length (16 bits) |
//! | `0xFFFE` | a str in the graph's text | start (32 bits), length (16 bits) |
//! | `0xFFFF` | a node | the node id |
//!
//! The two wide kinds are why unpacking needs the graph ([`Graph::slot`]); everything
//! else converts on its own.
//!
//! One bit pattern of the tag range is no value at all (`0xFFF9_FFFF_FFFF_FFFF`, a
//! "constant" beyond True). A `Packed` stores its bits XORed with that pattern in a
//! `NonZeroU64`, so that `Option<Packed>` is 8 bytes too (the memo's empty entries, an
//! object's absent state).

use super::{Graph, NodeId, Slot, StrRef};
use std::num::NonZeroU64;

/// A value of the graph in 8 bytes: what lists, tuples, dicts, sets and objects hold.
/// [`Slot`] is its unpacked form; [`Graph::slot`] unpacks, [`Graph::pack`] (or
/// [`Packed::new`] for values that need no graph) packs.
///
/// Half the size of a `Slot`, so the containers of a big pickle take half the memory:
/// where first touching a page of memory costs more than filling it (virtual machines
/// above all), that is most of the time a load takes. `Option<Packed>` is 8 bytes too.
///
/// ```
/// use serde_pickle_vm::{Packed, Slot};
/// let p = Packed::new(Slot::Int(-7)).unwrap();
/// let graph = serde_pickle_vm::load_slice(b"\x80\x04N.").unwrap();
/// assert_eq!(graph.slot(p), Slot::Int(-7));
/// assert_eq!(std::mem::size_of::<Packed>(), 8);
/// // An int beyond 48 bits needs the graph's wide table.
/// assert_eq!(Packed::new(Slot::Int(1 << 50)), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Packed(NonZeroU64);

const SHIFT: u32 = 48;
const PAYLOAD: u64 = (1 << SHIFT) - 1;
const TAG_CONST: u64 = 0xFFF9;
const TAG_INT: u64 = 0xFFFA;
const TAG_WIDE_FLOAT: u64 = 0xFFFB;
const TAG_WIDE_INT: u64 = 0xFFFC;
const TAG_INPUT_STR: u64 = 0xFFFD;
const TAG_TEXT_STR: u64 = 0xFFFE;
const TAG_NODE: u64 = 0xFFFF;

/// The bit pattern no value has: what a stored `Packed` is XORed with.
const HOLE: u64 = (TAG_CONST << SHIFT) | PAYLOAD;

/// Longest string (in bytes) a [`Packed`] (and so a [`StrRef`]) holds inline.
pub(crate) const MAX_INLINE_STR: usize = u16::MAX as usize;

impl Packed {
    /// Python `None`.
    pub const NONE: Packed = Packed::from_bits(TAG_CONST << SHIFT);
    /// Python `False`.
    pub const FALSE: Packed = Packed::from_bits((TAG_CONST << SHIFT) | 1);
    /// Python `True`.
    pub const TRUE: Packed = Packed::from_bits((TAG_CONST << SHIFT) | 2);

    /// The value of bits `bits` (never [`HOLE`], which no constructor makes).
    #[inline(always)]
    const fn from_bits(bits: u64) -> Packed {
        match NonZeroU64::new(bits ^ HOLE) {
            Some(n) => Packed(n),
            // Unreachable (no constructor makes HOLE); any value rather than a panic.
            None => Packed(NonZeroU64::MIN),
        }
    }

    /// The bits of the value.
    #[inline(always)]
    const fn bits(self) -> u64 {
        self.0.get() ^ HOLE
    }

    /// `slot` packed, or `None` when it needs the graph's wide table (an int beyond
    /// 48 bits, a float whose bits lie in the tag range): use [`Graph::pack`] for those.
    #[inline]
    pub fn new(slot: Slot) -> Option<Packed> {
        match slot {
            Slot::None => Some(Packed::NONE),
            Slot::Bool(b) => Some(Packed::bool(b)),
            Slot::Int(i) => Packed::int(i),
            Slot::Float(f) => Packed::float(f),
            Slot::Str(r) => Some(Packed::str(r)),
            Slot::Node(id) => Some(Packed::node(id)),
        }
    }

    /// A bool.
    #[inline(always)]
    pub const fn bool(b: bool) -> Packed {
        Packed::from_bits((TAG_CONST << SHIFT) | (1 + b as u64))
    }

    /// A reference to node `id`.
    #[inline(always)]
    pub const fn node(id: NodeId) -> Packed {
        Packed::from_bits((TAG_NODE << SHIFT) | id.0 as u64)
    }

    /// An int, if it fits in 48 bits.
    #[inline(always)]
    pub const fn int(i: i64) -> Option<Packed> {
        if (i << 16) >> 16 == i {
            Some(Packed::int48(i))
        } else {
            None
        }
    }

    /// An int of 32 bits (always fits).
    #[inline(always)]
    pub const fn small_int(i: i32) -> Packed {
        Packed::int48(i as i64)
    }

    #[inline(always)]
    const fn int48(i: i64) -> Packed {
        Packed::from_bits((TAG_INT << SHIFT) | (i as u64 & PAYLOAD))
    }

    /// A float, unless its bits lie in the tag range (a NaN with a payload no
    /// arithmetic produces).
    #[inline(always)]
    pub const fn float(f: f64) -> Option<Packed> {
        let bits = f.to_bits();
        if bits >> SHIFT < TAG_CONST {
            Some(Packed::from_bits(bits))
        } else {
            None
        }
    }

    #[inline(always)]
    pub(crate) const fn str(r: StrRef) -> Packed {
        let tag = if r.input { TAG_INPUT_STR } else { TAG_TEXT_STR };
        Packed::from_bits((tag << SHIFT) | ((r.start as u64) << 16) | r.len as u64)
    }

    #[inline(always)]
    pub(crate) const fn wide_int(index: usize) -> Packed {
        Packed::from_bits((TAG_WIDE_INT << SHIFT) | (index as u64 & PAYLOAD))
    }

    #[inline(always)]
    pub(crate) const fn wide_float(index: usize) -> Packed {
        Packed::from_bits((TAG_WIDE_FLOAT << SHIFT) | (index as u64 & PAYLOAD))
    }

    /// The node id, if this is a reference to a node.
    #[inline(always)]
    pub const fn node_id(self) -> Option<NodeId> {
        if self.bits() >> SHIFT == TAG_NODE {
            Some(NodeId(self.bits() as u32))
        } else {
            None
        }
    }

    /// `true` for `None`.
    #[inline(always)]
    pub const fn is_none(self) -> bool {
        self.0.get() == Packed::NONE.0.get()
    }

    /// The slot, when unpacking needs no graph (`Err` with the wide table's index and
    /// whether it holds a float, otherwise).
    #[inline(always)]
    pub(crate) fn unpack(self) -> Result<Slot, (usize, bool)> {
        let v = self.bits();
        let payload = v & PAYLOAD;
        Ok(match v >> SHIFT {
            TAG_NODE => Slot::Node(NodeId(v as u32)),
            TAG_INT => Slot::Int(((v << 16) as i64) >> 16),
            TAG_INPUT_STR | TAG_TEXT_STR => Slot::Str(StrRef {
                start: (payload >> 16) as u32,
                len: payload as u16,
                input: v >> SHIFT == TAG_INPUT_STR,
            }),
            TAG_CONST => match payload {
                0 => Slot::None,
                1 => Slot::Bool(false),
                _ => Slot::Bool(true),
            },
            TAG_WIDE_INT => return Err((payload as usize, false)),
            TAG_WIDE_FLOAT => return Err((payload as usize, true)),
            _ => Slot::Float(f64::from_bits(v)),
        })
    }
}

/// `None`.
impl Default for Packed {
    fn default() -> Self {
        Packed::NONE
    }
}

impl std::fmt::Debug for Packed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.unpack() {
            Ok(s) => write!(f, "Packed({s:?})"),
            Err((i, true)) => write!(f, "Packed(wide float #{i})"),
            Err((i, false)) => write!(f, "Packed(wide int #{i})"),
        }
    }
}

impl<'de> Graph<'de> {
    /// Unpacks a value of this graph.
    ///
    /// ```
    /// use serde_pickle_vm::Slot;
    /// // [2**60, 1.5]
    /// let g = serde_pickle_vm::load_slice(b"\x80\x04]\x94(\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x10G?\xf8\x00\x00\x00\x00\x00\x00e.").unwrap();
    /// let items = g.root().seq().unwrap();
    /// assert_eq!(g.slot(items[0]), Slot::Int(1 << 60));
    /// assert_eq!(g.slot(items[1]), Slot::Float(1.5));
    /// ```
    #[inline(always)]
    pub fn slot(&self, p: Packed) -> Slot {
        match p.unpack() {
            Ok(s) => s,
            Err(w) => self.wide_slot(w),
        }
    }

    #[cold]
    #[inline(never)]
    fn wide_slot(&self, (index, float): (usize, bool)) -> Slot {
        // A packed value of another graph may point past the table: None, not a panic.
        match self.wide.get(index) {
            Some(&bits) if float => Slot::Float(f64::from_bits(bits)),
            Some(&bits) => Slot::Int(bits as i64),
            None => Slot::None,
        }
    }

    /// Packs a value for this graph, storing it in the graph's wide table when it does
    /// not fit in 8 bytes by itself.
    ///
    /// ```
    /// use serde_pickle_vm::Slot;
    /// let mut g = serde_pickle_vm::load_slice(b"\x80\x04N.").unwrap();
    /// let p = g.pack(Slot::Int(i64::MIN));
    /// assert_eq!(g.slot(p), Slot::Int(i64::MIN));
    /// ```
    #[inline(always)]
    pub fn pack(&mut self, slot: Slot) -> Packed {
        match Packed::new(slot) {
            Some(p) => p,
            None => self.pack_wide(slot),
        }
    }

    /// An int, packed.
    #[inline(always)]
    pub(crate) fn pack_int(&mut self, i: i64) -> Packed {
        match Packed::int(i) {
            Some(p) => p,
            // Not the cold path: in a list of random 64-bit ints most are wide.
            None => {
                self.wide.push(i as u64);
                Packed::wide_int(self.wide.len() - 1)
            }
        }
    }

    /// A float, packed.
    #[inline(always)]
    pub(crate) fn pack_float(&mut self, f: f64) -> Packed {
        match Packed::float(f) {
            Some(p) => p,
            None => self.pack_wide(Slot::Float(f)),
        }
    }

    #[cold]
    #[inline(never)]
    fn pack_wide(&mut self, slot: Slot) -> Packed {
        let index = self.wide.len();
        match slot {
            Slot::Int(i) => {
                self.wide.push(i as u64);
                Packed::wide_int(index)
            }
            Slot::Float(f) => {
                self.wide.push(f.to_bits());
                Packed::wide_float(index)
            }
            // Every other slot packs by itself.
            other => Packed::new(other).unwrap_or(Packed::NONE),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_slot_round_trips() {
        let mut g = Graph::new();
        let s = |start, len, input| Slot::Str(StrRef { start, len, input });
        let slots = [
            Slot::None,
            Slot::Bool(false),
            Slot::Bool(true),
            Slot::Int(0),
            Slot::Int(-1),
            Slot::Int((1 << 47) - 1),
            Slot::Int(-(1 << 47)),
            Slot::Int(1 << 47),
            Slot::Int(-(1 << 47) - 1),
            Slot::Int(i64::MAX),
            Slot::Int(i64::MIN),
            Slot::Float(0.0),
            Slot::Float(-0.0),
            Slot::Float(f64::INFINITY),
            Slot::Float(f64::NEG_INFINITY),
            Slot::Float(1.5e300),
            Slot::Float(f64::from_bits(0xFFF8_0000_0000_0000)),
            Slot::Float(f64::from_bits(0xFFF9_0000_0000_0000)),
            Slot::Float(f64::from_bits(0xFFFF_FFFF_FFFF_FFFF)),
            Slot::Node(NodeId(0)),
            Slot::Node(NodeId(u32::MAX)),
            s(0, 0, true),
            s(u32::MAX, u16::MAX, true),
            s(7, 3, false),
            s(u32::MAX, u16::MAX, false),
        ];
        let packed: Vec<Packed> = slots.iter().map(|s| g.pack(*s)).collect();
        for (s, p) in slots.iter().zip(&packed) {
            let back = g.slot(*p);
            match (s, back) {
                (Slot::Float(a), Slot::Float(b)) => assert_eq!(a.to_bits(), b.to_bits()),
                _ => assert_eq!(back, *s),
            }
        }
        // Only the wide ones went to the table.
        assert_eq!(g.wide.len(), 6);
        assert!(packed.iter().all(|p| p.bits() != HOLE));
        assert_eq!(std::mem::size_of::<Option<Packed>>(), 8);
        assert_eq!(Packed::new(Slot::Bool(true)), Some(Packed::TRUE));
        assert!(Packed::NONE.is_none());
        assert_eq!(Packed::node(NodeId(9)).node_id(), Some(NodeId(9)));
        assert_eq!(
            Packed::small_int(i32::MIN).unpack(),
            Ok(Slot::Int(i32::MIN as i64))
        );
        // A foreign wide index reads as None rather than panicking.
        assert_eq!(g.slot(Packed::wide_int(1000)), Slot::None);
    }
}
