//! The three torch file formats, detected from content: the zip format (`torch.save`
//! since 1.6 and TorchScript archives), the legacy format (magic number, protocol
//! version, sys info, pickle, storage keys, raw storages) and the legacy tar format
//! (`storages`, `tensors`, `pickle` members). Each yields the pickle's graph with its
//! persistent ids resolved into storages (or tensors) and rebuild calls into tensors.

use super::rebuild::{rebuild, Resolved};
use super::source::Source;
use super::zip;
use crate::array::Tensor;
use crate::array::{ByteOrder, Dtype};
use crate::array::{Bytes, Storage};
use crate::error::{Error, ErrorKind, Result};
use crate::options::Options;
use crate::value::{Graph, Value};
use crate::{AllowList, Unpickler};
use num_traits::ToPrimitive;
use std::collections::HashMap;
use std::sync::Arc;

/// Which file format a checkpoint was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// A zip archive (`torch.save` since torch 1.6, `torch.jit.save`).
    Zip {
        /// The archive's top directory (`archive`, or the file's stem).
        prefix: String,
        /// The byte order of the storages (`byteorder` record; little when absent).
        byte_order: ByteOrder,
        /// `true` for TorchScript archives (they carry `code/` and `constants.pkl`).
        torchscript: bool,
    },
    /// The legacy format (`_use_new_zipfile_serialization=False`).
    Legacy,
    /// The legacy tar format (torch before 0.4).
    Tar,
}

/// Options of a checkpoint load.
///
/// ```
/// use serde_pickle_vm::torch::LoadOptions;
/// let opts = LoadOptions { max_inflated: 1 << 20, ..LoadOptions::default() };
/// assert!(opts.pickle.emulate);
/// ```
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Options of the pickle VM (limits, emulation).
    pub pickle: Options,
    /// Most bytes one compressed zip entry may inflate to (against zip bombs; torch
    /// itself never compresses). Default 16 GiB.
    pub max_inflated: u64,
    /// Most bytes a compressed zip entry may inflate to per compressed byte, for entries
    /// over 1 MiB (default 100; deflate reaches ~1000 only on runs of one byte, which is
    /// what zip bombs are made of).
    pub max_inflate_ratio: u64,
    /// Resolve storages and rebuild tensors (default true); off leaves the persistent
    /// ids and rebuild calls as recorded (`pickle-vm json --raw`).
    pub rebuild: bool,
    /// Reject every global outside this list, in every pickle of the file (like
    /// `torch.load(weights_only=True)`); `None` (the default) allows any global, which
    /// the VM records without executing. [`AllowList::torch`] is what tensors and state
    /// dicts need.
    ///
    /// ```
    /// use serde_pickle_vm::{torch::{Checkpoint, LoadOptions}, AllowList};
    /// let opts = LoadOptions { allow: Some(AllowList::torch()), ..LoadOptions::default() };
    /// let ckpt = Checkpoint::open_with("fixtures/torch/params.pt", &opts).unwrap();
    /// assert!(ckpt.tensor("w").is_some());
    /// ```
    pub allow: Option<AllowList>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            pickle: Options::default(),
            max_inflated: crate::compress::InflateLimits::default().max_bytes,
            max_inflate_ratio: crate::compress::InflateLimits::default().max_ratio,
            rebuild: true,
            allow: None,
        }
    }
}

pub(crate) fn format_err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Format, msg)
}

/// The legacy format's magic number, `0x1950a86a20f9469cfc6c`.
const MAGIC: u128 = 0x1950a86a20f9469cfc6c;

/// Detects the format and loads the graph.
pub(crate) fn load(src: &Source, opts: &LoadOptions) -> Result<(Graph<'static>, Format)> {
    let head = src.read_at(0, src.len().min(512), "file header")?;
    if zip::looks_like_zip(&head) {
        return load_zip(src, opts);
    }
    if head.len() >= 262 && &head[257..262] == b"ustar" {
        return load_tar(src, opts);
    }
    if head.first() == Some(&0x80) {
        return load_legacy(src, opts);
    }
    Err(format_err(
        "not a torch file: neither a zip archive, a legacy checkpoint (magic number) nor a tar archive",
    ))
}

fn unpickler(opts: &LoadOptions) -> Unpickler<'static> {
    let u = Unpickler::with_options(opts.pickle.clone());
    match &opts.allow {
        Some(list) => u.allow_globals(list.clone()),
        None => u,
    }
}

/// `(dtype, key, numel)` of a storage persistent id
/// `('storage', storage_type, key, location, numel[, view_metadata])`.
struct StorageId {
    dtype: Dtype,
    key: String,
    numel: u64,
    view: Option<(String, u64, u64)>,
}

