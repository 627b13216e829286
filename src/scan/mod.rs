//! A static report of what a pickle would do if Python loaded it: every global it
//! imports, every call, state update, persistent id and extension code, each with its
//! byte offset, and a verdict per global (*safe*, *unknown* or *dangerous*).
//!
//! Nothing is executed and the VM is not used: a light abstract machine walks the
//! opcodes (strings, memo, marks, call results), so names that STACK_GLOBAL takes from
//! the memo, `getattr(__import__('os'), 'system')` chains, INST/OBJ forms and payloads
//! inside BUILD states or containers are all seen, and pickles the VM would reject can
//! still be scanned. Torch archives (zip, legacy, tar) and `.npy` files with object
//! arrays are opened and every member that holds a pickle is scanned (every record of a
//! zip directory, duplicate names included: torch reads the first of two
//! `archive/data.pkl`, Python's `zipfile` the last); data after a pickle's STOP is
//! reported.
//!
//! joblib files (`joblib.dump`, joblib >= 0.10) are scanned whole: after the BUILD of
//! each `joblib.numpy_pickle.NumpyArrayWrapper`, `joblib.load` reads the array's bytes
//! straight from the file (a padding-length byte, the padding, then `prod(shape) *
//! itemsize` bytes; or, for an object array, a complete nested pickle). The walk learns
//! the dtype and shape from the pickle, skips the bytes (a size past the end of the
//! file is an error, never an allocation), scans nested pickles and carries on; the
//! arrays are listed in [`Report::arrays`]. Because `pickle.load` would instead read
//! those bytes as opcodes, anything dangerous it would find there is reported too.
//!
//! ```
//! use serde_pickle_vm::scan::{scan_bytes, Severity};
//! // cposix\nsystem\n(S'echo pwned'\ntR. — posix.system('echo pwned'), protocol 0.
//! let report = scan_bytes(b"cposix\nsystem\n(S'echo pwned'\ntR.");
//! assert_eq!(report.severity(), Severity::Dangerous);
//! let g = &report.pickles[0].findings[0];
//! assert_eq!((g.offset, g.opcode, g.name.as_deref()), (0, "GLOBAL", Some("posix.system")));
//! assert_eq!(g.called_by[0].offset, 30);
//! assert_eq!(report.exit_code(), 2);
//! ```
//!
//! The verdicts are about names: *safe* globals only build data (containers, the
//! standard-library value types, torch and numpy rebuild functions, storages, dtypes);
//! *dangerous* ones run code, touch files, processes or the network, or load more
//! pickles; everything else (your own classes) is *unknown*. A pickle with only safe
//! globals is loadable under [`AllowList::torch`](crate::AllowList::torch).
//!
//! # JSON
//!
//! [`Report`] serializes (serde) to the document `pickle-vm scan --json` prints, one line
//! per file, wrapped as `{"file": PATH, "exit_code": 0-3, "severity": SEVERITY, "report":
//! REPORT}`:
//!
//! ```text
//! REPORT   = {"format": "pickle" | "joblib" | "torch-zip" | "torch-legacy" | "torch-tar" | "npy" | "npz" | "zip" | "tar",
//!             "compression": null | "gzip" | …, // offsets are then in the decompressed stream
//!             "error": null | ERROR,            // the input or archive could not be read
//!             "pickles": [PICKLE, ...],         // in file order
//!             "arrays": [ARRAY, ...]}           // array data not read as opcodes, in file order
//! PICKLE   = {"member": null | "archive/data.pkl", "start": u64, "end": null | u64,
//!             "protocol": null | 0-5, "error": null | ERROR, "findings": [FINDING, ...],
//!             "joblib": bool}                   // read as joblib.load reads it
//! ERROR    = {"offset": null | u64, "message": str}
//! FINDING  = {"severity": "safe" | "unknown" | "dangerous",
//!             "offset": u64,                    // of the opcode, in the file or member
//!             "opcode": "STACK_GLOBAL",         // pickletools' name
//!             "kind": "global" | "call" | "build" | "persistent_id" | "extension" | "trailing_data" | "external_file" | "duplicate_name",
//!             "name": null | "posix.system",    // the global, callable or object
//!             "detail": str,                    // why, or what it reaches
//!             "called_by": [{"opcode": "REDUCE", "offset": u64}, ...]}   // for globals
//! ARRAY    = {"member": null | "x.npy", "format": "joblib" | "joblib-file" | "npy",
//!             "build": null | u64,              // joblib: the wrapper's BUILD
//!             "offset": u64, "padding": u64, "end": u64,   // its bytes: [offset, end)
//!             "dtype": "<f8", "shape": [u64, ...], "order": "C" | "F",
//!             "object": bool, "protocol": null | 0-5,   // a pickle, scanned
//!             "file": null | str}               // joblib < 0.10: the file it is read from
//! ```
//!
//! Fields are only ever added; a new `kind` may appear.

