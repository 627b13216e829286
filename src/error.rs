//! The crate's one error type: what went wrong, where in the pickle (byte offset and
//! opcode) and, for serde errors, where in the value (a path such as `layers[3].weight`).
//!
//! `Error` is a single pointer wide (a `Box` around the details) so that `Result`s stay
//! cheap on the hot path; the context is attached where the error is raised.

use std::fmt;

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What class of failure an [`Error`] is, for callers who branch on it.
///
/// ```
/// use serde_pickle_vm::{ErrorKind, Value};
/// let err = serde_pickle_vm::load_slice(b"\x80\x04\x95").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Truncated);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ended before the pickle did (CPython: "pickle data was truncated").
    Truncated,
    /// A byte that is not an opcode of any protocol.
    UnknownOpcode,
    /// An opcode's argument could not be parsed (a bad decimal, a bad string literal, …).
    BadArgument,
    /// An opcode found the stack in a shape it cannot work with (underflow, no MARK,
    /// a non-list under APPEND, …).
    Stack,
    /// A memo GET of an index that was never PUT.
    Memo,
    /// Text that does not decode under the chosen encoding.
    Decode,
    /// The pickle needs something that was not provided: an out-of-band buffer, an
    /// extension code registration, a persistent-load hook.
    Unsupported,
    /// A hook (find_class, persistent_load, …) or an allow-list refused the pickle.
    Rejected,
    /// A configured resource limit was reached (depth, memo size, allocation, expansion).
    Limit,
    /// A value did not fit the Rust type it was deserialized into.
    Type,
    /// An error from a `serde::Deserialize` implementation.
    Custom,
    /// An I/O error from the underlying reader.
    Io,
    /// A malformed archive or tensor (torch files, numpy arrays).
    Format,
}

struct Inner {
    kind: ErrorKind,
    message: String,
    offset: Option<u64>,
    opcode: Option<&'static str>,
    path: Option<String>,
    /// What the offset counts in when it is not the input itself ("the gzip-decompressed
    /// pickle").
    within: Option<&'static str>,
    source: Option<std::io::Error>,
}

/// The error of every fallible operation in this crate.
///
/// Its `Display` reads like CPython's message where CPython has one, followed by the
/// position: `pickle data was truncated (at byte 12, opcode BINUNICODE)`. For serde
/// errors the path from the root comes first: `records[3].tags[1]: invalid type: …`.
pub struct Error(Box<Inner>);

