//! Input for the VM: a borrowed byte slice (zero-copy: strings and bytes in the graph
//! borrow from it) or any `io::Read` (buffered; everything is copied).
//!
//! One private trait, two implementations; the VM is generic over it and nothing else
//! knows the difference. This module knows nothing of opcodes.

use crate::error::{Error, Result};
use std::borrow::Cow;
use std::io;

/// Bytes handed out by a reader: borrowed from the input for the whole `'de`, or copied
/// into a scratch buffer that lives until the next read.
pub(crate) enum Bytes<'de, 's> {
    Borrowed(&'de [u8]),
    Copied(&'s [u8]),
}

impl<'de> Bytes<'de, '_> {
    #[inline]
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Borrowed(b) => b,
            Bytes::Copied(b) => b,
        }
    }
}

/// The reader interface of the VM.
pub(crate) trait Read<'de> {
    /// The offset of the next byte to be read.
    fn offset(&self) -> u64;
    /// The next byte, or `None` at the end of the input.
    fn next_byte(&mut self) -> Result<Option<u8>>;
    /// Exactly `N` bytes (small fixed-size arguments).
    fn array<const N: usize>(&mut self) -> Result<[u8; N]>;
    /// Exactly `n` bytes; errors with "truncated" if fewer remain. Readers that know the
    /// remaining length check it before allocating anything; stream readers grow their
    /// buffer only as data arrives, so a lying length cannot allocate more than the input.
    fn bytes(&mut self, n: u64) -> Result<Cow<'de, [u8]>>;
    /// The bytes up to (not including) the next `\n`, which is consumed. Errors with
    /// "truncated" if the input ends first, or if the line is longer than `max`.
    fn line(&mut self, max: usize) -> Result<Bytes<'de, '_>>;
    /// How many bytes remain, when the reader knows.
    fn remaining(&self) -> Option<u64>;
    /// The bytes the reader has at hand (all the rest of a slice; what a stream reader
    /// has buffered), for loops that decode several opcodes at once.
    fn buffered(&self) -> &[u8];
    /// Consumes `n` bytes of [`buffered`](Self::buffered).
    fn consume(&mut self, n: usize);
    /// The whole input, for readers over a slice (what borrowed bytes are subslices of);
    /// empty for stream readers.
    fn input(&self) -> &'de [u8] {
        &[]
    }
}

/// A reader over a byte slice.
pub(crate) struct SliceRead<'de> {
    data: &'de [u8],
    pos: usize,
}

impl<'de> SliceRead<'de> {
    pub(crate) fn new(data: &'de [u8]) -> Self {
        SliceRead { data, pos: 0 }
    }

    /// A reader of `data` from byte `pos` on (offsets count from the start of `data`).
    pub(crate) fn starting_at(data: &'de [u8], pos: usize) -> Self {
        SliceRead {
            data,
            pos: pos.min(data.len()),
        }
    }
}

impl<'de> Read<'de> for SliceRead<'de> {
    fn input(&self) -> &'de [u8] {
        self.data
    }

    #[inline(always)]
    fn offset(&self) -> u64 {
        self.pos as u64
    }

    #[inline(always)]
    fn next_byte(&mut self) -> Result<Option<u8>> {
        let b = self.data.get(self.pos).copied();
        if b.is_some() {
            self.pos += 1;
        }
        Ok(b)
    }

    #[inline(always)]
    fn buffered(&self) -> &[u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }

    #[inline(always)]
    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.data.len());
    }

    #[inline(always)]
    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        match self.data.get(self.pos..self.pos + N) {
            Some(s) => {
                self.pos += N;
                let mut out = [0u8; N];
                out.copy_from_slice(s);
                Ok(out)
            }
            None => Err(Error::truncated()),
        }
    }

    #[inline(always)]
    fn bytes(&mut self, n: u64) -> Result<Cow<'de, [u8]>> {
        let rest = (self.data.len() - self.pos) as u64;
        if n > rest {
            return Err(Error::truncated());
        }
        let n = n as usize;
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(Cow::Borrowed(s))
    }

    #[inline(always)]
    fn line(&mut self, max: usize) -> Result<Bytes<'de, '_>> {
        let rest = &self.data[self.pos..];
        match rest
            .iter()
            .take(max.saturating_add(1))
            .position(|&b| b == b'\n')
        {
            Some(i) => {
                self.pos += i + 1;
                Ok(Bytes::Borrowed(&rest[..i]))
            }
            None if rest.len() > max => Err(Error::limit(format!(
                "a text argument is longer than {max} bytes (the allocation limit)"
            ))),
            None => Err(Error::truncated()),
        }
    }

    fn remaining(&self) -> Option<u64> {
        Some((self.data.len() - self.pos) as u64)
    }
}

const BUF_SIZE: usize = 64 * 1024;

/// A buffered reader over any `io::Read`.
pub(crate) struct IoRead<R> {
    inner: R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    consumed: u64,
    scratch: Vec<u8>,
}

impl<R: io::Read> IoRead<R> {
    pub(crate) fn new(inner: R) -> Self {
        IoRead {
            inner,
            buf: vec![0; BUF_SIZE].into_boxed_slice(),
            start: 0,
            end: 0,
            consumed: 0,
            scratch: Vec::new(),
        }
    }