mod classify;
mod container;
mod npy;
mod walk;
mod zipdir;

use serde::Serialize;
use std::fmt;
use std::path::Path;

/// How worrying a finding is. Ordered: `Safe < Unknown < Dangerous`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Builds plain data.
    Safe,
    /// Imports or calls something the scanner does not know (e.g. `__main__.Greeter`).
    Unknown,
    /// Would run code, touch files, processes or the network, or load another pickle.
    Dangerous,
}

impl Severity {
    /// `"safe"`, `"unknown"` or `"dangerous"`.
    ///
    /// ```
    /// assert_eq!(serde_pickle_vm::scan::Severity::Unknown.as_str(), "unknown");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Safe => "safe",
            Severity::Unknown => "unknown",
            Severity::Dangerous => "dangerous",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An import: GLOBAL, STACK_GLOBAL, INST (its class). `name` is `module.name` after
    /// the Python 2 renames, or `None` when STACK_GLOBAL's operands are computed.
    Global,
    /// A call: REDUCE, NEWOBJ, NEWOBJ_EX, INST, OBJ. `name` is the callable.
    Call,
    /// A BUILD (state set on an object, `__setstate__`). `name` is the object.
    Build,
    /// A persistent id (PERSID, BINPERSID), resolved by the loader's `persistent_load`
    /// (torch: storages). `detail` renders the id.
    PersistentId,
    /// An extension code (EXT1/2/4), imported through copyreg's registry.
    Extension,
    /// Bytes after STOP: another pickle (scanned as the next entry of
    /// [`Report::pickles`]) or data that is not one.
    TrailingData,
    /// The BUILD of a joblib < 0.10 array wrapper: `joblib.load` reads the array from
    /// the file `name` (next to the dump) with `np.load(allow_pickle=True)`. *Safe* for
    /// a plain file name (scan that file too), *unknown* for a path or a computed name.
    ExternalFile,
    /// A zip record whose name another record has too: readers disagree on which one
    /// they read (torch the first, Python's `zipfile` the last). Every record is
    /// scanned; this finding (offset 0 of the member) heads the pickles of each record
    /// of such a name.
    DuplicateName,
}

/// Where a global is used: the opcode and its byte offset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Site {
    /// The opcode's name (`REDUCE`, …).
    pub opcode: &'static str,
    /// Its byte offset.
    pub offset: u64,
}

/// One thing the pickle would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How worrying it is.
    pub severity: Severity,
    /// The byte offset of the opcode, in the file (or in the archive member).
    pub offset: u64,
    /// The opcode's name, as pickletools spells it.
    pub opcode: &'static str,
    /// What it is.
    pub kind: Kind,
    /// The global (`posix.system`), the callable or object, when there is one.
    pub name: Option<String>,
    /// Why it has its severity, or what it reaches.
    pub detail: String,
    /// For globals: the calls of it (REDUCE, NEWOBJ, … and copyreg reconstructions).
    pub called_by: Vec<Site>,
}

impl Finding {
    /// One line of text: `posix.system  called by REDUCE at 29`.
    ///
    /// ```
    /// let r = serde_pickle_vm::scan::scan_bytes(b"cos\nsystem\n)R.");
    /// assert_eq!(r.pickles[0].findings[0].what(), "os.system  called by REDUCE at 12  (executes code or touches the system)");
    /// ```
    pub fn what(&self) -> String {
        let mut s = match (&self.kind, &self.name) {
            (Kind::Call, Some(n)) => format!("call {n}"),
            (Kind::Build, Some(n)) => format!("state of {n}"),
            (Kind::PersistentId, _) => format!("persistent id {}", self.detail),
            (_, Some(n)) => n.clone(),
            (Kind::Global, None) => "<computed name>".into(),
            (_, None) => String::new(),
        };
        if !self.called_by.is_empty() {
            s.push_str("  called by ");
            for (i, c) in self.called_by.iter().take(3).enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                s.push_str(&format!("{} at {}", c.opcode, c.offset));
            }
            if self.called_by.len() > 3 {
                s.push_str(&format!(" (+{} more)", self.called_by.len() - 3));
            }
        }
        if !self.detail.is_empty() && self.kind != Kind::PersistentId {
            if s.is_empty() {
                s = self.detail.clone();
            } else {
                s.push_str(&format!("  ({})", self.detail));
            }
        }
        s
    }
}

