//! Parsing of the text arguments of protocol-0 opcodes (decimal ints and longs, float
//! literals, quoted Python 2 string literals, raw-unicode-escape) and the decoding of
//! Python 2 `str` and of UTF-8 that may carry lone surrogates.

use crate::error::{Error, ErrorKind, Result};
use num_bigint::BigInt;
use std::borrow::Cow;

/// An int parsed from text: on the fast path an `i64`.
pub(crate) enum Int {
    Small(i64),
    Big(BigInt),
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &s[start..end]
}

/// Parses a decimal integer as `int()` would (sign, surrounding whitespace, `_` between
/// digits), refusing more than `max_digits` digits as CPython does (its
/// `sys.get_int_max_str_digits()` guard, 4300 by default) so parsing stays linear.
pub(crate) fn parse_int(text: &[u8], max_digits: usize, what: &str) -> Result<Int> {
    let bad = || {
        Error::bad_arg(format!(
            "invalid literal for {what}: '{}'",
            String::from_utf8_lossy(text).escape_debug()
        ))
    };
    let t = trim(text);
    let (neg, digits) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty()
        || !digits.iter().all(|b| b.is_ascii_digit() || *b == b'_')
        || digits[0] == b'_'
        || digits[digits.len() - 1] == b'_'
        || digits.windows(2).any(|w| w == b"__")
    {
        return Err(bad());
    }
    let ndigits = digits.iter().filter(|b| b.is_ascii_digit()).count();
    if ndigits > max_digits {
        return Err(Error::new(
            ErrorKind::Limit,
            format!(
                "Exceeds the limit ({max_digits} digits) for integer string conversion: value has {ndigits} digits; raise Options::max_int_digits to allow it"
            ),
        ));
    }
    let mut acc: i64 = 0;
    let mut overflow = false;
    for &b in digits {
        if b == b'_' {
            continue;
        }
        let d = (b - b'0') as i64;
        match acc.checked_mul(10).and_then(|a| {
            if neg {
                a.checked_sub(d)
            } else {
                a.checked_add(d)
            }
        }) {
            Some(a) => acc = a,
            None => {
                overflow = true;
                break;
            }
        }
    }
    if !overflow {
        return Ok(Int::Small(acc));
    }
    let clean: Vec<u8> = digits.iter().copied().filter(|b| *b != b'_').collect();
    let mut big = BigInt::parse_bytes(&clean, 10).ok_or_else(bad)?;
    if neg {
        big = -big;
    }
    Ok(Int::Big(big))
}

/// Parses a float literal as `float()` would (`nan`, `inf`, `-inf`, exponents).
pub(crate) fn parse_float(text: &[u8]) -> Result<f64> {
    let t = trim(text);
    std::str::from_utf8(t)
        .ok()
        .filter(|s| !s.contains('_') || s.split('_').all(|p| !p.is_empty()))
        .and_then(|s| s.replace('_', "").parse::<f64>().ok())
        .ok_or_else(|| {
            Error::bad_arg(format!(
                "could not convert string to float: '{}'",
                String::from_utf8_lossy(text).escape_debug()
            ))
        })
}

/// Decodes the argument of a protocol-0 STRING opcode: a quoted Python 2 string literal
/// with backslash escapes, into its bytes.
pub(crate) fn decode_string_literal(line: &[u8]) -> Result<Vec<u8>> {
    let n = line.len();
    if n < 2 || line[0] != line[n - 1] || (line[0] != b'\'' && line[0] != b'"') {
        return Err(Error::bad_arg("the STRING opcode argument must be quoted"));
    }
    escape_decode(&line[1..n - 1])
}

