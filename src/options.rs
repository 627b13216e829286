//! Options of a load: text decoding, Python 2 renames, emulation of standard-library
//! classes, and the resource limits with their defaults.

pub use crate::vm::text::{Encoding, Errors};

/// Resource limits. Every limit has a safe default; exceeding one is an
/// [`ErrorKind::Limit`](crate::ErrorKind::Limit) error that names the limit.
///
/// Independently of these, the VM's memory is linear in the input: every node, stack
/// entry and memo entry is created by at least one input byte, and declared lengths are
/// checked against what remains of a slice (or grown only as a stream delivers data)
/// before anything is allocated.
///
/// ```
/// use serde_pickle_vm::{Limits, Options};
/// let opts = Options { limits: Limits { max_memo: 1000, ..Limits::default() }, ..Options::default() };
/// assert_eq!(opts.limits.max_depth, 1000);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of containers that the walks over the graph (the JSON rendering,
    /// serde) will descend into. Default 1000 (CPython's pickler cannot write much deeper).
    pub max_depth: usize,
    /// Most memo entries (PUT/BINPUT/MEMOIZE). Default 2^26.
    pub max_memo: usize,
    /// Most bytes of strings, bytes and container slots the VM may allocate in all.
    /// Default 16 GiB: effectively the input-size bound; lower it for untrusted input.
    pub max_alloc: u64,
    /// Most decimal digits of a text int (INT/LONG in protocol 0), as CPython's
    /// `sys.get_int_max_str_digits()`. Default 4300.
    pub max_int_digits: usize,
    /// How many nodes a serde walk may visit in all, counting a shared node each time it
    /// is reached; `None` means 10 × the graph's node count + 1,000,000.
    pub max_expansion: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 1000,
            max_memo: 1 << 26,
            max_alloc: 16 << 30,
            max_int_digits: 4300,
            max_expansion: None,
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
            limits: Limits::default(),
        }
    }
}
