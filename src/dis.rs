//! A pickle disassembler whose output is byte for byte that of CPython 3.11's
//! `pickletools.dis()` (and, with [`DisOptions::annotate`], of `python -m pickletools -a`),
//! including its sanity checks and the text it prints before reporting a malformed pickle.

use std::collections::hash_map::{Entry, HashMap};
use std::fmt::Write as _;
use std::{fmt, io};

use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive};

use crate::error::{Error, ErrorKind, Result};
use crate::opcode::{self, Opcode};
use crate::pyrepr::{bytearray_repr, bytes_repr, codepoints_repr, float_repr, str_repr};

/// Most open MARKs that indent a line: deeper lines stay at this indentation (pickletools
/// keeps going, but no real pickle comes near, and a million MARKs would make its listing
/// terabytes long).
const MAX_INDENT: usize = 100;

/// How [`dis`] lays out its listing; the defaults match `pickletools.dis(data, out)`.
///
/// ```
/// use serde_pickle_vm::dis::DisOptions;
/// let opts = DisOptions { annotate: 30, ..DisOptions::default() }; // like `pickletools -a`
/// assert_eq!(opts.indent, 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisOptions {
    /// The column hint for the one-line opcode descriptions; `0` leaves them out and
    /// `30` is what `python -m pickletools -a` uses (pickletools' `annotate`).
    pub annotate: usize,
    /// Blanks of indentation per open MARK (pickletools' `indentlevel`, default 4), for
    /// up to 100 open MARKs.
    pub indent: usize,
}

impl Default for DisOptions {
    fn default() -> Self {
        DisOptions {
            annotate: 0,
            indent: 4,
        }
    }
}

impl DisOptions {
    /// The options of `python -m pickletools -a`: annotations from column 30.
    ///
    /// ```
    /// use serde_pickle_vm::dis::{dis_to_string, DisOptions};
    /// let text = dis_to_string(b"N.", &DisOptions::annotated()).unwrap();
    /// assert!(text.starts_with("    0: N    NONE                      Push None on the stack.\n"));
    /// ```
    pub fn annotated() -> Self {
        DisOptions {
            annotate: 30,
            ..DisOptions::default()
        }
    }
}

/// Disassembles the pickle at the start of `data` (through its first STOP) to `out`,
/// exactly as `pickletools.dis(data, out, indentlevel=options.indent,
/// annotate=options.annotate)` prints it. Bytes after the STOP are ignored.
///
/// When the pickle is malformed (or fails pickletools' stack and memo checks), the
/// text pickletools prints before raising is written first and the error carries
/// pickletools' message ([`Error::message`]) and the offset of the opcode concerned.
/// Writes are line by line; wrap a slow `out` in a [`std::io::BufWriter`].
///
/// ```
/// use serde_pickle_vm::dis::{dis, DisOptions};
/// let mut out = Vec::new();
/// dis(b"\x80\x04K\x05.", &mut out, &DisOptions::default()).unwrap();
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     "    0: \\x80 PROTO      4\n    2: K    BININT1    5\n    4: .    STOP\n\
///      highest protocol among opcodes = 2\n"
/// );
/// ```
pub fn dis<W: io::Write + ?Sized>(data: &[u8], out: &mut W, options: &DisOptions) -> Result<()> {
    run(data, &mut IoSink(out), options)
}

/// [`dis`] writing to a [`std::fmt::Write`], such as a `String`; on error `out` holds the
/// text pickletools would have printed before raising.
///
/// ```
/// use serde_pickle_vm::{dis::{dis_fmt, DisOptions}, ErrorKind};
/// let mut out = String::new();
/// let err = dis_fmt(b"N0a", &mut out, &DisOptions::default()).unwrap_err();
/// assert_eq!(out, "    0: N    NONE\n    1: 0    POP\n    2: a    APPEND\n");
/// assert_eq!(err.kind(), ErrorKind::Stack);
/// assert_eq!(err.offset(), Some(2));
/// assert_eq!(err.message(), "tries to pop 2 items from stack with only 0 items");
/// ```
pub fn dis_fmt<W: fmt::Write + ?Sized>(
    data: &[u8],
    out: &mut W,
    options: &DisOptions,
) -> Result<()> {
    run(data, &mut FmtSink(out), options)
}

/// [`dis`] into a new `String` (the partial text is dropped on error; use [`dis_fmt`]
/// to keep it).
///
/// ```
/// use serde_pickle_vm::dis::{dis_to_string, DisOptions};
/// let text = dis_to_string(b"(I1\nS'a'\nl.", &DisOptions::default()).unwrap();
/// assert_eq!(
///     text,
///     "    0: (    MARK\n    1: I        INT        1\n    4: S        STRING     'a'\n\
///     \x20   9: l        LIST       (MARK at 0)\n   10: .    STOP\n\
///      highest protocol among opcodes = 0\n"
/// );
/// ```
pub fn dis_to_string(data: &[u8], options: &DisOptions) -> Result<String> {
    let mut s = String::new();
    dis_fmt(data, &mut s, options)?;
    Ok(s)
}

