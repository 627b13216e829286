//! [`Tensor`]: dtype, shape, strides and offset over a shared [`Storage`], validated when
//! built; values are read only when asked (`to_vec`, `as_slice`, `data_le`, `sha256`).
//!
//! This module knows nothing of archives or pickles.

use super::dtype::{ByteOrder, Dtype};
use super::element::{Element, Scalar};
use super::storage::{Bytes, Storage};
use crate::error::{Error, ErrorKind, Result};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::fmt::Write as _;

fn format_err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Format, msg)
}

/// A strided view of a [`Storage`]: what `torch.Tensor` is on the CPU. Building one
/// checks that every element it addresses lies inside the storage, so reading can never
/// go out of bounds.
///
/// ```
/// use serde_pickle_vm::array::{ByteOrder, Bytes, Dtype, Storage, Tensor};
/// let data: Vec<u8> = (0..6).flat_map(|i| (i as f32).to_le_bytes()).collect();
/// let storage = Storage::from_bytes("0", Dtype::F32, ByteOrder::Little, Bytes::new(data));
/// // A 2×3 matrix, and its transpose (a view of the same storage).
/// let m = Tensor::new(storage.clone(), Dtype::F32, 0, &[2, 3], &[3, 1], false).unwrap();
/// let t = Tensor::new(storage, Dtype::F32, 0, &[3, 2], &[1, 3], false).unwrap();
/// assert_eq!(m.to_vec::<f32>().unwrap(), [0., 1., 2., 3., 4., 5.]);
/// assert_eq!(t.to_vec::<f32>().unwrap(), [0., 3., 1., 4., 2., 5.]);
/// assert!(t.as_slice::<f32>().is_err()); // not contiguous
/// assert!(Tensor::new(m.storage().clone(), Dtype::F32, 1, &[6], &[1], false).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    dtype: Dtype,
    shape: Vec<usize>,
    strides: Vec<usize>,
    offset: usize,
    requires_grad: bool,
    storage: Storage,
}

impl Tensor {
    /// A tensor of `dtype` viewing `storage` from element `offset` with `shape` and
    /// `strides` (in elements, as torch counts them). Errors (kind
    /// [`Format`](ErrorKind::Format)) when ranks differ, a size, stride or offset is
    /// negative, the element count overflows, or an addressed element lies outside the
    /// storage.
    pub fn new(
        storage: Storage,
        dtype: Dtype,
        offset: i64,
        shape: &[i64],
        strides: &[i64],
        requires_grad: bool,
    ) -> Result<Tensor> {
        if shape.len() != strides.len() {
            return Err(format_err(format!(
                "tensor has {} sizes but {} strides",
                shape.len(),
                strides.len()
            )));
        }
        let offset = usize::try_from(offset)
            .map_err(|_| format_err(format!("negative storage offset {offset}")))?;
        let mut shp = Vec::with_capacity(shape.len());
        let mut str = Vec::with_capacity(shape.len());
        for (&n, &s) in shape.iter().zip(strides) {
            shp.push(usize::try_from(n).map_err(|_| format_err(format!("negative size {n}")))?);
            str.push(
                usize::try_from(s)
                    .map_err(|_| format_err(format!("negative stride {s} is not supported")))?,
            );
        }
        let overflow = || format_err(format!("tensor shape {shape:?} overflows"));
        let numel = shp
            .iter()
            .try_fold(1usize, |a, &n| a.checked_mul(n))
            .ok_or_else(overflow)?;
        numel.checked_mul(dtype.size()).ok_or_else(overflow)?;
        let size = dtype.size() as u64;
        let nbytes = storage.nbytes();
        let out_of_range = |what: String| {
            format_err(format!(
                "{what} is out of range of storage {:?} ({nbytes} bytes, {} elements of {dtype})",
                storage.key(),
                nbytes / size
            ))
        };
        if numel == 0 {
            if (offset as u128) * (size as u128) > nbytes as u128 {
                return Err(out_of_range(format!("storage offset {offset}")));
            }
        } else {
            // The last element addressed: offset + Σ (n_i - 1) · stride_i, in u128 so that
            // no product can overflow before it is compared.
            let mut last = offset as u128;
            for (&n, &s) in shp.iter().zip(&str) {
                last += (n as u128 - 1) * s as u128;
            }
            let end = (last + 1) * size as u128;
            if end > nbytes as u128 {
                return Err(out_of_range(format!(
                    "tensor of shape {shape:?}, strides {strides:?} and offset {offset} (up to byte {end})"
                )));
            }
        }
        Ok(Tensor {
            dtype,
            shape: shp,
            strides: str,
            offset,
            requires_grad,
            storage,
        })
    }

    /// The element type.
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// The size of each dimension (empty for a 0-d tensor).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The stride of each dimension, in elements.
    pub fn strides(&self) -> &[usize] {
        &self.strides
    }

    /// The offset of the first element in the storage, in elements.
    pub fn storage_offset(&self) -> usize {
        self.offset
    }

    /// Whether the tensor was saved with `requires_grad=True` (Parameters usually are).
    pub fn requires_grad(&self) -> bool {
        self.requires_grad
    }

