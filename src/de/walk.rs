//! The state one serde walk over a graph shares: the expansion budget, the depth and the
//! set of containers on the current path (for cycle detection). Limits live here, next to
//! the recursion they guard; nothing here knows about serde's traits.

use crate::error::{Error, Result};
use crate::options::Limits;
use crate::value::{Graph, Slot, Value};
use std::cell::{Cell, RefCell};

pub(crate) struct Walk {
    remaining: Cell<u64>,
    budget: u64,
    /// Bytes of strings, bytes, big ints and global names left to deliver.
    bytes_left: Cell<u64>,
    bytes_budget: u64,
    max_depth: usize,
    node_count: usize,
    /// The containers whose children are being visited, outermost first.
    path: RefCell<Vec<u32>>,
    /// One bit per node, mirroring `path`; allocated only once the path gets long, so
    /// that a walk over a small part of a big graph (`from_value`) costs nothing to set up.
    on_path: RefCell<Vec<u64>>,
}

/// Path length up to which membership is a linear scan of `path`.
const SCAN: usize = 24;

/// The path entry of a [`Walk::nest`] level (no node has this id: ids index the graph's
/// nodes, and the last one, `u32::MAX`, stands for values that are not nodes).
const NEST: u32 = u32::MAX - 1;

impl Walk {
    pub(crate) fn new(graph: &Graph<'_>, limits: &Limits) -> Self {
        let n = graph.node_count();
        let budget = limits
            .max_expansion
            .unwrap_or_else(|| (n as u64).saturating_mul(10).saturating_add(1_000_000));
        let bytes_budget = limits
            .max_expanded_bytes
            .unwrap_or_else(|| crate::options::default_expanded_bytes(graph.input_len()));
        Walk {
            remaining: Cell::new(budget),
            budget,
            bytes_left: Cell::new(bytes_budget),
            bytes_budget,
            max_depth: limits.max_depth,
            node_count: n,
            path: RefCell::new(Vec::new()),
            on_path: RefCell::new(Vec::new()),
        }
    }

    /// Counts one more visit of a value against the expansion budgets: a node against
    /// the node budget, the text a scalar carries against the byte budget.
    #[inline]
    pub(crate) fn charge(&self, graph: &Graph<'_>, slot: Slot) -> Result<()> {
        if let Slot::Str(_) | Slot::Node(_) = slot {
            let bytes = graph.scalar_bytes(slot);
            let left = self.bytes_left.get();
            if bytes > left {
                return Err(Error::limit(format!(
                    "serde expansion limit reached: the walk would deliver more than {} bytes \
                     of strings and bytes (a shared string counts each time it is reached); \
                     raise Limits::max_expanded_bytes to allow more",
                    self.bytes_budget
                )));
            }
            self.bytes_left.set(left - bytes);
        }
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

    /// Counts `bytes` of text delivered from outside the graph (a pandas frame's
    /// strings) against the byte budget.
    #[cfg(feature = "pandas")]
    pub(crate) fn charge_bytes(&self, bytes: u64) -> Result<()> {
        let left = self.bytes_left.get();
        if bytes > left {
            return Err(Error::limit(format!(
                "serde expansion limit reached: the walk would deliver more than {} bytes \
                 of strings and bytes (a category or index label counts each time it is \
                 reached); raise Limits::max_expanded_bytes to allow more",
                self.bytes_budget
            )));
        }
        self.bytes_left.set(left - bytes);
        Ok(())
    }

    /// Counts one visit of an array element that no byte of the input backs (zero-size
    /// items, overlapping views) against the node budget.
    #[inline]
    pub(crate) fn charge_visit(&self) -> Result<()> {
        let left = self.remaining.get();
        if left == 0 {
            return Err(Error::limit(format!(
                "serde expansion limit reached: the walk visited {} values (elements of \
                 zero-size array items count each); raise Limits::max_expansion to allow more",
                self.budget
            )));
        }
        self.remaining.set(left - 1);
        Ok(())
    }

    /// One more level of nesting that is not a node of the graph (a dimension of an
    /// array, a record): counted against the depth limit, not checked for cycles.
    #[inline]
    pub(crate) fn nest(&self) -> Result<Guard<'_>> {
        let mut path = self.path.borrow_mut();
        if path.len() >= self.max_depth {
            return Err(too_deep(self.max_depth));
        }
        path.push(NEST);
        Ok(Guard { walk: self })
    }

