//! The Python literals of a `.npy` header (what numpy reads with `ast.literal_eval`):
//! strings in either quote style with their escapes, ints, tuples, lists, dicts, `True`,
//! `False` and `None`. Nothing else is accepted. The parser is bounded: nesting deeper
//! than [`MAX_DEPTH`] is an error, and what it builds is proportional to the text.
//!
//! This module knows nothing of numpy: `npy` gives the header's meaning.

/// Deepest nesting of tuples, lists and dicts (a record dtype nests a list per level).
pub(crate) const MAX_DEPTH: usize = 64;

/// A parsed literal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lit {
    Str(String),
    Int(i128),
    Bool(bool),
    None,
    Tuple(Vec<Lit>),
    List(Vec<Lit>),
    Dict(Vec<(Lit, Lit)>),
}

impl Lit {
    /// Python's name of the literal's type, for messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Lit::Str(_) => "str",
            Lit::Int(_) => "int",
            Lit::Bool(_) => "bool",
            Lit::None => "None",
            Lit::Tuple(_) => "tuple",
            Lit::List(_) => "list",
            Lit::Dict(_) => "dict",
        }
    }
}

/// A parse failure: what is wrong and where (a byte offset in the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LitError {
    pub(crate) offset: usize,
    pub(crate) message: String,
}

type Result<T> = std::result::Result<T, LitError>;

