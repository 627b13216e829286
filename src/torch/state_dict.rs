//! [`StateDict`]: named tensors in order, with helpers for the shapes models come in:
//! prefixes (`model.`), Hugging Face sharded checkpoints, and [`Nested`], the dotted names
//! unflattened into maps and sequences (`layers.3.attn.q_proj.weight`).

use crate::array::Tensor;
use crate::error::{Error, ErrorKind, Result};

/// Named tensors in order (a torch `state_dict()`).
///
/// ```
/// # #[cfg(feature = "torch")] {
/// use serde_pickle_vm::torch::Checkpoint;
/// let sd = Checkpoint::open("fixtures/torch/checkpoint.pt").unwrap().state_dict();
/// let model = sd.strip_prefix("model.");
/// assert!(model.get("head.weight").is_some());
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StateDict {
    entries: Vec<(String, Tensor)>,
}

impl FromIterator<(String, Tensor)> for StateDict {
    fn from_iter<I: IntoIterator<Item = (String, Tensor)>>(iter: I) -> Self {
        StateDict {
            entries: iter.into_iter().collect(),
        }
    }
}

impl IntoIterator for StateDict {
    type Item = (String, Tensor);
    type IntoIter = std::vec::IntoIter<(String, Tensor)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl StateDict {
    /// The tensor named `name`.
    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }

    /// The names and tensors, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.entries.iter().map(|(n, t)| (n.as_str(), t))
    }

    /// The number of tensors.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// `true` when there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The tensors whose names start with `prefix`, with the prefix removed.
    pub fn strip_prefix(&self, prefix: &str) -> StateDict {
        self.entries
            .iter()
            .filter_map(|(n, t)| n.strip_prefix(prefix).map(|n| (n.to_string(), t.clone())))
            .collect()
    }

    /// Adds the tensors of `other` (a later shard); a name already present is an error.
    pub fn extend(&mut self, other: StateDict) -> Result<()> {
        for (n, t) in other.entries {
            if self.get(&n).is_some() {
                return Err(Error::new(
                    ErrorKind::Format,
                    format!("tensor {n:?} appears in two shards"),
                ));
            }
            self.entries.push((n, t));
        }
        Ok(())
    }

    /// The dotted names unflattened: `a.0.w`, `a.1.w` become a map `a` holding a
    /// sequence of maps. Errors when a name is both a tensor and a prefix.
    ///
    /// ```
    /// # #[cfg(feature = "torch")] {
    /// use serde_pickle_vm::torch::{Checkpoint, Nested};
    /// let sd = Checkpoint::open("fixtures/torch/layer_state_dict.pt").unwrap().state_dict();
    /// let tree = sd.unflatten().unwrap();
    /// let layer = tree.get("layer").unwrap();
    /// let q = layer.get("self_attn").and_then(|a| a.get("in_proj_weight")).unwrap();
    /// assert!(matches!(q, Nested::Tensor(t) if t.shape() == [24, 8]));
    /// # }
    /// ```
    pub fn unflatten(&self) -> Result<Nested> {
        let mut root = Nested::Map(Vec::new());
        for (name, t) in &self.entries {
            let parts: Vec<&str> = name.split('.').collect();
            let mut node = &mut root;
            for (i, part) in parts.iter().enumerate() {
                let Nested::Map(items) = node else {
                    return Err(conflict(name));
                };
                let last = i + 1 == parts.len();
                let pos = match items.iter().position(|(k, _)| k == part) {
                    Some(p) => p,
                    None => {
                        items.push((
                            part.to_string(),
                            if last {
                                Nested::Tensor(t.clone())
                            } else {
                                Nested::Map(Vec::new())
                            },
                        ));
                        items.len() - 1
                    }
                };
                if last && !matches!(items[pos].1, Nested::Tensor(_)) {
                    return Err(conflict(name));
                }
                node = &mut items[pos].1;
            }
        }
        Ok(root.into_seqs())
    }
}

fn conflict(name: &str) -> Error {
    Error::new(
        ErrorKind::Format,
        format!("{name:?} is both a tensor and a prefix of other names"),
    )
}

/// A state dict unflattened at its dots: maps whose keys are all `0..n` become
/// sequences.
#[derive(Debug, Clone, PartialEq)]
pub enum Nested {
    /// A leaf.
    Tensor(Tensor),
    /// Named children, in order.
    Map(Vec<(String, Nested)>),
    /// Children `0..n`.
    Seq(Vec<Nested>),
}

impl Nested {
    /// The child named `key` of a map (or `key` as an index into a sequence).
    pub fn get(&self, key: &str) -> Option<&Nested> {
        match self {
            Nested::Map(items) => items.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            Nested::Seq(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
            Nested::Tensor(_) => None,
        }
    }

    fn into_seqs(self) -> Nested {
        match self {
            Nested::Map(items) => {
                let mut items: Vec<(String, Nested)> =
                    items.into_iter().map(|(k, v)| (k, v.into_seqs())).collect();
                let indices: Option<Vec<usize>> =
                    items.iter().map(|(k, _)| k.parse::<usize>().ok()).collect();
                match indices {
                    Some(mut idx) if !items.is_empty() => {
                        idx.sort_unstable();
                        if idx.iter().enumerate().all(|(i, &k)| i == k)
                            && items.iter().all(|(k, _)| !k.starts_with('0') || k == "0")
                        {
                            items.sort_by_key(|(k, _)| k.parse::<usize>().unwrap_or(0));
                            Nested::Seq(items.into_iter().map(|(_, v)| v).collect())
                        } else {
                            Nested::Map(items)
                        }
                    }
                    _ => Nested::Map(items),
                }
            }
            other => other,
        }
    }
}

/// Loads a Hugging Face sharded checkpoint (`pytorch_model.bin.index.json` and the shard
/// files its `weight_map` names, beside it) as one state dict, in shard order. Every
/// name of the weight map must be found in the shard it names.
///
/// ```
/// let sd = serde_pickle_vm::torch::load_sharded("fixtures/torch/sharded/pytorch_model.bin.index.json").unwrap();
/// assert!(sd.get("layer.linear1.weight").is_some());
/// ```
#[cfg(feature = "torch")]
pub fn load_sharded<P: AsRef<std::path::Path>>(index: P) -> Result<StateDict> {
    let index = index.as_ref();
    let fmt = |m: String| Error::new(ErrorKind::Format, format!("{}: {m}", index.display()));
    let text = std::fs::read_to_string(index).map_err(|e| fmt(e.to_string()))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| fmt(e.to_string()))?;
    let map = json
        .get("weight_map")
        .and_then(|m| m.as_object())
        .ok_or_else(|| fmt("no \"weight_map\" object".into()))?;
    let mut files: Vec<&str> = Vec::new();
    for v in map.values() {
        let f = v
            .as_str()
            .ok_or_else(|| fmt("a weight_map value is not a file name".into()))?;
        if !files.contains(&f) {
            files.push(f);
        }
    }
    let dir = index.parent().unwrap_or(std::path::Path::new("."));
    let mut out = StateDict::default();
    for f in files {
        if f.contains("..") || std::path::Path::new(f).is_absolute() {
            return Err(fmt(format!(
                "shard name {f:?} leaves the checkpoint's folder"
            )));
        }
        let shard = super::Checkpoint::open(dir.join(f))?.state_dict();
        for (name, file) in map {
            if file.as_str() == Some(f) && shard.get(name).is_none() {
                return Err(fmt(format!("{name:?} is not in shard {f}")));
            }
        }
        out.extend(shard)?;
    }
    Ok(out)
}
