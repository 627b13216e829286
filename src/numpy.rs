//! numpy arrays and scalars found in a pickle: [`NdArray`] and [`NpScalar`], built by the
//! emulation pass (feature `numpy`) from `numpy.core.multiarray._reconstruct` (numpy 1.x)
//! / `numpy._core.multiarray._reconstruct` (2.x) with their state tuple, from
//! `_frombuffer` (protocol 5, in-band or out-of-band buffers) and from
//! `numpy.core.multiarray.scalar`.
//!
//! Numeric arrays share the tensor machinery ([`Tensor`]): dtype, byte order, strides.

use crate::error::Result;
use crate::torch::{ByteOrder, Bytes, Dtype, Scalar, Storage, Tensor};
use crate::value::Packed;

/// Memory order of an array's data buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Row-major (`order='C'`).
    C,
    /// Column-major (`order='F'`, `is_fortran`).
    F,
}

/// The elements of an [`NdArray`].
#[derive(Debug, Clone, PartialEq)]
pub enum NdData {
    /// A numeric dtype torch also has: a tensor view over the data buffer.
    Tensor(Tensor),
    /// Any other fixed-size dtype (strings, datetimes, records): the raw buffer and the
    /// item size.
    Raw {
        /// The data buffer, in the array's memory order.
        bytes: Vec<u8>,
        /// Bytes per element.
        itemsize: usize,
    },
    /// An object array (`dtype=object`): its elements, in the array's memory order.
    Objects(Vec<Packed>),
}

/// A numpy array from a pickle.
///
/// ```
/// # #[cfg(feature = "numpy")] {
/// // pickle.dumps(np.arange(3, dtype='<i2'), protocol=5), with the buffer in band.
/// # }
/// use serde_pickle_vm::numpy::{NdArray, Order};
/// let a = NdArray::from_bytes("<i2", vec![3], Order::C, 1i16.to_le_bytes().repeat(3)).unwrap();
/// assert_eq!(a.tensor().unwrap().to_vec::<i16>().unwrap(), [1, 1, 1]);
/// assert_eq!(a.descr(), "<i2");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NdArray {
    descr: String,
    shape: Vec<usize>,
    order: Order,
    data: NdData,
}

impl NdArray {
    /// The elements of an object array, to rewrite slots (see `Graph::into_owned`).
    pub(crate) fn slots_mut(&mut self) -> Option<&mut Vec<Packed>> {
        match &mut self.data {
            NdData::Objects(items) => Some(items),
            _ => None,
        }
    }

    /// An array of type `descr` (numpy's `dtype.str`, e.g. `"<f4"`) over `data` laid out
    /// in `order`. Errors when the buffer is shorter than the shape needs.
    pub fn from_bytes(
        descr: &str,
        shape: Vec<usize>,
        order: Order,
        data: Vec<u8>,
    ) -> Result<NdArray> {
        let itemsize = itemsize_of(descr).unwrap_or(1);
        let data = match Dtype::from_numpy_descr(descr) {
            Some((dtype, byte_order)) => {
                let strides = order_strides(&shape, order);
                let storage = Storage::from_bytes("ndarray", dtype, byte_order, Bytes::new(data));
                let shape_i: Vec<i64> = shape.iter().map(|&n| n as i64).collect();
                let strides_i: Vec<i64> = strides.iter().map(|&n| n as i64).collect();
                NdData::Tensor(Tensor::new(storage, dtype, 0, &shape_i, &strides_i, false)?)
            }
            None => {
                let needed = shape
                    .iter()
                    .try_fold(itemsize, |a, &n| a.checked_mul(n))
                    .unwrap_or(usize::MAX);
                if data.len() < needed {
                    return Err(crate::Error::new(
                        crate::ErrorKind::Format,
                        format!(
                            "numpy array buffer is {} bytes, shape {shape:?} of {descr} needs {needed}",
                            data.len()
                        ),
                    ));
                }
                NdData::Raw {
                    bytes: data,
                    itemsize,
                }
            }
        };
        Ok(NdArray {
            descr: descr.to_string(),
            shape,
            order,
            data,
        })
    }

    /// An object array (`dtype=object`) of `items` in `order`.
    pub fn from_objects(shape: Vec<usize>, order: Order, items: Vec<Packed>) -> NdArray {
        NdArray {
            descr: "|O".into(),
            shape,
            order,
            data: NdData::Objects(items),
        }
    }

    /// numpy's type string (`dtype.str`): `"<f4"`, `">i8"`, `"|b1"`, `"|O"`, `"<U3"`.
    pub fn descr(&self) -> &str {
        &self.descr
    }