/// A stretch of the input that is not opcodes of the pickle being disassembled, for
/// [`dis_with`]: the array data joblib writes between opcodes, or a nested pickle (an
/// object array's, in a joblib file).
///
/// ```
/// use serde_pickle_vm::dis::{dis_with, DisOptions, Gap};
/// // BININT1 5, then 3 bytes that are not opcodes, then STOP.
/// let data = b"K\x05\xff\xff\xff.";
/// let gaps = [Gap { offset: 2, len: Some(3), note: "[3 bytes of data]".into() }];
/// let mut out = String::new();
/// dis_with(data, 0, &gaps, &mut out, &DisOptions::default()).unwrap();
/// assert_eq!(
///     out,
///     "    0: K    BININT1    5\n    2: [3 bytes of data]\n    5: .    STOP\n\
///      highest protocol among opcodes = 1\n"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// Where it starts in the input.
    pub offset: u64,
    /// How many bytes to skip; `None` for a nested pickle, which is disassembled with a
    /// stack and memo of its own through its STOP, after which the outer one resumes.
    pub len: Option<u64>,
    /// The line printed at `offset` (after the offset column) in place of opcodes.
    pub note: String,
}

/// [`dis_fmt`] of the pickle that starts at byte `start` of `data` (offsets in the
/// listing count from the start of `data`, as `pickletools.dis` prints them for a file
/// positioned there), printing one line for each of `gaps` (sorted by offset) in place
/// of its bytes. With no gaps and `start` 0 this is [`dis_fmt`].
pub fn dis_with<W: fmt::Write + ?Sized>(
    data: &[u8],
    start: usize,
    gaps: &[Gap],
    out: &mut W,
    options: &DisOptions,
) -> Result<()> {
    run_from(data, start, gaps, &mut FmtSink(out), options)
}

trait Sink {
    fn put(&mut self, s: &str) -> Result<()>;
}

struct IoSink<'w, W: ?Sized>(&'w mut W);

impl<W: io::Write + ?Sized> Sink for IoSink<'_, W> {
    fn put(&mut self, s: &str) -> Result<()> {
        self.0.write_all(s.as_bytes()).map_err(Error::from)
    }
}

struct FmtSink<'w, W: ?Sized>(&'w mut W);

impl<W: fmt::Write + ?Sized> Sink for FmtSink<'_, W> {
    fn put(&mut self, s: &str) -> Result<()> {
        self.0
            .write_str(s)
            .map_err(|_| Error::new(ErrorKind::Io, "formatter error"))
    }
}

// ---------------------------------------------------------------------------------
// pickletools' view of each opcode: the argument descriptor (finer than `opcode::Arg`:
// it tells latin-1 strings, UTF-8 strings, bytes and bytearrays apart), the stack
// objects before and after, and the first line of the doc string (for `annotate`).

/// pickletools' `ArgumentDescriptor`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum A {
    None,
    Uint1,
    Uint2,
    Int4,
    Uint4,
    Uint8,
    Float8,
    DecimalnlShort,
    DecimalnlLong,
    Floatnl,
    Stringnl,
    StringnlNoescape,
    StringnlNoescapePair,
    Unicodestringnl,
    String1,
    String4,
    Bytes1,
    Bytes4,
    Bytes8,
    Bytearray8,
    Unicodestring1,
    Unicodestring4,
    Unicodestring8,
    Long1,
    Long4,
}

/// pickletools' `StackObject`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum S {
    IntOrBool,
    Int,
    BytesOrStr,
    Bytes,
    Bytearray,
    Buffer,
    NoneObj,
    Bool,
    Str,
    Float,
    List,
    Any,
    Mark,
    Stackslice,
    Tuple,
    Dict,
    Set,
    Frozenset,
}

impl S {
    fn name(self) -> &'static str {
        match self {
            S::IntOrBool => "int_or_bool",
            S::Int => "int",
            S::BytesOrStr => "bytes_or_str",
            S::Bytes => "bytes",
            S::Bytearray => "bytearray",
            S::Buffer => "buffer",
            S::NoneObj => "None",
            S::Bool => "bool",
            S::Str => "str",
            S::Float => "float",
            S::List => "list",
            S::Any => "any",
            S::Mark => "mark",
            S::Stackslice => "stackslice",
            S::Tuple => "tuple",
            S::Dict => "dict",
            S::Set => "set",
            S::Frozenset => "frozenset",
        }
    }
}

