//! numpy arrays and scalars found in a pickle, built by the emulation pass (feature
//! `numpy`) from `numpy.core.multiarray._reconstruct` (numpy 1.x) /
//! `numpy._core.multiarray._reconstruct` (2.x) with their state tuple, from
//! `_frombuffer` (protocol 5, in-band or out-of-band buffers) and from
//! `numpy.core.multiarray.scalar`; dtypes in full from `numpy.dtype` with its state
//! (byte order, datetime unit, record fields, sub-arrays).
//!
//! The types themselves ([`NdArray`], [`NpDtype`], [`NpScalar`]) live in
//! [`array`](crate::array), shared with torch; they are re-exported here.

pub use crate::array::{Field, Item, NdArray, NpDtype, NpKind, NpScalar, Order, TimeUnit};

#[cfg(feature = "numpy")]
pub(crate) use emulate::{dtype_of, emulate};

#[cfg(feature = "numpy")]
pub(crate) mod joblib;
#[cfg(feature = "numpy")]
mod literal;
#[cfg(feature = "numpy")]
pub mod npy;
#[cfg(feature = "npz")]
pub(crate) mod npz;

#[cfg(feature = "numpy")]
mod emulate {
    use super::{Field, NdArray, NpDtype, NpKind, NpScalar, Order, TimeUnit};
    use crate::array::{ByteOrder, Bytes};
    use crate::value::{Emulated, Graph, Node, NodeId, Slot, Value};

    /// Rewrites numpy arrays and scalars in creation order (a dtype and a data buffer are
    /// created before the array that uses them). Anything of an unexpected shape stays
    /// the generic object it was.
    pub(crate) fn emulate(graph: &mut Graph<'_>, input: Option<&Bytes>) {
        for i in 0..graph.node_count() {
            let id = NodeId(i as u32);
            let Node::Object(_) = graph.node(id) else {
                continue;
            };
            let v = graph.value(Slot::Node(id));
            if let Some(e) = recognise(v, input) {
                *graph.node_mut(id) = Node::Emulated(Box::new(e));
            }
        }
    }

