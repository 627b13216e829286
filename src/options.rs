//! Options of a load: text decoding, Python 2 renames, emulation of standard-library
//! classes, and the resource limits with their defaults.

pub use crate::vm::text::{Encoding, Errors};

/// Resource limits. Every limit has a safe default; exceeding one is an
/// [`ErrorKind::Limit`](crate::ErrorKind::Limit) error that names the limit.
///
/// Independently of these, the VM's memory is linear in the input: every node, stack
/// entry and memo entry is created by at least one input byte, and declared lengths are
/// checked against what remains of a slice (or grown only as a stream delivers data)
/// before anything is allocated. Measured (`tests/bounds.rs`, a counting allocator over
/// adversarial streams and every fixture), with these defaults:
///
/// * loading N bytes (slice or reader) peaks at **≤ 96·N + 1 MiB** (worst seen 72·N, a
///   stream of 3-byte REDUCEs), and doubling N at most doubles the allocations;
/// * the compact JSON rendering is **≤ 32·N** bytes, plus the copies of shared strings
///   (capped by the byte budget below), and peaks at **≤ 320·N + 1 MiB** (deep nesting
///   costs a few work items per level); shared containers are written once;
/// * a serde walk visits at most [`max_expansion`](Self::max_expansion) nodes, so what it
///   allocates is proportional to that budget (for `serde_json::Value`, ~128 bytes a
///   visit), however much sharing the pickle has; nesting stops at
///   [`max_depth`](Self::max_depth), which fits a 2 MiB thread stack.
///
/// * a serde walk also delivers at most [`max_expanded_bytes`](Self::max_expanded_bytes)
///   bytes of strings, byte strings, big ints and global names: these carry no identity,
///   so a large string memoized once and fetched many times is copied at each reference
///   (a 100 KB string fetched 50,000 times from 200 KB of pickle would be 5 GB); the
///   JSON rendering has the same budget
///   ([`JsonOptions::max_expanded_bytes`](crate::json::JsonOptions::max_expanded_bytes)).
///
/// ```
/// use serde_pickle_vm::{Limits, Options};
/// let opts = Options { limits: Limits { max_memo: 1000, ..Limits::default() }, ..Options::default() };
/// assert_eq!(opts.limits.max_depth, 1000);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of containers that a serde walk will descend into (an object's
    /// state counts as a level). Default 1000 (CPython's pickler cannot write much
    /// deeper), which fits the 2 MiB stack of a spawned thread. The JSON rendering and
    /// the VM are iterative and take any depth.
    pub max_depth: usize,
    /// Most memo entries (PUT/BINPUT/MEMOIZE). Default 2^26. Indices may be anything up
    /// to 2^64-1 (`LONG_BINPUT 4294967295` is fine): the memo's memory follows the
    /// entries stored (≤ 2 × entries + 4097 dense slots, the rest in a map), never the
    /// largest index.
    pub max_memo: usize,
    /// Most bytes of strings, bytes and container slots the VM may allocate in all.
    /// Default 16 GiB: effectively the input-size bound; lower it for untrusted input.
    pub max_alloc: u64,
    /// Most decimal digits of a text int (INT/LONG in protocol 0), as CPython's
    /// `sys.get_int_max_str_digits()`. Default 4300.
    pub max_int_digits: usize,
    /// How many nodes a serde walk may visit in all, counting a shared node each time it
    /// is reached; `None` means 10 × the graph's node count + 1,000,000. This is what
    /// stops a "billion laughs" (60 levels of `[x, x]` in 130 bytes) with an error
    /// instead of 2^60 copies.
    pub max_expansion: Option<u64>,
    /// How many bytes of strings, byte strings, big ints (their decimal digits) and
    /// global names a serde walk may deliver in all, counting a shared value each time it
    /// is reached; `None` means 64 × the pickle's size ([`Graph::input_len`]) + 64 MiB.
    /// Unshared data stays far below (every byte delivered was read once from the
    /// input), so this only stops a large string copied at many references.
    ///
    /// [`Graph::input_len`]: crate::Graph::input_len
    pub max_expanded_bytes: Option<u64>,
    /// Most bytes a compressed input (see [`Options::decompress`]) may inflate to.
    /// Default 16 GiB, as `torch::LoadOptions::max_inflated` for
    /// torch's zip entries ([`InflateLimits::max_bytes`]).
    ///
    /// [`InflateLimits::max_bytes`]: crate::compress::InflateLimits::max_bytes
    pub max_inflated: u64,
    /// Most bytes a compressed input may inflate to per compressed byte, once past 1 MiB.
    /// Default 100 ([`InflateLimits::max_ratio`]): real pickles compress 2–20×, runs of
    /// zeros (bombs) ~1000× and more.
    ///
    /// [`InflateLimits::max_ratio`]: crate::compress::InflateLimits::max_ratio
    pub max_inflate_ratio: u64,
}