type Info = (A, &'static [S], &'static [S], &'static str);

/// Generated once from `pickletools.opcodes` (Python 3.11): `arg`, `stack_before`,
/// `stack_after` and `doc.split('\n', 1)[0]` of each opcode.
fn info(code: u8) -> Info {
    match code {
        b'I' => (
            A::DecimalnlShort,
            &[],
            &[S::IntOrBool],
            "Push an integer or bool.",
        ),
        b'J' => (A::Int4, &[], &[S::Int], "Push a four-byte signed integer."),
        b'K' => (
            A::Uint1,
            &[],
            &[S::Int],
            "Push a one-byte unsigned integer.",
        ),
        b'M' => (
            A::Uint2,
            &[],
            &[S::Int],
            "Push a two-byte unsigned integer.",
        ),
        b'L' => (A::DecimalnlLong, &[], &[S::Int], "Push a long integer."),
        0x8a => (
            A::Long1,
            &[],
            &[S::Int],
            "Long integer using one-byte length.",
        ),
        0x8b => (
            A::Long4,
            &[],
            &[S::Int],
            "Long integer using found-byte length.",
        ),
        b'S' => (
            A::Stringnl,
            &[],
            &[S::BytesOrStr],
            "Push a Python string object.",
        ),
        b'T' => (
            A::String4,
            &[],
            &[S::BytesOrStr],
            "Push a Python string object.",
        ),
        b'U' => (
            A::String1,
            &[],
            &[S::BytesOrStr],
            "Push a Python string object.",
        ),
        b'B' => (A::Bytes4, &[], &[S::Bytes], "Push a Python bytes object."),
        b'C' => (A::Bytes1, &[], &[S::Bytes], "Push a Python bytes object."),
        0x8e => (A::Bytes8, &[], &[S::Bytes], "Push a Python bytes object."),
        0x96 => (
            A::Bytearray8,
            &[],
            &[S::Bytearray],
            "Push a Python bytearray object.",
        ),
        0x97 => (
            A::None,
            &[],
            &[S::Buffer],
            "Push an out-of-band buffer object.",
        ),
        0x98 => (
            A::None,
            &[S::Buffer],
            &[S::Buffer],
            "Make an out-of-band buffer object read-only.",
        ),
        b'N' => (A::None, &[], &[S::NoneObj], "Push None on the stack."),
        0x88 => (A::None, &[], &[S::Bool], "Push True onto the stack."),
        0x89 => (A::None, &[], &[S::Bool], "Push False onto the stack."),
        b'V' => (
            A::Unicodestringnl,
            &[],
            &[S::Str],
            "Push a Python Unicode string object.",
        ),
        0x8c => (
            A::Unicodestring1,
            &[],
            &[S::Str],
            "Push a Python Unicode string object.",
        ),
        b'X' => (
            A::Unicodestring4,
            &[],
            &[S::Str],
            "Push a Python Unicode string object.",
        ),
        0x8d => (
            A::Unicodestring8,
            &[],
            &[S::Str],
            "Push a Python Unicode string object.",
        ),
        b'F' => (
            A::Floatnl,
            &[],
            &[S::Float],
            "Newline-terminated decimal float literal.",
        ),
        b'G' => (
            A::Float8,
            &[],
            &[S::Float],
            "Float stored in binary form, with 8 bytes of data.",
        ),
        b']' => (A::None, &[], &[S::List], "Push an empty list."),
        b'a' => (
            A::None,
            &[S::List, S::Any],
            &[S::List],
            "Append an object to a list.",
        ),
        b'e' => (
            A::None,
            &[S::List, S::Mark, S::Stackslice],
            &[S::List],
            "Extend a list by a slice of stack objects.",
        ),
        b'l' => (
            A::None,
            &[S::Mark, S::Stackslice],
            &[S::List],
            "Build a list out of the topmost stack slice, after markobject.",
        ),
        b')' => (A::None, &[], &[S::Tuple], "Push an empty tuple."),
        b't' => (
            A::None,
            &[S::Mark, S::Stackslice],
            &[S::Tuple],
            "Build a tuple out of the topmost stack slice, after markobject.",
        ),
        0x85 => (
            A::None,
            &[S::Any],
            &[S::Tuple],
            "Build a one-tuple out of the topmost item on the stack.",
        ),
        0x86 => (
            A::None,
            &[S::Any, S::Any],
            &[S::Tuple],
            "Build a two-tuple out of the top two items on the stack.",
        ),
        0x87 => (
            A::None,
            &[S::Any, S::Any, S::Any],
            &[S::Tuple],
            "Build a three-tuple out of the top three items on the stack.",
        ),
        b'}' => (A::None, &[], &[S::Dict], "Push an empty dict."),
        b'd' => (
            A::None,
            &[S::Mark, S::Stackslice],
            &[S::Dict],
            "Build a dict out of the topmost stack slice, after markobject.",
        ),
        b's' => (
            A::None,
            &[S::Dict, S::Any, S::Any],
            &[S::Dict],
            "Add a key+value pair to an existing dict.",
        ),
        b'u' => (
            A::None,
            &[S::Dict, S::Mark, S::Stackslice],
            &[S::Dict],
            "Add an arbitrary number of key+value pairs to an existing dict.",
        ),
        0x8f => (A::None, &[], &[S::Set], "Push an empty set."),
        0x90 => (
            A::None,
            &[S::Set, S::Mark, S::Stackslice],
            &[S::Set],
            "Add an arbitrary number of items to an existing set.",
        ),
        0x91 => (
            A::None,
            &[S::Mark, S::Stackslice],
            &[S::Frozenset],
            "Build a frozenset out of the topmost slice, after markobject.",
        ),
        b'0' => (
            A::None,
            &[S::Any],
            &[],
            "Discard the top stack item, shrinking the stack by one item.",
        ),
        b'2' => (
            A::None,
            &[S::Any],
            &[S::Any, S::Any],
            "Push the top stack item onto the stack again, duplicating it.",
        ),
        b'(' => (A::None, &[], &[S::Mark], "Push markobject onto the stack."),
        b'1' => (
            A::None,
            &[S::Mark, S::Stackslice],
            &[],
            "Pop all the stack objects at and above the topmost markobject.",
        ),
        b'g' => (
            A::DecimalnlShort,
            &[],
            &[S::Any],
            "Read an object from the memo and push it on the stack.",
        ),
        b'h' => (
            A::Uint1,
            &[],
            &[S::Any],
            "Read an object from the memo and push it on the stack.",
        ),
        b'j' => (
            A::Uint4,
            &[],
            &[S::Any],
            "Read an object from the memo and push it on the stack.",
        ),
        b'p' => (
            A::DecimalnlShort,
            &[],
            &[],
            "Store the stack top into the memo.  The stack is not popped.",
        ),
        b'q' => (
            A::Uint1,
            &[],
            &[],
            "Store the stack top into the memo.  The stack is not popped.",
        ),
        b'r' => (
            A::Uint4,
            &[],
            &[],
            "Store the stack top into the memo.  The stack is not popped.",
        ),
        0x94 => (
            A::None,
            &[S::Any],
            &[S::Any],
            "Store the stack top into the memo.  The stack is not popped.",
        ),
        0x82 => (A::Uint1, &[], &[S::Any], "Extension code."),
        0x83 => (A::Uint2, &[], &[S::Any], "Extension code."),
        0x84 => (A::Int4, &[], &[S::Any], "Extension code."),
        b'c' => (
            A::StringnlNoescapePair,
            &[],
            &[S::Any],
            "Push a global object (module.attr) on the stack.",
        ),
        0x93 => (
            A::None,
            &[S::Str, S::Str],
            &[S::Any],
            "Push a global object (module.attr) on the stack.",
        ),
        b'R' => (
            A::None,
            &[S::Any, S::Any],
            &[S::Any],
            "Push an object built from a callable and an argument tuple.",
        ),
        b'b' => (
            A::None,
            &[S::Any, S::Any],
            &[S::Any],
            "Finish building an object, via __setstate__ or dict update.",
        ),
        b'i' => (
            A::StringnlNoescapePair,
            &[S::Mark, S::Stackslice],
            &[S::Any],
            "Build a class instance.",
        ),
        b'o' => (
            A::None,
            &[S::Mark, S::Any, S::Stackslice],
            &[S::Any],
            "Build a class instance.",
        ),
        0x81 => (
            A::None,
            &[S::Any, S::Any],
            &[S::Any],
            "Build an object instance.",
        ),
        0x92 => (
            A::None,
            &[S::Any, S::Any, S::Any],
            &[S::Any],
            "Build an object instance.",
        ),
        0x80 => (A::Uint1, &[], &[], "Protocol version indicator."),
        b'.' => (A::None, &[S::Any], &[], "Stop the unpickling machine."),
        0x95 => (A::Uint8, &[], &[], "Indicate the beginning of a new frame."),
        b'P' => (
            A::StringnlNoescape,
            &[],
            &[S::Any],
            "Push an object identified by a persistent ID.",
        ),
        b'Q' => (
            A::None,
            &[S::Any],
            &[S::Any],
            "Push an object identified by a persistent ID.",
        ),
        _ => (A::None, &[], &[], ""),
    }
}

// ---------------------------------------------------------------------------------
// Decoded arguments.

/// A Python `str` as pickletools decodes it: valid Unicode, or code points that may
/// include lone surrogates.
enum PyStr {
    Utf8(String),
    CodePoints(Vec<u32>),
}

impl PyStr {
    fn from_codepoints(cps: Vec<u32>) -> PyStr {
        if cps.iter().all(|&c| char::from_u32(c).is_some()) {
            PyStr::Utf8(cps.iter().filter_map(|&c| char::from_u32(c)).collect())
        } else {
            PyStr::CodePoints(cps)
        }
    }

    fn repr(&self) -> String {
        match self {
            PyStr::Utf8(s) => str_repr(s),
            PyStr::CodePoints(c) => codepoints_repr(c),
        }
    }
}

/// A Python `int`, small or not.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Int {
    Small(i64),
    Big(BigInt),
}