fn key_text(v: Value<'_, '_>) -> Option<String> {
    v.as_str()
        .map(str::to_string)
        .or_else(|| v.as_i64().map(|i| i.to_string()))
        .or_else(|| {
            v.as_bytes()
                .map(|b| String::from_utf8_lossy(b).into_owned())
        })
}

fn storage_id(pid: Value<'_, '_>) -> Result<Option<StorageId>> {
    let Some(items) = pid.seq() else {
        return Ok(None);
    };
    let items: Vec<Value<'_, '_>> = items.iter().map(|s| pid.graph().value(*s)).collect();
    let tag = items.first().and_then(|v| key_text(*v));
    if tag.as_deref() != Some("storage") {
        return Ok(None);
    }
    let (cls, key, numel, view) = match items.as_slice() {
        [_, cls, key, _loc, numel] => (*cls, *key, *numel, None),
        [_, cls, key, _loc, numel, view] => (*cls, *key, *numel, Some(*view)),
        _ => {
            return Err(format_err(
                "a storage persistent id has the wrong number of fields",
            ))
        }
    };
    let dtype = match cls.as_global() {
        Some(g) => Dtype::from_storage_class(&g.name)
            .ok_or_else(|| format_err(format!("unknown storage type {}.{}", g.module, g.name)))?,
        None => return Err(format_err(format!("storage type is a {}", cls.type_name()))),
    };
    let key = key_text(key).ok_or_else(|| format_err("storage key is not a str or int"))?;
    let numel = numel
        .as_i64()
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| format_err("storage size is not a non-negative int"))?;
    let view = match view {
        Some(v) if !v.is_none() => {
            let parts: Vec<Value<'_, '_>> = v.iter().collect();
            match parts.as_slice() {
                [k, o, n] => Some((
                    key_text(*k).ok_or_else(|| format_err("bad storage view key"))?,
                    o.as_i64()
                        .and_then(|x| u64::try_from(x).ok())
                        .ok_or_else(|| format_err("bad storage view offset"))?,
                    n.as_i64()
                        .and_then(|x| u64::try_from(x).ok())
                        .ok_or_else(|| format_err("bad storage view size"))?,
                )),
                _ => return Err(format_err("bad storage view metadata")),
            }
        }
        _ => None,
    };
    Ok(Some(StorageId {
        dtype,
        key,
        numel,
        view,
    }))
}

fn declared_nbytes(id: &StorageId) -> Result<u64> {
    id.numel
        .checked_mul(id.dtype.size() as u64)
        .ok_or_else(|| format_err(format!("storage {:?} size overflows", id.key)))
}

