//! The memo: PUT/MEMOIZE store a value under an index, GET reads it back. Dense indices
//! (what picklers write) live in a vector; a sparse index (LONG_BINPUT 4294967295) goes
//! to a map, so a hostile index never allocates more than in proportion to the entries
//! really stored.

use crate::error::{Error, ErrorKind, Result};
use crate::value::{NodeId, Slot, StrRef};
use std::collections::HashMap;

/// A memo entry packed into 8 bytes (a [`Slot`] takes 16): what picklers memoize is
/// nodes and strings, whose payloads fit beside a 3-bit tag, so the dense vector costs
/// half as much memory (and half the page faults, the dominant cost of big loads). The
/// rare value that does not fit (a float, an int beyond 61 bits, an owned string of
/// 512 MiB or more) is stored in a side vector and the entry holds its index.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Packed(u64);

const TAG_NODE: u64 = 0;
const TAG_BORROWED_STR: u64 = 1;
const TAG_OWNED_STR: u64 = 2;
const TAG_NONE: u64 = 3;
const TAG_BOOL: u64 = 4;
const TAG_INT: u64 = 5;
const TAG_SPILL: u64 = 7;

/// An unused dense entry: a spill index no memo can reach.
const EMPTY: Packed = Packed(u64::MAX);

impl Packed {
    /// Packs `slot`, or `None` if it must be spilled.
    #[inline(always)]
    fn pack(slot: Slot) -> Option<Packed> {
        Some(Packed(match slot {
            Slot::Node(id) => ((id.0 as u64) << 3) | TAG_NODE,
            Slot::Str(r) if r.len == StrRef::BORROWED => ((r.start as u64) << 3) | TAG_BORROWED_STR,
            Slot::Str(r) if r.len < 1 << 29 => {
                ((r.start as u64) << 32) | ((r.len as u64) << 3) | TAG_OWNED_STR
            }
            Slot::None => TAG_NONE,
            Slot::Bool(b) => ((b as u64) << 3) | TAG_BOOL,
            Slot::Int(i) if (i << 3) >> 3 == i => ((i as u64) << 3) | TAG_INT,
            _ => return None,
        }))
    }

    /// The slot, or `Err(index)` of a spilled one.
    #[inline(always)]
    fn unpack(self) -> std::result::Result<Slot, usize> {
        let v = self.0;
        Ok(match v & 7 {
            TAG_NODE => Slot::Node(NodeId((v >> 3) as u32)),
            TAG_BORROWED_STR => Slot::Str(StrRef {
                start: (v >> 3) as u32,
                len: StrRef::BORROWED,
            }),
            TAG_OWNED_STR => Slot::Str(StrRef {
                start: (v >> 32) as u32,
                len: ((v >> 3) as u32) & ((1 << 29) - 1),
            }),
            TAG_NONE => Slot::None,
            TAG_BOOL => Slot::Bool(v >> 3 != 0),
            TAG_INT => Slot::Int((v as i64) >> 3),
            _ => return Err((v >> 3) as usize),
        })
    }
}

pub(crate) struct Memo {
    dense: Vec<Packed>,
    sparse: HashMap<u64, Slot>,
    /// Values of dense entries that do not pack (a spilled entry holds an index here).
    spill: Vec<Slot>,
    len: usize,
    max: usize,
}

impl Memo {
    pub(crate) fn new(max: usize) -> Self {
        Memo {
            dense: Vec::new(),
            sparse: HashMap::new(),
            spill: Vec::new(),
            len: 0,
            max,
        }
    }

    /// The number of entries stored (MEMOIZE's next index).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// `value` packed for the dense vector at `i`, spilling it if it does not pack
    /// (reusing the spill entry `i` already has, so rewriting one index many times does
    /// not grow the spill vector).
    #[inline(always)]
    fn packed(&mut self, i: usize, value: Slot) -> Packed {
        if let Some(p) = Packed::pack(value) {
            return p;
        }
        self.spill_value(i, value)
    }

    #[cold]
    #[inline(never)]
    fn spill_value(&mut self, i: usize, value: Slot) -> Packed {
        if let Some(Err(k)) = self
            .dense
            .get(i)
            .filter(|p| **p != EMPTY)
            .map(|p| p.unpack())
        {
            self.spill[k] = value;
            return Packed(((k as u64) << 3) | TAG_SPILL);
        }
        self.spill.push(value);
        Packed((((self.spill.len() - 1) as u64) << 3) | TAG_SPILL)
    }