/// One pickle in the input: the file itself, one of several pickles in a row, or an
/// archive member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pickle {
    /// The archive member it was read from (`archive/data.pkl`); `None` for a plain file.
    pub member: Option<String>,
    /// The byte offset where the pickle starts (in the file or member).
    pub start: u64,
    /// Just past its STOP opcode; `None` when it could not be read to the end.
    pub end: Option<u64>,
    /// The protocol of its PROTO opcode (none for protocols 0–1).
    pub protocol: Option<u8>,
    /// What it would do, in the order of the opcodes.
    pub findings: Vec<Finding>,
    /// Why it could not be read to its STOP (Python's load would raise there, after
    /// doing what the findings before that offset say).
    pub error: Option<ScanError>,
    /// It was read as `joblib.load` reads it: after the BUILD of a joblib array
    /// wrapper, the array's bytes (see [`Report::arrays`]).
    pub joblib: bool,
}

impl Pickle {
    /// The worst severity of its findings (`Safe` when there are none).
    pub fn severity(&self) -> Severity {
        self.findings
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Safe)
    }
}

/// Where and why a pickle or a file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanError {
    /// The byte offset (in the file or member), when known.
    pub offset: Option<u64>,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(o) => write!(f, "{} (at byte {o})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Array data the scanner recognised and did not read as opcodes: an array joblib wrote
/// inline after a `NumpyArrayWrapper`'s BUILD, the data of a `.npy` file or `.npz`
/// member, or the sibling file a joblib < 0.10 wrapper names.
///
/// ```
/// let r = serde_pickle_vm::scan::scan_file("fixtures/scan/benign_arrays.joblib").unwrap();
/// assert_eq!(r.format, "joblib");
/// let a = &r.arrays[0];
/// assert_eq!((a.format, a.dtype.as_str(), a.shape.as_slice()), ("joblib", "<f8", &[3u64][..]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Array {
    /// The archive member it is in (`x.npy` in an `.npz`), `None` for a plain file.
    pub member: Option<String>,
    /// `joblib` (inline after a wrapper's BUILD), `joblib-file` (joblib < 0.10: in the
    /// file [`file`](Self::file)) or `npy`.
    pub format: &'static str,
    /// joblib: the offset of the BUILD after which `joblib.load` reads it.
    pub build: Option<u64>,
    /// Where its bytes start: joblib's padding-length byte (when there is one), the
    /// data after a `.npy` header.
    pub offset: u64,
    /// Bytes of alignment padding before the data, the length byte included.
    pub padding: u64,
    /// Just past its bytes (past the nested pickle of an object array).
    pub end: u64,
    /// numpy's `dtype.str` as far as the pickle or header says (`<f8`, `|O`, `|V16`;
    /// the header's `descr` text for `.npy`).
    pub dtype: String,
    /// Its shape.
    pub shape: Vec<u64>,
    /// `C` or `F`.
    pub order: String,
    /// An object array: its bytes are a pickle, scanned (its findings are those of the
    /// pickle around it for joblib, its own entry of [`Report::pickles`] for `.npy`).
    pub object: bool,
    /// An object array's pickle protocol.
    pub protocol: Option<u8>,
    /// joblib < 0.10: the file the array is read from.
    pub file: Option<String>,
}

impl Array {
    /// Its size in bytes (padding and data).
    ///
    /// ```
    /// let r = serde_pickle_vm::scan::scan_file("fixtures/scan/benign_arrays.joblib").unwrap();
    /// assert!(r.arrays[0].len() >= 24);
    /// ```
    pub fn len(&self) -> u64 {
        self.end - self.offset
    }

    /// `true` when it holds no bytes (a joblib < 0.10 reference, a 0-size array without
    /// padding).
    ///
    /// ```
    /// let r = serde_pickle_vm::scan::scan_file("fixtures/scan/benign_arrays.joblib").unwrap();
    /// assert!(!r.arrays[0].is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.end == self.offset
    }
}

/// The scan of one input (a file or a byte slice).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// What the input is: `pickle`, `joblib` (a pickle with arrays inline),
    /// `torch-zip`, `torch-legacy`, `torch-tar`, `npy`, `npz`, `zip`, `tar`.
    pub format: &'static str,
    /// The compression around it (`gzip`, `zlib`, …), when it was compressed; offsets
    /// are then in the decompressed stream.
    pub compression: Option<&'static str>,
    /// Every pickle found, in file order.
    pub pickles: Vec<Pickle>,
    /// The array data recognised and skipped (or, for object arrays, scanned as
    /// pickles), in file order.
    pub arrays: Vec<Array>,
    /// Why the input (or an archive around the pickles) could not be read.
    pub error: Option<ScanError>,
}