    #[cfg_attr(not(feature = "torch"), allow(dead_code))]
    pub(crate) fn set_requires_grad(&mut self, value: bool) {
        self.requires_grad = value;
    }

    /// The storage this tensor views.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// The number of elements (1 for a 0-d tensor).
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// The number of bytes of the elements (`numel · dtype.size()`).
    pub fn nbytes(&self) -> usize {
        self.numel() * self.dtype.size()
    }

    /// `true` when the elements are laid out in row-major order without gaps.
    pub fn is_contiguous(&self) -> bool {
        let mut expected = 1usize;
        for (&n, &s) in self.shape.iter().zip(&self.strides).rev() {
            if n != 1 && s != expected {
                return self.numel() == 0;
            }
            expected *= n;
        }
        true
    }

    /// The byte range of the elements in the storage when contiguous.
    fn contiguous_range(&self) -> Option<(usize, usize)> {
        self.is_contiguous()
            .then(|| (self.offset * self.dtype.size(), self.nbytes()))
    }

    /// The elements in row-major (C) order, each in little-endian bytes: borrowed from
    /// the storage when already so, copied otherwise. This is what [`sha256`](Self::sha256)
    /// hashes and what safetensors stores.
    pub fn data_le(&self) -> Result<Cow<'_, [u8]>> {
        self.data_in(ByteOrder::Little)
    }

    /// The elements in row-major order in `order`, borrowed when possible.
    pub fn data_in(&self, order: ByteOrder) -> Result<Cow<'_, [u8]>> {
        let bytes = self.storage.bytes()?;
        let swap = self.storage.byte_order() != order && self.dtype.component_size() > 1;
        if let (Some((start, len)), false) = (self.contiguous_range(), swap) {
            return Ok(Cow::Borrowed(&bytes[start..start + len]));
        }
        let size = self.dtype.size();
        // A stride-0 view (torch's `expand`) of a few bytes may describe terabytes: ask,
        // and fail with an error rather than abort when the memory is not there.
        let mut out = Vec::new();
        out.try_reserve_exact(self.nbytes()).map_err(|_| {
            Error::new(
                ErrorKind::Limit,
                format!(
                    "tensor of shape {:?} needs {} bytes in row-major order, more than can be allocated",
                    self.shape,
                    self.nbytes()
                ),
            )
        })?;
        self.for_each_offset(|byte| out.extend_from_slice(&bytes[byte..byte + size]));
        if swap {
            let c = self.dtype.component_size();
            for chunk in out.chunks_exact_mut(c) {
                chunk.reverse();
            }
        }
        Ok(Cow::Owned(out))
    }

    /// Calls `f` with the byte offset in the storage of every element, in row-major order.
    fn for_each_offset(&self, mut f: impl FnMut(usize)) {
        let numel = self.numel();
        if numel == 0 {
            return;
        }
        let size = self.dtype.size();
        let rank = self.shape.len();
        let mut index = vec![0usize; rank];
        let mut pos = self.offset;
        for _ in 0..numel {
            f(pos * size);
            // Odometer increment from the last dimension.
            for d in (0..rank).rev() {
                index[d] += 1;
                pos += self.strides[d];
                if index[d] < self.shape[d] {
                    break;
                }
                pos -= self.strides[d] * self.shape[d];
                index[d] = 0;
            }
        }
    }

    fn check_type<T: Element>(&self) -> Result<()> {
        if T::DTYPE != self.dtype {
            return Err(Error::new(
                ErrorKind::Type,
                format!(
                    "tensor has dtype {}, not {} ({})",
                    self.dtype,
                    T::DTYPE,
                    std::any::type_name::<T>()
                ),
            ));
        }
        Ok(())
    }

    /// The elements in row-major order as `T`, which must match the dtype
    /// (`f32` for `float32`, `half::bf16` for `bfloat16`, `[f32; 2]` for `complex64`, …).
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        self.check_type::<T>()?;
        let data = self.data_in(ByteOrder::native())?;
        Ok(T::collect_native(&data))
    }

    /// The elements as a slice of the storage, without copying: only when the tensor is
    /// contiguous, stored in this machine's byte order and suitably aligned for `T`
    /// (otherwise an error; use [`to_vec`](Self::to_vec)).
    pub fn as_slice<T: Element>(&self) -> Result<&[T]> {
        self.check_type::<T>()?;
        let (start, len) = self
            .contiguous_range()
            .ok_or_else(|| Error::new(ErrorKind::Type, "tensor is not contiguous; use to_vec"))?;
        if self.storage.byte_order() != ByteOrder::native() && self.dtype.component_size() > 1 {
            return Err(Error::new(
                ErrorKind::Type,
                "tensor is stored in the other byte order; use to_vec",
            ));
        }
        let bytes = &self.storage.bytes()?[start..start + len];
        T::cast_slice(bytes).ok_or_else(|| {
            Error::new(
                ErrorKind::Type,
                "tensor data is not aligned for this type (or holds invalid values); use to_vec",
            )
        })
    }

    /// A contiguous copy in this machine's byte order with its own storage (the same
    /// tensor, cheaply, when it is already so).
    pub fn to_contiguous(&self) -> Result<Tensor> {
        let native = ByteOrder::native();
        if self.is_contiguous()
            && (self.storage.byte_order() == native || self.dtype.component_size() == 1)
        {
            return Ok(self.clone());
        }
        let data = self.data_in(native)?.into_owned();
        let storage = Storage::from_bytes(self.storage.key(), self.dtype, native, Bytes::new(data));
        let strides = contiguous_strides(&self.shape);
        Ok(Tensor {
            dtype: self.dtype,
            shape: self.shape.clone(),
            strides,
            offset: 0,
            requires_grad: self.requires_grad,
            storage,
        })
    }

    /// The lowercase hex SHA-256 of [`data_le`](Self::data_le): the `sha256` of the JSON
    /// rendering, comparable with `hashlib.sha256(t.contiguous().view(torch.uint8)...)`.
    pub fn sha256(&self) -> Result<String> {
        Ok(hex_digest(&self.data_le()?))
    }

    /// The element at row-major position `i`, decoded for display.
    pub fn scalar(&self, i: usize) -> Result<Scalar> {
        let data = self.data_le()?;
        let size = self.dtype.size();
        let b = data
            .get(i * size..(i + 1) * size)
            .ok_or_else(|| Error::new(ErrorKind::Type, format!("index {i} out of range")))?;
        Ok(Scalar::decode_le(self.dtype, b))
    }

    /// Writes the elements as a nested JSON array (numbers; `true`/`false` for bool;
    /// `[re, im]` for complex; `"nan"`, `"inf"`, `"-inf"` for non-finite floats).
    pub fn write_json_data(&self, out: &mut String) -> Result<()> {
        let data = self.data_le()?;
        write_nested(out, &self.shape, &data, self.dtype.size(), &|out, b| {
            write_scalar(out, Scalar::decode_le(self.dtype, b))
        });
        Ok(())
    }
}