/// `codecs.escape_decode`: the backslash escapes of a Python 2 string literal (the
/// quotes already removed), into bytes. Also what `pickletools` applies to the STRING
/// argument it prints (see `dis`).
pub(crate) fn escape_decode(s: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = s.get(i) else {
            return Err(Error::bad_arg("Trailing \\ in string"));
        };
        i += 1;
        match e {
            b'\n' => {}
            b'\\' => out.push(b'\\'),
            b'\'' => out.push(b'\''),
            b'"' => out.push(b'"'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b'v' => out.push(11),
            b'a' => out.push(7),
            b'0'..=b'7' => {
                let mut v = (e - b'0') as u32;
                for _ in 0..2 {
                    match s.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + (d - b'0') as u32;
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            b'x' => {
                let hex = s.get(i..i + 2).and_then(|h| {
                    std::str::from_utf8(h)
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                        .filter(|_| h.iter().all(|b| b.is_ascii_hexdigit()))
                });
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => {
                        return Err(Error::bad_arg(format!(
                            "invalid \\x escape at position {}",
                            i - 2
                        )))
                    }
                }
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

/// Text decoded from the input: valid Unicode, or code points with lone surrogates.
pub(crate) enum Text<'a> {
    Str(Cow<'a, str>),
    Codepoints(Vec<u32>),
}

/// Decodes raw-unicode-escape (the UNICODE opcode): bytes are Latin-1 code points except
/// `\uXXXX` and `\UXXXXXXXX` after an odd number of backslashes.
pub(crate) fn decode_raw_unicode_escape(s: &[u8]) -> Result<Text<'static>> {
    let mut cps: Vec<u32> = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c != b'\\' {
            cps.push(c as u32);
            i += 1;
            continue;
        }
        let start = i;
        while i < s.len() && s[i] == b'\\' {
            i += 1;
        }
        let count = i - start;
        let esc = s.get(i).copied();
        if count % 2 == 0 || !matches!(esc, Some(b'u') | Some(b'U')) {
            cps.extend(std::iter::repeat_n(b'\\' as u32, count));
            continue;
        }
        cps.extend(std::iter::repeat_n(b'\\' as u32, count - 1));
        let width = if esc == Some(b'u') { 4 } else { 8 };
        let hex = s
            .get(i + 1..i + 1 + width)
            .filter(|h| h.iter().all(|b| b.is_ascii_hexdigit()));
        let Some(hex) = hex else {
            return Err(Error::new(
                ErrorKind::Decode,
                format!(
                    "'rawunicodeescape' codec can't decode bytes in position {}-{}: truncated \\{}XXXX escape",
                    start + count - 1,
                    (i + width).min(s.len().saturating_sub(1)),
                    esc.map(|b| b as char).unwrap_or('u')
                ),
            ));
        };
        let v =
            u32::from_str_radix(std::str::from_utf8(hex).unwrap_or("0"), 16).unwrap_or(u32::MAX);
        if v > 0x10FFFF {
            return Err(Error::new(
                ErrorKind::Decode,
                format!(
                    "'rawunicodeescape' codec can't decode bytes in position {}-{}: \\Uxxxxxxxx out of range",
                    start + count - 1,
                    i + width
                ),
            ));
        }
        cps.push(v);
        i += 1 + width;
    }
    Ok(codepoints_to_text(cps))
}

fn codepoints_to_text(cps: Vec<u32>) -> Text<'static> {
    if cps.iter().any(|&c| (0xD800..0xE000).contains(&c)) {
        return Text::Codepoints(cps);
    }
    Text::Str(Cow::Owned(
        cps.into_iter().filter_map(char::from_u32).collect(),
    ))
}

/// Decodes UTF-8 as CPython's unpickler does for BINUNICODE (`'surrogatepass'`): encoded
/// lone surrogates are accepted and yield [`Text::Codepoints`].
pub(crate) fn decode_utf8(bytes: Cow<'_, [u8]>) -> Result<Text<'_>> {
    match bytes {
        Cow::Borrowed(b) => match std::str::from_utf8(b) {
            Ok(s) => Ok(Text::Str(Cow::Borrowed(s))),
            Err(_) => decode_utf8_surrogatepass(b),
        },
        Cow::Owned(v) => match String::from_utf8(v) {
            Ok(s) => Ok(Text::Str(Cow::Owned(s))),
            Err(e) => decode_utf8_surrogatepass(e.as_bytes()).map(|t| match t {
                Text::Str(s) => Text::Str(Cow::Owned(s.into_owned())),
                Text::Codepoints(c) => Text::Codepoints(c),
            }),
        },
    }
}

fn decode_utf8_surrogatepass(b: &[u8]) -> Result<Text<'static>> {
    let mut cps = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let (len, init) = match c {
            0x00..=0x7F => (1, c as u32),
            0xC2..=0xDF => (2, (c & 0x1F) as u32),
            0xE0..=0xEF => (3, (c & 0x0F) as u32),
            0xF0..=0xF4 => (4, (c & 0x07) as u32),
            _ => return Err(utf8_error(b, i, "invalid start byte")),
        };
        if i + len > b.len() {
            // CPython reports a truncated sequence at the end as "unexpected end of data".
            if b[i + 1..].iter().all(|&x| (0x80..0xC0).contains(&x)) {
                return Err(utf8_error(b, i, "unexpected end of data"));
            }
        }
        let mut v = init;
        for k in 1..len {
            match b.get(i + k) {
                Some(&x) if (0x80..0xC0).contains(&x) => v = (v << 6) | (x & 0x3F) as u32,
                _ => return Err(utf8_error(b, i, "invalid continuation byte")),
            }
        }
        let min = [0, 0, 0x80, 0x800, 0x10000][len];
        if v < min || v > 0x10FFFF {
            return Err(utf8_error(b, i, "invalid continuation byte"));
        }
        cps.push(v);
        i += len;
    }
    Ok(codepoints_to_text(cps))
}

fn utf8_error(b: &[u8], pos: usize, reason: &str) -> Error {
    Error::new(
        ErrorKind::Decode,
        format!(
            "'utf-8' codec can't decode byte 0x{:02x} in position {pos}: {reason}",
            b[pos]
        ),
    )
}

/// How Python 2 `str` values (STRING, BINSTRING, SHORT_BINSTRING) are decoded, mirroring
/// the `encoding=` argument of CPython's `pickle.load`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// ASCII, CPython's default: a non-ASCII byte is an error (with `Errors::Strict`).
    #[default]
    Ascii,
    /// Latin-1: every byte is the code point of the same value (never fails; what numpy
    /// and datetime pickles from Python 2 need).
    Latin1,
    /// UTF-8.
    Utf8,
    /// Keep them as `bytes`.
    Bytes,
}

