//! [`Storage`]: the flat bytes behind one or more tensors, shared (reference counted)
//! between every tensor that views it, and loaded lazily when it comes from a compressed
//! archive entry or a reader.
//!
//! This module knows nothing of pickles; archives build storages, tensors view them.

use super::dtype::{ByteOrder, Dtype};
use crate::error::{Error, ErrorKind, Result};
use std::fmt;
use std::sync::{Arc, OnceLock};

/// A cheaply clonable, immutable byte buffer: a range of something reference counted
/// (a memory map, a `Vec<u8>`, a whole file read into memory).
#[derive(Clone)]
pub struct Bytes {
    owner: Arc<dyn AsRef<[u8]> + Send + Sync>,
    start: usize,
    len: usize,
}

impl Bytes {
    /// Wraps an owner of bytes (a `Vec<u8>`, a memory map, …) without copying.
    ///
    /// ```
    /// use serde_pickle_vm::array::Bytes;
    /// let b = Bytes::new(vec![1u8, 2, 3]);
    /// assert_eq!(b.slice(1, 2).unwrap().as_ref(), &[2, 3]);
    /// ```
    pub fn new<T: AsRef<[u8]> + Send + Sync + 'static>(owner: T) -> Bytes {
        let len = owner.as_ref().len();
        Bytes {
            owner: Arc::new(owner),
            start: 0,
            len,
        }
    }

    /// The sub-range `start..start + len`, sharing the owner; `None` when out of range.
    pub fn slice(&self, start: usize, len: usize) -> Option<Bytes> {
        let end = start.checked_add(len)?;
        (end <= self.len).then(|| Bytes {
            owner: self.owner.clone(),
            start: self.start + start,
            len,
        })
    }

    /// The number of bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &(*self.owner).as_ref()[self.start..self.start + self.len]
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_ref()
    }
}

impl PartialEq for Bytes {
    /// Equal contents.
    fn eq(&self, other: &Bytes) -> bool {
        self.as_ref() == other.as_ref()
    }
}

impl Eq for Bytes {}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({} bytes)", self.len)
    }
}

type Loader = Box<dyn Fn() -> Result<Bytes> + Send + Sync>;

enum Data {
    Ready(Bytes),
    Lazy {
        loader: Loader,
        cell: OnceLock<Bytes>,
    },
}

struct Inner {
    key: String,
    dtype: Dtype,
    nbytes: u64,
    byte_order: ByteOrder,
    data: Data,
}

/// The bytes behind tensors: a key (the archive's name for it), the dtype it was saved
/// with, its length and byte order. Cloning shares it; tensors that view the same storage
/// hold clones of one `Storage` ([`Storage::same`] tells).
///
/// ```
/// use serde_pickle_vm::array::{ByteOrder, Bytes, Dtype, Storage};
/// let s = Storage::from_bytes("0", Dtype::F32, ByteOrder::Little, Bytes::new(1f32.to_le_bytes().to_vec()));
/// assert_eq!(s.nbytes(), 4);
/// assert_eq!(s.bytes().unwrap(), &1f32.to_le_bytes()[..]);
/// ```
#[derive(Clone)]
pub struct Storage(Arc<Inner>);

impl Storage {
    /// A storage over bytes already in memory (or mapped).
    pub fn from_bytes(key: &str, dtype: Dtype, byte_order: ByteOrder, bytes: Bytes) -> Storage {
        Storage(Arc::new(Inner {
            key: key.to_string(),
            dtype,
            nbytes: bytes.len() as u64,
            byte_order,
            data: Data::Ready(bytes),
        }))
    }

    /// A storage of `nbytes` bytes that `loader` produces on first access (inflating a
    /// compressed entry, reading from a file). The loader's result must be `nbytes` long.
    pub fn lazy<F>(
        key: &str,
        dtype: Dtype,
        byte_order: ByteOrder,
        nbytes: u64,
        loader: F,
    ) -> Storage
    where
        F: Fn() -> Result<Bytes> + Send + Sync + 'static,
    {
        Storage(Arc::new(Inner {
            key: key.to_string(),
            dtype,
            nbytes,
            byte_order,
            data: Data::Lazy {
                loader: Box::new(loader),
                cell: OnceLock::new(),
            },
        }))
    }

    /// The archive's key for this storage (`"0"`, `"1"`, … in zip files).
    pub fn key(&self) -> &str {
        &self.0.key
    }

    /// The dtype the storage was saved with.
    pub fn dtype(&self) -> Dtype {
        self.0.dtype
    }

    /// The length in bytes.
    pub fn nbytes(&self) -> u64 {
        self.0.nbytes
    }

    /// The byte order of the elements.
    pub fn byte_order(&self) -> ByteOrder {
        self.0.byte_order
    }

    /// `true` when the bytes are in memory already (never read lazily, or read before).
    pub fn is_loaded(&self) -> bool {
        match &self.0.data {
            Data::Ready(_) => true,
            Data::Lazy { cell, .. } => cell.get().is_some(),
        }
    }

    /// `true` when both handles share one storage.
    pub fn same(&self, other: &Storage) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The bytes, loading them on first access.
    pub fn bytes(&self) -> Result<&[u8]> {
        match &self.0.data {
            Data::Ready(b) => Ok(b.as_ref()),
            Data::Lazy { loader, cell } => {
                if let Some(b) = cell.get() {
                    return Ok(b.as_ref());
                }
                let b = loader()?;
                if b.len() as u64 != self.0.nbytes {
                    return Err(Error::new(
                        ErrorKind::Format,
                        format!(
                            "storage {:?} is {} bytes, expected {}",
                            self.0.key,
                            b.len(),
                            self.0.nbytes
                        ),
                    ));
                }
                Ok(cell.get_or_init(|| b).as_ref())
            }
        }
    }

    /// The bytes as a shared [`Bytes`] handle.
    pub fn bytes_shared(&self) -> Result<Bytes> {
        self.bytes()?;
        Ok(match &self.0.data {
            Data::Ready(b) => b.clone(),
            Data::Lazy { cell, .. } => cell
                .get()
                .cloned()
                .unwrap_or_else(|| Bytes::new(Vec::new())),
        })
    }
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Storage")
            .field("key", &self.0.key)
            .field("dtype", &self.0.dtype)
            .field("nbytes", &self.0.nbytes)
            .field("byte_order", &self.0.byte_order)
            .field("loaded", &self.is_loaded())
            .finish()
    }
}

impl PartialEq for Storage {
    /// Storages are equal when they are the same storage (identity, as in torch).
    fn eq(&self, other: &Storage) -> bool {
        self.same(other)
    }
}