/// Parses `text` as one literal, surrounded by whitespace only. `py2_longs` accepts the
/// `L` suffix of Python 2 ints (`(3L, 4L)`), as numpy does for format versions 1.0 and
/// 2.0.
pub(crate) fn parse(text: &str, py2_longs: bool) -> Result<Lit> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
        py2_longs,
    };
    let v = p.value(0)?;
    p.skip_ws();
    if p.pos < p.s.len() {
        return Err(p.err("unexpected text after the literal"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    py2_longs: bool,
}

impl Parser<'_> {
    fn err(&self, message: impl Into<String>) -> LitError {
        LitError {
            offset: self.pos,
            message: message.into(),
        }
    }

    fn skip_ws(&mut self) {
        while let Some(&b) = self.s.get(self.pos) {
            match b {
                b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => self.pos += 1,
                // A backslash-newline joins lines, as in Python source.
                b'\\' if self.s.get(self.pos + 1) == Some(&b'\n') => self.pos += 2,
                _ => break,
            }
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.pos).copied()
    }

    fn value(&mut self, depth: usize) -> Result<Lit> {
        match self.peek() {
            None => Err(self.err("the literal ends early")),
            Some(b'(') => self.seq(b')', depth).map(|(items, comma)| {
                // `(x)` is x itself; `(x,)` and `()` are tuples.
                if items.len() == 1 && !comma {
                    items.into_iter().next().unwrap_or(Lit::None)
                } else {
                    Lit::Tuple(items)
                }
            }),
            Some(b'[') => self.seq(b']', depth).map(|(items, _)| Lit::List(items)),
            Some(b'{') => self.dict(depth),
            Some(b'\'' | b'"') => self.string().map(Lit::Str),
            Some(b'u' | b'U') if matches!(self.s.get(self.pos + 1), Some(b'\'' | b'"')) => {
                self.pos += 1;
                self.string().map(Lit::Str)
            }
            Some(b'0'..=b'9' | b'-' | b'+') => self.int(),
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                let start = self.pos;
                while self
                    .s
                    .get(self.pos)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                {
                    self.pos += 1;
                }
                match &self.text[start..self.pos] {
                    "True" => Ok(Lit::Bool(true)),
                    "False" => Ok(Lit::Bool(false)),
                    "None" => Ok(Lit::None),
                    word => {
                        self.pos = start;
                        Err(self.err(format!("{word:?} is not a literal")))
                    }
                }
            }
            Some(_) => {
                let c = self.text[self.pos..].chars().next().unwrap_or('?');
                Err(self.err(format!("unexpected {c:?}")))
            }
        }
    }

    /// `( … )` or `[ … ]` after the opening bracket: the items and whether a comma
    /// followed the last one.
    fn seq(&mut self, close: u8, depth: usize) -> Result<(Vec<Lit>, bool)> {
        if depth >= MAX_DEPTH {
            return Err(self.err(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        self.pos += 1;
        let mut items = Vec::new();
        let mut comma = false;
        loop {
            if self.peek() == Some(close) {
                self.pos += 1;
                return Ok((items, comma));
            }
            if !items.is_empty() && !comma {
                return Err(self.err(format!("expected ',' or '{}'", close as char)));
            }
            items.push(self.value(depth + 1)?);
            comma = false;
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    comma = true;
                }
                Some(c) if c == close => {}
                None => return Err(self.err("the literal ends early")),
                Some(_) => return Err(self.err(format!("expected ',' or '{}'", close as char))),
            }
        }
    }

    fn dict(&mut self, depth: usize) -> Result<Lit> {
        if depth >= MAX_DEPTH {
            return Err(self.err(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        self.pos += 1;
        let mut pairs = Vec::new();
        loop {
            if self.peek() == Some(b'}') {
                self.pos += 1;
                return Ok(Lit::Dict(pairs));
            }
            let key = self.value(depth + 1)?;
            if self.peek() != Some(b':') {
                return Err(self.err("expected ':' after a dict key"));
            }
            self.pos += 1;
            let value = self.value(depth + 1)?;
            pairs.push((key, value));
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {}
                None => return Err(self.err("the literal ends early")),
                Some(_) => return Err(self.err("expected ',' or '}'")),
            }
        }
    }

    fn int(&mut self) -> Result<Lit> {
        let start = self.pos;
        let negative = match self.s[self.pos] {
            b'-' => {
                self.pos += 1;
                true
            }
            b'+' => {
                self.pos += 1;
                false
            }
            _ => false,
        };
        self.skip_ws();
        let digits = self.pos;
        let mut v: i128 = 0;
        while let Some(&c) = self.s.get(self.pos) {
            match c {
                b'0'..=b'9' => {
                    v = v
                        .checked_mul(10)
                        .and_then(|v| v.checked_add((c - b'0') as i128))
                        .ok_or_else(|| LitError {
                            offset: start,
                            message: "an int too large".into(),
                        })?;
                }
                // Python allows `1_000`.
                b'_' if self.s.get(self.pos + 1).is_some_and(u8::is_ascii_digit)
                    && self.pos > digits =>
                {
                    self.pos += 1;
                    continue;
                }
                _ => break,
            }
            self.pos += 1;
        }
        if self.pos == digits {
            return Err(self.err("expected digits"));
        }
        // Python 3 refuses leading zeros (`007`); `0` and `00` are fine.
        let text = &self.s[digits..self.pos];
        if text.len() > 1 && text[0] == b'0' && text.iter().any(|&c| c != b'0' && c != b'_') {
            self.pos = digits;
            return Err(self.err("leading zeros in an int"));
        }
        if self.py2_longs && self.s.get(self.pos) == Some(&b'L') {
            self.pos += 1;
        }
        match self.s.get(self.pos) {
            Some(c) if c.is_ascii_alphanumeric() || *c == b'.' => {
                Err(self.err("only ints are accepted here (no floats, no other bases)"))
            }
            _ => Ok(Lit::Int(if negative { -v } else { v })),
        }
    }

    fn string(&mut self) -> Result<String> {
        let quote = self.s[self.pos];
        let start = self.pos;
        self.pos += 1;
        // Triple quotes: '''…''' or """…""".
        let triple = self.s.get(self.pos..self.pos + 2) == Some(&[quote, quote][..]);
        if triple {
            self.pos += 2;
        }
        let mut out = String::new();
        loop {
            let Some(&c) = self.s.get(self.pos) else {
                return Err(LitError {
                    offset: start,
                    message: "a string that is never closed".into(),
                });
            };
            if c == quote {
                if !triple {
                    self.pos += 1;
                    return Ok(out);
                }
                if self.s.get(self.pos..self.pos + 3) == Some(&[quote, quote, quote][..]) {
                    self.pos += 3;
                    return Ok(out);
                }
            }
            match c {
                b'\n' if !triple => return Err(self.err("a newline inside a string")),
                b'\\' => self.escape(&mut out)?,
                _ => {
                    // Copy one UTF-8 character.
                    let ch = self.text[self.pos..].chars().next().unwrap_or('\u{fffd}');
                    out.push(ch);
                    self.pos += ch.len_utf8();
                }
            }
        }
    }

    /// One escape sequence, at a backslash.
    fn escape(&mut self, out: &mut String) -> Result<()> {
        let at = self.pos;
        self.pos += 1;
        let Some(&c) = self.s.get(self.pos) else {
            return Err(self.err("a string that ends in a backslash"));
        };
        self.pos += 1;
        let simple = match c {
            b'\n' => Some(None),
            b'\\' => Some(Some('\\')),
            b'\'' => Some(Some('\'')),
            b'"' => Some(Some('"')),
            b'a' => Some(Some('\x07')),
            b'b' => Some(Some('\x08')),
            b'f' => Some(Some('\x0c')),
            b'n' => Some(Some('\n')),
            b'r' => Some(Some('\r')),
            b't' => Some(Some('\t')),
            b'v' => Some(Some('\x0b')),
            _ => None,
        };
        if let Some(ch) = simple {
            out.extend(ch);
            return Ok(());
        }
        let hex = |p: &mut Self, n: usize| -> Result<u32> {
            let digits =
                p.s.get(p.pos..p.pos + n)
                    .filter(|d| d.iter().all(u8::is_ascii_hexdigit))
                    .ok_or_else(|| LitError {
                        offset: at,
                        message: format!("a \\{} escape needs {n} hex digits", c as char),
                    })?;
            p.pos += n;
            let text = std::str::from_utf8(digits).unwrap_or("0");
            Ok(u32::from_str_radix(text, 16).unwrap_or(0))
        };
        let code = match c {
            b'0'..=b'7' => {
                let mut v = (c - b'0') as u32;
                for _ in 0..2 {
                    match self.s.get(self.pos) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + (d - b'0') as u32;
                            self.pos += 1;
                        }
                        _ => break,
                    }
                }
                v
            }
            b'x' => hex(self, 2)?,
            b'u' => hex(self, 4)?,
            b'U' => hex(self, 8)?,
            _ => {
                // Python keeps an unknown escape as it is.
                out.push('\\');
                self.pos -= 1;
                return Ok(());
            }
        };
        match char::from_u32(code) {
            Some(ch) => {
                out.push(ch);
                Ok(())
            }
            None => Err(LitError {
                offset: at,
                message: format!("the escape \\U{code:08x} is not a character"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_numpy_writes() {
        let h = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }";
        assert_eq!(
            parse(h, false).unwrap(),
            Lit::Dict(vec![
                (Lit::Str("descr".into()), Lit::Str("<f8".into())),
                (Lit::Str("fortran_order".into()), Lit::Bool(false)),
                (
                    Lit::Str("shape".into()),
                    Lit::Tuple(vec![Lit::Int(3), Lit::Int(4)])
                ),
            ])
        );
        assert_eq!(parse("()", false).unwrap(), Lit::Tuple(vec![]));
        assert_eq!(parse("(5,)", false).unwrap(), Lit::Tuple(vec![Lit::Int(5)]));
        assert_eq!(parse("(5)", false).unwrap(), Lit::Int(5));
        assert_eq!(
            parse("[('a', '<i4'), (('t', 'b'), '|S3', (2,))]", false).unwrap(),
            Lit::List(vec![
                Lit::Tuple(vec![Lit::Str("a".into()), Lit::Str("<i4".into())]),
                Lit::Tuple(vec![
                    Lit::Tuple(vec![Lit::Str("t".into()), Lit::Str("b".into())]),
                    Lit::Str("|S3".into()),
                    Lit::Tuple(vec![Lit::Int(2)])
                ]),
            ])
        );
    }

    #[test]
    fn strings_and_escapes() {
        let s = |t: &str| parse(t, false).unwrap();
        assert_eq!(s(r#""it's""#), Lit::Str("it's".into()));
        assert_eq!(
            s(r"'a\'b\\c\n\x41\u00e9\U0001F600\101'"),
            Lit::Str("a'b\\c\nAé😀A".into())
        );
        assert_eq!(s("u'x'"), Lit::Str("x".into()));
        assert_eq!(s("'''a'b'''"), Lit::Str("a'b".into()));
        assert_eq!(s(r"'\q'"), Lit::Str("\\q".into()));
        assert_eq!(s("'é'"), Lit::Str("é".into()));
    }

    #[test]
    fn ints() {
        assert_eq!(parse("-12", false).unwrap(), Lit::Int(-12));
        assert_eq!(parse("1_000", false).unwrap(), Lit::Int(1000));
        assert_eq!(
            parse("(3L, 4L)", true).unwrap(),
            Lit::Tuple(vec![Lit::Int(3), Lit::Int(4)])
        );
        assert!(parse("(3L,)", false).is_err());
        assert!(parse("007", false).is_err());
        assert!(parse("1.5", false).is_err());
        assert!(parse("0x10", false).is_err());
        assert!(parse(&"9".repeat(50), false).is_err());
    }

    #[test]
    fn errors_say_where() {
        let e = parse("{'a': 1 'b': 2}", false).unwrap_err();
        assert_eq!((e.offset, e.message.as_str()), (8, "expected ',' or '}'"));
        assert_eq!(
            parse("{'a': 1", false).unwrap_err().message,
            "the literal ends early"
        );
        assert_eq!(parse("'abc", false).unwrap_err().offset, 0);
        assert_eq!(
            parse("foo", false).unwrap_err().message,
            "\"foo\" is not a literal"
        );
        assert!(parse("{} x", false).is_err());
        assert!(parse("(1,,)", false).is_err());
        assert!(parse("[1 2]", false).is_err());
        assert!(parse("'\\U00110000'", false).is_err());
        assert!(parse("'\\x4'", false).is_err());
    }

    #[test]
    fn depth_is_bounded() {
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        let e = parse(&deep, false).unwrap_err();
        assert!(e.message.contains("nested deeper"), "{e:?}");
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&ok, false).is_ok());
        let deep = "(".repeat(100_000);
        assert!(parse(&deep, false).is_err());
    }
}