/// The default byte budget for a graph read from `input_len` bytes: 64 × input + 64 MiB.
pub(crate) fn default_expanded_bytes(input_len: u64) -> u64 {
    input_len.saturating_mul(64).saturating_add(64 << 20)
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 1000,
            max_memo: 1 << 26,
            max_alloc: 16 << 30,
            max_int_digits: 4300,
            max_expansion: None,
            max_expanded_bytes: None,
            max_inflated: crate::compress::InflateLimits::default().max_bytes,
            max_inflate_ratio: crate::compress::InflateLimits::default().max_ratio,
        }
    }
}

impl Limits {
    /// The inflation limits, for [`crate::compress`].
    pub(crate) fn inflate(&self) -> crate::compress::InflateLimits {
        crate::compress::InflateLimits {
            max_bytes: self.max_inflated,
            max_ratio: self.max_inflate_ratio,
        }
    }
}

/// Options of a load.
///
/// ```
/// use serde_pickle_vm::{Encoding, Options};
/// let opts = Options { encoding: Encoding::Latin1, ..Options::default() };
/// // A Python 2 str with a non-ASCII byte: U'caf\xe9' (SHORT_BINSTRING).
/// let g = serde_pickle_vm::Unpickler::with_options(opts).load_slice(b"U\x04caf\xe9.").unwrap();
/// assert_eq!(g.root().as_str(), Some("café"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// How Python 2 `str` is decoded (CPython's `encoding=`). Default ASCII.
    pub encoding: Encoding,
    /// What to do with undecodable bytes (CPython's `errors=`). Default strict.
    pub errors: Errors,
    /// Rename Python 2 modules in protocol 0–2 pickles (`__builtin__` → `builtins`, …),
    /// like CPython's `fix_imports`. Default true.
    pub fix_imports: bool,
    /// Turn recognised standard-library constructions (set, OrderedDict, datetime, …)
    /// into native values. Default true; false keeps every construction as recorded
    /// (`pickle-vm json --raw`).
    pub emulate: bool,
    /// Read joblib's inline numpy arrays (feature `numpy`): joblib ≥ 0.10 writes each
    /// array's bytes into the pickle stream right after the BUILD of its
    /// `joblib.numpy_pickle.NumpyArrayWrapper`, which a plain unpickler reads as opcodes
    /// (`invalid load key`). With this on, the VM reads them as joblib does and the
    /// wrapper becomes the array ([`Emulated::NdArray`](crate::Emulated::NdArray), or
    /// [`Emulated::ObjectArray`](crate::Emulated::ObjectArray) for the nested pickle of
    /// an object array). Default true: no pickle that CPython's own pickler writes has
    /// bytes after such a BUILD. With [`emulate`](Self::emulate) off the wrapper stays as
    /// recorded and its data is skipped.
    pub joblib: bool,
    /// Recognise a compressed input by its first bytes (gzip, zlib, bzip2, xz, lzma,
    /// zstd, lz4, a one-member zip: [`compress::sniff`](crate::compress::sniff)) and load
    /// the pickle inside, under [`Limits::max_inflated`] and
    /// [`Limits::max_inflate_ratio`]. Default true; no pickle CPython writes starts like
    /// one of those. False reads every input as a pickle. Without the `compress` feature,
    /// a compressed input is an error that says so.
    ///
    /// Offsets in errors then count in the decompressed pickle, and say so: `pickle data
    /// was truncated (at byte 2 of the gzip-decompressed pickle, opcode FRAME)`. A graph
    /// loaded from a compressed slice owns its strings (they cannot borrow from the
    /// compressed bytes), so `&str` and `&[u8]` fields cannot borrow either: use `String`,
    /// `Cow<str>` or `Vec<u8>` for inputs that may be compressed.
    pub decompress: bool,
    /// Resource limits.
    pub limits: Limits,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            encoding: Encoding::Ascii,
            errors: Errors::Strict,
            fix_imports: true,
            emulate: true,
            joblib: true,
            decompress: true,
            limits: Limits::default(),
        }
    }
}
