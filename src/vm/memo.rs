//! The memo: PUT/MEMOIZE store a value under an index, GET reads it back. Dense indices
//! (what picklers write) live in a vector; a sparse index (LONG_BINPUT 4294967295) goes
//! to a map, so a hostile index never allocates more than in proportion to the entries
//! really stored.
//!
//! Entries are [`Packed`] values (8 bytes): the VM's stack holds the same, so PUT and GET
//! copy one word.

use crate::error::{Error, ErrorKind, Result};
use crate::value::Packed;
use std::collections::HashMap;

pub(crate) struct Memo {
    /// `None` for an unused entry (8 bytes all the same: `Packed` has a niche).
    dense: Vec<Option<Packed>>,
    sparse: HashMap<u64, Packed>,
    len: usize,
    max: usize,
}

impl Memo {
    pub(crate) fn new(max: usize) -> Self {
        Memo {
            dense: Vec::new(),
            sparse: HashMap::new(),
            len: 0,
            max,
        }
    }

    /// The number of entries stored (MEMOIZE's next index).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline(always)]
    pub(crate) fn put(&mut self, index: u64, value: Packed) -> Result<()> {
        let i = index as usize;
        if i == self.dense.len() && (i as u64) == index {
            // The common case: picklers number the memo 0, 1, 2, ...
            self.dense.push(Some(value));
            self.len += 1;
        } else if (i as u64) == index && i < self.dense.len() {
            if self.dense[i].replace(value).is_none() {
                self.len += 1;
            }
        } else if (i as u64) == index && i <= self.len * 2 + 4096 {
            // Grow the dense part in proportion to the entries really stored, not to its
            // own length (which indices leaping ahead would double with every PUT: 20
            // LONG_BINPUTs asked for 64 GiB): it stays under 2 × entries + 4097 slots.
            self.dense.resize(i + 1, None);
            self.dense[i] = Some(value);
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
    pub(crate) fn get(&self, index: u64) -> Result<Packed> {
        if let Some(Some(p)) = self.dense.get(index as usize) {
            if index <= usize::MAX as u64 {
                return Ok(*p);
            }
        }
        self.get_slow(index)
    }

    #[cold]
    #[inline(never)]
    fn get_slow(&self, index: u64) -> Result<Packed> {
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
    use crate::value::{Graph, NodeId, Slot};

    #[test]
    fn dense_sparse_and_rewritten_entries() {
        let mut g = Graph::new();
        let values = [
            Packed::NONE,
            Packed::TRUE,
            Packed::small_int(-1),
            g.pack(Slot::Int(i64::MIN)),
            g.pack(Slot::Float(f64::from_bits(0xFFFF_0000_0000_0001))),
            Packed::node(NodeId::from_index(u32::MAX - 1)),
        ];
        let mut memo = Memo::new(1 << 20);
        for (i, p) in values.iter().enumerate() {
            memo.put(i as u64, *p).unwrap();
        }
        // A far index goes to the map; a gap inside the dense part stays empty.
        memo.put(1 << 40, Packed::FALSE).unwrap();
        memo.put(100, Packed::small_int(7)).unwrap();
        for (i, p) in values.iter().enumerate() {
            assert_eq!(memo.get(i as u64).unwrap(), *p, "entry {i}");
        }
        assert_eq!(memo.get(1 << 40).unwrap(), Packed::FALSE);
        assert_eq!(memo.get(100).unwrap(), Packed::small_int(7));
        let err = memo.get(50).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Memo);
        assert_eq!(memo.len(), values.len() + 2);
        // Rewriting an entry does not count it twice.
        memo.put(3, Packed::NONE).unwrap();
        assert_eq!(memo.get(3).unwrap(), Packed::NONE);
        assert_eq!(memo.len(), values.len() + 2);
        assert_eq!(g.slot(values[3]), Slot::Int(i64::MIN));
    }

    #[test]
    fn the_limit_counts_entries() {
        let mut memo = Memo::new(2);
        memo.put(0, Packed::NONE).unwrap();
        memo.put(0, Packed::NONE).unwrap();
        memo.put(1 << 50, Packed::NONE).unwrap();
        let err = memo.put(1, Packed::NONE).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Limit);
    }
}
