//! The opcode table of the pickle format, protocols 0–5, as pickletools documents it:
//! byte, name, the kind of inline argument, and the protocol that introduced it.
//!
//! It knows nothing of the VM; the VM and the disassembler both read it.

/// How an opcode's inline argument is encoded (pickletools' `ArgumentDescriptor`s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    /// No inline argument.
    None,
    /// One unsigned byte.
    U1,
    /// Two bytes, little-endian unsigned.
    U2,
    /// Four bytes, little-endian signed.
    I4,
    /// Four bytes, little-endian unsigned.
    U4,
    /// Eight bytes, little-endian unsigned.
    U8,
    /// Eight bytes, big-endian IEEE double.
    F8,
    /// A decimal integer (or `00`/`01`) up to a newline.
    DecimalNlShort,
    /// A decimal integer with an optional trailing `L`, up to a newline.
    DecimalNlLong,
    /// A float literal up to a newline.
    FloatNl,
    /// A quoted Python 2 string literal with escapes, up to a newline.
    StringNl,
    /// A bare string up to a newline (PERSID).
    StringNlNoEscape,
    /// Two bare strings, each up to a newline (GLOBAL, INST).
    StringNlNoEscapePair,
    /// raw-unicode-escape text up to a newline.
    UnicodeStringNl,
    /// A 1-byte length then that many bytes.
    Bytes1,
    /// A 4-byte little-endian length then that many bytes.
    Bytes4,
    /// An 8-byte little-endian length then that many bytes.
    Bytes8,
    /// A 1-byte length then two's complement little-endian bytes.
    Long1,
    /// A 4-byte signed length then two's complement little-endian bytes.
    Long4,
}

/// One opcode of the pickle format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opcode {
    /// The byte that encodes it.
    pub code: u8,
    /// pickletools' name, e.g. `"SHORT_BINUNICODE"`.
    pub name: &'static str,
    /// Its inline argument.
    pub arg: Arg,
    /// The protocol that introduced it.
    pub proto: u8,
}

macro_rules! opcodes {
    ($($name:ident = $code:expr, $arg:ident, $proto:expr;)*) => {
        $(
            #[doc = concat!("The `", stringify!($name), "` opcode byte.")]
            pub const $name: u8 = $code;
        )*
        /// Every opcode, in pickletools' order.
        pub static OPCODES: &[Opcode] = &[
            $(Opcode { code: $code, name: stringify!($name), arg: Arg::$arg, proto: $proto },)*
        ];
    };
}

opcodes! {
    INT = b'I', DecimalNlShort, 0;
    BININT = b'J', I4, 1;
    BININT1 = b'K', U1, 1;
    BININT2 = b'M', U2, 1;
    LONG = b'L', DecimalNlLong, 0;
    LONG1 = 0x8a, Long1, 2;
    LONG4 = 0x8b, Long4, 2;
    STRING = b'S', StringNl, 0;
    BINSTRING = b'T', Bytes4, 1;
    SHORT_BINSTRING = b'U', Bytes1, 1;
    BINBYTES = b'B', Bytes4, 3;
    SHORT_BINBYTES = b'C', Bytes1, 3;
    BINBYTES8 = 0x8e, Bytes8, 4;
    BYTEARRAY8 = 0x96, Bytes8, 5;
    NEXT_BUFFER = 0x97, None, 5;
    READONLY_BUFFER = 0x98, None, 5;
    NONE = b'N', None, 0;
    NEWTRUE = 0x88, None, 2;
    NEWFALSE = 0x89, None, 2;
    UNICODE = b'V', UnicodeStringNl, 0;
    SHORT_BINUNICODE = 0x8c, Bytes1, 4;
    BINUNICODE = b'X', Bytes4, 1;
    BINUNICODE8 = 0x8d, Bytes8, 4;
    FLOAT = b'F', FloatNl, 0;
    BINFLOAT = b'G', F8, 1;
    EMPTY_LIST = b']', None, 1;
    APPEND = b'a', None, 0;
    APPENDS = b'e', None, 1;
    LIST = b'l', None, 0;
    EMPTY_TUPLE = b')', None, 1;
    TUPLE = b't', None, 0;
    TUPLE1 = 0x85, None, 2;
    TUPLE2 = 0x86, None, 2;
    TUPLE3 = 0x87, None, 2;
    EMPTY_DICT = b'}', None, 1;
    DICT = b'd', None, 0;
    SETITEM = b's', None, 0;
    SETITEMS = b'u', None, 1;
    EMPTY_SET = 0x8f, None, 4;
    ADDITEMS = 0x90, None, 4;
    FROZENSET = 0x91, None, 4;
    POP = b'0', None, 0;
    DUP = b'2', None, 0;
    MARK = b'(', None, 0;
    POP_MARK = b'1', None, 1;
    GET = b'g', DecimalNlShort, 0;
    BINGET = b'h', U1, 1;
    LONG_BINGET = b'j', U4, 1;
    PUT = b'p', DecimalNlShort, 0;
    BINPUT = b'q', U1, 1;
    LONG_BINPUT = b'r', U4, 1;
    MEMOIZE = 0x94, None, 4;
    EXT1 = 0x82, U1, 2;
    EXT2 = 0x83, U2, 2;
    EXT4 = 0x84, I4, 2;
    GLOBAL = b'c', StringNlNoEscapePair, 0;
    STACK_GLOBAL = 0x93, None, 4;
    REDUCE = b'R', None, 0;
    BUILD = b'b', None, 0;
    INST = b'i', StringNlNoEscapePair, 0;
    OBJ = b'o', None, 1;
    NEWOBJ = 0x81, None, 2;
    NEWOBJ_EX = 0x92, None, 4;
    PROTO = 0x80, U1, 2;
    STOP = b'.', None, 0;
    FRAME = 0x95, U8, 4;
    PERSID = b'P', StringNlNoEscape, 0;
    BINPERSID = b'Q', None, 1;
}

/// The highest protocol this crate reads (and CPython writes).
pub const HIGHEST_PROTOCOL: u8 = 5;

static BY_CODE: [Option<Opcode>; 256] = {
    let mut table: [Option<Opcode>; 256] = [None; 256];
    let mut i = 0;
    while i < OPCODES.len() {
        table[OPCODES[i].code as usize] = Some(OPCODES[i]);
        i += 1;
    }
    table
};

/// The opcode encoded by `code`, if any.
///
/// ```
/// use serde_pickle_vm::opcode;
/// assert_eq!(opcode::lookup(0x80).unwrap().name, "PROTO");
/// assert!(opcode::lookup(0xff).is_none());
/// ```
#[inline]
pub fn lookup(code: u8) -> Option<Opcode> {
    BY_CODE[code as usize]
}

/// pickletools' name for `code`, or `"<unknown>"`.
#[inline]
pub fn name(code: u8) -> &'static str {
    match lookup(code) {
        Some(op) => op.name,
        None => "<unknown>",
    }
}
