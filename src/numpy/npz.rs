//! `.npz` archives (`np.savez`: stored members; `np.savez_compressed`: deflated): a zip
//! of `.npy` members, read as `np.load` reads them, into a graph whose root is a dict
//! from member name (without `.npy`) to array, in the archive's order. A member that is
//! not a `.npy` file is its bytes, as numpy's `NpzFile` returns it.

use super::npy::{looks_like_npy, Header};
use crate::array::Bytes;
use crate::error::{Error, Result};
use crate::torch::source::Source;
use crate::torch::zip::{Archive, InflateLimits};
use crate::value::{Emulated, Graph, Node, Packed, Slot};
use crate::Unpickler;
use std::borrow::Cow;

/// Reads the archive in `bytes`. Stored members are slices of `bytes` (zero-copy over a
/// memory map); deflated ones are inflated under `limits`. The pickles of object arrays
/// are loaded by unpicklers from `unpickler`, all into the one graph.
pub(crate) fn load(
    bytes: Bytes,
    limits: InflateLimits,
    unpickler: &dyn Fn() -> Unpickler<'static>,
) -> Result<Graph<'static>> {
    let archive = Archive::open(&Source::Mem(bytes))?;
    let mut graph = Graph::new();
    let mut pairs = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let entry = archive.entry_at(i)?;
        let name = entry.name.clone();
        let in_member = |e: Error| Error::new(e.kind(), format!("npz member {name}: {e}"));
        let data = archive.read(&entry, limits).map_err(in_member)?;
        let key = name.strip_suffix(".npy").unwrap_or(&name).to_string();
        let key = graph.add(Node::Str(Cow::Owned(key)));
        let value = member(&mut graph, data, unpickler).map_err(in_member)?;
        pairs.push((Packed::node(key), value));
    }
    let dict = graph.new_pairs(&pairs);
    let root = graph.add(Node::Dict(dict));
    graph.set_root(Slot::Node(root));
    Ok(graph)
}

fn member(
    graph: &mut Graph<'static>,
    data: Bytes,
    unpickler: &dyn Fn() -> Unpickler<'static>,
) -> Result<Packed> {
    if !looks_like_npy(&data) {
        let id = graph.add(Node::Bytes(Cow::Owned(data.to_vec())));
        return Ok(Packed::node(id));
    }
    let header = Header::parse(&data)?;
    if header.has_object() {
        let pickle = &data[header.data_offset..];
        let slot = unpickler()
            .load_reader_into(pickle, graph)
            .map_err(|e| e.within("the member's pickle"))?;
        return Ok(graph.pack(slot));
    }
    let array = header.array(&data)?;
    let id = graph.add(Node::Emulated(Box::new(Emulated::NdArray(Box::new(array)))));
    Ok(Packed::node(id))
}
