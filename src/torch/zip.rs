//! The zip side of torch archives, through the `zip` crate: it reads the central
//! directory (ZIP64 included) and local headers; this module turns entries into
//! [`Bytes`] — a slice of the source for stored entries (zero-copy over a memory map),
//! inflated under limits for deflated ones (against zip bombs).
//!
//! This module knows nothing of torch; `archive` decides what the entries mean.

use super::source::{truncated, Source};
use crate::array::Bytes;
use crate::error::{Error, ErrorKind, Result};
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Mutex;
use zip::result::ZipError;
use zip::{CompressionMethod, ZipArchive};

fn bad(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Format, msg)
}

fn zip_err(what: &str, e: ZipError) -> Error {
    match e {
        ZipError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => truncated(what),
        ZipError::Io(e) => Error::new(ErrorKind::Io, format!("{what}: {e}")),
        e => bad(format!("{what}: {e}")),
    }
}

/// `true` when `head` starts like a zip archive.
pub(crate) fn looks_like_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

/// Limits on inflating compressed entries (torch itself never compresses; a zip tool
/// may have): the crate's one definition, shared with compressed pickles.
pub(crate) use crate::compress::InflateLimits;

/// The knobs the limit errors name.
const KNOBS: crate::compress::Knobs = crate::compress::Knobs {
    bytes: "LoadOptions::max_inflated",
    ratio: "LoadOptions::max_inflate_ratio",
};

/// One file of the archive: its directory record and where its data starts.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) name: String,
    index: usize,
    method: CompressionMethod,
    compressed_size: u64,
    pub(crate) size: u64,
    data_start: u64,
}

/// A zip archive over a [`Source`]: its directory, and reads of its entries.
pub(crate) struct Archive {
    src: Source,
    zip: Mutex<ZipArchive<SourceReader>>,
    names: Vec<String>,
}

impl Archive {
    /// Reads the central directory (the tail of the file and the directory itself).
    pub(crate) fn open(src: &Source) -> Result<Archive> {
        let reader = SourceReader {
            src: src.clone(),
            pos: 0,
        };
        let zip = ZipArchive::new(reader).map_err(|e| zip_err("zip directory", e))?;
        let names = zip.file_names().map(str::to_string).collect();
        Ok(Archive {
            src: src.clone(),
            zip: Mutex::new(zip),
            names,
        })
    }

    /// How many entries the directory lists ([`entry_at`](Self::entry_at) takes
    /// `0..len`, in the directory's order).
    #[allow(dead_code)]
    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    /// The entries' names, in no particular order.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// The entry named `name` (reads its local header), `None` when there is none.
    pub(crate) fn entry(&self, name: &str) -> Result<Option<Entry>> {
        match self.index_of(name) {
            Some(index) => self.entry_at(index).map(Some),
            None => Ok(None),
        }
    }

    /// The index of the entry named `name` (from the directory alone: no read).
    pub(crate) fn index_of(&self, name: &str) -> Option<usize> {
        self.lock().ok()?.index_for_name(name)
    }

    /// The entry at `index` of the directory (reads its local header).
    pub(crate) fn entry_at(&self, index: usize) -> Result<Entry> {
        let mut zip = self.lock()?;
        let f = zip
            .by_index_raw(index)
            .map_err(|e| zip_err(&format!("zip entry #{index}"), e))?;
        let data_start = f
            .data_start()
            .ok_or_else(|| bad(format!("zip entry {} has no data offset", f.name())))?;
        Ok(Entry {
            name: f.name().to_string(),
            index,
            method: f.compression(),
            compressed_size: f.compressed_size(),
            size: f.size(),
            data_start,
        })
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, ZipArchive<SourceReader>>> {
        self.zip
            .lock()
            .map_err(|_| Error::new(ErrorKind::Io, "zip archive lock poisoned"))
    }

    /// The entry's bytes: a slice of the source when stored, inflated when deflated
    /// (refusing entries over `limits`, declared or actual).
    pub(crate) fn read(&self, entry: &Entry, limits: InflateLimits) -> Result<Bytes> {
        match entry.method {
            CompressionMethod::Stored => {
                if entry.compressed_size != entry.size {
                    return Err(bad(format!(
                        "stored zip entry {} has two sizes",
                        entry.name
                    )));
                }
                self.src.read_at(entry.data_start, entry.size, &entry.name)
            }
            CompressionMethod::Deflated => {
                // The compressed size is the directory's claim: it counts for the ratio
                // no more than the file holds.
                let compressed = entry.compressed_size.min(self.src.len());
                if entry.size > limits.cap(compressed) {
                    return Err(limits.exceeded(
                        &format!("zip entry {}", entry.name),
                        compressed,
                        entry.size,
                        false,
                        KNOBS,
                    ));
                }
                let mut zip = self.lock()?;
                let file = zip
                    .by_index(entry.index)
                    .map_err(|e| zip_err(&entry.name, e))?;
                // Never trust the declared size: read at most one byte past it.
                let mut out = Vec::with_capacity(entry.size as usize);
                file.take(entry.size + 1)
                    .read_to_end(&mut out)
                    .map_err(|e| bad(format!("zip entry {} does not inflate: {e}", entry.name)))?;
                if out.len() as u64 != entry.size {
                    return Err(bad(format!(
                        "zip entry {} inflates to {}{} bytes, its header says {}",
                        entry.name,
                        if out.len() as u64 > entry.size { "more than " } else { "" },
                        out.len().min(entry.size as usize),
                        entry.size
                    )));
                }
                Ok(Bytes::new(out))
            }
            m => Err(bad(format!(
                "zip entry {} uses compression method {m}; only stored and deflated entries are supported",
                entry.name
            ))),
        }
    }
}

/// What [`ZipArchive`] reads through: a position over a [`Source`] (copies from memory,
/// or seeks the shared reader; only the directory and headers go this way).
struct SourceReader {
    src: Source,
    pos: u64,
}

impl Read for SourceReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (buf.len() as u64).min(self.src.len().saturating_sub(self.pos)) as usize;
        if n == 0 {
            return Ok(0);
        }
        match &self.src {
            // A slice of memory (or of the map): copy straight out of it.
            Source::Mem(b) => {
                let at = self.pos as usize;
                buf[..n].copy_from_slice(&b[at..at + n]);
            }
            Source::Reader { .. } => {
                let bytes = self
                    .src
                    .read_at(self.pos, n as u64, "zip data")
                    .map_err(io::Error::other)?;
                buf[..n].copy_from_slice(&bytes);
            }
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SourceReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let pos = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.src.len().checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos =
            pos.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before 0"))?;
        Ok(self.pos)
    }
}
