//! Compressed containers: recognising them by their first bytes ([`sniff`]) and inflating
//! them under limits ([`decompress`], [`decompress_reader`], [`maybe_decompress`]).
//!
//! This is what reads `df.to_pickle("df.pkl.gz")` (and `.bz2`, `.xz`, `.zst`, `.zip`) and
//! the files `joblib.dump(..., compress=...)` writes (zlib, gzip, bz2, lzma, xz, lz4). It
//! knows nothing of pickles: the loaders ([`load_slice`](crate::load_slice),
//! [`from_slice`](crate::from_slice), …) call [`sniff`] on their input and, when it names
//! a codec, load the pickle inside (see [`Options::decompress`](crate::Options::decompress)).
//!
//! ```
//! use serde_pickle_vm::compress::{self, Codec, InflateLimits};
//! // zlib.compress(pickle.dumps([1, 2], protocol=2))
//! let data = b"x\x9ck`\x8a-d\xd0\xf0f\xf4fJ\xd5\x03\x00\x12\xc6\x02\xa5";
//! assert_eq!(compress::sniff(data), Some(Codec::Zlib));
//! # #[cfg(feature = "compress")] {
//! let pickle = compress::decompress(data, Codec::Zlib, &InflateLimits::default())?;
//! assert_eq!(pickle, b"\x80\x02]q\x00(K\x01K\x02e.");
//! # }
//! # Ok::<(), serde_pickle_vm::Error>(())
//! ```
//!
//! [`Codec`], [`sniff`] and [`InflateLimits`] are always built; the decoders need the
//! `compress` feature (on by default). Without it, [`decompress`] and its siblings fail
//! with an [`ErrorKind::Unsupported`] error that names the codec and the feature, so a
//! compressed input is never read as a pickle ("invalid load key, '\x1f'").
//!
//! # Limits
//!
//! Output is bounded as zip entries of torch checkpoints are: at most
//! [`InflateLimits::max_bytes`] in all, and, past the first MiB, at most
//! [`InflateLimits::max_ratio`] bytes per compressed byte (compression bombs are runs of
//! one byte, which deflate ~1000×, bzip2 and xz far more). Decoders stream into a buffer
//! that grows only as output arrives, so a bomb fails after inflating the limit, not
//! before allocating it. The window a decoder keeps is bounded too: lzma and xz grow
//! their dictionary with the output; zstd frames may reserve (not touch) their declared
//! window, which ruzstd caps at 100 MiB; lz4 blocks are at most 4 MiB.
//!
//! # Concatenated streams
//!
//! As Python's modules read them: gzip members one after the other (`gzip.open`; zero
//! padding between members is skipped, anything else after one is an error, as in
//! Python), bzip2 and lzma ("alone") streams (`bz2.open`, `lzma.open`: what follows the
//! last stream, if it is not another stream, is ignored), xz streams with their padding,
//! zlib streams (joblib's `BinaryZlibFile`), zstd frames (skippable ones skipped) and lz4
//! frames.

use crate::error::{Error, ErrorKind, Result};
use std::borrow::Cow;
use std::fmt;
use std::io::{self, Read};

/// A compression format that [`sniff`] recognises.
///
/// ```
/// use serde_pickle_vm::compress::Codec;
/// assert_eq!(Codec::Gzip.name(), "gzip");
/// assert_eq!(Codec::ALL.len(), 8);
/// assert_eq!(Codec::Xz.to_string(), "xz");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Codec {
    /// gzip (RFC 1952): `gzip.open`, `pandas.to_pickle("x.gz")`, joblib `compress="gzip"`.
    Gzip,
    /// A zlib stream (RFC 1950): `zlib.compress`, joblib's default for `compress=N`.
    Zlib,
    /// bzip2: `bz2.open`, `.bz2`, joblib `compress="bz2"`.
    Bzip2,
    /// xz: `lzma.open` (`FORMAT_XZ`), `.xz`, joblib `compress="xz"`.
    Xz,
    /// The legacy `.lzma` ("alone") format: `lzma.FORMAT_ALONE`, joblib `compress="lzma"`.
    Lzma,
    /// Zstandard frames: the `zstandard` module, `.zst`.
    Zstd,
    /// LZ4 frames: `lz4.frame`, joblib `compress="lz4"`.
    Lz4,
    /// A zip archive of one member: what pandas writes for `.zip`.
    Zip,
}

impl Codec {
    /// Every codec, in the order of the enum.
    pub const ALL: [Codec; 8] = [
        Codec::Gzip,
        Codec::Zlib,
        Codec::Bzip2,
        Codec::Xz,
        Codec::Lzma,
        Codec::Zstd,
        Codec::Lz4,
        Codec::Zip,
    ];