impl Report {
    /// The worst severity over all pickles.
    ///
    /// ```
    /// use serde_pickle_vm::scan::{scan_bytes, Severity};
    /// assert_eq!(scan_bytes(b"]q\x00.").severity(), Severity::Safe);
    /// assert_eq!(scan_bytes(b"c__main__\nGreeter\n)R.").severity(), Severity::Unknown);
    /// ```
    pub fn severity(&self) -> Severity {
        self.pickles
            .iter()
            .map(Pickle::severity)
            .max()
            .unwrap_or(Severity::Safe)
    }

    /// `true` when the input, an archive member or a pickle could not be read to its end.
    ///
    /// ```
    /// assert!(serde_pickle_vm::scan::scan_bytes(b"\x80\x04K").unreadable());
    /// ```
    pub fn unreadable(&self) -> bool {
        self.error.is_some() || self.pickles.iter().any(|p| p.error.is_some())
    }

    /// The exit status of `pickle-vm scan`, like a linter's: 0 safe, 1 unknown globals,
    /// 2 dangerous, 3 unreadable. A dangerous finding wins over unreadable (Python runs
    /// what comes before the point where a load fails).
    ///
    /// ```
    /// use serde_pickle_vm::scan::scan_bytes;
    /// assert_eq!(scan_bytes(b"K\x01.").exit_code(), 0);
    /// assert_eq!(scan_bytes(b"\xff").exit_code(), 3);
    /// ```
    pub fn exit_code(&self) -> u8 {
        match (self.severity(), self.unreadable()) {
            (Severity::Dangerous, _) => 2,
            (_, true) => 3,
            (Severity::Unknown, false) => 1,
            (Severity::Safe, false) => 0,
        }
    }

    /// The format with its compression: `joblib`, `gzip+joblib`.
    ///
    /// ```
    /// assert_eq!(serde_pickle_vm::scan::scan_bytes(b"K\x01.").describe_format(), "pickle");
    /// ```
    pub fn describe_format(&self) -> String {
        match self.compression {
            Some(c) => format!("{c}+{}", self.format),
            None => self.format.to_string(),
        }
    }

    /// Every finding with the member it is in.
    ///
    /// ```
    /// let r = serde_pickle_vm::scan::scan_bytes(b"c__main__\nGreeter\n)R.");
    /// assert_eq!(r.findings().count(), 2); // the global and its call
    /// ```
    pub fn findings(&self) -> impl Iterator<Item = (Option<&str>, &Finding)> {
        self.pickles
            .iter()
            .flat_map(|p| p.findings.iter().map(move |f| (p.member.as_deref(), f)))
    }
}

/// Scans bytes: a pickle (and whatever follows its STOP), a torch checkpoint in any of
/// its formats (with the `torch` feature) or a `.npy` file. Never fails: what cannot be
/// read is reported in [`Report::error`] / [`Pickle::error`].
///
/// ```
/// use serde_pickle_vm::scan::{scan_bytes, Kind, Severity};
/// // builtins.getattr(builtins.__import__('os'), 'system')('id'), protocol 4.
/// let payload = b"\x80\x04cbuiltins\ngetattr\ncbuiltins\n__import__\n\x8c\x02os\x85R\x8c\x06system\x86R\x8c\x02id\x85R.";
/// let report = scan_bytes(payload);
/// let calls: Vec<_> = report.findings().filter(|(_, f)| f.kind == Kind::Call).collect();
/// assert_eq!(calls.len(), 3);
/// assert_eq!(calls[2].1.name.as_deref(), Some("os.system (from REDUCE at 56)"));
/// assert_eq!(calls[2].1.severity, Severity::Dangerous);
/// ```
pub fn scan_bytes(data: &[u8]) -> Report {
    container::scan(data)
}

/// Scans a file (see [`scan_bytes`]).
///
/// ```
/// # #[cfg(feature = "torch")] {
/// use serde_pickle_vm::scan::{scan_file, Severity};
/// let report = scan_file("fixtures/torch/checkpoint.pt").unwrap();
/// assert_eq!(report.format, "torch-zip");
/// assert_eq!(report.severity(), Severity::Safe);
/// # }
/// ```
pub fn scan_file<P: AsRef<Path>>(path: P) -> std::io::Result<Report> {
    Ok(container::scan(&std::fs::read(path)?))
}
