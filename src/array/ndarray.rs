//! [`NdArray`]: a numpy array of any fixed-size dtype (numbers, strings, bytes, datetimes,
//! records) over shared bytes, and [`NpScalar`]; [`Item`], one element decoded.
//!
//! Numeric arrays carry a [`Tensor`] view of the same bytes, so a numpy array reads like a
//! torch tensor (`to_vec`, `as_slice`, `TensorOf<T>`). Arrays of Python objects hold graph
//! values and so live in the graph (`Emulated::ObjectArray`), not here.
//!
//! This module knows nothing of pickles or files.

use super::dtype::ByteOrder;
use super::element::Scalar;
use super::npdtype::{NpDtype, NpKind, TimeUnit};
use super::storage::{Bytes, Storage};
use super::tensor::{contiguous_strides, hex_digest, Tensor};
use crate::error::{Error, ErrorKind, Result};
use std::borrow::Cow;

/// Memory order of an array's data buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Row-major (`order='C'`).
    C,
    /// Column-major (`order='F'`, `fortran_order`).
    F,
}

impl Order {
    /// Element strides of `shape` in this order.
    pub fn strides(self, shape: &[usize]) -> Vec<usize> {
        match self {
            Order::C => contiguous_strides(shape),
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
}

fn format_err(msg: String) -> Error {
    Error::new(ErrorKind::Format, msg)
}

/// A numpy array: dtype, shape and memory order over a shared byte buffer (in memory, or
/// a slice of a memory-mapped `.npy` file).
///
/// ```
/// use serde_pickle_vm::array::{Bytes, NdArray, NpDtype, Order};
/// // np.asfortranarray(np.arange(6, dtype='<i2').reshape(2, 3))
/// let data: Vec<u8> = [0i16, 3, 1, 4, 2, 5].iter().flat_map(|v| v.to_le_bytes()).collect();
/// let a = NdArray::new(NpDtype::parse("<i2").unwrap(), vec![2, 3], Order::F, Bytes::new(data)).unwrap();
/// assert_eq!(a.descr(), "<i2");
/// // Logical (C) order, whatever the memory order:
/// assert_eq!(a.tensor().unwrap().to_vec::<i16>().unwrap(), [0, 1, 2, 3, 4, 5]);
/// assert_eq!(a.to_string(), "numpy int16 array of shape [2, 3]");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NdArray {
    dtype: NpDtype,
    descr: String,
    shape: Vec<usize>,
    order: Order,
    bytes: Bytes,
    tensor: Option<Tensor>,
}

impl NdArray {
    /// An array of `dtype` and `shape` whose elements are `bytes` laid out in `order`.
    /// Errors when the buffer is shorter than the shape needs (a longer one is cut), when
    /// the size overflows, or for object dtypes (their elements are Python values).
    pub fn new(dtype: NpDtype, shape: Vec<usize>, order: Order, bytes: Bytes) -> Result<NdArray> {
        if *dtype.kind() == NpKind::Object {
            return Err(format_err(
                "an object array holds Python values, not bytes".to_string(),
            ));
        }
        let descr = dtype.str();
        // The element count must fit too (as numpy's `npy_intp`), even for zero-size
        // items whose bytes do not grow with it.
        let numel = shape
            .iter()
            .try_fold(1usize, |a, &n| a.checked_mul(n))
            .filter(|&n| n <= isize::MAX as usize);
        let needed = numel
            .and_then(|n| n.checked_mul(dtype.itemsize()))
            .ok_or_else(|| {
                format_err(format!(
                    "numpy array of shape {shape:?} and dtype {descr} overflows"
                ))
            })?;
        if bytes.len() < needed {
            return Err(format_err(format!(
                "numpy array data is {} bytes, but shape {shape:?} of {descr} needs {needed}",
                bytes.len()
            )));
        }
        let bytes = bytes.slice(0, needed).unwrap_or(bytes);
        let tensor = match dtype.tensor_dtype() {
            Some(t) => {
                let storage = Storage::from_bytes("ndarray", t, dtype.byte_order(), bytes.clone());
                let shape_i: Vec<i64> = shape.iter().map(|&n| n as i64).collect();
                let strides: Vec<i64> = order.strides(&shape).iter().map(|&s| s as i64).collect();
                Some(Tensor::new(storage, t, 0, &shape_i, &strides, false)?)
            }
            None => None,
        };
        Ok(NdArray {
            dtype,
            descr,
            shape,
            order,
            bytes,
            tensor,
        })
    }