    /// The codec's usual name: `gzip`, `zlib`, `bzip2`, `xz`, `lzma`, `zstd`, `lz4`, `zip`.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Zlib => "zlib",
            Codec::Bzip2 => "bzip2",
            Codec::Xz => "xz",
            Codec::Lzma => "lzma",
            Codec::Zstd => "zstd",
            Codec::Lz4 => "lz4",
            Codec::Zip => "zip",
        }
    }

    /// "the gzip-decompressed pickle": how errors name the bytes their offsets count in.
    pub(crate) fn decompressed(self) -> &'static str {
        match self {
            Codec::Gzip => "the gzip-decompressed pickle",
            Codec::Zlib => "the zlib-decompressed pickle",
            Codec::Bzip2 => "the bzip2-decompressed pickle",
            Codec::Xz => "the xz-decompressed pickle",
            Codec::Lzma => "the lzma-decompressed pickle",
            Codec::Zstd => "the zstd-decompressed pickle",
            Codec::Lz4 => "the lz4-decompressed pickle",
            Codec::Zip => "the pickle inside the zip archive",
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The most leading bytes [`sniff`] looks at (the `.lzma` header is 13 bytes).
pub const SNIFF_LEN: usize = 13;

const GZIP: &[u8] = b"\x1f\x8b";
const XZ: &[u8] = b"\xfd7zXZ\x00";
const ZSTD: &[u8] = b"\x28\xb5\x2f\xfd";
const LZ4: &[u8] = b"\x04\x22\x4d\x18";
const ZIP: &[u8] = b"PK\x03\x04";
/// After `BZh1`..`BZh9`: the magic of a first block (π) or of the end of an empty stream
/// (√π).
const BZ_BLOCK: &[u8] = b"\x31\x41\x59\x26\x53\x59";
const BZ_END: &[u8] = b"\x17\x72\x45\x38\x50\x90";
/// lc=3, lp=0, pb=2: what liblzma (and so Python and joblib) writes.
const LZMA_PROPS: u8 = 0x5d;

/// Recognises a compressed container from its first bytes (at most [`SNIFF_LEN`]), by
/// magic numbers only: `None` for anything else, including a prefix too short to tell.
///
/// | codec | first bytes |
/// | --- | --- |
/// | gzip | `1f 8b` |
/// | zlib | `78`, then a flag byte that makes the 16-bit header a multiple of 31 |
/// | bzip2 | `BZh` + `1`..`9`, then the magic of a block (`31 41 59 26 53 59`) or of the end (`17 72 45 38 50 90`) |
/// | xz | `fd 37 7a 58 5a 00` |
/// | lzma | `5d`, a dictionary size of 2^n or 2^n + 2^(n-1) bytes (at least 4 KiB) or `ff ff ff ff`, and an uncompressed size that is unknown (`ff` × 8) or under 256 GiB |
/// | zstd | `28 b5 2f fd` |
/// | lz4 | `04 22 4d 18` (a frame) |
/// | zip | `PK\x03\x04` (a local file header) |
///
/// None of these starts a pickle that CPython writes, which is what lets the loaders
/// sniff every input (checked against the opcode table of [`opcode`](crate::opcode)):
///
/// * protocols 2 to 5 begin with `PROTO` (`80`); none of the magics does;
/// * `1f`, `78` (`x`), `fd` and `04` are no opcode of any protocol, so gzip, zlib, xz and
///   lz4 cannot begin any pickle;
/// * `B` (bzip2) is `BINBYTES`, a protocol 3 opcode: a protocol 3+ pickle begins with
///   `PROTO`, and protocols 0–1 have no `BINBYTES`;
/// * `(` (zstd) is `MARK`, a common first opcode of protocols 0–1, but after it comes an
///   opcode, and `b5` is none;
/// * `]` (lzma) is `EMPTY_LIST`, the first opcode of a protocol-1 list, but after it
///   comes an opcode, and the low byte of a dictionary size as required here (`00`, or
///   `ff`) is none;
/// * `P` (zip) is `PERSID`, a protocol-0 persistent id, whose text argument would here be
///   `K\x03\x04…`: CPython writes the `str()` of the id there, and an id with those
///   control characters is far-fetched, so the whole 4-byte local header magic is
///   required (an empty archive, `PK\x05\x06`, is not recognised).
///
/// ```
/// use serde_pickle_vm::compress::{sniff, Codec};
/// assert_eq!(sniff(b"\x1f\x8b\x08\x00"), Some(Codec::Gzip));
/// assert_eq!(sniff(b"\x28\xb5\x2f\xfd\x00"), Some(Codec::Zstd));
/// assert_eq!(sniff(b"PK\x03\x04\x14\x00"), Some(Codec::Zip));
/// assert_eq!(sniff(b"\x80\x04\x95"), None); // a protocol 4 pickle
/// assert_eq!(sniff(b"(lp0\n."), None); // a protocol 0 list: MARK, LIST
/// assert_eq!(sniff(b"]q\x00."), None); // a protocol 1 list: EMPTY_LIST, BINPUT
/// ```
pub fn sniff(head: &[u8]) -> Option<Codec> {
    let head = &head[..head.len().min(SNIFF_LEN)];
    match *head.first()? {
        0x1f if head.starts_with(GZIP) => Some(Codec::Gzip),
        0x78 if head.len() >= 2 && zlib_header(head[0], head[1]) => Some(Codec::Zlib),
        b'B' if bzip2_header(head) => Some(Codec::Bzip2),
        0xfd if head.starts_with(XZ) => Some(Codec::Xz),
        LZMA_PROPS if lzma_header(head) => Some(Codec::Lzma),
        0x28 if head.starts_with(ZSTD) => Some(Codec::Zstd),
        0x04 if head.starts_with(LZ4) => Some(Codec::Lz4),
        b'P' if head.starts_with(ZIP) => Some(Codec::Zip),
        _ => None,
    }
}

/// A zlib header: deflate with a window of at most 32 KiB, and a check that makes the two
/// bytes a multiple of 31 (the only first byte recognised is `78`, the 32 KiB window
/// zlib writes by default).
fn zlib_header(cmf: u8, flg: u8) -> bool {
    cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0
}

fn bzip2_header(head: &[u8]) -> bool {
    head.len() >= 10
        && head.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&head[3])
        && (&head[4..10] == BZ_BLOCK || &head[4..10] == BZ_END)
}

/// The 13-byte header of the `.lzma` format, held to what liblzma accepts (and writes):
/// properties `5d`, a dictionary size of the form liblzma's `lzma_alone_decoder` allows,
/// and an uncompressed size that is unknown or plausible.
fn lzma_header(head: &[u8]) -> bool {
    if head.len() < 13 || head[0] != LZMA_PROPS {
        return false;
    }
    let dict = u32::from_le_bytes([head[1], head[2], head[3], head[4]]);
    let size = u64::from_le_bytes([
        head[5], head[6], head[7], head[8], head[9], head[10], head[11], head[12],
    ]);
    // 2^n, or 2^n + 2^(n-1): clear the top bit, and what is left is 0 or the next one.
    let dict_ok = dict == u32::MAX
        || (dict >= 4096 && {
            let top = 1u32 << (31 - dict.leading_zeros());
            let rest = dict - top;
            rest == 0 || rest == top >> 1
        });
    dict_ok && (size == u64::MAX || size < 1 << 38)
}

/// Whether `prefix` (shorter than the magic it may begin) could still be the start of a
/// recognised container: what a reader checks before it reads one more byte to sniff, so
/// that it never reads further ahead than a pickle would have been read.
fn may_start_magic(prefix: &[u8]) -> bool {
    let is_prefix_of = |magic: &[u8]| {
        let n = prefix.len().min(magic.len());
        prefix[..n] == magic[..n]
    };
    match prefix.first() {
        None => true,
        Some(0x1f) => is_prefix_of(GZIP),
        Some(0x78) => prefix.len() < 2,
        Some(b'B') if prefix.len() <= 3 => is_prefix_of(b"BZh"),
        Some(b'B') => {
            let tail = &prefix[4..];
            let n = tail.len().min(BZ_BLOCK.len());
            prefix.starts_with(b"BZh")
                && (b'1'..=b'9').contains(&prefix[3])
                && (tail[..n] == BZ_BLOCK[..n] || tail[..n] == BZ_END[..n])
        }
        Some(0xfd) => is_prefix_of(XZ),
        // The dictionary size's low byte is 00 or ff; the rest is checked at 13 bytes.
        Some(&LZMA_PROPS) => prefix.len() < 2 || prefix[1] == 0 || prefix[1] == 0xff,
        Some(0x28) => is_prefix_of(ZSTD),
        Some(0x04) => is_prefix_of(LZ4),
        Some(b'P') => is_prefix_of(ZIP),
        Some(_) => false,
    }
}