    fn global<'g>(v: Value<'g, '_>) -> Option<(&'g str, &'g str)> {
        let g = v.as_global()?;
        Some((&g.module, &g.name))
    }

    fn is_multiarray(module: &str) -> bool {
        matches!(module, "numpy.core.multiarray" | "numpy._core.multiarray")
    }

    fn recognise(v: Value<'_, '_>, input: Option<&Bytes>) -> Option<Emulated> {
        let obj = v.as_object()?;
        let g = v.graph();
        let (module, name) = global(g.value(obj.callable))?;
        // Every object of the graph passes here: leave the others before any work.
        if !module.starts_with("numpy") {
            return None;
        }
        let args: Vec<Value<'_, '_>> = g.items(obj.args).iter().map(|s| g.value(*s)).collect();
        match (module, name) {
            (m, "_reconstruct") if is_multiarray(m) => {
                let state = g.value(obj.state?);
                let st = state.seq()?;
                // (version, shape, dtype, is_fortran, rawdata); version 0 lacks `version`.
                let st: Vec<Value<'_, '_>> = st.iter().map(|s| g.value(*s)).collect();
                let (shape, dtype, fortran, raw) = match st.as_slice() {
                    [_, shape, dtype, fortran, raw] => (*shape, *dtype, *fortran, *raw),
                    [shape, dtype, fortran, raw] => (*shape, *dtype, *fortran, *raw),
                    _ => return None,
                };
                let shape = shape_of(shape)?;
                let order = if fortran.as_bool()? {
                    Order::F
                } else {
                    Order::C
                };
                array(dtype_of(dtype, 0)?, shape, order, raw, input)
            }
            ("numpy.core.numeric" | "numpy._core.numeric", "_frombuffer") => {
                let [buf, dtype, shape, order] = args.as_slice() else {
                    return None;
                };
                let order = match order.as_str()? {
                    "F" => Order::F,
                    _ => Order::C,
                };
                array(dtype_of(*dtype, 0)?, shape_of(*shape)?, order, *buf, input)
            }
            (m, "scalar") if is_multiarray(m) => {
                let (dtype, data) = match args.as_slice() {
                    [dtype, data] => (*dtype, *data),
                    _ => return None,
                };
                let dtype = dtype_of(dtype, 0)?;
                if *dtype.kind() == NpKind::Object {
                    return None;
                }
                Some(Emulated::NpScalar(Box::new(NpScalar::new(
                    dtype,
                    data.as_bytes()?,
                ))))
            }
            _ => None,
        }
    }

    fn array(
        dtype: NpDtype,
        shape: Vec<usize>,
        order: Order,
        raw: Value<'_, '_>,
        input: Option<&Bytes>,
    ) -> Option<Emulated> {
        if *dtype.kind() == NpKind::Object {
            let items = match raw.node()? {
                Node::List(x) | Node::Tuple(x) => *x,
                _ => return None,
            };
            let numel = shape.iter().try_fold(1usize, |a, &n| a.checked_mul(n))?;
            if items.len() != numel {
                return None;
            }
            return Some(Emulated::ObjectArray {
                shape,
                order,
                items,
            });
        }
        let raw = raw.as_bytes()?;
        let bytes = shared(raw, input).unwrap_or_else(|| Bytes::new(raw.to_vec()));
        NdArray::new(dtype, shape, order, bytes)
            .ok()
            .map(|a| Emulated::NdArray(Box::new(a)))
    }

    /// `raw` as a view of the loaded input when it lies inside it (a slice load from a
    /// file's bytes: the array shares them, no copy).
    fn shared(raw: &[u8], input: Option<&Bytes>) -> Option<Bytes> {
        let input = input?;
        let base = input.as_ptr() as usize;
        let at = (raw.as_ptr() as usize).checked_sub(base)?;
        if at.checked_add(raw.len())? > input.len() {
            return None;
        }
        input.slice(at, raw.len())
    }

    /// The text of `_codecs.encode(text, 'latin1')`: how protocols 0–2 pickle bytes, as
    /// the VM records it before the emulation pass (joblib's hook reads dtypes then).
    fn encoded_text<'g>(v: Value<'g, '_>) -> Option<&'g str> {
        let obj = v.as_object()?;
        let g = v.graph();
        let (module, name) = global(g.value(obj.callable))?;
        if module != "_codecs" || name != "encode" {
            return None;
        }
        let text = g.value(*g.items(obj.args).first()?).as_str()?;
        text.is_ascii().then_some(text)
    }

    fn shape_of(v: Value<'_, '_>) -> Option<Vec<usize>> {
        if let Some(n) = v.as_i64() {
            return usize::try_from(n).ok().map(|n| vec![n]);
        }
        v.iter()
            .map(|d| d.as_i64().and_then(|n| usize::try_from(n).ok()))
            .collect()
    }

    /// Nesting of record and sub-array dtypes followed (a pickle can make a dtype its
    /// own field).
    const MAX_DTYPE_DEPTH: usize = 32;

    /// `numpy.dtype(code, False, True)` with BUILD state `(version, byteorder, subarray,
    /// names, fields, elsize, alignment, flags[, metadata])` → the dtype numpy rebuilds.
    pub(crate) fn dtype_of(v: Value<'_, '_>, depth: usize) -> Option<NpDtype> {
        if depth > MAX_DTYPE_DEPTH {
            return None;
        }
        let obj = v.as_object()?;
        let g = v.graph();
        let (module, name) = global(g.value(obj.callable))?;
        if module != "numpy" || name != "dtype" {
            return None;
        }
        let code = g.value(*g.items(obj.args).first()?).as_str()?;
        let state: Vec<Value<'_, '_>> = match obj.state {
            Some(s) => g.value(s).iter().collect(),
            None => Vec::new(),
        };
        let at = |i: usize| state.get(i).copied().filter(|v| !v.is_none());
        let order = match at(1).and_then(|o| o.as_str()) {
            Some(">") => ByteOrder::Big,
            Some("<") => ByteOrder::Little,
            _ => ByteOrder::native(),
        };
        let with_order = |d: NpDtype| -> Option<NpDtype> {
            let prefix = match order {
                ByteOrder::Big => '>',
                ByteOrder::Little => '<',
            };
            NpDtype::parse(&format!("{prefix}{}", d.str().get(1..)?))
        };
        // Sub-array: (base dtype, shape).
        if let Some(sub) = at(2) {
            let parts: Vec<Value<'_, '_>> = sub.iter().collect();
            let [base, shape] = parts.as_slice() else {
                return None;
            };
            return NpDtype::subarray_of(dtype_of(*base, depth + 1)?, shape_of(*shape)?);
        }
        // Records: names in order, fields {name: (dtype, offset[, title])}.
        if let (Some(names), Some(fields)) = (at(3), at(4)) {
            let itemsize = usize::try_from(at(5)?.as_i64()?).ok()?;
            let mut out = Vec::new();
            for n in names.iter() {
                let name = n.as_str()?;
                let f: Vec<Value<'_, '_>> = fields.get(name)?.iter().collect();
                let (dtype, offset) = (f.first()?, f.get(1)?);
                out.push(Field {
                    name: name.to_string(),
                    dtype: dtype_of(*dtype, depth + 1)?,
                    offset: usize::try_from(offset.as_i64()?).ok()?,
                    title: f.get(2).and_then(|t| t.as_str()).map(str::to_string),
                });
            }
            return NpDtype::record(out, itemsize);
        }
        let parsed = NpDtype::parse(code)?;
        match parsed.kind() {
            NpKind::DateTime(_) | NpKind::TimeDelta(_) => {
                // metadata: (None | dict, (unit, num, den, events)).
                let unit = at(8)
                    .and_then(|m| m.get(1usize))
                    .and_then(|u| {
                        let name = u.get(0usize)?;
                        let name = name
                            .as_bytes()
                            .and_then(|b| std::str::from_utf8(b).ok())
                            .or_else(|| name.as_str())
                            .or_else(|| encoded_text(name))?;
                        let count = u.get(1usize).and_then(|c| c.as_i64()).unwrap_or(1);
                        TimeUnit::parse(&format!(
                            "{}{name}",
                            if count == 1 {
                                String::new()
                            } else {
                                count.to_string()
                            }
                        ))
                    })
                    .unwrap_or_else(|| TimeUnit::parse("generic").expect("generic is a unit"));
                let kind = if matches!(parsed.kind(), NpKind::DateTime(_)) {
                    NpKind::DateTime(unit)
                } else {
                    NpKind::TimeDelta(unit)
                };
                NpDtype::new(kind, order, 8)
            }
            NpKind::Str | NpKind::Void | NpKind::Bytes => {
                // `U0`/`S0`/`V0` codes take their size from the state's elsize.
                let size = at(5).and_then(|e| e.as_i64()).filter(|&e| e > 0);
                match (parsed.itemsize(), size) {
                    (0, Some(e)) => {
                        NpDtype::new(parsed.kind().clone(), order, usize::try_from(e).ok()?)
                    }
                    _ => with_order(parsed),
                }
            }
            _ => with_order(parsed),
        }
    }
}