fn check_len(key: &str, actual: u64, declared: u64) -> Result<()> {
    if actual < declared {
        return Err(format_err(format!(
            "storage {key:?} is {actual} bytes but the pickle declares {declared}: the file is truncated or corrupt"
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------- zip

fn load_zip(src: &Source, opts: &LoadOptions) -> Result<(Graph<'static>, Format)> {
    let archive = Arc::new(zip::Archive::open(src)?);
    let limits = zip::InflateLimits {
        max_bytes: opts.max_inflated,
        max_ratio: opts.max_inflate_ratio,
    };
    // `<prefix>/data.pkl` with a top-level prefix (any name).
    let pkl = archive
        .names()
        .filter(|n| {
            n.strip_suffix("data.pkl")
                .is_some_and(|p| p.ends_with('/') && p.matches('/').count() == 1)
        })
        .min_by_key(|n| n.len())
        .ok_or_else(|| format_err("zip archive has no <archive>/data.pkl: not a torch checkpoint"))?
        .to_string();
    let prefix = pkl[..pkl.len() - "data.pkl".len()].to_string();
    let small = |name: &str| -> Result<Option<String>> {
        match archive.entry(&format!("{prefix}{name}"))? {
            Some(e) if e.size <= 64 => Ok(Some(
                String::from_utf8_lossy(&archive.read(&e, limits)?)
                    .trim()
                    .to_string(),
            )),
            Some(_) => Err(format_err(format!("{prefix}{name} is too long"))),
            None => Ok(None),
        }
    };
    let byte_order = match small("byteorder")?.as_deref() {
        None | Some("little") => ByteOrder::Little,
        Some("big") => ByteOrder::Big,
        Some(other) => {
            return Err(format_err(format!(
                "unknown byteorder {other:?} in {prefix}byteorder (expected little or big)"
            )))
        }
    };
    let code = format!("{prefix}code/");
    let constants = format!("{prefix}constants.pkl");
    let torchscript = archive
        .names()
        .any(|n| n == constants || n.starts_with(&code));
    let pkl_entry = archive
        .entry(&pkl)?
        .ok_or_else(|| format_err(format!("{pkl} vanished from the zip directory")))?;
    let data = archive.read(&pkl_entry, limits)?;
    let mut graph = unpickler(opts).load_slice(&data)?.into_owned();
    let mut cache: HashMap<String, Storage> = HashMap::new();
    let mut resolve = |pid: Value<'_, '_>| -> Result<Resolved> {
        let Some(id) = storage_id(pid)? else {
            return Ok(Resolved::Keep);
        };
        if let Some(s) = cache.get(&id.key) {
            return Ok(Resolved::Storage(retype(s, id.dtype)));
        }
        let name = format!("{prefix}data/{}", id.key);
        let index = archive.index_of(&name).ok_or_else(|| {
            format_err(format!(
                "storage {:?} is missing: the archive has no {name}",
                id.key
            ))
        })?;
        // Read on first use: the local header (where the data starts, its real size),
        // then a slice of the source for stored entries of a file in memory or mapped
        // (no copy), a read or an inflation otherwise. Opening touches no page of it.
        let declared = declared_nbytes(&id)?;
        let (archive, key) = (archive.clone(), id.key.clone());
        let storage = Storage::lazy(&id.key, id.dtype, byte_order, declared, move || {
            let entry = archive.entry_at(index)?;
            check_len(&key, entry.size, declared)?;
            let bytes = archive.read(&entry, limits)?;
            match bytes.len() as u64 == declared {
                true => Ok(bytes),
                false => bytes
                    .slice(0, declared as usize)
                    .ok_or_else(|| format_err(format!("storage {key:?} is truncated"))),
            }
        });
        cache.insert(id.key.clone(), storage.clone());
        Ok(Resolved::Storage(storage))
    };
    if opts.rebuild {
        rebuild(&mut graph, &mut resolve)?;
    }
    let format = Format::Zip {
        prefix: prefix.trim_end_matches('/').to_string(),
        byte_order,
        torchscript,
    };
    Ok((graph, format))
}

/// Storages are shared by key; a later id may name another dtype for the same bytes
/// (torch allows it when sizes agree). The tensor carries its own dtype, so the
/// storage's recorded dtype only matters for its element size.
fn retype(s: &Storage, _dtype: Dtype) -> Storage {
    s.clone()
}

// ---------------------------------------------------------------- legacy

fn whole(src: &Source) -> Result<Bytes> {
    src.read_at(0, src.len(), "file")
}

fn load_legacy(src: &Source, opts: &LoadOptions) -> Result<(Graph<'static>, Format)> {
    let data = whole(src)?;
    let mut pos = 0usize;
    let mut next = |what: &str| -> Result<(Graph<'static>, usize)> {
        let start = pos;
        let (g, used) = unpickler(opts)
            .load_slice_prefix(&data[start..])
            .map_err(|e| match e.kind() {
                ErrorKind::Rejected => e,
                _ => format_err(format!("reading the legacy {what}: {e}")),
            })?;
        pos = start + used;
        Ok((g.into_owned(), start))
    };
    let (magic, _) = next("magic number").map_err(|_| {
        format_err("invalid magic number: not a torch file (corrupt legacy checkpoint?)")
    })?;
    if magic.root().as_bigint().and_then(|b| b.to_u128()) != Some(MAGIC) {
        return Err(format_err(
            "invalid magic number: not a torch legacy checkpoint (corrupt file?)",
        ));
    }
    let (proto, _) = next("protocol version")?;
    if proto.root().as_i64() != Some(1001) {
        return Err(format_err(format!(
            "unsupported legacy protocol version {:?} (expected 1001)",
            proto.root().as_i64()
        )));
    }
    let (sys_info, _) = next("sys info")?;
    let byte_order = match sys_info
        .root()
        .get("little_endian")
        .and_then(|v| v.as_bool())
    {
        Some(false) => ByteOrder::Big,
        _ => ByteOrder::Little,
    };
    let (mut graph, _) = next("pickle")?;
    let (keys, _) = next("storage keys")?;
    let keys: Vec<String> = keys
        .root()
        .iter()
        .map(|k| key_text(k).ok_or_else(|| format_err("a legacy storage key is not a str")))
        .collect::<Result<_>>()?;
    // The element size of each key comes from the persistent ids in the pickle.
    let mut ids: HashMap<String, (Dtype, u64)> = HashMap::new();
    for i in 0..graph.node_count() {
        if let crate::value::Node::PersId(pid) = graph.node(crate::value::NodeId(i as u32)) {
            if let Some(id) = storage_id(graph.value(*pid))? {
                ids.entry(id.key.clone()).or_insert((id.dtype, id.numel));
            }
        }
    }
    let mut storages: HashMap<String, Storage> = HashMap::new();
    let mut at = pos;
    for key in keys {
        let (dtype, _) = *ids.get(&key).ok_or_else(|| {
            format_err(format!("legacy storage {key:?} is not used by the pickle"))
        })?;
        let head = data.get(at..at + 8).ok_or_else(|| {
            format_err(format!("storage {key:?} is missing: the file ends early"))
        })?;
        let mut n = [0u8; 8];
        n.copy_from_slice(head);
        let count = match byte_order {
            ByteOrder::Little => u64::from_le_bytes(n),
            ByteOrder::Big => u64::from_be_bytes(n),
        };
        let len = count
            .checked_mul(dtype.size() as u64)
            .and_then(|l| usize::try_from(l).ok())
            .ok_or_else(|| format_err(format!("storage {key:?} size overflows")))?;
        let bytes = data.slice(at + 8, len).ok_or_else(|| {
            format_err(format!(
                "storage {key:?} ({len} bytes) runs past the end of the file"
            ))
        })?;
        storages.insert(
            key.clone(),
            Storage::from_bytes(&key, dtype, byte_order, bytes),
        );
        at += 8 + len;
    }
    let mut views: HashMap<String, Storage> = HashMap::new();
    let mut resolve = |pid: Value<'_, '_>| -> Result<Resolved> {
        let Some(id) = storage_id(pid)? else {
            return Ok(Resolved::Keep);
        };
        let root = storages.get(&id.key).ok_or_else(|| {
            format_err(format!(
                "storage {:?} is missing from the legacy file",
                id.key
            ))
        })?;
        check_len(&id.key, root.nbytes(), declared_nbytes(&id)?)?;
        match id.view {
            None => Ok(Resolved::Storage(root.clone())),
            Some((vkey, off, n)) => {
                if let Some(v) = views.get(&vkey) {
                    return Ok(Resolved::Storage(v.clone()));
                }
                let size = id.dtype.size() as u64;
                let bytes = root.bytes_shared()?;
                let view = off
                    .checked_mul(size)
                    .zip(n.checked_mul(size))
                    .and_then(|(o, l)| bytes.slice(o as usize, l as usize))
                    .ok_or_else(|| format_err(format!("storage view {vkey:?} is out of range")))?;
                let s = Storage::from_bytes(&vkey, id.dtype, root.byte_order(), view);
                views.insert(vkey, s.clone());
                Ok(Resolved::Storage(s))
            }
        }
    };
    if opts.rebuild {
        rebuild(&mut graph, &mut resolve)?;
    }
    Ok((graph, Format::Legacy))
}

// ---------------------------------------------------------------- tar

fn tar_members(data: &Bytes) -> Result<HashMap<String, Bytes>> {
    let mut out = HashMap::new();
    for m in crate::tar::members(data) {
        let m = m.map_err(|d| format_err(d.message))?;
        if m.regular {
            // In range: the iterator checked it.
            if let Some(body) = data.slice(m.body.start, m.body.len()) {
                out.insert(m.name, body);
            }
        }
    }
    Ok(out)
}

fn load_tar(src: &Source, opts: &LoadOptions) -> Result<(Graph<'static>, Format)> {
    let data = whole(src)?;
    let members = tar_members(&data)?;
    let member = |name: &str| {
        members
            .get(name)
            .ok_or_else(|| format_err(format!("legacy tar checkpoint has no {name:?} member")))
    };
    let mut storages: HashMap<String, Storage> = HashMap::new();
    // storages: count, then per storage (key, location, storage_type) + i64 count + data,
    // then the list of views (target, root, offset, numel).
    let st = member("storages")?;
    let mut pos = 0usize;
    let next = |buf: &Bytes, pos: &mut usize| -> Result<Graph<'static>> {
        let (g, used) = unpickler(opts).load_slice_prefix(&buf[*pos..])?;
        *pos += used;
        Ok(g.into_owned())
    };
    let count = next(st, &mut pos)?.root().as_i64().unwrap_or(-1);
    if count < 0 {
        return Err(format_err("corrupt legacy tar storages member"));
    }
    for _ in 0..count {
        let g = next(st, &mut pos)?;
        let parts: Vec<Value<'_, '_>> = g.root().iter().collect();
        let [key, _loc, cls] = parts.as_slice() else {
            return Err(format_err("corrupt legacy tar storage record"));
        };
        let key = key_text(*key).ok_or_else(|| format_err("bad legacy storage key"))?;
        let dtype = cls
            .as_global()
            .and_then(|g| Dtype::from_storage_class(&g.name))
            .ok_or_else(|| format_err("unknown legacy storage type"))?;
        let n = st
            .get(pos..pos + 8)
            .ok_or_else(|| format_err(format!("storage {key:?} is missing")))?;
        let count = u64::from_le_bytes(n.try_into().unwrap_or([0; 8]));
        let len = count
            .checked_mul(dtype.size() as u64)
            .and_then(|l| usize::try_from(l).ok())
            .ok_or_else(|| format_err("storage size overflows"))?;
        let bytes = st
            .slice(pos + 8, len)
            .ok_or_else(|| format_err(format!("storage {key:?} runs past its member")))?;
        pos += 8 + len;
        storages.insert(
            key.clone(),
            Storage::from_bytes(&key, dtype, ByteOrder::Little, bytes),
        );
    }
    let views = next(st, &mut pos)?;
    for v in views.root().iter() {
        let parts: Vec<Value<'_, '_>> = v.iter().collect();
        if let [target, root, off, n] = parts.as_slice() {
            let (Some(t), Some(r), Some(o), Some(n)) =
                (key_text(*target), key_text(*root), off.as_i64(), n.as_i64())
            else {
                return Err(format_err("bad legacy storage view"));
            };
            let root = storages
                .get(&r)
                .ok_or_else(|| format_err("storage view of a missing storage"))?;
            let size = root.dtype().size();
            let view = root
                .bytes_shared()?
                .slice(o as usize * size, n as usize * size)
                .ok_or_else(|| format_err("storage view out of range"))?;
            let s = Storage::from_bytes(&t, root.dtype(), ByteOrder::Little, view);
            storages.insert(t, s);
        }
    }
    // tensors: count, then per tensor (key, storage_id, type) + ndim + sizes + strides + offset.
    let te = member("tensors")?;
    let mut pos = 0usize;
    let count = next(te, &mut pos)?.root().as_i64().unwrap_or(-1);
    let mut tensors: HashMap<String, Tensor> = HashMap::new();
    for _ in 0..count.max(0) {
        let g = next(te, &mut pos)?;
        let parts: Vec<Value<'_, '_>> = g.root().iter().collect();
        let [key, sid, _ty] = parts.as_slice() else {
            return Err(format_err("corrupt legacy tar tensor record"));
        };
        let (Some(key), Some(sid)) = (key_text(*key), key_text(*sid)) else {
            return Err(format_err("bad legacy tensor key"));
        };
        let read_i64 = |pos: &mut usize| -> Result<i64> {
            let b = te
                .get(*pos..*pos + 8)
                .ok_or_else(|| format_err("legacy tensor record truncated"))?;
            *pos += 8;
            Ok(i64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
        };
        let ndim = read_i64(&mut pos)? as i32;
        if !(0..=64).contains(&ndim) {
            return Err(format_err(format!("legacy tensor has {ndim} dimensions")));
        }
        let shape: Vec<i64> = (0..ndim)
            .map(|_| read_i64(&mut pos))
            .collect::<Result<_>>()?;
        let strides: Vec<i64> = (0..ndim)
            .map(|_| read_i64(&mut pos))
            .collect::<Result<_>>()?;
        let offset = read_i64(&mut pos)?;
        let storage = storages
            .get(&sid)
            .ok_or_else(|| format_err(format!("tensor {key:?} uses missing storage {sid:?}")))?;
        let t = Tensor::new(
            storage.clone(),
            storage.dtype(),
            offset,
            &shape,
            &strides,
            false,
        )?;
        tensors.insert(key, t);
    }
    let pk = member("pickle")?;
    let mut graph = unpickler(opts).load_slice(pk)?.into_owned();
    let mut resolve = |pid: Value<'_, '_>| -> Result<Resolved> {
        match key_text(pid) {
            Some(k) if pid.seq().is_none() => tensors
                .get(&k)
                .cloned()
                .map(Resolved::Tensor)
                .ok_or_else(|| {
                    format_err(format!("tensor {k:?} is missing from the tar checkpoint"))
                }),
            _ => Ok(Resolved::Keep),
        }
    };
    if opts.rebuild {
        rebuild(&mut graph, &mut resolve)?;
    }
    Ok((graph, Format::Tar))
}
