//! Typed loads of whole checkpoints: the graph of a [`Checkpoint`] through the crate's
//! serde `Deserializer`, with tensors handed to [`Tensor`](super::Tensor) /
//! [`TensorOf`](super::TensorOf) fields and, optionally, every state dict given its
//! unflattened groups so that `layers: Vec<Layer>` finds `layers.0.…`, `layers.1.…`.
//!
//! The unflattening is a rewrite of a copy of the graph (tensors are shared, not
//! copied); the serde layer itself knows nothing of state dicts.

use super::archive::LoadOptions;
use super::checkpoint::{as_tensor, Checkpoint};
use crate::error::Result;
use crate::value::{Emulated, Graph, Node, NodeId, Packed};
use serde::de::DeserializeOwned;
use std::borrow::Cow;
use std::path::Path;

/// Options of a typed load ([`load_typed_with`], [`Checkpoint::deserialize_with`]).
///
/// ```
/// use serde_pickle_vm::torch::TypedOptions;
/// let flat = TypedOptions { unflatten: false, ..TypedOptions::default() };
/// assert!(TypedOptions::default().unflatten && !flat.unflatten);
/// ```
#[derive(Debug, Clone)]
pub struct TypedOptions {
    /// Give every state dict (a dict of tensors with dotted string keys) its groups:
    /// beside `"layers.0.attn.weight"` it also holds `"layers"`, a list (its keys are
    /// `0..n`) of dicts holding `"attn.weight"` and `"attn"`, and so on down. A struct
    /// field then names a tensor by its full dotted name (`#[serde(rename =
    /// "embed.weight")]`) or a group by its prefix (`layers: Vec<Layer>`), whichever
    /// reads better. Default on; turn it off to read a state dict as a flat map
    /// (`HashMap<String, Tensor>`), which would otherwise see the groups too.
    pub unflatten: bool,
    /// How the file is opened and the pickle read; its limits bound the serde walk.
    pub load: LoadOptions,
}

impl Default for TypedOptions {
    fn default() -> Self {
        TypedOptions {
            unflatten: true,
            load: LoadOptions::default(),
        }
    }
}

/// Opens a checkpoint and deserializes all of it into `T` in one pass: plain Python
/// values into plain Rust ones, tensors into [`Tensor`](super::Tensor) /
/// [`TensorOf<T>`](super::TensorOf) (memory-mapped with the `mmap` feature, no tensor
/// byte read), state dicts into nested structs (see [`TypedOptions::unflatten`]).
///
/// ```
/// use serde::Deserialize;
/// use serde_pickle_vm::torch::TensorOf;
///
/// // torch.save({"epoch": 7, "config": {...}, "model_state_dict": model.state_dict()})
/// // for a model with `embed` (Embedding(10, 4)) and `layers` (3 × {attn: Linear, norm: LayerNorm}).
/// #[derive(Deserialize)]
/// struct Checkpoint { epoch: u32, config: Config, model_state_dict: Encoder }
/// #[derive(Deserialize)]
/// struct Config { vocab: usize, dim: usize, name: String }
/// #[derive(Deserialize)]
/// struct Encoder {
///     #[serde(rename = "embed.weight")]
///     embed: TensorOf<f32>,
///     layers: Vec<Layer>,
/// }
/// #[derive(Deserialize)]
/// struct Layer { attn: Linear, norm: Linear }
/// #[derive(Deserialize)]
/// struct Linear { weight: TensorOf<f32>, bias: TensorOf<f32> }
///
/// let ckpt: Checkpoint = serde_pickle_vm::torch::load_typed("fixtures/torch/encoder.pt").unwrap();
/// assert_eq!((ckpt.epoch, ckpt.config.vocab, ckpt.config.name.as_str()), (7, 10, "enc"));
/// let model = ckpt.model_state_dict;
/// assert_eq!(model.embed.shape(), &[ckpt.config.vocab, ckpt.config.dim]);
/// assert_eq!(model.layers.len(), 3);
/// assert_eq!(model.layers[2].attn.weight.shape(), &[4, 4]);
/// let ones: Vec<f32> = model.layers[0].norm.weight.to_vec().unwrap();
/// assert_eq!(ones, [1.0; 4]);
/// ```
pub fn load_typed<T: DeserializeOwned, P: AsRef<Path>>(path: P) -> Result<T> {
    load_typed_with(path, &TypedOptions::default())
}

/// [`load_typed`] with options.
pub fn load_typed_with<T: DeserializeOwned, P: AsRef<Path>>(
    path: P,
    opts: &TypedOptions,
) -> Result<T> {
    Checkpoint::open_with(path, &opts.load)?.deserialize_with(opts)
}

impl Checkpoint {
    /// Deserializes the loaded object into `T`, state dicts unflattened (see
    /// [`load_typed`], [`TypedOptions`]).
    ///
    /// ```
    /// use serde::Deserialize;
    /// use serde_pickle_vm::torch::{Checkpoint, TensorOf};
    /// #[derive(Deserialize)]
    /// struct Params { w: TensorOf<f32>, b: TensorOf<f32> }
    /// let p: Params = Checkpoint::open("fixtures/torch/params.pt").unwrap().deserialize().unwrap();
    /// assert_eq!(p.w.shape(), &[3, 2]);
    /// assert!(p.w.requires_grad() && !p.b.requires_grad());
    /// ```
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T> {
        self.deserialize_with(&TypedOptions::default())
    }

    /// [`deserialize`](Self::deserialize) with options (only `unflatten` and the
    /// limits of `load.pickle` matter here).
    pub fn deserialize_with<T: DeserializeOwned>(&self, opts: &TypedOptions) -> Result<T> {
        if opts.unflatten {
            if let Some(graph) = unflattened(self.graph()) {
                return crate::from_graph_with_options(&graph, &opts.load.pickle);
            }
        }
        crate::from_graph_with_options(self.graph(), &opts.load.pickle)
    }
}

