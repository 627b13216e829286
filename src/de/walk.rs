//! The state one serde walk over a graph shares: the expansion budget, the depth and the
//! set of containers on the current path (for cycle detection). Limits live here, next to
//! the recursion they guard; nothing here knows about serde's traits.

use crate::error::{Error, Result};
use crate::options::Limits;
use crate::value::{Graph, Slot, Value};
use std::cell::Cell;

pub(crate) struct Walk {
    remaining: Cell<u64>,
    budget: u64,
    depth: Cell<usize>,
    max_depth: usize,
    /// One bit per node: set while the walk is inside that container's children.
    on_path: Box<[Cell<u64>]>,
}

impl Walk {
    pub(crate) fn new(graph: &Graph<'_>, limits: &Limits) -> Self {
        let n = graph.node_count();
        let budget = limits
            .max_expansion
            .unwrap_or_else(|| (n as u64).saturating_mul(10).saturating_add(1_000_000));
        Walk {
            remaining: Cell::new(budget),
            budget,
            depth: Cell::new(0),
            max_depth: limits.max_depth,
            on_path: (0..n.div_ceil(64)).map(|_| Cell::new(0)).collect(),
        }
    }

    /// Counts one more visit of a node against the expansion budget.
    #[inline]
    pub(crate) fn charge(&self, slot: Slot) -> Result<()> {
        if let Slot::Node(_) = slot {
            let left = self.remaining.get();
            if left == 0 {
                return Err(Error::limit(format!(
                    "serde expansion limit reached: the walk visited {} nodes (a shared node \
                     counts each time it is reached); raise Limits::max_expansion to allow more",
                    self.budget
                )));
            }
            self.remaining.set(left - 1);
        }
        Ok(())
    }

    /// Marks `slot`'s node as being walked into (its children are about to be visited).
    /// Errors if it already is (a cycle) or if the nesting is too deep.
    #[inline]
    pub(crate) fn descend(&self, v: Value<'_, '_>) -> Result<Guard<'_>> {
        let slot = v.slot();
        let depth = self.depth.get() + 1;
        if depth > self.max_depth {
            return Err(Error::limit(format!(
                "maximum nesting depth exceeded: more than {} nested containers; raise \
                 Limits::max_depth to allow deeper values",
                self.max_depth
            )));
        }
        let id = match slot {
            Slot::Node(id) => id.index(),
            _ => usize::MAX,
        };
        if let Some(word) = self.on_path.get(id / 64) {
            let bit = 1u64 << (id % 64);
            let w = word.get();
            if w & bit != 0 {
                return Err(cycle(v));
            }
            word.set(w | bit);
        }
        self.depth.set(depth);
        Ok(Guard { walk: self, id })
    }
}

/// Undoes a [`Walk::descend`] when the children have been visited.
pub(crate) struct Guard<'a> {
    walk: &'a Walk,
    id: usize,
}

impl Drop for Guard<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Some(word) = self.walk.on_path.get(self.id / 64) {
            word.set(word.get() & !(1u64 << (self.id % 64)));
        }
        self.walk.depth.set(self.walk.depth.get() - 1);
    }
}

#[cold]
fn cycle(v: Value<'_, '_>) -> Error {
    Error::new(
        crate::ErrorKind::Type,
        format!(
            "cycle: this {} contains itself; a cyclic value cannot be deserialized into a \
             tree (walk it with the graph's Value instead)",
            v.type_name()
        ),
    )
}