impl Int {
    fn from_big(b: BigInt) -> Int {
        match b.to_i64() {
            Some(v) => Int::Small(v),
            None => Int::Big(b),
        }
    }

    /// `repr(int)`, which CPython refuses past 4300 digits.
    fn repr(&self) -> Result<String> {
        match self {
            Int::Small(v) => Ok(v.to_string()),
            Int::Big(b) => {
                // 10**4300 needs 14285 bits; anything shorter can be compared cheaply.
                if b.bits() > 14_200 && b.abs() >= BigInt::from(10u8).pow(MAX_STR_DIGITS as u32) {
                    return Err(Error::limit(format!(
                        "Exceeds the limit ({MAX_STR_DIGITS} digits) for integer string \
                         conversion; use sys.set_int_max_str_digits() to increase the limit"
                    )));
                }
                Ok(b.to_string())
            }
        }
    }
}

/// CPython's default `sys.get_int_max_str_digits()`.
const MAX_STR_DIGITS: usize = 4300;

enum Val<'a> {
    Int(Int),
    Bool(bool),
    Float(f64),
    Str(PyStr),
    Bytes(&'a [u8]),
    ByteArray(&'a [u8]),
}

impl Val<'_> {
    fn repr(&self) -> Result<String> {
        Ok(match self {
            Val::Int(i) => i.repr()?,
            Val::Bool(true) => "True".to_string(),
            Val::Bool(false) => "False".to_string(),
            Val::Float(f) => float_repr(*f),
            Val::Str(s) => s.repr(),
            Val::Bytes(b) => bytes_repr(b),
            Val::ByteArray(b) => bytearray_repr(b),
        })
    }

    /// The memo key this argument names (PUT and GET take ints, or bools via `00`/`01`).
    fn memo_key(&self) -> Int {
        match self {
            Val::Int(i) => i.clone(),
            Val::Bool(b) => Int::Small(i64::from(*b)),
            // Not produced for memo opcodes.
            _ => Int::Small(-1),
        }
    }
}

