//! [`Checkpoint`]: a loaded torch file — its object graph with tensors in place — and the
//! ways in: a path (memory-mapped with the `mmap` feature), bytes, or a seekable reader.

use super::archive::{self, Format, LoadOptions};
use super::source::Source;
use crate::array::Bytes;
use crate::array::Tensor;
use crate::error::Result;
use crate::value::{Emulated, Graph, Node, NodeId, Slot, Value};
use std::collections::HashSet;
use std::io::{Read, Seek};
use std::path::Path;

/// A torch checkpoint: what `torch.load` returns, as an object graph in which every
/// tensor is an [`Emulated::Tensor`] viewing its storage. Opening reads the pickle and
/// the archive's directory only; tensor bytes are read (or mapped pages touched) when a
/// tensor's data is asked for.
///
/// ```
/// use serde_pickle_vm::torch::Checkpoint;
/// let ckpt = Checkpoint::open("fixtures/torch/views.pt").unwrap();
/// let base = ckpt.tensor("base").unwrap();
/// assert_eq!(base.shape(), &[4, 6]);
/// let t = ckpt.tensor("transposed").unwrap();
/// assert!(t.storage().same(base.storage()));
/// assert_eq!(t.to_vec::<f32>().unwrap()[..3], [0.0, 6.0, 12.0]);
/// ```
#[derive(Debug, Clone)]
pub struct Checkpoint {
    graph: Graph<'static>,
    format: Format,
}

impl Checkpoint {
    /// Opens a file: memory-mapped with the `mmap` feature (zero-copy: stored entries are
    /// slices of the map), read into memory otherwise.
    pub fn open<P: AsRef<Path>>(path: P) -> Result<Checkpoint> {
        Checkpoint::open_with(path, &LoadOptions::default())
    }

    /// [`open`](Self::open) with options.
    pub fn open_with<P: AsRef<Path>>(path: P, opts: &LoadOptions) -> Result<Checkpoint> {
        let path = path.as_ref();
        let with_path =
            |e: crate::Error| crate::Error::new(e.kind(), format!("{}: {}", path.display(), e));
        #[cfg(feature = "mmap")]
        let bytes = {
            let file = std::fs::File::open(path).map_err(|e| with_path(e.into()))?;
            Bytes::new(crate::mmap::map(&file).map_err(|e| with_path(e.into()))?)
        };
        #[cfg(not(feature = "mmap"))]
        let bytes = Bytes::new(std::fs::read(path).map_err(|e| with_path(e.into()))?);
        Checkpoint::load(Source::Mem(bytes), opts).map_err(|e| match e.offset() {
            Some(_) => e,
            None => with_path(e),
        })
    }

    /// Loads from bytes in memory; tensors share them without copying.
    pub fn from_bytes(bytes: Bytes) -> Result<Checkpoint> {
        Checkpoint::load(Source::Mem(bytes), &LoadOptions::default())
    }

    /// [`from_bytes`](Self::from_bytes) with options.
    pub fn from_bytes_with(bytes: Bytes, opts: &LoadOptions) -> Result<Checkpoint> {
        Checkpoint::load(Source::Mem(bytes), opts)
    }

    /// Loads from a byte slice (copied once, since tensors outlive the borrow).
    pub fn from_slice(data: &[u8]) -> Result<Checkpoint> {
        Checkpoint::from_bytes(Bytes::new(data.to_vec()))
    }