    #[inline(always)]
    pub(crate) fn put(&mut self, index: u64, value: Slot) -> Result<()> {
        let i = index as usize;
        if i == self.dense.len() && (i as u64) == index {
            // The common case: picklers number the memo 0, 1, 2, ...
            let p = self.packed(i, value);
            self.dense.push(p);
            self.len += 1;
        } else if (i as u64) == index && i < self.dense.len() {
            let p = self.packed(i, value);
            if std::mem::replace(&mut self.dense[i], p) == EMPTY {
                self.len += 1;
            }
        } else if (i as u64) == index && i <= self.len * 2 + 4096 {
            // Grow the dense part in proportion to the entries really stored, not to its
            // own length (which indices leaping ahead would double with every PUT: 20
            // LONG_BINPUTs asked for 64 GiB): it stays under 2 × entries + 4097 slots.
            self.dense.resize(i + 1, EMPTY);
            let p = self.packed(i, value);
            self.dense[i] = p;
            self.len += 1;
        } else if self.sparse.insert(index, value).is_none() {
            self.len += 1;
        }
        if self.len > self.max {
            return Err(Error::new(
                ErrorKind::Limit,
                format!(
                    "the memo holds more than {} entries (Limits::max_memo)",
                    self.max
                ),
            ));
        }
        Ok(())
    }

    #[inline(always)]
    pub(crate) fn get(&self, index: u64) -> Result<Slot> {
        if let Some(p) = self.dense.get(index as usize) {
            if *p != EMPTY && index <= usize::MAX as u64 {
                return match p.unpack() {
                    Ok(s) => Ok(s),
                    Err(k) => Ok(self.spill[k]),
                };
            }
        }
        self.get_slow(index)
    }

    #[cold]
    #[inline(never)]
    fn get_slow(&self, index: u64) -> Result<Slot> {
        self.sparse.get(&index).copied().ok_or_else(|| {
            Error::new(
                ErrorKind::Memo,
                format!("Memo value not found at index {index}"),
            )
        })
    }

    /// Reserves room for about `n` dense entries.
    pub(crate) fn reserve(&mut self, n: usize) {
        self.dense.reserve(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_slot_round_trips() {
        let owned = |start, len| Slot::Str(StrRef { start, len });
        let slots = [
            Slot::None,
            Slot::Bool(false),
            Slot::Bool(true),
            Slot::Int(0),
            Slot::Int(-1),
            Slot::Int((1 << 60) - 1),
            Slot::Int(-(1 << 60)),
            Slot::Int(1 << 60),
            Slot::Int(-(1 << 60) - 1),
            Slot::Int(i64::MAX),
            Slot::Int(i64::MIN),
            Slot::Float(0.0),
            Slot::Float(-0.0),
            Slot::Float(f64::INFINITY),
            Slot::Float(1.5e300),
            Slot::Node(NodeId(0)),
            Slot::Node(NodeId(u32::MAX - 1)),
            Slot::Str(StrRef {
                start: u32::MAX,
                len: StrRef::BORROWED,
            }),
            owned(u32::MAX, 0),
            owned(7, (1 << 29) - 1),
            owned(7, 1 << 29),
            owned(0, u32::MAX - 1),
        ];
        let mut memo = Memo::new(1 << 20);
        for (i, s) in slots.iter().enumerate() {
            memo.put(i as u64, *s).unwrap();
        }
        // Far and rewritten indices too.
        memo.put(1 << 40, Slot::Float(2.5)).unwrap();
        for (i, s) in slots.iter().enumerate() {
            assert_eq!(memo.get(i as u64).unwrap(), *s, "entry {i}");
        }
        assert_eq!(memo.get(1 << 40).unwrap(), Slot::Float(2.5));
        // NaN: compare bits.
        memo.put(0, Slot::Float(f64::NAN)).unwrap();
        assert!(matches!(memo.get(0).unwrap(), Slot::Float(f) if f.is_nan()));
        assert_eq!(memo.len(), slots.len() + 1);
    }

    #[test]
    fn rewriting_a_spilled_entry_reuses_its_spill() {
        let mut memo = Memo::new(100);
        for k in 0..1000 {
            memo.put(3, Slot::Float(k as f64)).unwrap();
        }
        assert_eq!(memo.spill.len(), 1);
        assert_eq!(memo.get(3).unwrap(), Slot::Float(999.0));
        assert_eq!(memo.len(), 1);
        assert!(memo.get(0).is_err());
        memo.put(3, Slot::Int(5)).unwrap();
        assert_eq!(memo.get(3).unwrap(), Slot::Int(5));
    }
}