// ---------------------------------------------------------------------------------
// Reading arguments, with pickletools' (and CPython's codecs') error messages.

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Up to `n` bytes, fewer at the end of the data (like `BytesIO.read(n)`).
    fn read(&mut self, n: u64) -> &'a [u8] {
        let rest = &self.data[self.pos.min(self.data.len())..];
        let take = usize::try_from(n).map_or(rest.len(), |n| n.min(rest.len()));
        self.pos += take;
        &rest[..take]
    }

    fn read_array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let b = self.read(N as u64);
        b.try_into()
            .map_err(|_| truncated(format!("not enough data in stream to read {what}")))
    }

    /// Through the next newline, or to the end (like `BytesIO.readline()`).
    fn readline(&mut self) -> &'a [u8] {
        let rest = &self.data[self.pos.min(self.data.len())..];
        let n = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        self.pos += n;
        &rest[..n]
    }

    /// `read_stringnl(f, decode=False, stripquotes=False)`: the line without its newline.
    fn line(&mut self, what: &str) -> Result<&'a [u8]> {
        match self.readline().strip_suffix(b"\n") {
            Some(l) => Ok(l),
            None => Err(truncated(format!(
                "no newline found when trying to read {what}"
            ))),
        }
    }

    fn counted(&mut self, n: u64, what: &str) -> Result<&'a [u8]> {
        let data = self.read(n);
        if data.len() as u64 != n {
            return Err(truncated(format!(
                "expected {n} bytes in a {what}, but only {} remain",
                data.len()
            )));
        }
        Ok(data)
    }

    fn len8(&mut self, what: &str) -> Result<u64> {
        let n = u64::from_le_bytes(self.read_array::<8>("uint8")?);
        if n > i64::MAX as u64 {
            return Err(Error::bad_arg(format!(
                "{what} byte count > sys.maxsize: {n}"
            )));
        }
        Ok(n)
    }

    fn arg(&mut self, kind: A) -> Result<Option<Val<'a>>> {
        let v = match kind {
            A::None => return Ok(None),
            A::Uint1 => Val::Int(Int::Small(self.read_array::<1>("uint1")?[0].into())),
            A::Uint2 => Val::Int(Int::Small(
                u16::from_le_bytes(self.read_array("uint2")?).into(),
            )),
            A::Int4 => Val::Int(Int::Small(
                i32::from_le_bytes(self.read_array("int4")?).into(),
            )),
            A::Uint4 => Val::Int(Int::Small(
                u32::from_le_bytes(self.read_array("uint4")?).into(),
            )),
            A::Uint8 => {
                let v = u64::from_le_bytes(self.read_array("uint8")?);
                Val::Int(Int::from_big(BigInt::from(v)))
            }
            A::Float8 => Val::Float(f64::from_be_bytes(self.read_array("float8")?)),
            A::DecimalnlShort => {
                let s = self.line("stringnl")?;
                match s {
                    b"00" => Val::Bool(false),
                    b"01" => Val::Bool(true),
                    _ => Val::Int(parse_int(s)?),
                }
            }
            A::DecimalnlLong => {
                let s = self.line("stringnl")?;
                Val::Int(parse_int(s.strip_suffix(b"L").unwrap_or(s))?)
            }
            A::Floatnl => Val::Float(parse_float(self.line("stringnl")?)?),
            A::Stringnl => Val::Str(PyStr::Utf8(self.stringnl(true)?)),
            A::StringnlNoescape => Val::Str(PyStr::Utf8(self.stringnl(false)?)),
            A::StringnlNoescapePair => {
                let a = self.stringnl(false)?;
                let b = self.stringnl(false)?;
                Val::Str(PyStr::Utf8(format!("{a} {b}")))
            }
            A::Unicodestringnl => {
                let s = self.line("unicodestringnl")?;
                Val::Str(raw_unicode_escape(s)?)
            }
            A::String1 => {
                let n = self.read_array::<1>("uint1")?[0];
                Val::Str(latin1(self.counted(n.into(), "string1")?))
            }
            A::String4 => {
                let n = i32::from_le_bytes(self.read_array("int4")?);
                if n < 0 {
                    return Err(Error::bad_arg(format!("string4 byte count < 0: {n}")));
                }
                Val::Str(latin1(self.counted(n as u64, "string4")?))
            }
            A::Bytes1 => {
                let n = self.read_array::<1>("uint1")?[0];
                Val::Bytes(self.counted(n.into(), "bytes1")?)
            }
            A::Bytes4 => {
                let n = u32::from_le_bytes(self.read_array("uint4")?);
                Val::Bytes(self.counted(n.into(), "bytes4")?)
            }
            A::Bytes8 => {
                let n = self.len8("bytes8")?;
                Val::Bytes(self.counted(n, "bytes8")?)
            }
            A::Bytearray8 => {
                let n = self.len8("bytearray8")?;
                Val::ByteArray(self.counted(n, "bytearray8")?)
            }
            A::Unicodestring1 => {
                let n = self.read_array::<1>("uint1")?[0];
                Val::Str(utf8_surrogatepass(
                    self.counted(n.into(), "unicodestring1")?,
                )?)
            }
            A::Unicodestring4 => {
                let n = u32::from_le_bytes(self.read_array("uint4")?);
                Val::Str(utf8_surrogatepass(
                    self.counted(n.into(), "unicodestring4")?,
                )?)
            }
            A::Unicodestring8 => {
                let n = self.len8("unicodestring8")?;
                Val::Str(utf8_surrogatepass(self.counted(n, "unicodestring8")?)?)
            }
            A::Long1 => {
                let n = self.read_array::<1>("uint1")?[0];
                let data = self.read(n.into());
                if data.len() != usize::from(n) {
                    return Err(truncated("not enough data in stream to read long1"));
                }
                Val::Int(Int::from_big(BigInt::from_signed_bytes_le(data)))
            }
            A::Long4 => {
                let n = i32::from_le_bytes(self.read_array("int4")?);
                if n < 0 {
                    return Err(Error::bad_arg(format!("long4 byte count < 0: {n}")));
                }
                let data = self.read(n as u64);
                if data.len() as u64 != n as u64 {
                    return Err(truncated("not enough data in stream to read long4"));
                }
                Val::Int(Int::from_big(BigInt::from_signed_bytes_le(data)))
            }
        };
        Ok(Some(v))
    }

    /// `read_stringnl(f)` (quoted) or `read_stringnl_noescape(f)` (bare): the line is
    /// unescaped with `codecs.escape_decode` and must then be ASCII.
    fn stringnl(&mut self, stripquotes: bool) -> Result<String> {
        let mut data = self.line("stringnl")?;
        if stripquotes {
            let q = match data.first() {
                Some(&q @ (b'"' | b'\'')) => q,
                _ => {
                    return Err(Error::bad_arg(format!(
                        "no string quotes around {}",
                        bytes_repr(data)
                    )))
                }
            };
            if data.last() != Some(&q) {
                return Err(Error::bad_arg(format!(
                    "strinq quote {} not found at both ends of {}",
                    bytes_repr(&[q]),
                    bytes_repr(data)
                )));
            }
            data = data.get(1..data.len() - 1).unwrap_or(b"");
        }
        ascii(&crate::vm::text::escape_decode(data)?)
    }
}

