//! The torch pass over a finished graph: persistent ids become storages (through the
//! archive's resolver) and the rebuild calls (`torch._utils._rebuild_tensor_v2`,
//! `_rebuild_parameter`, …) become [`Tensor`]s. Runs in creation order, so a Parameter
//! finds the tensor it wraps already rebuilt. Kinds of tensor it cannot rebuild faithfully
//! (quantized, sparse, nested, meta, subclasses, conjugate/negative views) are errors
//! that name the kind, never a wrong tensor.

use crate::array::Dtype;
use crate::array::Storage;
use crate::array::Tensor;
use crate::error::{Error, ErrorKind, Result};
use crate::value::{Emulated, Graph, Node, NodeId, Slot, Value};
use std::collections::HashMap;

/// What a persistent id stands for.
pub(crate) enum Resolved {
    /// A storage (zip and legacy formats).
    Storage(Storage),
    /// A whole tensor (the legacy tar format).
    Tensor(Tensor),
    /// Not something torch resolves (left as a persistent id).
    Keep,
}

fn err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Format, msg)
}

/// Rewrites the graph; `resolve` sees each persistent id's value.
pub(crate) fn rebuild(
    graph: &mut Graph<'_>,
    resolve: &mut dyn FnMut(Value<'_, '_>) -> Result<Resolved>,
) -> Result<()> {
    let mut storages: HashMap<NodeId, Storage> = HashMap::new();
    for i in 0..graph.node_count() {
        let id = NodeId(i as u32);
        let offset = graph.offset_of(id);
        let replacement = match graph.node(id) {
            Node::PersId(pid) => {
                match resolve(graph.value(*pid)).map_err(|e| e.with_offset(offset))? {
                    Resolved::Storage(s) => {
                        storages.insert(id, s);
                        None
                    }
                    Resolved::Tensor(t) => Some(t),
                    Resolved::Keep => None,
                }
            }
            Node::Object(_) => rebuild_object(graph, graph.value(Slot::Node(id)), &storages)
                .map_err(|e| e.with_offset(offset))?,
            _ => None,
        };
        if let Some(t) = replacement {
            *graph.node_mut(id) = Node::Emulated(Box::new(Emulated::Tensor(Box::new(t))));
        }
    }
    Ok(())
}

fn global_of<'g>(v: Value<'g, '_>) -> Option<(&'g str, &'g str)> {
    let g = v.as_global()?;
    Some((&g.module, &g.name))
}

fn rebuild_object(
    graph: &Graph<'_>,
    v: Value<'_, '_>,
    storages: &HashMap<NodeId, Storage>,
) -> Result<Option<Tensor>> {
    let Some(obj) = v.as_object() else {
        return Ok(None);
    };
    let Some((module, name)) = global_of(graph.value(obj.callable)) else {
        return Ok(None);
    };
    let args: Vec<Value<'_, '_>> = graph
        .items(obj.args)
        .iter()
        .map(|s| graph.value(*s))
        .collect();
    // `torch._tensor._rebuild_from_type_v2(func, type, args, state)` wraps another call.
    if (module, name) == ("torch._tensor", "_rebuild_from_type_v2") {
        let [func, cls, inner, _state] = args.as_slice() else {
            return Err(err("_rebuild_from_type_v2 expects 4 arguments"));
        };
        let Some((m, n)) = global_of(*func) else {
            return Ok(None);
        };
        if let Some((cm, cn)) = global_of(*cls) {
            if !matches!(
                (cm, cn),
                ("torch", "Tensor") | ("torch.nn.parameter", "Parameter")
            ) {
                return Err(err(format!(
                    "tensor subclass {cm}.{cn} is not supported (only its data could be read)"
                )));
            }
        }
        let inner: Vec<Value<'_, '_>> = inner.iter().collect();
        return rebuild_call(graph, m, n, &inner, storages);
    }
    rebuild_call(graph, module, name, &args, storages)
}

