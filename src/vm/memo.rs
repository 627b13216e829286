//! The memo: PUT/MEMOIZE store a value under an index, GET reads it back. Dense indices
//! (what picklers write) live in a vector; a sparse index (LONG_BINPUT 4294967295) goes
//! to a map, so a hostile index never allocates more than in proportion to the entries
//! really stored.

use crate::error::{Error, ErrorKind, Result};
use crate::value::{NodeId, Slot};
use std::collections::HashMap;

/// An unused dense entry. No node has this id: the VM stops before the arena reaches it.
/// (A sentinel rather than `Option<Slot>`: copying a plain 16-byte `Slot` out of the
/// vector compiles to two moves, which matters on GET-heavy streams.)
const EMPTY: Slot = Slot::Node(NodeId(u32::MAX));

#[inline(always)]
fn is_empty(s: &Slot) -> bool {
    matches!(s, Slot::Node(NodeId(u32::MAX)))
}

pub(crate) struct Memo {
    dense: Vec<Slot>,
    sparse: HashMap<u64, Slot>,
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
    pub(crate) fn put(&mut self, index: u64, value: Slot) -> Result<()> {
        let i = index as usize;
        if i == self.dense.len() && (i as u64) == index {
            // The common case: picklers number the memo 0, 1, 2, ...
            self.dense.push(value);
            self.len += 1;
        } else if (i as u64) == index && i < self.dense.len() {
            if is_empty(&std::mem::replace(&mut self.dense[i], value)) {
                self.len += 1;
            }
        } else if (i as u64) == index && i <= self.len * 2 + 4096 {
            // Grow the dense part in proportion to the entries really stored, not to its
            // own length (which indices leaping ahead would double with every PUT: 20
            // LONG_BINPUTs asked for 64 GiB): it stays under 2 × entries + 4097 slots.
            self.dense.resize(i + 1, EMPTY);
            self.dense[i] = value;
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
        if let Some(s) = self.dense.get(index as usize) {
            if !is_empty(s) && index <= usize::MAX as u64 {
                return Ok(*s);
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