fn truncated(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Truncated, msg)
}

fn latin1(b: &[u8]) -> PyStr {
    PyStr::Utf8(b.iter().map(|&c| char::from(c)).collect())
}

/// Python's whitespace for `int(bytes)` and `float(bytes)`.
fn is_py_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// `int(s)` for a `bytes` s, base 10: whitespace around, a sign, digits with single
/// underscores between them, and CPython's 4300-digit limit.
fn parse_int(s: &[u8]) -> Result<Int> {
    let invalid = || {
        // CPython reprs the first 200 bytes, then `%.200R` cuts that repr (ASCII) to 200.
        let mut r = bytes_repr(&s[..s.len().min(200)]);
        r.truncate(200);
        Error::bad_arg(format!("invalid literal for int() with base 10: {r}"))
    };
    let mut i = 0;
    while i < s.len() && is_py_space(s[i]) {
        i += 1;
    }
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    if s.get(i) == Some(&b'_') {
        return Err(invalid());
    }
    let mut digits = Vec::new();
    let mut prev = 0u8;
    while let Some(&c) = s.get(i) {
        if c == b'_' {
            if prev == b'_' {
                return Err(invalid());
            }
        } else if c.is_ascii_digit() {
            digits.push(c);
        } else {
            break;
        }
        prev = c;
        i += 1;
    }
    if prev == b'_' {
        return Err(invalid());
    }
    if digits.len() > MAX_STR_DIGITS {
        return Err(Error::limit(format!(
            "Exceeds the limit ({MAX_STR_DIGITS} digits) for integer string conversion: \
             value has {} digits; use sys.set_int_max_str_digits() to increase the limit",
            digits.len()
        )));
    }
    if digits.is_empty() {
        return Err(invalid());
    }
    while i < s.len() && is_py_space(s[i]) {
        i += 1;
    }
    if i != s.len() {
        return Err(invalid());
    }
    let text = std::str::from_utf8(&digits).map_err(|_| invalid())?;
    if digits.len() <= 18 {
        let v: i64 = text.parse().map_err(|_| invalid())?;
        return Ok(Int::Small(if negative { -v } else { v }));
    }
    let v: BigInt = text.parse().map_err(|_| invalid())?;
    Ok(Int::from_big(if negative { -v } else { v }))
}

/// `float(s)` for a `bytes` s.
fn parse_float(s: &[u8]) -> Result<f64> {
    let invalid = || {
        Error::bad_arg(format!(
            "could not convert string to float: {}",
            bytes_repr(s)
        ))
    };
    let mut owned;
    let mut t = s;
    if s.contains(&b'_') {
        // Underscores only between digits, then dropped.
        owned = Vec::with_capacity(s.len());
        let mut prev = 0u8;
        for &c in s {
            if c == b'_' {
                if !prev.is_ascii_digit() {
                    return Err(invalid());
                }
            } else {
                if prev == b'_' && !c.is_ascii_digit() {
                    return Err(invalid());
                }
                owned.push(c);
            }
            prev = c;
        }
        if prev == b'_' {
            return Err(invalid());
        }
        t = &owned;
    }
    while let [c, rest @ ..] = t {
        if !is_py_space(*c) {
            break;
        }
        t = rest;
    }
    while let [rest @ .., c] = t {
        if !is_py_space(*c) {
            break;
        }
        t = rest;
    }
    // Rust's grammar (digits, `.`, exponent, inf/infinity/nan in any case, with a sign)
    // is Python's once whitespace and underscores are gone, and both round correctly.
    std::str::from_utf8(t)
        .ok()
        .filter(|t| !t.is_empty())
        .and_then(|t| t.parse::<f64>().ok())
        .ok_or_else(invalid)
}

/// `bytes.decode("ascii")`.
fn ascii(b: &[u8]) -> Result<String> {
    match b.iter().position(|&c| c >= 0x80) {
        Some(p) => Err(Error::new(
            ErrorKind::Decode,
            format!(
                "'ascii' codec can't decode byte 0x{:02x} in position {p}: ordinal not in \
                 range(128)",
                b[p]
            ),
        )),
        None => Ok(b.iter().map(|&c| char::from(c)).collect()),
    }
}

/// A `UnicodeDecodeError`'s message.
fn decode_error(codec: &str, data: &[u8], start: usize, end: usize, reason: &str) -> Error {
    let msg = if end == start + 1 {
        format!(
            "'{codec}' codec can't decode byte 0x{:02x} in position {start}: {reason}",
            data.get(start).copied().unwrap_or(0)
        )
    } else {
        format!(
            "'{codec}' codec can't decode bytes in position {start}-{}: {reason}",
            end.saturating_sub(1)
        )
    };
    Error::new(ErrorKind::Decode, msg)
}