    /// An array of type `descr` (numpy's `dtype.str`, e.g. `"<f4"`, `"<M8[ns]"`) over
    /// `data`; see [`new`](Self::new).
    ///
    /// ```
    /// use serde_pickle_vm::array::{NdArray, Order};
    /// let a = NdArray::from_bytes("<i2", vec![3], Order::C, 1i16.to_le_bytes().repeat(3)).unwrap();
    /// assert_eq!(a.tensor().unwrap().to_vec::<i16>().unwrap(), [1, 1, 1]);
    /// ```
    pub fn from_bytes(
        descr: &str,
        shape: Vec<usize>,
        order: Order,
        data: Vec<u8>,
    ) -> Result<NdArray> {
        let dtype = NpDtype::parse(descr)
            .ok_or_else(|| format_err(format!("unknown numpy dtype {descr:?}")))?;
        NdArray::new(dtype, shape, order, Bytes::new(data))
    }

    /// The dtype.
    pub fn dtype(&self) -> &NpDtype {
        &self.dtype
    }

    /// numpy's type string (`dtype.str`): `"<f4"`, `">i8"`, `"|b1"`, `"<U3"`, `"<M8[ns]"`.
    pub fn descr(&self) -> &str {
        &self.descr
    }

    /// The shape (empty for a 0-d array).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of elements (1 for a 0-d array).
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// The memory order of the data.
    pub fn order(&self) -> Order {
        self.order
    }

    /// The data buffer in memory order, `numel · itemsize` bytes.
    pub fn raw_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The data buffer as a shared handle.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The tensor view of a numeric or bool array (reads with `to_vec`, `as_slice`, …);
    /// `None` for strings, datetimes, records and long doubles.
    pub fn tensor(&self) -> Option<&Tensor> {
        self.tensor.as_ref()
    }

    /// The elements' bytes in logical (C) order, each `itemsize` bytes in the stored byte
    /// order: borrowed for C-order (and 0- or 1-d) arrays, gathered otherwise.
    pub fn items_c_order(&self) -> Result<Cow<'_, [u8]>> {
        let size = self.dtype.itemsize();
        if self.order == Order::C || self.shape.iter().filter(|&&n| n > 1).count() < 2 || size == 0
        {
            return Ok(Cow::Borrowed(&self.bytes));
        }
        let mut out = Vec::new();
        out.try_reserve_exact(self.bytes.len())
            .map_err(|_| Error::new(ErrorKind::Limit, "numpy array too large to reorder"))?;
        let strides = self.order.strides(&self.shape);
        let rank = self.shape.len();
        let mut index = vec![0usize; rank];
        let mut pos = 0usize;
        for _ in 0..self.numel() {
            out.extend_from_slice(&self.bytes[pos * size..(pos + 1) * size]);
            for d in (0..rank).rev() {
                index[d] += 1;
                pos += strides[d];
                if index[d] < self.shape[d] {
                    break;
                }
                pos -= strides[d] * self.shape[d];
                index[d] = 0;
            }
        }
        Ok(Cow::Owned(out))
    }

    /// The element at logical (C-order) position `i`, decoded.
    pub fn item(&self, i: usize) -> Option<Item<'_>> {
        if i >= self.numel() {
            return None;
        }
        let strides = self.order.strides(&self.shape);
        let mut rest = i;
        let mut pos = 0;
        for d in (0..self.shape.len()).rev() {
            let n = self.shape[d].max(1);
            pos += (rest % n) * strides[d];
            rest /= n;
        }
        let size = self.dtype.itemsize();
        Some(self.dtype.decode(&self.bytes[pos * size..(pos + 1) * size]))
    }

    /// The lowercase hex SHA-256 of the elements in C order, every number (and each
    /// field of a record, each UCS-4 code unit) little-endian: comparable with numpy's
    /// `hashlib.sha256(np.ascontiguousarray(a).astype(a.dtype.newbyteorder('<')).tobytes())`.
    pub fn sha256(&self) -> Result<String> {
        let items = self.items_c_order()?;
        if !needs_swap(&self.dtype) {
            return Ok(hex_digest(&items));
        }
        let mut le = items.into_owned();
        let size = self.dtype.itemsize();
        if size > 0 {
            for item in le.chunks_exact_mut(size) {
                to_little_endian(&self.dtype, item);
            }
        }
        Ok(hex_digest(&le))
    }
}