    /// The shape (empty for a 0-d array).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The memory order the data was pickled in.
    pub fn order(&self) -> Order {
        self.order
    }

    /// The elements.
    pub fn data(&self) -> &NdData {
        &self.data
    }

    /// The tensor view of a numeric array (reads with `to_vec`, `as_slice`, …).
    pub fn tensor(&self) -> Option<&Tensor> {
        match &self.data {
            NdData::Tensor(t) => Some(t),
            _ => None,
        }
    }

    /// SHA-256 of the elements in C order, little-endian (raw item bytes for
    /// non-numeric dtypes); `None` for object arrays.
    pub fn sha256(&self) -> Option<Result<String>> {
        match &self.data {
            NdData::Tensor(t) => Some(t.sha256()),
            NdData::Raw { bytes, itemsize } => {
                Some(raw_view(bytes, *itemsize, &self.shape, self.order).and_then(|t| t.sha256()))
            }
            NdData::Objects(_) => None,
        }
    }

    /// The object elements in C order (for object arrays).
    pub fn items_c_order(&self) -> Option<Vec<Packed>> {
        let NdData::Objects(items) = &self.data else {
            return None;
        };
        if self.order == Order::C || self.shape.len() < 2 {
            return Some(items.clone());
        }
        let strides = order_strides(&self.shape, Order::F);
        let numel: usize = self.shape.iter().product();
        let mut out = Vec::with_capacity(numel);
        let mut index = vec![0usize; self.shape.len()];
        for _ in 0..numel {
            let pos: usize = index.iter().zip(&strides).map(|(i, s)| i * s).sum();
            out.push(items.get(pos).copied().unwrap_or(Packed::NONE));
            for d in (0..index.len()).rev() {
                index[d] += 1;
                if index[d] < self.shape[d] {
                    break;
                }
                index[d] = 0;
            }
        }
        Some(out)
    }
}

/// Raw items as a uint8 tensor with a trailing item dimension, for C-order gathering.
fn raw_view(bytes: &[u8], itemsize: usize, shape: &[usize], order: Order) -> Result<Tensor> {
    let mut full: Vec<usize> = shape.to_vec();
    full.push(itemsize);
    let mut strides: Vec<i64> = order_strides(shape, order)
        .iter()
        .map(|&s| (s * itemsize) as i64)
        .collect();
    strides.push(1);
    let storage = Storage::from_bytes(
        "ndarray",
        Dtype::U8,
        ByteOrder::Little,
        Bytes::new(bytes.to_vec()),
    );
    let shape_i: Vec<i64> = full.iter().map(|&n| n as i64).collect();
    Tensor::new(storage, Dtype::U8, 0, &shape_i, &strides, false)
}

fn order_strides(shape: &[usize], order: Order) -> Vec<usize> {
    match order {
        Order::C => crate::torch::contiguous_strides(shape),
        Order::F => {
            let mut strides = vec![0; shape.len()];
            let mut acc = 1usize;
            for (d, &n) in shape.iter().enumerate() {
                strides[d] = acc;
                acc = acc.saturating_mul(n);
            }
            strides
        }
    }
}

/// The item size of a numpy type string: from the dtype, or the digits after the code
/// (`U3` is 3 UCS-4 characters, `S5` 5 bytes, `V8` 8 bytes, `M8[ns]` 8 bytes).
fn itemsize_of(descr: &str) -> Option<usize> {
    if let Some((d, _)) = Dtype::from_numpy_descr(descr) {
        return Some(d.size());
    }
    let code = descr.trim_start_matches(['<', '>', '|', '=']);
    let kind = code.chars().next()?;
    let digits: String = code[1..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let n: usize = digits.parse().ok()?;
    Some(if kind == 'U' { n.checked_mul(4)? } else { n })
}

/// A numpy scalar (`np.float64(1.5)`) from a pickle.
///
/// ```
/// use serde_pickle_vm::numpy::NpScalar;
/// use serde_pickle_vm::torch::Scalar;
/// let s = NpScalar::from_bytes("<f8", &1.5f64.to_le_bytes());
/// assert_eq!(s.value(), Some(Scalar::Float(1.5)));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NpScalar {
    descr: String,
    raw: Vec<u8>,
    value: Option<Scalar>,
}

impl NpScalar {
    /// A scalar of type `descr` from its raw bytes.
    pub fn from_bytes(descr: &str, raw: &[u8]) -> NpScalar {
        let value = Dtype::from_numpy_descr(descr).and_then(|(dtype, order)| {
            let mut b = raw.get(..dtype.size())?.to_vec();
            if order == ByteOrder::Big {
                for c in b.chunks_exact_mut(dtype.component_size()) {
                    c.reverse();
                }
            }
            Some(Scalar::decode_le(dtype, &b))
        });
        NpScalar {
            descr: descr.to_string(),
            raw: raw.to_vec(),
            value,
        }
    }