impl Error {
    /// A new error of `kind` with `message` and no position yet.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error(Box::new(Inner {
            kind,
            message: message.into(),
            offset: None,
            opcode: None,
            path: None,
            within: None,
            source: None,
        }))
    }

    /// Says what the error's offset counts in, when the pickle was not the input itself
    /// but what it decompressed to (kept from the first call).
    pub(crate) fn within(mut self, what: &'static str) -> Self {
        if self.0.within.is_none() {
            self.0.within = Some(what);
        }
        self
    }

    /// Adds a sentence to the message.
    pub(crate) fn note(mut self, note: &str) -> Self {
        self.0.message.push_str(note);
        self
    }

    pub(crate) fn at(mut self, offset: u64, opcode: Option<&'static str>) -> Self {
        if self.0.offset.is_none() {
            self.0.offset = Some(offset);
            self.0.opcode = opcode;
        }
        self
    }

    #[allow(dead_code)] // for the serde layer
    pub(crate) fn with_offset(mut self, offset: u64) -> Self {
        if self.0.offset.is_none() {
            self.0.offset = Some(offset);
        }
        self
    }

    /// Prepends a path segment (`.field` or `[3]`) to the error's path; used while the
    /// error travels up out of a nested value.
    #[allow(dead_code)] // for the serde layer
    pub(crate) fn in_path(mut self, segment: &str) -> Self {
        match &mut self.0.path {
            Some(p) => {
                let mut s = String::with_capacity(segment.len() + p.len());
                s.push_str(segment);
                if !(p.starts_with('[') || p.starts_with('.')) {
                    s.push('.');
                }
                s.push_str(p);
                *p = s;
            }
            None => self.0.path = Some(segment.to_string()),
        }
        self
    }

    /// What class of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The message without position or path.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The byte offset in the pickle of the opcode (or node) the error is about. When the
    /// input was compressed, it counts in the decompressed pickle (see
    /// [`within_what`](Self::within_what)).
    pub fn offset(&self) -> Option<u64> {
        self.0.offset
    }

    /// What the [`offset`](Self::offset) counts in when it is not the input's bytes: for a
    /// compressed input, `"the gzip-decompressed pickle"` (and so for each codec). The
    /// `Display` of the error says it too: `… (at byte 83 of the gzip-decompressed
    /// pickle, opcode BINUNICODE)`.
    ///
    /// ```
    /// # #[cfg(feature = "compress")] {
    /// // gzip.compress(b"\x80\x04\x95", mtime=0): a truncated pickle, compressed.
    /// let gz = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03k`\x99\x0a\x00]`}\xfa\x03\x00\x00\x00";
    /// let err = serde_pickle_vm::load_slice(gz).unwrap_err();
    /// assert_eq!(err.within_what(), Some("the gzip-decompressed pickle"));
    /// assert_eq!(
    ///     err.to_string(),
    ///     "pickle data was truncated (at byte 2 of the gzip-decompressed pickle, opcode FRAME)"
    /// );
    /// # }
    /// ```
    pub fn within_what(&self) -> Option<&'static str> {
        self.0.within
    }

    /// The name of the opcode being executed when the error was raised (pickletools' name).
    pub fn opcode(&self) -> Option<&'static str> {
        self.0.opcode
    }

    /// For serde errors: the path from the root to the value that did not fit,
    /// e.g. `model.layers[3].weight` (a leading `.` is dropped).
    pub fn path(&self) -> Option<&str> {
        self.0
            .path
            .as_deref()
            .map(|p| p.strip_prefix('.').unwrap_or(p))
    }

    // Constructors for the common cases, with CPython's wording.
    pub(crate) fn truncated() -> Self {
        Error::new(ErrorKind::Truncated, "pickle data was truncated")
    }
    pub(crate) fn stack_underflow() -> Self {
        Error::new(ErrorKind::Stack, "unpickling stack underflow")
    }
    pub(crate) fn no_mark() -> Self {
        Error::new(ErrorKind::Stack, "could not find MARK")
    }
    pub(crate) fn bad_arg(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::BadArgument, message)
    }
    pub(crate) fn stack(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Stack, message)
    }
    pub(crate) fn limit(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Limit, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = self.path() {
            if !path.is_empty() {
                write!(f, "{path}: ")?;
            }
        }
        f.write_str(&self.0.message)?;
        let within = |f: &mut fmt::Formatter<'_>| match self.0.within {
            Some(w) => write!(f, " of {w}"),
            None => Ok(()),
        };
        match (self.0.offset, self.0.opcode) {
            (Some(o), op) => {
                write!(f, " (at byte {o}")?;
                within(f)?;
                match op {
                    Some(op) => write!(f, ", opcode {op})"),
                    None => f.write_str(")"),
                }
            }
            (None, _) => match self.0.within {
                Some(w) => write!(f, " (in {w})"),
                None => Ok(()),
            },
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({:?}: {})", self.0.kind, self)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        // One of ours that crossed an `io::Read` (a decompressing reader's limit or
        // format error): back out whole.
        if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            if let Some(Ok(err)) = e.into_inner().map(|inner| inner.downcast::<Error>()) {
                return *err;
            }
            return Error::new(ErrorKind::Io, "i/o error");
        }
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            return Error::truncated();
        }
        let mut err = Error::new(ErrorKind::Io, e.to_string());
        err.0.source = Some(e);
        err
    }
}

impl serde::de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::new(ErrorKind::Custom, msg.to_string())
    }

    // The errors serde raises when a value does not fit are `Type` errors, and the names
    // the `#[pickle]` macro hides in fields and variants read as the Rust names.
    fn invalid_type(unexp: serde::de::Unexpected<'_>, exp: &dyn serde::de::Expected) -> Self {
        Error::new(
            ErrorKind::Type,
            format!("invalid type: {unexp}, expected {exp}"),
        )
    }

    fn invalid_value(unexp: serde::de::Unexpected<'_>, exp: &dyn serde::de::Expected) -> Self {
        Error::new(
            ErrorKind::Type,
            format!("invalid value: {unexp}, expected {exp}"),
        )
    }

    fn invalid_length(len: usize, exp: &dyn serde::de::Expected) -> Self {
        Error::new(
            ErrorKind::Type,
            format!("invalid length {len}, expected {exp}"),
        )
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        Error::new(
            ErrorKind::Type,
            format!(
                "unknown variant `{variant}`, {}",
                crate::de::magic::display_list(expected)
            ),
        )
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Error::new(
            ErrorKind::Type,
            format!(
                "unknown field `{field}`, {}",
                crate::de::magic::display_list(expected)
            ),
        )
    }

    fn missing_field(field: &'static str) -> Self {
        Error::new(
            ErrorKind::Type,
            format!("missing field {}", crate::de::magic::display_name(field)),
        )
    }

    fn duplicate_field(field: &'static str) -> Self {
        Error::new(
            ErrorKind::Type,
            format!("duplicate field {}", crate::de::magic::display_name(field)),
        )
    }
}