#[cfg(feature = "ndarray")]
impl NdArray {
    /// The elements of a numeric or bool array as an [`ndarray::ArrayD`] in logical
    /// order, whatever the memory order and byte order (feature `ndarray`). `T` must
    /// match the dtype (`f32` for `float32`, …); other dtypes (strings, records,
    /// datetimes) are an error: deserialize those through serde.
    ///
    /// ```
    /// use serde_pickle_vm::array::{NdArray, Order};
    /// // np.asfortranarray(np.arange(6, dtype='>i2').reshape(2, 3))
    /// let data: Vec<u8> = [0i16, 3, 1, 4, 2, 5].iter().flat_map(|v| v.to_be_bytes()).collect();
    /// let a = NdArray::from_bytes(">i2", vec![2, 3], Order::F, data).unwrap();
    /// let m = a.to_ndarray::<i16>().unwrap();
    /// assert_eq!(m.shape(), &[2, 3]);
    /// assert_eq!(m[[1, 0]], 3);
    /// ```
    pub fn to_ndarray<T: super::Element>(&self) -> Result<::ndarray::ArrayD<T>> {
        match &self.tensor {
            Some(t) => t.to_ndarray(),
            None => Err(Error::new(
                ErrorKind::Type,
                format!("{self} has no numeric elements: deserialize it through serde"),
            )),
        }
    }
}

impl std::fmt::Display for NdArray {
    /// `numpy float32 array of shape [3, 4]`, as error messages name it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "numpy {} array of shape {:?}",
            self.dtype.name(),
            self.shape
        )
    }
}

/// Whether any part of an element of `dtype` is stored big-endian.
fn needs_swap(dtype: &NpDtype) -> bool {
    if let Some((base, _)) = dtype.subarray() {
        return needs_swap(base);
    }
    if dtype.is_record() {
        return dtype.fields().iter().any(|f| needs_swap(&f.dtype));
    }
    dtype.byte_order() == ByteOrder::Big && dtype.component_size() > 1
}

/// Rewrites one element of `dtype` in place to little-endian.
fn to_little_endian(dtype: &NpDtype, item: &mut [u8]) {
    if let Some((base, _)) = dtype.subarray() {
        let size = base.itemsize();
        if size > 0 {
            for sub in item.chunks_exact_mut(size) {
                to_little_endian(base, sub);
            }
        }
        return;
    }
    if dtype.is_record() {
        for f in dtype.fields() {
            if let Some(sub) = item.get_mut(f.offset..f.offset + f.dtype.itemsize()) {
                to_little_endian(&f.dtype, sub);
            }
        }
        return;
    }
    if dtype.byte_order() == ByteOrder::Big {
        let c = dtype.component_size();
        if c > 1 {
            for chunk in item.chunks_exact_mut(c) {
                chunk.reverse();
            }
        }
    }
}