/// Reads the first bytes of `r` for [`sniff`]: up to [`SNIFF_LEN`], but no further than
/// they could still start a magic, so a pickle is never read ahead of its own bytes (a
/// protocol 2+ pickle: one byte). Returns fewer at the end of the input.
pub(crate) fn read_head<R: Read>(r: &mut R) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(SNIFF_LEN);
    let mut byte = [0u8];
    while head.len() < SNIFF_LEN && may_start_magic(&head) {
        match r.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => head.push(byte[0]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(head)
}

/// Limits on inflating: the same as those of a torch checkpoint's zip entries
/// (`torch::LoadOptions::max_inflated` and `max_inflate_ratio`), and
/// for a load [`Limits::max_inflated`](crate::Limits::max_inflated) and
/// [`Limits::max_inflate_ratio`](crate::Limits::max_inflate_ratio).
///
/// ```
/// use serde_pickle_vm::compress::InflateLimits;
/// let limits = InflateLimits::default();
/// assert_eq!((limits.max_bytes, limits.max_ratio), (16 << 30, 100));
/// // 1 KiB may inflate to 1 MiB (the ratio applies past it), 1 MiB to 100 MiB.
/// assert_eq!(limits.cap(1024), 1 << 20);
/// assert_eq!(limits.cap(1 << 20), 100 << 20);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InflateLimits {
    /// Most bytes one input (or zip member) may inflate to. Default 16 GiB.
    pub max_bytes: u64,
    /// Most bytes an input may inflate to per compressed byte, once its output is past
    /// 1 MiB. Default 100: deflate reaches ~1000× only on runs of one byte, which is what
    /// bombs are made of; real pickles compress 2–20×.
    pub max_ratio: u64,
}

/// Output below this is never refused for its ratio (a small pickle of zeros compresses
/// far better than 100×).
const RATIO_FLOOR: u64 = 1 << 20;

impl Default for InflateLimits {
    fn default() -> Self {
        InflateLimits {
            max_bytes: 16 << 30,
            max_ratio: 100,
        }
    }
}

/// The names of the two knobs an [`InflateLimits`] came from, for the limit errors.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(any(feature = "compress", feature = "torch")), allow(dead_code))]
pub(crate) struct Knobs {
    pub(crate) bytes: &'static str,
    pub(crate) ratio: &'static str,
}

/// [`decompress`] and friends called directly.
const DIRECT: Knobs = Knobs {
    bytes: "InflateLimits::max_bytes",
    ratio: "InflateLimits::max_ratio",
};

/// A load's [`Limits`](crate::Limits).
pub(crate) const LOAD: Knobs = Knobs {
    bytes: "Limits::max_inflated",
    ratio: "Limits::max_inflate_ratio",
};

impl InflateLimits {
    /// The most bytes `compressed` bytes may inflate to: [`max_bytes`](Self::max_bytes),
    /// and [`max_ratio`](Self::max_ratio) × `compressed` unless that is under 1 MiB.
    pub fn cap(&self, compressed: u64) -> u64 {
        let by_ratio = compressed
            .max(1)
            .saturating_mul(self.max_ratio)
            .max(RATIO_FLOOR);
        self.max_bytes.min(by_ratio)
    }

    /// The error for `what` inflating from `compressed` bytes to `size` (to more than
    /// `size` when `beyond`), naming the limits it is over and the knobs that raise them.
    #[cold]
    #[cfg_attr(not(any(feature = "compress", feature = "torch")), allow(dead_code))]
    pub(crate) fn exceeded(
        &self,
        what: &str,
        compressed: u64,
        size: u64,
        beyond: bool,
        knobs: Knobs,
    ) -> Error {
        let reached = if beyond { size.saturating_add(1) } else { size };
        let by_ratio = compressed
            .max(1)
            .saturating_mul(self.max_ratio)
            .max(RATIO_FLOOR);
        let bytes = reached > self.max_bytes;
        let ratio = reached > by_ratio;
        let over = match (bytes, ratio) {
            (true, true) => format!(
                "over the limits of {} bytes and {}x its compressed size (raise {} and {})",
                self.max_bytes, self.max_ratio, knobs.bytes, knobs.ratio
            ),
            (false, true) => format!(
                "over {}x its compressed size (the ratio limit applies past 1 MiB; raise {})",
                self.max_ratio, knobs.ratio
            ),
            _ => format!(
                "over the limit of {} bytes (raise {})",
                self.max_bytes, knobs.bytes
            ),
        };
        Error::new(
            ErrorKind::Limit,
            format!(
                "{what} inflates from {compressed} to {}{size} bytes, {over}",
                if beyond { "more than " } else { "" }
            ),
        )
    }
}

/// Inflates `data`, a container of `codec`, under `limits`.
///
/// Corrupt or truncated data is an [`ErrorKind::Format`] error naming the codec; output
/// past the limits an [`ErrorKind::Limit`] error naming the codec, the limit and how to
/// raise it. A zip archive must hold exactly one member (stored or deflated), which is
/// what pandas writes; its declared sizes are checked against what it inflates to.
///
/// ```
/// use serde_pickle_vm::compress::{decompress, Codec, InflateLimits};
/// use serde_pickle_vm::ErrorKind;
/// // gzip.compress(b"\x80\x04K\x07.", mtime=0)
/// let gz = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03k`\xf1f\xd7\x03\x00\xf1)\xfe\x17\x05\x00\x00\x00";
/// # #[cfg(feature = "compress")] {
/// assert_eq!(decompress(gz, Codec::Gzip, &InflateLimits::default())?, b"\x80\x04K\x07.");
/// let err = decompress(&gz[..12], Codec::Gzip, &InflateLimits::default()).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Format);
/// assert_eq!(err.to_string(), "gzip data is truncated");
/// # }
/// # Ok::<(), serde_pickle_vm::Error>(())
/// ```
pub fn decompress(data: &[u8], codec: Codec, limits: &InflateLimits) -> Result<Vec<u8>> {
    decompress_with(data, codec, limits, DIRECT)
}

