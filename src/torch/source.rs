//! Random access to a checkpoint's bytes: memory (a `Vec`, a slice copied once, a memory
//! map) or a seekable reader, read on demand.

use crate::array::Bytes;
use crate::error::{Error, ErrorKind, Result};
use std::io::{Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex};

/// `Read + Seek`, object safe.
pub(crate) trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

#[derive(Clone)]
pub(crate) enum Source {
    Mem(Bytes),
    Reader {
        inner: Arc<Mutex<Box<dyn ReadSeek>>>,
        len: u64,
    },
}

pub(crate) fn truncated(what: &str) -> Error {
    Error::new(
        ErrorKind::Format,
        format!("{what} lies beyond the end of the file"),
    )
}

impl Source {
    pub(crate) fn from_reader<R: Read + Seek + Send + 'static>(mut r: R) -> Result<Source> {
        let len = r.seek(SeekFrom::End(0))?;
        Ok(Source::Reader {
            inner: Arc::new(Mutex::new(Box::new(r))),
            len,
        })
    }

    pub(crate) fn len(&self) -> u64 {
        match self {
            Source::Mem(b) => b.len() as u64,
            Source::Reader { len, .. } => *len,
        }
    }

    /// `len` bytes at `offset`: a slice of memory, or read from the reader.
    pub(crate) fn read_at(&self, offset: u64, len: u64, what: &str) -> Result<Bytes> {
        let end = offset.checked_add(len).ok_or_else(|| truncated(what))?;
        if end > self.len() {
            return Err(truncated(what));
        }
        match self {
            Source::Mem(b) => b
                .slice(offset as usize, len as usize)
                .ok_or_else(|| truncated(what)),
            Source::Reader { inner, .. } => {
                let len = usize::try_from(len).map_err(|_| truncated(what))?;
                let mut guard = inner
                    .lock()
                    .map_err(|_| Error::new(ErrorKind::Io, "reader lock poisoned"))?;
                guard.seek(SeekFrom::Start(offset))?;
                let mut buf = vec![0u8; len];
                guard.read_exact(&mut buf)?;
                Ok(Bytes::new(buf))
            }
        }
    }
}