/// `str(data, 'raw-unicode-escape')`.
fn raw_unicode_escape(s: &[u8]) -> Result<PyStr> {
    let mut out: Vec<u32> = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != b'\\' {
            out.push(c.into());
            continue;
        }
        let start = i - 1;
        let Some(&e) = s.get(i) else {
            out.push(c.into());
            break;
        };
        i += 1;
        let (count, msg) = match e {
            b'u' => (4, "truncated \\uXXXX escape"),
            b'U' => (8, "truncated \\UXXXXXXXX escape"),
            _ => {
                out.push(c.into());
                out.push(e.into());
                continue;
            }
        };
        let mut ch: u32 = 0;
        let mut got = 0;
        while got < count {
            match s.get(i).and_then(|&d| char::from(d).to_digit(16)) {
                Some(d) => {
                    ch = (ch << 4) | d;
                    i += 1;
                    got += 1;
                }
                None => break,
            }
        }
        if got < count {
            return Err(decode_error("rawunicodeescape", s, start, i, msg));
        }
        if ch > 0x10ffff {
            return Err(decode_error(
                "rawunicodeescape",
                s,
                start,
                i,
                "\\Uxxxxxxxx out of range",
            ));
        }
        out.push(ch);
    }
    Ok(PyStr::from_codepoints(out))
}

/// `str(data, 'utf-8', 'surrogatepass')`, with CPython's error positions and reasons.
fn utf8_surrogatepass(data: &[u8]) -> Result<PyStr> {
    let first = match std::str::from_utf8(data) {
        Ok(s) => return Ok(PyStr::Utf8(s.to_string())),
        Err(e) => e,
    };
    let mut out: Vec<u32> = Vec::with_capacity(data.len());
    let mut i = 0;
    let mut err = Some(first);
    while let Some(e) = err {
        let bad = i + e.valid_up_to();
        // The prefix is valid UTF-8 by construction.
        out.extend(
            std::str::from_utf8(&data[i..bad])
                .unwrap_or("")
                .chars()
                .map(u32::from),
        );
        match data.get(bad..bad + 3) {
            Some(&[0xed, b1 @ 0xa0..=0xbf, b2 @ 0x80..=0xbf]) => {
                out.push(0xd000 | (u32::from(b1 & 0x3f) << 6) | u32::from(b2 & 0x3f));
                i = bad + 3;
            }
            _ => {
                let (end, reason) = match e.error_len() {
                    None => (data.len(), "unexpected end of data"),
                    Some(1) if !(0xc2..=0xf4).contains(&data[bad]) => {
                        (bad + 1, "invalid start byte")
                    }
                    Some(n) => (bad + n, "invalid continuation byte"),
                };
                return Err(decode_error("utf-8", data, bad, end, reason));
            }
        }
        err = match std::str::from_utf8(&data[i..]) {
            Ok(s) => {
                out.extend(s.chars().map(u32::from));
                None
            }
            Err(e) => Some(e),
        };
    }
    Ok(PyStr::from_codepoints(out))
}

// ---------------------------------------------------------------------------------
// The disassembly loop.

fn run(data: &[u8], out: &mut dyn Sink, options: &DisOptions) -> Result<()> {
    run_from(data, 0, &[], out, options)
}

/// A pickle suspended while a nested one is disassembled.
type Outer = (Vec<S>, HashMap<Int, S>, Vec<usize>);

fn run_from(
    data: &[u8],
    start: usize,
    gaps: &[Gap],
    out: &mut dyn Sink,
    options: &DisOptions,
) -> Result<()> {
    let mut r = Reader { data, pos: start };
    let mut stack: Vec<S> = Vec::new();
    let mut memo: HashMap<Int, S> = HashMap::new();
    let mut markstack: Vec<usize> = Vec::new();
    let mut maxproto: i32 = -1;
    let indent = " ".repeat(options.indent);
    let mut annocol = options.annotate;
    let mut gaps = gaps.iter().peekable();
    let mut outer: Vec<Outer> = Vec::new();
    loop {
        let pos = r.pos;
        // Gaps the listing stepped over (inside an opcode's argument) are dropped.
        while gaps.next_if(|g| g.offset < pos as u64).is_some() {}
        if let Some(g) = gaps.next_if(|g| g.offset == pos as u64) {
            out.put(&format!("{pos:5}: {}\n", g.note))?;
            match g.len {
                Some(n) => {
                    let end = usize::try_from(n)
                        .ok()
                        .and_then(|n| pos.checked_add(n))
                        .filter(|&e| e <= data.len());
                    let Some(end) = end else {
                        return Err(
                            truncated(format!("{} runs past the end of the data", g.note))
                                .at(pos as u64, None),
                        );
                    };
                    r.pos = end;
                }
                None => {
                    let saved = (
                        std::mem::take(&mut stack),
                        std::mem::take(&mut memo),
                        std::mem::take(&mut markstack),
                    );
                    outer.push(saved);
                }
            }
            continue;
        }
        let Some(&code) = data.get(pos) else {
            return Err(truncated("pickle exhausted before seeing STOP").at(pos as u64, None));
        };
        let Some(op) = opcode::lookup(code) else {
            return Err(Error::new(
                ErrorKind::UnknownOpcode,
                format!("at position {pos}, opcode {} unknown", bytes_repr(&[code])),
            )
            .at(pos as u64, None));
        };
        r.pos += 1;
        let at = |e: Error| e.at(pos as u64, Some(op.name));
        let (argkind, before, after, doc) = info(code);
        let arg = r.arg(argkind).map_err(at)?;
        out.put(&format!("{pos:5}: "))?;
        step(Step {
            op,
            pos,
            arg: arg.as_ref(),
            before,
            after,
            doc,
            stack: &mut stack,
            memo: &mut memo,
            markstack: &mut markstack,
            indent: &indent,
            annotate: options.annotate,
            annocol: &mut annocol,
            out,
        })
        .map_err(at)?;
        maxproto = maxproto.max(op.proto.into());
        if code == opcode::STOP {
            if let Some((s, m, k)) = outer.pop() {
                (stack, memo, markstack) = (s, m, k);
                continue;
            }
            break;
        }
    }
    out.put(&format!("highest protocol among opcodes = {maxproto}\n"))?;
    if !stack.is_empty() {
        let names: Vec<&str> = stack.iter().map(|s| s.name()).collect();
        return Err(Error::stack(format!(
            "stack not empty after STOP: [{}]",
            names.join(", ")
        ))
        .at((r.pos - 1) as u64, Some("STOP")));
    }
    Ok(())
}