    /// numpy's type string (`"<f8"`).
    pub fn descr(&self) -> &str {
        &self.descr
    }

    /// The value, for numeric dtypes.
    pub fn value(&self) -> Option<Scalar> {
        self.value
    }

    /// The raw bytes numpy pickled.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }
}

#[cfg(feature = "numpy")]
pub(crate) use emulate::emulate;

#[cfg(feature = "numpy")]
mod emulate {
    use super::{NdArray, NpScalar, Order};
    use crate::value::{Emulated, Graph, Node, NodeId, Slot, Value};

    /// Rewrites numpy arrays and scalars in creation order (a dtype and a data buffer are
    /// created before the array that uses them). Anything of an unexpected shape stays
    /// the generic object it was.
    pub(crate) fn emulate(graph: &mut Graph<'_>) {
        for i in 0..graph.node_count() {
            let id = NodeId(i as u32);
            let Node::Object(_) = graph.node(id) else {
                continue;
            };
            let v = graph.value(Slot::Node(id));
            if let Some(e) = recognise(v) {
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

    fn recognise(v: Value<'_, '_>) -> Option<Emulated> {
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
                array(&dtype_descr(dtype)?, shape, order, raw)
            }
            ("numpy.core.numeric" | "numpy._core.numeric", "_frombuffer") => {
                let [buf, dtype, shape, order] = args.as_slice() else {
                    return None;
                };
                let order = match order.as_str()? {
                    "F" => Order::F,
                    _ => Order::C,
                };
                array(&dtype_descr(*dtype)?, shape_of(*shape)?, order, *buf)
            }
            (m, "scalar") if is_multiarray(m) => {
                let (dtype, data) = match args.as_slice() {
                    [dtype, data] => (*dtype, *data),
                    _ => return None,
                };
                let descr = dtype_descr(dtype)?;
                if descr == "|O" {
                    return None;
                }
                Some(Emulated::NpScalar(Box::new(NpScalar::from_bytes(
                    &descr,
                    data.as_bytes()?,
                ))))
            }
            _ => None,
        }
    }

    fn array(descr: &str, shape: Vec<usize>, order: Order, raw: Value<'_, '_>) -> Option<Emulated> {
        if descr == "|O" {
            let items = raw.seq()?.to_vec();
            let numel: usize = shape.iter().product();
            if items.len() != numel {
                return None;
            }
            return Some(Emulated::NdArray(Box::new(NdArray::from_objects(
                shape, order, items,
            ))));
        }
        let bytes = raw.as_bytes()?.to_vec();
        NdArray::from_bytes(descr, shape, order, bytes)
            .ok()
            .map(|a| Emulated::NdArray(Box::new(a)))
    }

    fn shape_of(v: Value<'_, '_>) -> Option<Vec<usize>> {
        if let Some(n) = v.as_i64() {
            return usize::try_from(n).ok().map(|n| vec![n]);
        }
        v.iter()
            .map(|d| d.as_i64().and_then(|n| usize::try_from(n).ok()))
            .collect()
    }

    /// `numpy.dtype(code, False, True)` with BUILD state `(version, byteorder, …)` → the
    /// type string numpy's `dtype.str` gives (`"<f8"`, `"|b1"`, `"|O"`).
    fn dtype_descr(v: Value<'_, '_>) -> Option<String> {
        let obj = v.as_object()?;
        let g = v.graph();
        let (module, name) = global(g.value(obj.callable))?;
        if module != "numpy" || name != "dtype" {
            return None;
        }
        let code = g.value(*g.items(obj.args).first()?).as_str()?.to_string();
        let order = obj
            .state
            .and_then(|s| g.value(s).get(1usize))
            .and_then(|o| o.as_str().map(str::to_string))
            .unwrap_or_else(|| "|".into());
        if code.starts_with('O') {
            return Some("|O".into());
        }
        let order = match order.as_str() {
            "<" | ">" | "|" => order,
            _ => if cfg!(target_endian = "big") {
                ">"
            } else {
                "<"
            }
            .to_string(),
        };
        // One-byte types are written with '|' whatever the state says.
        let single = matches!(code.as_str(), "b1" | "u1" | "i1" | "?" | "B" | "b")
            || code.starts_with('S')
            || code.starts_with('V');
        Some(format!(
            "{}{}",
            if single { "|" } else { order.as_str() },
            code
        ))
    }
}