/// [`decompress`] with the knobs the limit errors name.
pub(crate) fn decompress_with(
    data: &[u8],
    codec: Codec,
    limits: &InflateLimits,
    knobs: Knobs,
) -> Result<Vec<u8>> {
    imp::decompress(data, codec, limits, knobs)
}

/// A reader of what `r`, a container of `codec`, inflates to, for streaming loads: it
/// enforces `limits` as it goes (the ratio against the compressed bytes read so far,
/// which makes it stricter than [`decompress`] for a file whose first part compresses
/// far better than the whole) and fails with the errors of [`decompress`], carried in
/// the `io::Error` (the crate's loaders unwrap them back; others can
/// `downcast` the error's inner value to [`crate::Error`]).
///
/// A zip archive needs its directory, at the end: it is read whole into memory, then
/// inflated as by [`decompress`].
///
/// ```
/// use serde_pickle_vm::compress::{decompress_reader, Codec, InflateLimits};
/// use std::io::Read;
/// // zlib.compress(b"\x80\x04K\x07.")
/// let file: &[u8] = b"x\x9ck`\xf1f\xd7\x03\x00\x03\xb2\x01\x05";
/// # #[cfg(feature = "compress")] {
/// let mut r = decompress_reader(file, Codec::Zlib, &InflateLimits::default())?;
/// let mut pickle = Vec::new();
/// r.read_to_end(&mut pickle)?;
/// assert_eq!(pickle, b"\x80\x04K\x07.");
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decompress_reader<'a, R: Read + 'a>(
    r: R,
    codec: Codec,
    limits: &InflateLimits,
) -> Result<Box<dyn Read + 'a>> {
    decompress_reader_with(r, codec, limits, DIRECT)
}

/// [`decompress_reader`] with the knobs the limit errors name.
pub(crate) fn decompress_reader_with<'a, R: Read + 'a>(
    r: R,
    codec: Codec,
    limits: &InflateLimits,
    knobs: Knobs,
) -> Result<Box<dyn Read + 'a>> {
    imp::decompress_reader(r, codec, limits, knobs)
}

/// `data` inflated when [`sniff`] recognises it (owned), `data` itself otherwise
/// (borrowed).
///
/// ```
/// use serde_pickle_vm::compress::{maybe_decompress, InflateLimits};
/// use std::borrow::Cow;
/// let plain = b"\x80\x04K\x07.";
/// assert!(matches!(maybe_decompress(plain, &InflateLimits::default())?, Cow::Borrowed(_)));
/// # #[cfg(feature = "compress")] {
/// // bz2.compress(b"\x80\x04K\x07.")
/// let bz2 = b"BZh91AY&SY k\xd6;\x00\x00\x02T@\x04\x80\x00\x01\x00\x08@\x00 \x000\xcd\x00\xc1\xa0lqw$S\x85\x09\x02\x06\xbdc\xb0";
/// assert_eq!(&*maybe_decompress(bz2, &InflateLimits::default())?, plain);
/// # }
/// # Ok::<(), serde_pickle_vm::Error>(())
/// ```
pub fn maybe_decompress<'a>(data: &'a [u8], limits: &InflateLimits) -> Result<Cow<'a, [u8]>> {
    match sniff(data) {
        Some(codec) => decompress(data, codec, limits).map(Cow::Owned),
        None => Ok(Cow::Borrowed(data)),
    }
}

/// The error for a compressed input when the decoders are not built.
#[cfg(not(feature = "compress"))]
pub(crate) fn disabled(codec: Codec) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "the input is {}-compressed: enable the `compress` feature of serde_pickle_vm \
             to read it (or decompress it first)",
            codec.name()
        ),
    )
}

#[cfg(not(feature = "compress"))]
mod imp {
    use super::{disabled, Codec, InflateLimits, Knobs};
    use crate::error::Result;
    use std::io::Read;

    pub(super) fn decompress(
        _: &[u8],
        codec: Codec,
        _: &InflateLimits,
        _: Knobs,
    ) -> Result<Vec<u8>> {
        Err(disabled(codec))
    }

    pub(super) fn decompress_reader<'a, R: Read + 'a>(
        _: R,
        codec: Codec,
        _: &InflateLimits,
        _: Knobs,
    ) -> Result<Box<dyn Read + 'a>> {
        Err(disabled(codec))
    }
}

#[cfg(feature = "compress")]
mod imp {
    use super::{sniff, Codec, InflateLimits, Knobs, GZIP, SNIFF_LEN};
    use crate::error::{Error, ErrorKind, Result};
    use std::cell::Cell;
    use std::io::{self, BufRead, Read};
    use std::rc::Rc;

    pub(super) fn decompress(
        data: &[u8],
        codec: Codec,
        limits: &InflateLimits,
        knobs: Knobs,
    ) -> Result<Vec<u8>> {
        if codec == Codec::Zip {
            return unzip(data, limits, knobs);
        }
        let len = data.len() as u64;
        let mut r = limited(data, codec, *limits, knobs, Some(len))?;
        let mut out = Vec::new();
        r.read_to_end(&mut out)?;
        Ok(out)
    }