struct Step<'s, 'a> {
    op: Opcode,
    pos: usize,
    arg: Option<&'s Val<'a>>,
    before: &'static [S],
    after: &'static [S],
    doc: &'static str,
    stack: &'s mut Vec<S>,
    memo: &'s mut HashMap<Int, S>,
    markstack: &'s mut Vec<usize>,
    indent: &'s str,
    annotate: usize,
    annocol: &'s mut usize,
    out: &'s mut dyn Sink,
}

/// One opcode after its argument was read and its offset printed: the line, the checks,
/// and the stack effect.
fn step(s: Step<'_, '_>) -> Result<()> {
    let Step {
        op,
        pos,
        arg,
        before,
        mut after,
        doc,
        stack,
        memo,
        markstack,
        indent,
        annotate,
        annocol,
        out,
    } = s;
    let code_repr = str_repr(&char::from(op.code).to_string());
    let code_repr = &code_repr[1..code_repr.len() - 1];
    let mut line = String::with_capacity(64);
    let _ = write!(line, "{code_repr:<4} ");
    // pickletools indents by every open MARK; past MAX_INDENT marks the indentation stops
    // growing, so a hostile stream of MARKs cannot make the listing quadratic.
    for _ in 0..markstack.len().min(MAX_INDENT) {
        line.push_str(indent);
    }
    line.push_str(op.name);

    let mut numtopop = before.len();
    let mut markmsg: Option<String> = None;
    let mut errormsg: Option<Error> = None;
    if before.contains(&S::Mark) || (op.code == opcode::POP && stack.last() == Some(&S::Mark)) {
        if let Some(markpos) = markstack.pop() {
            markmsg = Some(format!("(MARK at {markpos})"));
            loop {
                match stack.pop() {
                    Some(S::Mark) => break,
                    Some(_) => {}
                    // pickletools' `stack[-1]` on an empty list.
                    None => return Err(Error::stack("list index out of range")),
                }
            }
            numtopop = before.iter().position(|&o| o == S::Mark).unwrap_or(0);
        } else {
            markmsg = Some("no MARK exists on stack".to_string());
            errormsg = Some(Error::stack("no MARK exists on stack"));
        }
    }

    let memo_after: [S; 1];
    match op.code {
        opcode::PUT | opcode::BINPUT | opcode::LONG_BINPUT | opcode::MEMOIZE => {
            let key = match arg {
                Some(a) if op.code != opcode::MEMOIZE => a.memo_key(),
                _ => {
                    let n = memo.len();
                    markmsg = Some(format!("(as {n})"));
                    Int::Small(n as i64)
                }
            };
            match memo.entry(key) {
                Entry::Occupied(_) => {
                    let shown = match arg {
                        Some(a) => a.repr()?,
                        None => "None".to_string(),
                    };
                    errormsg = Some(Error::new(
                        ErrorKind::Memo,
                        format!("memo key {shown} already defined"),
                    ));
                }
                Entry::Vacant(slot) => match stack.last() {
                    None => {
                        errormsg = Some(Error::stack("stack is empty -- can't store into memo"))
                    }
                    Some(S::Mark) => {
                        errormsg = Some(Error::stack("can't store markobject in the memo"))
                    }
                    Some(&top) => {
                        slot.insert(top);
                    }
                },
            }
        }
        opcode::GET | opcode::BINGET | opcode::LONG_BINGET => {
            let key = arg.map_or(Int::Small(-1), Val::memo_key);
            match memo.get(&key) {
                Some(&obj) => {
                    memo_after = [obj];
                    after = &memo_after;
                }
                None => {
                    let shown = match arg {
                        Some(a) => a.repr()?,
                        None => "None".to_string(),
                    };
                    errormsg = Some(Error::new(
                        ErrorKind::Memo,
                        format!("memo key {shown} has never been stored into"),
                    ));
                }
            }
        }
        _ => {}
    }

    if arg.is_some() || markmsg.is_some() {
        for _ in op.name.len()..10 {
            line.push(' ');
        }
        if let Some(a) = arg {
            line.push(' ');
            line.push_str(&a.repr()?);
        }
        if let Some(m) = &markmsg {
            line.push(' ');
            line.push_str(m);
        }
    }
    if annotate > 0 {
        let len = line.chars().count();
        for _ in len..*annocol {
            line.push(' ');
        }
        *annocol = len.max(*annocol);
        if *annocol > 50 {
            *annocol = annotate;
        }
        line.push(' ');
        line.push_str(doc);
    }
    line.push('\n');
    out.put(&line)?;

    if let Some(e) = errormsg {
        return Err(e);
    }
    if stack.len() < numtopop {
        return Err(Error::stack(format!(
            "tries to pop {numtopop} items from stack with only {} items",
            stack.len()
        )));
    }
    stack.truncate(stack.len() - numtopop);
    if after.contains(&S::Mark) {
        markstack.push(pos);
    }
    stack.extend_from_slice(after);
    Ok(())
}
