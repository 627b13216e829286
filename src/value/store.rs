//! The graph's two stores of container contents: one vector of [`Packed`] values for the
//! elements of lists, tuples, sets and objects' arguments and items, one vector of pairs
//! for dicts. A container holds a [`Span`] of one of them, not a vector of its own, so a
//! load makes no allocation per container and dropping a graph frees a few buffers.
//!
//! Containers grow in batches (APPENDS, SETITEMS). A span at the end of its store grows
//! in place; one that is not moves to the end with room to double, so filling a list in
//! batches while other containers are built between them stays linear. What a move
//! leaves behind is garbage, at most about twice what is live.

use super::{Graph, Packed};
use std::marker::PhantomData;

/// Where a container's contents lie in its graph's store: [`Items`] (elements) or
/// [`Pairs`] (dict pairs). Read them with [`Graph::items`] and [`Graph::pairs`] (or walk
/// the container through [`Value`](super::Value)).
pub struct Span<T> {
    pub(crate) start: u32,
    pub(crate) len: u32,
    pub(crate) cap: u32,
    _t: PhantomData<fn() -> T>,
}

/// The elements of a list, tuple, set or frozenset (or an object's arguments or items).
pub type Items = Span<Packed>;

/// The key/value pairs of a dict (or an object's SETITEMS pairs).
pub type Pairs = Span<(Packed, Packed)>;

impl<T> Span<T> {
    /// No contents.
    pub const EMPTY: Span<T> = Span {
        start: 0,
        len: 0,
        cap: 0,
        _t: PhantomData,
    };

    /// How many elements (or pairs).
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// `true` when there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn range(&self) -> std::ops::Range<usize> {
        let start = self.start as usize;
        start..start + self.len as usize
    }
}

// Derives would demand `T: Clone` etc.; a span is plain indices whatever `T` is.
impl<T> Clone for Span<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Span<T> {}
impl<T> PartialEq for Span<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.start, self.len, self.cap) == (other.start, other.len, other.cap)
    }
}
impl<T> Eq for Span<T> {}
impl<T> Default for Span<T> {
    fn default() -> Self {
        Span::EMPTY
    }
}
impl<T> std::fmt::Debug for Span<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Span({}..+{})", self.start, self.len)
    }
}

/// A store would hold more than `u32::MAX` elements (spans index it with `u32`s: 12
/// bytes a span, so an object is 64 bytes).
#[derive(Debug)]
pub(crate) struct TooLong;

/// The most elements a store holds.
const MAX_STORE: usize = u32::MAX as usize;

/// Appends `src` to the contents `span` describes in `store`.
#[inline]
pub(crate) fn append<T: Copy + Default>(
    store: &mut Vec<T>,
    span: &mut Span<T>,
    src: impl ExactSizeIterator<Item = T>,
) -> Result<(), TooLong> {
    let n = src.len();
    if n == 0 {
        return Ok(());
    }
    let len = span.len as usize;
    let new_len = len
        .checked_add(n)
        .filter(|&l| l <= MAX_STORE)
        .ok_or(TooLong)?;
    let start = span.start as usize;
    if len == 0 || start + span.cap as usize == store.len() {
        // Empty, or the last span of the store: grow at the end.
        let start = if len == 0 { store.len() } else { start };
        if start + new_len > MAX_STORE {
            return Err(TooLong);
        }
        store.truncate(start + len);
        store.extend(src);
        *span = Span {
            start: start as u32,
            len: new_len as u32,
            cap: new_len as u32,
            _t: PhantomData,
        };
    } else if new_len <= span.cap as usize {
        // Room left by an earlier move.
        for (slot, v) in store[start + len..start + new_len].iter_mut().zip(src) {
            *slot = v;
        }
        span.len = new_len as u32;
    } else {
        // Move to the end with room to double.
        let cap = new_len.max(len.saturating_mul(2)).min(MAX_STORE);
        let at = store.len();
        if at + cap > MAX_STORE {
            return Err(TooLong);
        }
        store.extend_from_within(start..start + len);
        store.extend(src);
        store.resize(at + cap, T::default());
        *span = Span {
            start: at as u32,
            len: new_len as u32,
            cap: cap as u32,
            _t: PhantomData,
        };
    }
    Ok(())
}