/// A copy of `graph` in which every state dict also holds its groups, or `None` when
/// there is no state dict with dotted keys.
pub(crate) fn unflattened(graph: &Graph<'static>) -> Option<Graph<'static>> {
    let dicts: Vec<(NodeId, Vec<(String, Packed)>)> = (0..graph.node_count())
        .filter_map(|i| {
            let id = NodeId(i as u32);
            state_dict_entries(graph, graph.node(id)).map(|e| (id, e))
        })
        .collect();
    if dicts.is_empty() {
        return None;
    }
    let mut out = graph.clone();
    for (id, entries) in dicts {
        let entries: Vec<(&str, Packed)> = entries.iter().map(|(k, s)| (k.as_str(), *s)).collect();
        let groups = groups(&mut out, &entries);
        let mut span = match out.node(id) {
            Node::Dict(pairs) => *pairs,
            Node::Emulated(e) => match &**e {
                Emulated::Dict { items, .. } => *items,
                _ => continue,
            },
            _ => continue,
        };
        out.extend_pairs(&mut span, &groups);
        match out.node_mut(id) {
            Node::Dict(pairs) => *pairs = span,
            Node::Emulated(e) => {
                if let Emulated::Dict { items, .. } = &mut **e {
                    *items = span;
                }
            }
            _ => {}
        }
    }
    Some(out)
}

/// The entries of a state dict: a dict (or OrderedDict) whose keys are all strings and
/// values all tensors, with at least one dotted key.
fn state_dict_entries(graph: &Graph<'_>, node: &Node<'_>) -> Option<Vec<(String, Packed)>> {
    let pairs = match node {
        Node::Dict(pairs) => pairs,
        Node::Emulated(e) => match &**e {
            Emulated::Dict { items, .. } => items,
            _ => return None,
        },
        _ => return None,
    };
    let mut dotted = false;
    let entries = graph
        .pairs(*pairs)
        .iter()
        .map(|(k, v)| {
            let key = graph.value(*k).as_str()?;
            as_tensor(graph.value(*v))?;
            dotted |= key.contains('.');
            Some((key.to_string(), *v))
        })
        .collect::<Option<Vec<_>>>()?;
    dotted.then_some(entries)
}

/// The groups of `entries` (names relative to one prefix): one `(head, group)` pair per
/// first name segment that prefixes other names and is not itself a tensor's name.
fn groups(graph: &mut Graph<'static>, entries: &[(&str, Packed)]) -> Vec<(Packed, Packed)> {
    let mut heads: Vec<(&str, Vec<(&str, Packed)>)> = Vec::new();
    for (name, slot) in entries {
        if let Some((head, rest)) = name.split_once('.') {
            match heads.iter_mut().find(|(h, _)| *h == head) {
                Some((_, children)) => children.push((rest, *slot)),
                None => heads.push((head, vec![(rest, *slot)])),
            }
        }
    }
    heads
        .into_iter()
        .filter(|(head, _)| !entries.iter().any(|(n, _)| n == head))
        .map(|(head, children)| {
            let key = string(graph, head);
            (key, group(graph, &children))
        })
        .collect()
}

/// One group: a list when its names start with `0..n` (each element the tensor named
/// by the index, or the group under it), else a dict of its names and its groups.
fn group(graph: &mut Graph<'static>, entries: &[(&str, Packed)]) -> Packed {
    if let Some(items) = index_list(graph, entries) {
        let items = graph.new_items(&items);
        return push(graph, Node::List(items));
    }
    let mut pairs: Vec<(Packed, Packed)> = entries
        .iter()
        .map(|(name, slot)| (string(graph, name), *slot))
        .collect();
    pairs.extend(groups(graph, entries));
    let pairs = graph.new_pairs(&pairs);
    push(graph, Node::Dict(pairs))
}

/// One index of a list group: the tensor named by the index, the names under it.
type Bucket<'a> = (Option<Packed>, Vec<(&'a str, Packed)>);

/// The elements of `entries` as a list, when their first segments are exactly `0..n`
/// (written without leading zeros) and none is both a tensor and a prefix.
fn index_list(graph: &mut Graph<'static>, entries: &[(&str, Packed)]) -> Option<Vec<Packed>> {
    let index = |name: &str| -> Option<usize> {
        let head = name.split('.').next()?;
        (head == "0" || !head.starts_with('0')).then(|| head.parse().ok())?
    };
    let mut len = 0;
    for (name, _) in entries {
        len = len.max(index(name)? + 1);
    }
    let mut buckets: Vec<Bucket<'_>> = vec![(None, Vec::new()); len];
    for (name, slot) in entries {
        let i = index(name)?;
        match name.split_once('.') {
            Some((_, rest)) => buckets[i].1.push((rest, *slot)),
            None => buckets[i].0 = Some(*slot),
        }
    }
    if buckets
        .iter()
        .any(|(leaf, kids)| leaf.is_some() != kids.is_empty())
    {
        return None; // a gap, or an index that is both a tensor and a group
    }
    Some(
        buckets
            .into_iter()
            .map(|(leaf, kids)| leaf.unwrap_or_else(|| group(graph, &kids)))
            .collect(),
    )
}

fn string(graph: &mut Graph<'static>, s: &str) -> Packed {
    push(graph, Node::Str(Cow::Owned(s.to_string())))
}

fn push(graph: &mut Graph<'static>, node: Node<'static>) -> Packed {
    Packed::node(graph.push(node, 0))
}