impl std::str::FromStr for Encoding {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "ascii" | "us-ascii" => Ok(Encoding::Ascii),
            "latin1" | "latin-1" | "iso-8859-1" | "iso8859-1" | "l1" => Ok(Encoding::Latin1),
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "bytes" => Ok(Encoding::Bytes),
            _ => Err(Error::new(
                ErrorKind::Unsupported,
                format!("unknown encoding {s:?} (expected ASCII, latin1, utf-8 or bytes)"),
            )),
        }
    }
}

/// What to do with bytes the [`Encoding`] cannot decode (CPython's `errors=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Errors {
    /// Fail with an error naming the byte and its position.
    #[default]
    Strict,
    /// Replace each undecodable byte with U+FFFD.
    Replace,
    /// Drop undecodable bytes.
    Ignore,
}

impl std::str::FromStr for Errors {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "strict" => Ok(Errors::Strict),
            "replace" => Ok(Errors::Replace),
            "ignore" => Ok(Errors::Ignore),
            _ => Err(Error::new(
                ErrorKind::Unsupported,
                format!("unknown error handler {s:?} (expected strict, replace or ignore)"),
            )),
        }
    }
}

/// Decodes a Python 2 `str` under `encoding`/`errors`; `None` for [`Encoding::Bytes`].
pub(crate) fn decode_py2_str<'a>(
    bytes: Cow<'a, [u8]>,
    encoding: Encoding,
    errors: Errors,
) -> Result<Option<Text<'a>>> {
    match encoding {
        Encoding::Bytes => Ok(None),
        Encoding::Latin1 => Ok(Some(Text::Str(Cow::Owned(
            bytes.iter().map(|&b| b as char).collect(),
        )))),
        Encoding::Ascii => {
            if let Some(pos) = bytes.iter().position(|b| !b.is_ascii()) {
                match errors {
                    Errors::Strict => {
                        return Err(Error::new(
                            ErrorKind::Decode,
                            format!(
                                "'ascii' codec can't decode byte 0x{:02x} in position {pos}: ordinal not in range(128); pass an encoding (latin1 or bytes) for Python 2 pickles",
                                bytes[pos]
                            ),
                        ))
                    }
                    Errors::Replace => {
                        return Ok(Some(Text::Str(Cow::Owned(
                            bytes
                                .iter()
                                .map(|&b| if b.is_ascii() { b as char } else { '\u{FFFD}' })
                                .collect(),
                        ))))
                    }
                    Errors::Ignore => {
                        return Ok(Some(Text::Str(Cow::Owned(
                            bytes
                                .iter()
                                .filter(|b| b.is_ascii())
                                .map(|&b| b as char)
                                .collect(),
                        ))))
                    }
                }
            }
            Ok(Some(Text::Str(match bytes {
                Cow::Borrowed(b) => Cow::Borrowed(std::str::from_utf8(b).unwrap_or_default()),
                Cow::Owned(v) => Cow::Owned(String::from_utf8(v).unwrap_or_default()),
            })))
        }
        Encoding::Utf8 => match errors {
            Errors::Strict => match bytes {
                Cow::Borrowed(b) => std::str::from_utf8(b)
                    .map(|s| Some(Text::Str(Cow::Borrowed(s))))
                    .map_err(|e| utf8_error(b, e.valid_up_to(), "invalid start byte")),
                Cow::Owned(v) => String::from_utf8(v)
                    .map(|s| Some(Text::Str(Cow::Owned(s))))
                    .map_err(|e| {
                        let pos = e.utf8_error().valid_up_to();
                        utf8_error(e.as_bytes(), pos, "invalid start byte")
                    }),
            },
            Errors::Replace => Ok(Some(Text::Str(Cow::Owned(
                String::from_utf8_lossy(&bytes).into_owned(),
            )))),
            Errors::Ignore => {
                let mut out = String::new();
                for chunk in bytes.utf8_chunks() {
                    out.push_str(chunk.valid());
                }
                Ok(Some(Text::Str(Cow::Owned(out))))
            }
        },
    }
}
