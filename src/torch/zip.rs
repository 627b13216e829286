//! Just enough of the zip format for torch archives: the end of central directory
//! record (and its ZIP64 form), the central directory, local headers, stored entries
//! sliced without copying and deflated ones inflated under a size limit.
//!
//! This module knows nothing of torch; `archive` decides what the entries mean.

use super::source::{truncated, Source};
use super::storage::Bytes;
use crate::error::{Error, ErrorKind, Result};

fn bad(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Format, msg)
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}
fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}
fn u64_at(b: &[u8], i: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(a)
}

/// One file of the archive, from the central directory.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) method: u16,
    pub(crate) compressed_size: u64,
    pub(crate) size: u64,
    header_offset: u64,
}

/// `true` when `head` starts like a zip archive.
pub(crate) fn looks_like_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

/// Reads the central directory (only the tail of the file and the directory itself).
pub(crate) fn directory(src: &Source) -> Result<Vec<Entry>> {
    let len = src.len();
    let tail_len = len.min(22 + 65535);
    let tail = src.read_at(len - tail_len, tail_len, "zip end record")?;
    let pos = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| u32_at(&tail, i) == 0x0605_4b50)
        .ok_or_else(|| bad("not a zip archive: no end of central directory record"))?;
    let eocd = &tail[pos..];
    let mut count = u16_at(eocd, 10) as u64;
    let mut cd_size = u32_at(eocd, 12) as u64;
    let mut cd_offset = u32_at(eocd, 16) as u64;
    if count == 0xffff || cd_size == 0xffff_ffff || cd_offset == 0xffff_ffff {
        // ZIP64: the locator sits just before the end record.
        let eocd_abs = len - tail_len + pos as u64;
        let loc = src.read_at(
            eocd_abs
                .checked_sub(20)
                .ok_or_else(|| truncated("zip64 locator"))?,
            20,
            "zip64 locator",
        )?;
        if u32_at(&loc, 0) != 0x0706_4b50 {
            return Err(bad("zip64 end of central directory locator missing"));
        }
        let rec = src.read_at(u64_at(&loc, 8), 56, "zip64 end record")?;
        if u32_at(&rec, 0) != 0x0606_4b50 {
            return Err(bad("zip64 end of central directory record missing"));
        }
        count = u64_at(&rec, 32);
        cd_size = u64_at(&rec, 40);
        cd_offset = u64_at(&rec, 48);
    }
    let cd = src.read_at(cd_offset, cd_size, "zip central directory")?;
    // Every header is at least 46 bytes: bound the count by the directory's size.
    if count > cd.len() as u64 / 46 {
        return Err(bad(format!(
            "zip directory claims {count} entries in {} bytes",
            cd.len()
        )));
    }
    let mut entries = Vec::with_capacity(count as usize);
    let mut i = 0usize;
    for _ in 0..count {
        if i + 46 > cd.len() || u32_at(&cd, i) != 0x0201_4b50 {
            return Err(bad("corrupt zip central directory"));
        }
        let h = &cd[i..];
        let method = u16_at(h, 10);
        let mut compressed_size = u32_at(h, 20) as u64;
        let mut size = u32_at(h, 24) as u64;
        let (n, e, c) = (
            u16_at(h, 28) as usize,
            u16_at(h, 30) as usize,
            u16_at(h, 32) as usize,
        );
        let mut header_offset = u32_at(h, 42) as u64;
        if 46 + n + e + c > h.len() {
            return Err(bad("corrupt zip central directory"));
        }
        let name = String::from_utf8_lossy(&h[46..46 + n]).into_owned();
        let mut extra = &h[46 + n..46 + n + e];
        while extra.len() >= 4 {
            let (id, sz) = (u16_at(extra, 0), u16_at(extra, 2) as usize);
            let body = extra.get(4..4 + sz).unwrap_or(&[]);
            if id == 1 {
                let mut j = 0;
                let mut next = |v: &mut u64| {
                    if *v == 0xffff_ffff && j + 8 <= body.len() {
                        *v = u64_at(body, j);
                        j += 8;
                    }
                };
                next(&mut size);
                next(&mut compressed_size);
                next(&mut header_offset);
            }
            extra = extra.get(4 + sz..).unwrap_or(&[]);
        }
        entries.push(Entry {
            name,
            method,
            compressed_size,
            size,
            header_offset,
        });
        i += 46 + n + e + c;
    }
    Ok(entries)
}

impl Entry {
    /// Where the entry's data starts (reads the 30-byte local header).
    fn data_start(&self, src: &Source) -> Result<u64> {
        let h = src.read_at(self.header_offset, 30, "zip local header")?;
        if u32_at(&h, 0) != 0x0403_4b50 {
            return Err(bad(format!("corrupt zip local header for {}", self.name)));
        }
        Ok(self.header_offset + 30 + u16_at(&h, 26) as u64 + u16_at(&h, 28) as u64)
    }

    /// `true` when reading the entry means slicing it (no inflation).
    #[allow(dead_code)]
    pub(crate) fn is_stored(&self) -> bool {
        self.method == 0
    }

    /// The entry's bytes: a slice of the source when stored, inflated when deflated
    /// (refusing entries that declare or inflate to more than `max_inflated` bytes).
    pub(crate) fn read(&self, src: &Source, max_inflated: u64) -> Result<Bytes> {
        let start = self.data_start(src)?;
        match self.method {
            0 => {
                if self.compressed_size != self.size {
                    return Err(bad(format!("stored zip entry {} has two sizes", self.name)));
                }
                src.read_at(start, self.size, &self.name)
            }
            8 => {
                if self.size > max_inflated {
                    return Err(Error::new(
                        ErrorKind::Limit,
                        format!(
                            "zip entry {} inflates to {} bytes, over the limit of {max_inflated} (raise LoadOptions::max_inflated)",
                            self.name, self.size
                        ),
                    ));
                }
                let raw = src.read_at(start, self.compressed_size, &self.name)?;
                let out = miniz_oxide::inflate::decompress_to_vec_with_limit(&raw, self.size as usize)
                    .map_err(|e| bad(format!("zip entry {} does not inflate: {e:?}", self.name)))?;
                if out.len() as u64 != self.size {
                    return Err(bad(format!(
                        "zip entry {} inflates to {} bytes, its header says {}",
                        self.name,
                        out.len(),
                        self.size
                    )));
                }
                Ok(Bytes::new(out))
            }
            m => Err(bad(format!(
                "zip entry {} uses compression method {m}; only stored and deflated entries are supported",
                self.name
            ))),
        }
    }
}