    /// Loads from a seekable reader: the directory and pickle are read now, each storage
    /// when first used (zip format; the legacy formats are read whole).
    pub fn from_reader<R: Read + Seek + Send + 'static>(reader: R) -> Result<Checkpoint> {
        Checkpoint::load(Source::from_reader(reader)?, &LoadOptions::default())
    }

    /// [`from_reader`](Self::from_reader) with options.
    pub fn from_reader_with<R: Read + Seek + Send + 'static>(
        reader: R,
        opts: &LoadOptions,
    ) -> Result<Checkpoint> {
        Checkpoint::load(Source::from_reader(reader)?, opts)
    }

    fn load(src: Source, opts: &LoadOptions) -> Result<Checkpoint> {
        let (graph, format) = archive::load(&src, opts)?;
        Ok(Checkpoint { graph, format })
    }

    /// The file format it was read from.
    pub fn format(&self) -> &Format {
        &self.format
    }

    /// The object graph (what `torch.load` returned).
    pub fn graph(&self) -> &Graph<'static> {
        &self.graph
    }

    /// The object graph, taken out of the checkpoint.
    ///
    /// ```
    /// let ckpt = serde_pickle_vm::torch::load("fixtures/torch/params.pt").unwrap();
    /// let graph = ckpt.into_graph();
    /// assert!(graph.root().get("w").is_some());
    /// ```
    pub fn into_graph(self) -> Graph<'static> {
        self.graph
    }

    /// The loaded object.
    pub fn root(&self) -> Value<'_, 'static> {
        self.graph.root()
    }

    /// Every tensor reachable from the root, named by its path (dict keys, list indices
    /// and object attributes joined with `.`), depth first in pickle order; a tensor
    /// reached twice is listed under its first path.
    pub fn tensors(&self) -> Vec<(String, &Tensor)> {
        named_tensors(&self.graph)
    }

    /// The tensor at `path` (as [`tensors`](Self::tensors) names it).
    pub fn tensor(&self, path: &str) -> Option<&Tensor> {
        self.tensors()
            .into_iter()
            .find(|(n, _)| n == path)
            .map(|(_, t)| t)
    }

    /// The tensors as a [`StateDict`](super::StateDict) (names as in
    /// [`tensors`](Self::tensors)).
    pub fn state_dict(&self) -> super::StateDict {
        self.tensors()
            .into_iter()
            .map(|(n, t)| (n, t.clone()))
            .collect()
    }
}

/// The tensor inside a value, if it is one.
pub fn as_tensor<'g>(v: Value<'g, '_>) -> Option<&'g Tensor> {
    match v.as_emulated()? {
        Emulated::Tensor(t) => Some(t),
        _ => None,
    }
}

fn key_segment(k: Value<'_, '_>) -> String {
    if let Some(s) = k.as_str() {
        s.to_string()
    } else if let Some(i) = k.as_i64() {
        i.to_string()
    } else if let Some(b) = k.as_bool() {
        if b { "True" } else { "False" }.to_string()
    } else {
        format!("<{}>", k.type_name())
    }
}

/// Names every tensor of `graph` by path (see [`Checkpoint::tensors`]).
pub fn named_tensors<'g>(graph: &'g Graph<'_>) -> Vec<(String, &'g Tensor)> {
    let mut out = Vec::new();
    let mut seen: HashSet<NodeId> = HashSet::new();
    // Iterative depth-first walk; children pushed in reverse to keep pickle order.
    let mut stack: Vec<(String, Slot)> = vec![(String::new(), graph.root_slot())];
    let join = |p: &str, k: &str| {
        if p.is_empty() {
            k.to_string()
        } else {
            format!("{p}.{k}")
        }
    };
    while let Some((path, slot)) = stack.pop() {
        let Slot::Node(id) = slot else { continue };
        if !seen.insert(id) {
            continue;
        }
        let v = graph.value(slot);
        let mut children: Vec<(String, Slot)> = Vec::new();
        match graph.node(id) {
            Node::Emulated(e) if matches!(**e, Emulated::Tensor(_)) => {
                if let Emulated::Tensor(t) = &**e {
                    out.push((path, &**t));
                }
                continue;
            }
            Node::List(items) | Node::Tuple(items) => {
                for (i, s) in graph.items(*items).iter().enumerate() {
                    children.push((join(&path, &i.to_string()), graph.slot(*s)));
                }
            }
            Node::Object(_) | Node::Dict(_) | Node::Emulated(_) => {
                if let Some(items) = v.items() {
                    for (k, val) in items {
                        children.push((join(&path, &key_segment(k)), val.slot()));
                    }
                }
            }
            _ => {}
        }
        stack.extend(children.into_iter().rev());
    }
    out
}