    /// Refills the buffer; returns `false` at end of input.
    fn fill(&mut self) -> Result<bool> {
        debug_assert_eq!(self.start, self.end);
        self.start = 0;
        self.end = 0;
        loop {
            match self.inner.read(&mut self.buf) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.end = n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn take_buffered(&mut self, n: usize) -> &[u8] {
        let s = &self.buf[self.start..self.start + n];
        self.start += n;
        self.consumed += n as u64;
        s
    }
}

impl<'de, R: io::Read> Read<'de> for IoRead<R> {
    #[inline]
    fn offset(&self) -> u64 {
        self.consumed
    }

    #[inline]
    fn buffered(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    #[inline]
    fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.consumed += n as u64;
    }

    #[inline]
    fn next_byte(&mut self) -> Result<Option<u8>> {
        if self.start == self.end && !self.fill()? {
            return Ok(None);
        }
        let b = self.buf[self.start];
        self.start += 1;
        self.consumed += 1;
        Ok(Some(b))
    }

    #[inline]
    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        if self.end - self.start >= N {
            out.copy_from_slice(self.take_buffered(N));
            return Ok(out);
        }
        for b in out.iter_mut() {
            *b = self.next_byte()?.ok_or_else(Error::truncated)?;
        }
        Ok(out)
    }

    fn bytes(&mut self, n: u64) -> Result<Cow<'de, [u8]>> {
        let avail = (self.end - self.start) as u64;
        if n <= avail {
            return Ok(Cow::Owned(self.take_buffered(n as usize).to_vec()));
        }
        // Start with what is buffered, then grow only as the stream delivers: a declared
        // length larger than the input fails with "truncated" having allocated at most
        // about as much as the input held.
        let mut out =
            Vec::with_capacity(avail as usize + (n - avail).min(BUF_SIZE as u64) as usize);
        out.extend_from_slice(self.take_buffered(avail as usize));
        let want = n - avail;
        // First up to PROBE bytes with amortised growth; once that much has really
        // arrived, trust the declared length and reserve the rest in one go (virtual
        // memory only until written, and `try_` so an absurd length just falls back to
        // growing), which saves copying big payloads several times.
        const PROBE: u64 = 16 << 20;
        let first = want.min(PROBE);
        let mut got =
            io::Read::read_to_end(&mut io::Read::take(&mut self.inner, first), &mut out)? as u64;
        if got == first && want > first {
            let _ = out.try_reserve_exact((want - first) as usize);
            got += io::Read::read_to_end(
                &mut io::Read::take(&mut self.inner, want - first),
                &mut out,
            )? as u64;
        }
        self.consumed += got;
        if got < want {
            return Err(Error::truncated());
        }
        Ok(Cow::Owned(out))
    }

    fn line(&mut self, max: usize) -> Result<Bytes<'de, '_>> {
        // Fast path: the whole line is in the buffer.
        if let Some(i) = self.buf[self.start..self.end]
            .iter()
            .position(|&b| b == b'\n')
        {
            if i > max {
                return Err(Error::limit(format!(
                    "a text argument is longer than {max} bytes (the allocation limit)"
                )));
            }
            let start = self.start;
            self.start += i + 1;
            self.consumed += i as u64 + 1;
            return Ok(Bytes::Copied(&self.buf[start..start + i]));
        }
        self.scratch.clear();
        loop {
            if self.start == self.end && !self.fill()? {
                return Err(Error::truncated());
            }
            let chunk = &self.buf[self.start..self.end];
            match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.scratch.extend_from_slice(&chunk[..i]);
                    self.start += i + 1;
                    self.consumed += i as u64 + 1;
                    break;
                }
                None => {
                    self.scratch.extend_from_slice(chunk);
                    self.consumed += chunk.len() as u64;
                    self.start = self.end;
                }
            }
            if self.scratch.len() > max {
                return Err(Error::limit(format!(
                    "a text argument is longer than {max} bytes (the allocation limit)"
                )));
            }
        }
        if self.scratch.len() > max {
            return Err(Error::limit(format!(
                "a text argument is longer than {max} bytes (the allocation limit)"
            )));
        }
        Ok(Bytes::Copied(&self.scratch))
    }

    fn remaining(&self) -> Option<u64> {
        None
    }
}

/// The bytes of the file at `path`: memory-mapped when `mmap` is asked for and the
/// `mmap` feature is on (zero-copy; arrays are slices of the map), read otherwise.
#[allow(dead_code)]
pub(crate) fn file_bytes(path: &std::path::Path, mmap: bool) -> io::Result<crate::array::Bytes> {
    #[cfg(feature = "mmap")]
    if mmap {
        let file = std::fs::File::open(path)?;
        // An empty file cannot be mapped on every platform; it has nothing to map.
        if file.metadata()?.len() > 0 {
            return Ok(crate::array::Bytes::new(crate::mmap::map(&file)?));
        }
    }
    let _ = mmap;
    Ok(crate::array::Bytes::new(std::fs::read(path)?))
}