/// One element of a numpy array, decoded from its bytes ([`NpDtype::decode`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Item<'a> {
    /// A bool.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
    /// A float (float16 and float32 widened exactly).
    Float(f64),
    /// A complex number.
    Complex(f64, f64),
    /// A `U` string (trailing NULs stripped, as numpy does); lone surrogates and
    /// values beyond U+10FFFF are replaced by U+FFFD.
    Str(String),
    /// An `S` value (trailing NULs stripped, as numpy does).
    Bytes(&'a [u8]),
    /// A `datetime64` count of `unit`s since the epoch (`i64::MIN` is NaT).
    DateTime(i64, &'a TimeUnit),
    /// A `timedelta64` count of `unit`s (`i64::MIN` is NaT).
    TimeDelta(i64, &'a TimeUnit),
    /// A record: its bytes, read field by field through [`NpDtype::fields`].
    Record(&'a NpDtype, &'a [u8]),
    /// A sub-array element: `shape` elements of `base` in C order.
    SubArray(&'a NpDtype, &'a [usize], &'a [u8]),
    /// Raw bytes (`V` without fields), or a type this crate does not decode (long double).
    Raw(&'a [u8]),
}

impl NpDtype {
    /// Decodes one element from its `itemsize` bytes (shorter input decodes as `Raw`).
    ///
    /// ```
    /// use serde_pickle_vm::array::{Item, NpDtype};
    /// let d = NpDtype::parse(">i4").unwrap();
    /// assert_eq!(d.decode(&[0, 0, 1, 0]), Item::Int(256));
    /// let u = NpDtype::parse("<U2").unwrap();
    /// assert_eq!(u.decode(&[104, 0, 0, 0, 0, 0, 0, 0]), Item::Str("h".into()));
    /// ```
    pub fn decode<'a>(&'a self, b: &'a [u8]) -> Item<'a> {
        if b.len() < self.itemsize() {
            return Item::Raw(b);
        }
        let b = &b[..self.itemsize()];
        if let Some((base, shape)) = self.subarray() {
            return Item::SubArray(base, shape, b);
        }
        if self.is_record() {
            return Item::Record(self, b);
        }
        let big = self.byte_order() == ByteOrder::Big;
        let word = |b: &[u8]| -> u64 {
            let mut v = 0u64;
            if big {
                for &x in b {
                    v = (v << 8) | x as u64;
                }
            } else {
                for &x in b.iter().rev() {
                    v = (v << 8) | x as u64;
                }
            }
            v
        };
        let float = |b: &[u8]| -> Option<f64> {
            let w = word(b);
            Some(match b.len() {
                2 => {
                    let le = (w as u16).to_le_bytes();
                    match Scalar::decode_le(super::Dtype::F16, &le) {
                        Scalar::Float(f) => f,
                        _ => return None,
                    }
                }
                4 => f32::from_bits(w as u32) as f64,
                8 => f64::from_bits(w),
                _ => return None,
            })
        };
        let n = self.itemsize();
        match self.kind() {
            NpKind::Bool => Item::Bool(b[0] != 0),
            NpKind::Int => {
                let w = word(b);
                let shift = 64 - 8 * n as u32;
                Item::Int(((w << shift) as i64) >> shift)
            }
            NpKind::UInt => Item::UInt(word(b)),
            NpKind::Float => match float(b) {
                Some(f) => Item::Float(f),
                None => Item::Raw(b),
            },
            NpKind::Complex => match (float(&b[..n / 2]), float(&b[n / 2..])) {
                (Some(re), Some(im)) => Item::Complex(re, im),
                _ => Item::Raw(b),
            },
            NpKind::Str => {
                let mut s = String::new();
                for unit in b.chunks_exact(4) {
                    let c = word(unit) as u32;
                    s.push(char::from_u32(c).unwrap_or('\u{fffd}'));
                }
                let keep = s.trim_end_matches('\0').len();
                s.truncate(keep);
                Item::Str(s)
            }
            NpKind::Bytes => {
                let end = b.iter().rposition(|&x| x != 0).map_or(0, |i| i + 1);
                Item::Bytes(&b[..end])
            }
            NpKind::DateTime(u) => Item::DateTime(word(b) as i64, u),
            NpKind::TimeDelta(u) => Item::TimeDelta(word(b) as i64, u),
            NpKind::Void | NpKind::Object => Item::Raw(b),
        }
    }
}

/// A numpy scalar (`np.float64(1.5)`, `np.str_('a')`, `np.datetime64(…)`) from a pickle.
///
/// ```
/// use serde_pickle_vm::array::{Item, NpScalar, Scalar};
/// let s = NpScalar::from_bytes("<f8", &1.5f64.to_le_bytes());
/// assert_eq!(s.value(), Some(Scalar::Float(1.5)));
/// assert_eq!(s.item(), Item::Float(1.5));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NpScalar {
    dtype: NpDtype,
    descr: String,
    raw: Vec<u8>,
    value: Option<Scalar>,
}

impl NpScalar {
    /// A scalar of type `descr` from its raw bytes (a dtype numpy lacks is kept as raw
    /// bytes of void type).
    pub fn from_bytes(descr: &str, raw: &[u8]) -> NpScalar {
        let dtype = NpDtype::parse(descr)
            .filter(|d| *d.kind() != NpKind::Object)
            .unwrap_or_else(|| {
                NpDtype::new(NpKind::Void, ByteOrder::native(), raw.len())
                    .expect("void of any size")
            });
        NpScalar::new(dtype, raw)
    }

    /// A scalar of `dtype` from its raw bytes.
    pub fn new(dtype: NpDtype, raw: &[u8]) -> NpScalar {
        let value = dtype.tensor_dtype().and_then(|t| {
            let mut b = raw.get(..t.size())?.to_vec();
            if dtype.byte_order() == ByteOrder::Big {
                for c in b.chunks_exact_mut(t.component_size()) {
                    c.reverse();
                }
            }
            Some(Scalar::decode_le(t, &b))
        });
        NpScalar {
            descr: dtype.str(),
            dtype,
            raw: raw.to_vec(),
            value,
        }
    }

    /// The dtype.
    pub fn dtype(&self) -> &NpDtype {
        &self.dtype
    }

    /// numpy's type string (`"<f8"`).
    pub fn descr(&self) -> &str {
        &self.descr
    }

    /// The value, for numeric dtypes.
    pub fn value(&self) -> Option<Scalar> {
        self.value
    }

    /// The value decoded, for every dtype.
    pub fn item(&self) -> Item<'_> {
        self.dtype.decode(&self.raw)
    }

    /// The raw bytes numpy pickled.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }
}