    /// Marks `v`'s node as being walked into (its children are about to be visited).
    /// Errors if it already is (a cycle) or if the nesting is too deep.
    #[inline]
    pub(crate) fn descend(&self, v: Value<'_, '_>) -> Result<Guard<'_>> {
        let id = match v.slot() {
            Slot::Node(id) => id.index() as u32,
            _ => u32::MAX,
        };
        let mut path = self.path.borrow_mut();
        if path.len() >= self.max_depth {
            return Err(too_deep(self.max_depth));
        }
        let mut bits = self.on_path.borrow_mut();
        if bits.is_empty() && path.len() < SCAN {
            if path.contains(&id) {
                return Err(cycle(v));
            }
        } else {
            if bits.is_empty() {
                bits.resize(self.node_count.div_ceil(64).max(1), 0);
                for &p in path.iter() {
                    set_bit(&mut bits, p, true);
                }
            }
            if get_bit(&bits, id) {
                return Err(cycle(v));
            }
            set_bit(&mut bits, id, true);
        }
        path.push(id);
        Ok(Guard { walk: self })
    }
}

fn get_bit(bits: &[u64], id: u32) -> bool {
    bits.get(id as usize / 64)
        .is_some_and(|w| w & (1 << (id % 64)) != 0)
}

fn set_bit(bits: &mut [u64], id: u32, on: bool) {
    if let Some(w) = bits.get_mut(id as usize / 64) {
        if on {
            *w |= 1 << (id % 64);
        } else {
            *w &= !(1 << (id % 64));
        }
    }
}

/// Undoes a [`Walk::descend`] when the children have been visited.
pub(crate) struct Guard<'a> {
    walk: &'a Walk,
}

impl Drop for Guard<'_> {
    #[inline]
    fn drop(&mut self) {
        let mut path = self.walk.path.borrow_mut();
        if let Some(id) = path.pop() {
            let mut bits = self.walk.on_path.borrow_mut();
            if !bits.is_empty() {
                set_bit(&mut bits, id, false);
            }
        }
    }
}

#[cold]
fn too_deep(max: usize) -> Error {
    Error::limit(format!(
        "maximum nesting depth exceeded: more than {max} nested containers; raise \
         Limits::max_depth to allow deeper values"
    ))
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

#[cfg(test)]
mod tests {
    use crate::value::{Graph, Node, NodeId, Packed, Slot};

    /// `depth` nested lists (node `i` holds node `i + 1`); the innermost holds `inner`.
    fn chain(depth: u32, inner: &[Packed]) -> Graph<'static> {
        let mut g = Graph::empty();
        for i in 0..depth {
            let items = g.new_items(&[Packed::node(NodeId(i + 1))]);
            g.add(Node::List(items));
        }
        let items = g.new_items(inner);
        g.add(Node::List(items));
        g.set_root(Slot::Node(NodeId(0)));
        g
    }

    #[test]
    fn cycles_are_found_past_the_linear_scan() {
        // 40 levels deep, the innermost list holds the outermost again.
        let graph = chain(40, &[Packed::node(NodeId(0))]);
        let err = crate::from_graph::<serde_json::Value>(&graph).unwrap_err();
        assert!(err.message().starts_with("cycle: this list"), "{err}");
        assert_eq!(err.path().unwrap().len(), 3 * 41);
    }

    #[test]
    fn shared_nodes_deep_down_are_not_cycles() {
        // 40 levels, then [s, s, s] with s = [1]: shared, not cyclic.
        let s = NodeId(41);
        let graph = chain(40, &[Packed::node(s); 3]);
        let mut graph = graph;
        let one = graph.new_items(&[Packed::small_int(1)]);
        assert_eq!(graph.add(Node::List(one)), s);
        let v: serde_json::Value = crate::from_graph(&graph).unwrap();
        let mut inner = &v;
        for _ in 0..40 {
            inner = &inner[0];
        }
        assert_eq!(inner, &serde_json::json!([[1], [1], [1]]));
    }
}