#[cfg(feature = "ndarray")]
impl Tensor {
    /// The elements as an [`ndarray::ArrayD`] of the tensor's shape (a row-major copy;
    /// feature `ndarray`). `T` must match the dtype, as for [`to_vec`](Self::to_vec).
    ///
    /// ```
    /// use serde_pickle_vm::array::{ByteOrder, Bytes, Dtype, Storage, Tensor};
    /// let data: Vec<u8> = (0..6).flat_map(|i| (i as f32).to_le_bytes()).collect();
    /// let storage = Storage::from_bytes("0", Dtype::F32, ByteOrder::Little, Bytes::new(data));
    /// // The transpose of a 2×3 matrix.
    /// let t = Tensor::new(storage, Dtype::F32, 0, &[3, 2], &[1, 3], false).unwrap();
    /// let a = t.to_ndarray::<f32>().unwrap();
    /// assert_eq!(a.shape(), &[3, 2]);
    /// assert_eq!(a[[2, 1]], 5.0);
    /// ```
    pub fn to_ndarray<T: Element>(&self) -> Result<::ndarray::ArrayD<T>> {
        let data = self.to_vec::<T>()?;
        ::ndarray::ArrayD::from_shape_vec(::ndarray::IxDyn(&self.shape), data)
            .map_err(|e| Error::new(ErrorKind::Format, e.to_string()))
    }
}

/// Row-major strides for `shape`.
pub(crate) fn contiguous_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![0; shape.len()];
    let mut acc = 1usize;
    for (d, &n) in shape.iter().enumerate().rev() {
        strides[d] = acc;
        acc = acc.saturating_mul(n);
    }
    strides
}

pub(crate) fn hex_digest(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    let mut s = String::with_capacity(64);
    for b in digest {
        let _ = write!(s, "{b:02x}");
    }
    s
}

pub(crate) fn write_scalar(out: &mut String, s: Scalar) {
    match s {
        Scalar::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Scalar::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Scalar::Float(f) => write_float(out, f),
        Scalar::Complex(re, im) => {
            out.push('[');
            write_float(out, re);
            out.push(',');
            write_float(out, im);
            out.push(']');
        }
    }
}

fn write_float(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("\"nan\"");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "\"inf\"" } else { "\"-inf\"" });
    } else {
        out.push_str(&crate::pyrepr::float_repr(f));
    }
}

/// Writes `data` (row-major elements of `size` bytes) as nested arrays of `shape`.
pub(crate) fn write_nested(
    out: &mut String,
    shape: &[usize],
    data: &[u8],
    size: usize,
    elem: &dyn Fn(&mut String, &[u8]),
) {
    match shape.split_first() {
        None => elem(out, &data[..size.min(data.len())]),
        Some((&n, rest)) => {
            let inner: usize = rest.iter().product::<usize>() * size;
            out.push('[');
            for i in 0..n {
                if i > 0 {
                    out.push(',');
                }
                write_nested(out, rest, &data[i * inner..(i + 1) * inner], size, elem);
            }
            out.push(']');
        }
    }
}