fn rebuild_call(
    graph: &Graph<'_>,
    module: &str,
    name: &str,
    args: &[Value<'_, '_>],
    storages: &HashMap<NodeId, Storage>,
) -> Result<Option<Tensor>> {
    let tensor_arg = |v: Value<'_, '_>| -> Result<Tensor> {
        match v.as_emulated() {
            Some(Emulated::Tensor(t)) => Ok((**t).clone()),
            _ => Err(err(format!(
                "{module}.{name}: expected a tensor, found {}",
                v.type_name()
            ))),
        }
    };
    match (module, name) {
        ("torch._utils", "_rebuild_tensor") => {
            let [s, off, size, stride] = args else {
                return Err(err("_rebuild_tensor expects 4 arguments"));
            };
            let storage = storage_arg(graph, *s, storages)?;
            let dtype = storage.dtype();
            Ok(Some(make(storage, dtype, *off, *size, *stride, false)?))
        }
        ("torch._utils", "_rebuild_tensor_v2") => {
            let (s, off, size, stride, rg, rest) = match args {
                [s, off, size, stride, rg, _hooks, rest @ ..] if rest.len() <= 1 => {
                    (*s, *off, *size, *stride, *rg, rest)
                }
                _ => return Err(err("_rebuild_tensor_v2 expects 6 or 7 arguments")),
            };
            check_metadata(rest.first().copied())?;
            let storage = storage_arg(graph, s, storages)?;
            let dtype = storage.dtype();
            Ok(Some(make(
                storage,
                dtype,
                off,
                size,
                stride,
                rg.as_bool().unwrap_or(false),
            )?))
        }
        ("torch._utils", "_rebuild_tensor_v3") => {
            let (s, off, size, stride, rg, dt, rest) = match args {
                [s, off, size, stride, rg, _hooks, dt, rest @ ..] if rest.len() <= 1 => {
                    (*s, *off, *size, *stride, *rg, *dt, rest)
                }
                _ => return Err(err("_rebuild_tensor_v3 expects 7 or 8 arguments")),
            };
            check_metadata(rest.first().copied())?;
            let storage = storage_arg(graph, s, storages)?;
            let dtype = dtype_arg(dt)?;
            Ok(Some(make(
                storage,
                dtype,
                off,
                size,
                stride,
                rg.as_bool().unwrap_or(false),
            )?))
        }
        ("torch._utils", "_rebuild_parameter")
        | ("torch._utils", "_rebuild_parameter_with_state")
        | ("torch.nn.parameter", "Parameter") => {
            let data = args
                .first()
                .ok_or_else(|| err(format!("{name} needs the tensor it wraps")))?;
            let mut t = tensor_arg(*data)?;
            // Parameter(data, requires_grad=True)
            let rg = args.get(1).and_then(|v| v.as_bool()).unwrap_or(true);
            t.set_requires_grad(rg);
            Ok(Some(t))
        }
        ("torch._utils", "_rebuild_device_tensor_from_cpu_tensor") => {
            let [data, _dtype, _device, rg] = args else {
                return Err(err(
                    "_rebuild_device_tensor_from_cpu_tensor expects 4 arguments",
                ));
            };
            let mut t = tensor_arg(*data)?;
            t.set_requires_grad(rg.as_bool().unwrap_or(false));
            Ok(Some(t))
        }
        ("torch._utils", "_rebuild_qtensor") => Err(err(
            "quantized tensors are not supported (torch._utils._rebuild_qtensor)",
        )),
        ("torch._utils", n) if n.contains("sparse") => Err(err(format!(
            "sparse tensors are not supported (torch._utils.{n})"
        ))),
        ("torch._utils", n) if n.contains("nested") => Err(err(format!(
            "nested tensors are not supported (torch._utils.{n})"
        ))),
        ("torch._utils", "_rebuild_meta_tensor_no_storage") => Err(err(
            "meta tensors have no data (torch._utils._rebuild_meta_tensor_no_storage)",
        )),
        ("torch._utils", n) if n.starts_with("_rebuild_") => Err(err(format!(
            "torch._utils.{n} is not supported (a kind of tensor this crate cannot rebuild)"
        ))),
        _ => Ok(None),
    }
}

/// Rejects tensors saved with the conjugate or negative bit set (their stored values are
/// not their values).
fn check_metadata(meta: Option<Value<'_, '_>>) -> Result<()> {
    let Some(meta) = meta else { return Ok(()) };
    if let Some(items) = meta.items() {
        for (k, v) in items {
            if v.as_bool() == Some(true) {
                return Err(err(format!(
                    "tensors with the {:?} bit set are not supported",
                    k.as_str().unwrap_or("?")
                )));
            }
        }
    }
    Ok(())
}

fn storage_arg(
    graph: &Graph<'_>,
    v: Value<'_, '_>,
    storages: &HashMap<NodeId, Storage>,
) -> Result<Storage> {
    let _ = graph;
    v.node_id()
        .and_then(|id| storages.get(&id))
        .cloned()
        .ok_or_else(|| {
            err(format!(
                "a tensor's storage is missing: expected a storage persistent id, found {}",
                v.type_name()
            ))
        })
}

fn dtype_arg(v: Value<'_, '_>) -> Result<Dtype> {
    match global_of(v) {
        Some(("torch", n)) => {
            Dtype::from_name(n).ok_or_else(|| err(format!("unknown torch dtype torch.{n}")))
        }
        _ => Err(err(format!(
            "expected a torch dtype, found {}",
            v.type_name()
        ))),
    }
}

/// The ints of a size or stride: a tuple, or `torch.Size(tuple)`.
fn ints(v: Value<'_, '_>, what: &str) -> Result<Vec<i64>> {
    let v = match v.as_object() {
        Some(o) if global_of(v.graph().value(o.callable)) == Some(("torch", "Size")) => v
            .graph()
            .items(o.args)
            .first()
            .map(|s| v.graph().value(*s))
            .unwrap_or(v),
        _ => v,
    };
    let seq = v
        .seq()
        .ok_or_else(|| err(format!("tensor {what} is a {}, not a tuple", v.type_name())))?;
    seq.iter()
        .map(|s| {
            let x = v.graph().value(*s);
            x.as_i64().ok_or_else(|| {
                err(format!(
                    "tensor {what} holds {} (not an int that fits 64 bits)",
                    x.type_name()
                ))
            })
        })
        .collect()
}

fn make(
    storage: Storage,
    dtype: Dtype,
    off: Value<'_, '_>,
    size: Value<'_, '_>,
    stride: Value<'_, '_>,
    requires_grad: bool,
) -> Result<Tensor> {
    if dtype.is_quantized() {
        return Err(err(format!(
            "quantized tensors ({dtype}) are not supported"
        )));
    }
    let offset = off
        .as_i64()
        .ok_or_else(|| err(format!("storage offset is a {}", off.type_name())))?;
    Tensor::new(
        storage,
        dtype,
        offset,
        &ints(size, "size")?,
        &ints(stride, "stride")?,
        requires_grad,
    )
}