impl<'de> Graph<'de> {
    /// The elements `span` refers to (empty for a span of another graph that lies past
    /// this one's store).
    ///
    /// ```
    /// use serde_pickle_vm::{Node, Slot};
    /// // [1, 2]
    /// let g = serde_pickle_vm::load_slice(b"\x80\x04]\x94(K\x01K\x02e.").unwrap();
    /// let Some(Node::List(span)) = g.root().node() else { panic!() };
    /// let items: Vec<Slot> = g.items(*span).iter().map(|p| g.slot(*p)).collect();
    /// assert_eq!(items, [Slot::Int(1), Slot::Int(2)]);
    /// ```
    #[inline]
    pub fn items(&self, span: Items) -> &[Packed] {
        self.items.get(span.range()).unwrap_or(&[])
    }

    /// The pairs `span` refers to (see [`items`](Self::items)).
    #[inline]
    pub fn pairs(&self, span: Pairs) -> &[(Packed, Packed)] {
        self.pairs.get(span.range()).unwrap_or(&[])
    }

    /// Stores `items` as the elements of a new container (for graphs built by hand, see
    /// [`Graph::add`]). A store holds at most `u32::MAX` elements in all; past that the
    /// span returned is empty.
    pub fn new_items(&mut self, items: &[Packed]) -> Items {
        // The VM reports a full store as an error; here the span stays empty.
        self.try_items(items.iter().copied()).unwrap_or_default()
    }

    /// Stores `pairs` as the contents of a new dict (see [`new_items`](Self::new_items)).
    pub fn new_pairs(&mut self, pairs: &[(Packed, Packed)]) -> Pairs {
        self.try_pairs(pairs.iter().copied()).unwrap_or_default()
    }

    /// A new span holding `src`, or `Err` if the store would pass `u32::MAX` elements.
    pub(crate) fn try_items(
        &mut self,
        src: impl ExactSizeIterator<Item = Packed>,
    ) -> Result<Items, TooLong> {
        let mut span = Items::EMPTY;
        append(&mut self.items, &mut span, src)?;
        Ok(span)
    }

    /// A new span holding the pairs of `src` (see [`try_items`](Self::try_items)).
    pub(crate) fn try_pairs(
        &mut self,
        src: impl ExactSizeIterator<Item = (Packed, Packed)>,
    ) -> Result<Pairs, TooLong> {
        let mut span = Pairs::EMPTY;
        append(&mut self.pairs, &mut span, src)?;
        Ok(span)
    }

    /// Appends `pairs` to the dict contents `span` (left as it is if the store would
    /// hold more than `u32::MAX` pairs).
    #[cfg(feature = "torch")]
    pub(crate) fn extend_pairs(&mut self, span: &mut Pairs, pairs: &[(Packed, Packed)]) {
        let _ = append(&mut self.pairs, span, pairs.iter().copied());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(i: i32) -> Packed {
        Packed::small_int(i)
    }

    #[test]
    fn interleaved_growth_moves_with_room_to_double() {
        let mut store: Vec<Packed> = Vec::new();
        let (mut a, mut b) = (Items::EMPTY, Items::EMPTY);
        let mut want_a = Vec::new();
        for batch in 0..100 {
            let src: Vec<Packed> = (0..10).map(|i| p(batch * 10 + i)).collect();
            append(&mut store, &mut a, src.iter().copied()).unwrap();
            want_a.extend_from_slice(&src);
            append(&mut store, &mut b, [p(-batch)].into_iter()).unwrap();
        }
        assert_eq!(&store[a.range()], &want_a[..]);
        let want_b: Vec<Packed> = (0..100).map(|i| p(-i)).collect();
        assert_eq!(&store[b.range()], &want_b[..]);
        // Linear: the store holds the live 1100 elements plus garbage of the same order.
        assert!(store.len() < 5 * 1100, "{}", store.len());
    }

    #[test]
    fn a_span_at_the_end_grows_in_place() {
        let mut store: Vec<Packed> = vec![p(0); 3];
        let mut a = Items::EMPTY;
        append(&mut store, &mut a, [p(1), p(2)].into_iter()).unwrap();
        append(&mut store, &mut a, [p(3)].into_iter()).unwrap();
        assert_eq!(a.start, 3);
        assert_eq!(store.len(), 6);
        assert_eq!(&store[a.range()], &[p(1), p(2), p(3)]);
        append(&mut store, &mut a, std::iter::empty()).unwrap();
        assert_eq!(a.len(), 3);
    }
}