    pub(super) fn decompress_reader<'a, R: Read + 'a>(
        r: R,
        codec: Codec,
        limits: &InflateLimits,
        knobs: Knobs,
    ) -> Result<Box<dyn Read + 'a>> {
        if codec == Codec::Zip {
            // The one member (stored or deflated) is at most `max_bytes` and deflate
            // adds little even to incompressible data: an archive much larger than the
            // limit cannot hold a member that fits in it.
            let most = limits
                .max_bytes
                .saturating_add(limits.max_bytes / 256)
                .saturating_add(1 << 20);
            let mut data = Vec::new();
            r.take(most.saturating_add(1)).read_to_end(&mut data)?;
            if data.len() as u64 > most {
                return Err(Error::new(
                    ErrorKind::Limit,
                    format!(
                        "the zip data is more than {most} bytes: its one member would inflate \
                         past the limit of {} bytes (raise {})",
                        limits.max_bytes, knobs.bytes
                    ),
                ));
            }
            let out = unzip(&data, limits, knobs)?;
            return Ok(Box::new(io::Cursor::new(out)));
        }
        Ok(Box::new(limited(r, codec, *limits, knobs, None)?))
    }

    /// The decoder of `codec` over `r`, behind the limits. `known`: the whole input's
    /// length, when it is known (a slice); else the ratio counts what was read so far.
    fn limited<'a, R: Read + 'a>(
        r: R,
        codec: Codec,
        limits: InflateLimits,
        knobs: Knobs,
        known: Option<u64>,
    ) -> Result<Limited<'a>> {
        let input = Input::new(r, known);
        let read = input.read.clone();
        let inner: Box<dyn Read + 'a> = match codec {
            Codec::Gzip => Box::new(Gzip::new(input)),
            Codec::Zlib => Box::new(Zlib::new(input)),
            Codec::Bzip2 => Box::new(Bzip2::new(input)),
            Codec::Xz => Box::new(lzma_rust2::XzReader::new(input, true)),
            Codec::Lzma => Box::new(Lzma::new(input)),
            Codec::Zstd => Box::new(Zstd::new(input)),
            Codec::Lz4 => Box::new(Lz4(lz4_flex::frame::FrameDecoder::new(input), false)),
            Codec::Zip => unreachable!("zip archives are inflated whole"),
        };
        Ok(Limited {
            inner,
            codec,
            limits,
            knobs,
            known,
            read,
            produced: 0,
        })
    }

    /// Wraps a crate error so that it crosses `io::Read` (and comes back out whole:
    /// `From<io::Error> for Error` unwraps it).
    fn carry(e: Error) -> io::Error {
        io::Error::other(e)
    }

    fn carries(e: &io::Error) -> bool {
        e.get_ref().is_some_and(|inner| inner.is::<Error>())
    }

    /// A decoder's error as the crate's: what the source failed with stays as it was;
    /// the rest is corrupt or truncated data.
    fn format_error(codec: Codec, e: io::Error) -> io::Error {
        if carries(&e) {
            return e;
        }
        let name = codec.name();
        let msg = if e.kind() == io::ErrorKind::UnexpectedEof {
            format!("{name} data is truncated")
        } else {
            format!("{name} data is corrupt: {e}")
        };
        carry(Error::new(ErrorKind::Format, msg))
    }

    /// The output side: counts what the decoder delivers and stops it at the limits.
    struct Limited<'a> {
        inner: Box<dyn Read + 'a>,
        codec: Codec,
        limits: InflateLimits,
        knobs: Knobs,
        known: Option<u64>,
        /// Compressed bytes read from the source so far.
        read: Rc<Cell<u64>>,
        produced: u64,
    }

    impl Read for Limited<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let compressed = self.known.unwrap_or_else(|| self.read.get());
            let cap = self.limits.cap(compressed);
            // Never ask for more than one byte past the cap: that byte is the proof.
            let room = cap.saturating_sub(self.produced).saturating_add(1);
            let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
            let n = loop {
                match self.inner.read(&mut buf[..want]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(format_error(self.codec, e)),
                }
            };
            self.produced += n as u64;
            if self.produced > cap {
                // A reader's later bytes might still raise the ratio's cap; only a
                // slice's is final, and a reader's is checked against what it read.
                let compressed = self.known.unwrap_or_else(|| self.read.get());
                let cap = self.limits.cap(compressed);
                if self.produced > cap {
                    return Err(carry(self.limits.exceeded(
                        &format!("{} data", self.codec.name()),
                        compressed,
                        cap,
                        true,
                        self.knobs,
                    )));
                }
            }
            Ok(n)
        }
    }

    /// The input side: a buffer over the source that counts what it reads, can look a
    /// few bytes ahead (to see whether another stream follows one) and take back bytes a
    /// decoder read too far.
    struct Input<R> {
        src: R,
        buf: Vec<u8>,
        pos: usize,
        end: usize,
        eof: bool,
        read: Rc<Cell<u64>>,
    }

    const CHUNK: usize = 64 << 10;

    impl<R: Read> Input<R> {
        fn new(src: R, known: Option<u64>) -> Self {
            // A slice shorter than a chunk needs no more room than itself.
            let size = known.map_or(CHUNK, |n| (n as usize).clamp(SNIFF_LEN, CHUNK));
            Input {
                src,
                buf: vec![0; size],
                pos: 0,
                end: 0,
                eof: false,
                read: Rc::new(Cell::new(0)),
            }
        }

        /// Reads more after what is buffered; 0 at the end of the source.
        fn more(&mut self) -> io::Result<usize> {
            if self.eof {
                return Ok(0);
            }
            if self.end == self.buf.len() {
                self.buf.copy_within(self.pos..self.end, 0);
                self.end -= self.pos;
                self.pos = 0;
                if self.end == self.buf.len() {
                    let len = self.buf.len() * 2;
                    self.buf.resize(len, 0);
                }
            }
            loop {
                match self.src.read(&mut self.buf[self.end..]) {
                    Ok(0) => {
                        self.eof = true;
                        return Ok(0);
                    }
                    Ok(n) => {
                        self.end += n;
                        self.read.set(self.read.get() + n as u64);
                        return Ok(n);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    // The source's own errors keep their kind (not "corrupt data").
                    Err(e) => return Err(carry(Error::from(e))),
                }
            }
        }

        /// The next `n` bytes without consuming them (fewer at the end of the source).
        fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
            while self.end - self.pos < n {
                if self.buf.len() - self.pos < n {
                    self.buf.copy_within(self.pos..self.end, 0);
                    self.end -= self.pos;
                    self.pos = 0;
                }
                if self.more()? == 0 {
                    break;
                }
            }
            let have = (self.end - self.pos).min(n);
            Ok(&self.buf[self.pos..self.pos + have])
        }

        /// Puts back `bytes` that a decoder read past the end of its stream.
        fn unread(&mut self, bytes: &[u8]) {
            if bytes.len() <= self.pos {
                self.pos -= bytes.len();
                self.buf[self.pos..self.pos + bytes.len()].copy_from_slice(bytes);
            } else {
                let mut buf = bytes.to_vec();
                buf.extend_from_slice(&self.buf[self.pos..self.end]);
                self.end = buf.len();
                self.pos = 0;
                if buf.len() < CHUNK {
                    buf.resize(CHUNK, 0);
                }
                self.buf = buf;
            }
        }

        /// Skips zero bytes (padding between gzip members).
        fn skip_zeros(&mut self) -> io::Result<()> {
            loop {
                let buf = self.fill_buf()?;
                if buf.is_empty() {
                    return Ok(());
                }
                let zeros = buf.iter().take_while(|&&b| b == 0).count();
                let all = zeros == buf.len();
                self.consume(zeros);
                if !all {
                    return Ok(());
                }
            }
        }
    }

    impl<R: Read> Read for Input<R> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let buf = self.fill_buf()?;
            let n = buf.len().min(out.len());
            out[..n].copy_from_slice(&buf[..n]);
            self.consume(n);
            Ok(n)
        }
    }

    impl<R: Read> BufRead for Input<R> {
        fn fill_buf(&mut self) -> io::Result<&[u8]> {
            if self.pos == self.end {
                self.pos = 0;
                self.end = 0;
                self.more()?;
            }
            Ok(&self.buf[self.pos..self.end])
        }

        fn consume(&mut self, n: usize) {
            self.pos = (self.pos + n).min(self.end);
        }
    }

    /// What follows the end of a stream.
    enum Next {
        /// Another stream of the same codec.
        Stream,
        /// Nothing (or bytes that are ignored, as Python does).
        End,
    }

    /// gzip members, one after the other (`gzip.open`): zero padding skipped, anything
    /// else after a member an error, as in Python.
    struct Gzip<R: Read>(Option<flate2::bufread::GzDecoder<Input<R>>>);

    impl<R: Read> Gzip<R> {
        fn new(input: Input<R>) -> Self {
            Gzip(Some(flate2::bufread::GzDecoder::new(input)))
        }
    }

    impl<R: Read> Read for Gzip<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            loop {
                let Some(dec) = self.0.as_mut() else {
                    return Ok(0);
                };
                let n = dec.read(buf)?;
                if n > 0 || buf.is_empty() {
                    return Ok(n);
                }
                // flate2 reports a missing header as the end of a stream.
                if dec.header().is_none() {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "no gzip header",
                    ));
                }
                let mut input = self.0.take().map(|d| d.into_inner()).expect("a decoder");
                input.skip_zeros()?;
                let head = input.peek(GZIP.len())?;
                if head.is_empty() {
                    return Ok(0);
                }
                if head != GZIP {
                    return Err(carry(Error::new(
                        ErrorKind::Format,
                        "gzip data is followed by bytes that are not a gzip member",
                    )));
                }
                self.0 = Some(flate2::bufread::GzDecoder::new(input));
            }
        }
    }

    /// Streams of a codec whose decoder stops at the end of its stream, one after the
    /// other while the bytes after one sniff as the same codec.
    struct Concat<R: Read, D> {
        state: Option<D>,
        codec: Codec,
        open: fn(Input<R>) -> D,
        close: fn(D) -> Input<R>,
    }

    impl<R: Read, D: Read> Read for Concat<R, D> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            loop {
                let Some(dec) = self.state.as_mut() else {
                    return Ok(0);
                };
                let n = dec.read(buf)?;
                if n > 0 || buf.is_empty() {
                    return Ok(n);
                }
                let mut input = (self.close)(self.state.take().expect("a decoder"));
                match next(&mut input, self.codec)? {
                    Next::Stream => self.state = Some((self.open)(input)),
                    Next::End => return Ok(0),
                }
            }
        }
    }

    fn next<R: Read>(input: &mut Input<R>, codec: Codec) -> io::Result<Next> {
        let head = input.peek(SNIFF_LEN)?;
        Ok(if sniff(head) == Some(codec) {
            Next::Stream
        } else {
            Next::End
        })
    }

    /// zlib streams (joblib's `BinaryZlibFile` reads on after one; `zlib.decompress`
    /// ignores what follows).
    type Zlib<R> = Concat<R, flate2::bufread::ZlibDecoder<Input<R>>>;

    impl<R: Read> Zlib<R> {
        fn new(input: Input<R>) -> Self {
            Concat {
                state: Some(flate2::bufread::ZlibDecoder::new(input)),
                codec: Codec::Zlib,
                open: flate2::bufread::ZlibDecoder::new,
                close: flate2::bufread::ZlibDecoder::into_inner,
            }
        }
    }

    /// bzip2 streams (`bz2.open`).
    type Bzip2<R> = Concat<R, bzip2::bufread::BzDecoder<Input<R>>>;

    impl<R: Read> Bzip2<R> {
        fn new(input: Input<R>) -> Self {
            Concat {
                state: Some(bzip2::bufread::BzDecoder::new(input)),
                codec: Codec::Bzip2,
                open: bzip2::bufread::BzDecoder::new,
                close: bzip2::bufread::BzDecoder::into_inner,
            }
        }
    }

    /// `.lzma` streams (`lzma.open(format=FORMAT_ALONE)`). lzma-rust2 reads its header
    /// when it opens, and ahead of what it decodes: what it read too far goes back.
    struct Lzma<R: Read> {
        state: LzmaState<R>,
    }

    enum LzmaState<R: Read> {
        Idle(Input<R>),
        Decoding(Box<lzma_rust2::LzmaReader<Input<R>>>),
        Done,
    }

    impl<R: Read> Lzma<R> {
        fn new(input: Input<R>) -> Self {
            Lzma {
                state: LzmaState::Idle(input),
            }
        }
    }

    impl<R: Read> Read for Lzma<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            loop {
                match std::mem::replace(&mut self.state, LzmaState::Done) {
                    LzmaState::Done => return Ok(0),
                    LzmaState::Idle(input) => {
                        let dec = lzma_rust2::LzmaReader::new_mem_limit(input, u32::MAX, None)?;
                        self.state = LzmaState::Decoding(Box::new(dec));
                    }
                    LzmaState::Decoding(mut dec) => {
                        let n = dec.read(buf)?;
                        if n > 0 || buf.is_empty() {
                            self.state = LzmaState::Decoding(dec);
                            return Ok(n);
                        }
                        let (mut input, unused) = dec.into_parts();
                        input.unread(&unused);
                        if let Next::Stream = next(&mut input, Codec::Lzma)? {
                            self.state = LzmaState::Idle(input);
                        }
                    }
                }
            }
        }
    }

    /// LZ4 frames, one after the other. lz4_flex ends its output at the end of each
    /// frame, and reads a frame cut short before a header as ended: both are checked
    /// here.
    struct Lz4<R: Read>(lz4_flex::frame::FrameDecoder<Input<R>>, bool);

    const LZ4_LEGACY: &[u8] = b"\x02\x21\x4c\x18";

    /// Whether a frame starts here: its magic and the rest of its smallest header (7
    /// bytes), or a legacy frame's magic.
    fn lz4_frame_ahead<R: Read>(input: &mut Input<R>) -> io::Result<bool> {
        let head = input.peek(7)?;
        if head.starts_with(LZ4_LEGACY) {
            return Ok(true);
        }
        let n = head.len().min(4);
        if n == 0 || head[..n] != super::LZ4[..n] {
            return Ok(false);
        }
        if head.len() < 7 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "frame header cut short",
            ));
        }
        Ok(true)
    }

    impl<R: Read> Read for Lz4<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if !self.1 {
                if !lz4_frame_ahead(self.0.get_mut())? {
                    let kind = match self.0.get_mut().peek(1)?.is_empty() {
                        true => io::ErrorKind::UnexpectedEof,
                        false => io::ErrorKind::InvalidData,
                    };
                    return Err(io::Error::new(kind, "no lz4 frame"));
                }
                self.1 = true;
            }
            loop {
                let n = self.0.read(buf)?;
                if n > 0 || buf.is_empty() {
                    return Ok(n);
                }
                // lz4_flex also ends its output where the input ends before a block
                // header: after a real end mark it has read no further than the mark
                // (and checksum), so a source it ran dry means the frame was cut short.
                let input = self.0.get_mut();
                if input.eof && input.pos == input.end {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "frame cut short",
                    ));
                }
                // The end of a frame: another, or the end (what follows is ignored).
                if !lz4_frame_ahead(input)? {
                    return Ok(0);
                }
            }
        }
    }

    /// Zstandard frames, one after the other (skippable frames skipped), each checked
    /// against its content checksum when it has one.
    struct Zstd<R: Read> {
        input: Input<R>,
        frame: ruzstd::decoding::FrameDecoder,
        in_frame: bool,
        frames: usize,
        done: bool,
    }

    const ZSTD_MAGIC: u32 = 0xfd2f_b528;
    const SKIPPABLE: u32 = 0x184d_2a50;

    impl<R: Read> Zstd<R> {
        fn new(input: Input<R>) -> Self {
            Zstd {
                input,
                frame: ruzstd::decoding::FrameDecoder::new(),
                in_frame: false,
                frames: 0,
                done: false,
            }
        }

        /// A ruzstd error as an io error: truncated when the source is exhausted.
        fn err(&self, e: impl std::fmt::Display) -> io::Error {
            let kind = if self.input.eof && self.input.pos == self.input.end {
                io::ErrorKind::UnexpectedEof
            } else {
                io::ErrorKind::InvalidData
            };
            io::Error::new(kind, e.to_string())
        }

        /// Between frames: starts the next one; false at the end.
        fn next_frame(&mut self) -> io::Result<bool> {
            loop {
                let head = self.input.peek(8)?;
                if head.len() < 4 {
                    if self.frames == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "no frame header",
                        ));
                    }
                    return Ok(false); // the end, or a few stray bytes: ignored
                }
                let magic = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
                if magic & 0xffff_fff0 == SKIPPABLE {
                    if head.len() < 8 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "truncated skippable frame",
                        ));
                    }
                    let mut skip =
                        u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]));
                    self.input.consume(8);
                    while skip > 0 {
                        let n = self.input.fill_buf()?.len();
                        if n == 0 {
                            return Err(io::Error::new(
                                io::ErrorKind::UnexpectedEof,
                                "truncated skippable frame",
                            ));
                        }
                        let n = (n as u64).min(skip);
                        self.input.consume(n as usize);
                        skip -= n;
                    }
                    continue;
                }
                if magic != ZSTD_MAGIC {
                    if self.frames == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "not a zstd frame",
                        ));
                    }
                    return Ok(false); // what follows the last frame is ignored
                }
                if let Err(e) = self.frame.reset(&mut self.input) {
                    return Err(self.err(e));
                }
                self.frames += 1;
                return Ok(true);
            }
        }
    }

    impl<R: Read> Read for Zstd<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if buf.is_empty() {
                return Ok(0);
            }
            loop {
                if self.done {
                    return Ok(0);
                }
                if !self.in_frame {
                    if !self.next_frame()? {
                        self.done = true;
                        return Ok(0);
                    }
                    self.in_frame = true;
                }
                while !self.frame.is_finished() && self.frame.can_collect() < buf.len() {
                    let want = buf.len() - self.frame.can_collect();
                    let strategy = ruzstd::decoding::BlockDecodingStrategy::UptoBytes(want);
                    if let Err(e) = self.frame.decode_blocks(&mut self.input, strategy) {
                        return Err(self.err(e));
                    }
                }
                let n = self.frame.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                if self.frame.is_finished() {
                    if let (Some(want), Some(got)) = (
                        self.frame.get_checksum_from_data(),
                        self.frame.get_calculated_checksum(),
                    ) {
                        if want != got {
                            return Err(io::Error::new(
                                io::ErrorKind::InvalidData,
                                format!(
                                    "frame checksum {want:#010x} does not match its content ({got:#010x})"
                                ),
                            ));
                        }
                    }
                    self.in_frame = false;
                }
            }
        }
    }

    /// The one member of a zip archive (what pandas writes), stored or deflated.
    fn unzip(data: &[u8], limits: &InflateLimits, knobs: Knobs) -> Result<Vec<u8>> {
        use zip::result::ZipError;
        let zip_err = |e: ZipError| match e {
            ZipError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                Error::new(ErrorKind::Format, "zip data is truncated")
            }
            e => Error::new(ErrorKind::Format, format!("zip data is corrupt: {e}")),
        };
        let mut archive = zip::ZipArchive::new(io::Cursor::new(data)).map_err(zip_err)?;
        if archive.len() != 1 {
            let names: Vec<String> = archive
                .file_names()
                .take(5)
                .map(|n| format!("{n:?}"))
                .collect();
            let more = if archive.len() > 5 { ", …" } else { "" };
            return Err(Error::new(
                ErrorKind::Format,
                format!(
                    "the zip archive has {} members ({}{more}): a compressed pickle is a zip of \
                     exactly one (as pandas writes it)",
                    archive.len(),
                    names.join(", ")
                ),
            ));
        }
        let file = archive.by_index(0).map_err(zip_err)?;
        let name = file.name().to_string();
        match file.compression() {
            zip::CompressionMethod::Stored | zip::CompressionMethod::Deflated => {}
            m => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "zip member {name:?} uses compression method {m}; only stored and \
                         deflated members are supported"
                    ),
                ))
            }
        }
        let size = file.size();
        // The directory's sizes are only claims: the compressed size counts for the ratio
        // no more than the archive holds, and inflation stops one byte past the size.
        let compressed = file.compressed_size().min(data.len() as u64);
        let what = format!("zip member {name:?}");
        if size > limits.cap(compressed) {
            return Err(limits.exceeded(&what, compressed, size, false, knobs));
        }
        let mut out = Vec::new();
        file.take(size + 1)
            .read_to_end(&mut out)
            .map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof => {
                    Error::new(ErrorKind::Format, format!("{what} is truncated"))
                }
                _ => Error::new(ErrorKind::Format, format!("{what} is corrupt: {e}")),
            })?;
        if out.len() as u64 != size {
            return Err(Error::new(
                ErrorKind::Format,
                format!(
                    "{what} inflates to {}{} bytes, its header says {size}",
                    if out.len() as u64 > size {
                        "more than "
                    } else {
                        ""
                    },
                    out.len().min(size as usize),
                ),
            ));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opcode;

    #[test]
    fn no_magic_starts_with_a_pickle_opcode_pair() {
        // The first byte of each magic, and what it takes for a pickle to begin so.
        for (magic, first_is_opcode) in [
            (GZIP, false),
            (&b"\x78\x9c"[..], false),
            (b"BZh9", true),
            (XZ, false),
            (&b"\x5d\x00"[..], true),
            (ZSTD, true),
            (LZ4, false),
            (ZIP, true),
        ] {
            assert_eq!(
                opcode::lookup(magic[0]).is_some(),
                first_is_opcode,
                "{magic:x?}"
            );
        }
        // MARK then b5, EMPTY_LIST then 00/ff: never two opcodes.
        assert!(opcode::lookup(0xb5).is_none());
        assert!(opcode::lookup(0x00).is_none());
        assert!(opcode::lookup(0xff).is_none());
        // BINBYTES is a protocol 3 opcode; protocol 3+ pickles begin with PROTO.
        assert_eq!(opcode::lookup(b'B').unwrap().proto, 3);
    }

    #[test]
    fn lzma_headers() {
        let mut h = *b"\x5d\x00\x00\x80\x00\xff\xff\xff\xff\xff\xff\xff\xff";
        assert_eq!(sniff(&h), Some(Codec::Lzma));
        // 2^n + 2^(n-1) (12 MiB) is a dictionary liblzma writes; 12 MiB + 1 is not.
        h[1..5].copy_from_slice(&(12u32 << 20).to_le_bytes());
        assert_eq!(sniff(&h), Some(Codec::Lzma));
        h[1..5].copy_from_slice(&((12u32 << 20) + 1).to_le_bytes());
        assert_eq!(sniff(&h), None);
        h[1..5].copy_from_slice(&(1u32 << 11).to_le_bytes());
        assert_eq!(sniff(&h), None);
        h[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(sniff(&h), Some(Codec::Lzma));
        // A known size under 256 GiB, or not.
        h[5..].copy_from_slice(&1000u64.to_le_bytes());
        assert_eq!(sniff(&h), Some(Codec::Lzma));
        h[5..].copy_from_slice(&(1u64 << 40).to_le_bytes());
        assert_eq!(sniff(&h), None);
        assert_eq!(sniff(&h[..12]), None);
    }

    #[test]
    fn short_and_near_magics() {
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"\x1f"), None);
        assert_eq!(sniff(b"\x78"), None);
        assert_eq!(sniff(b"\x78\x9d"), None); // header check fails
        for flg in [0x01, 0x5e, 0x9c, 0xda] {
            assert_eq!(sniff(&[0x78, flg]), Some(Codec::Zlib));
        }
        assert_eq!(sniff(b"BZh91AY&SY"), Some(Codec::Bzip2));
        assert_eq!(sniff(b"BZh0" /* no block size 0 */), None);
        assert_eq!(sniff(b"BZh91AY&SX"), None);
        assert_eq!(sniff(b"BZh9\x17\x72\x45\x38\x50\x90"), Some(Codec::Bzip2));
        assert_eq!(sniff(b"PK\x05\x06"), None);
        assert_eq!(sniff(b"\x28\xb5\x2f"), None);
    }

    #[test]
    fn reading_ahead_stops_where_no_magic_can_follow() {
        let head = |data: &[u8]| read_head(&mut &data[..]).unwrap();
        assert_eq!(head(b"\x80\x04K\x07."), b"\x80");
        assert_eq!(head(b"(lp0\n."), b"(l");
        assert_eq!(head(b"]q\x00."), b"]q");
        assert_eq!(head(b"PK\n."), b"PK\n");
        assert_eq!(head(b"K\x07."), b"K");
        let lzma = b"\x5d\x00\x00\x80\x00\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00";
        assert_eq!(head(lzma), &lzma[..13]);
        let bz = b"BZh91AY&SY\x00\x00\x00\x00";
        assert_eq!(head(bz), &bz[..13]);
        assert_eq!(
            head(b"BZh9\x17\x72\x45\x38\x50\x90"),
            b"BZh9\x17\x72\x45\x38\x50\x90"
        );
        assert_eq!(head(b"BZx."), b"BZx");
        assert_eq!(head(b"\x1f\x8b\x08\x00"), b"\x1f\x8b\x08\x00");
    }

    #[test]
    fn caps() {
        let l = InflateLimits {
            max_bytes: 10 << 20,
            max_ratio: 100,
        };
        assert_eq!(l.cap(0), 1 << 20);
        assert_eq!(l.cap(20 << 10), 2000 << 10);
        assert_eq!(l.cap(1 << 20), 10 << 20);
        let e = l.exceeded("gzip data", 1000, 1 << 20, true, DIRECT);
        assert_eq!(
            e.to_string(),
            "gzip data inflates from 1000 to more than 1048576 bytes, over 100x its compressed \
             size (the ratio limit applies past 1 MiB; raise InflateLimits::max_ratio)"
        );
        let e = l.exceeded("gzip data", 1 << 20, 10 << 20, true, LOAD);
        assert_eq!(
            e.to_string(),
            "gzip data inflates from 1048576 to more than 10485760 bytes, over the limit of \
             10485760 bytes (raise Limits::max_inflated)"
        );
    }
}
