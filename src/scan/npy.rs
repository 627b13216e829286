//! The header of a `.npy` file: a Python dict literal with `descr`, `fortran_order`
//! and `shape` — just enough to tell whether numpy unpickles the data (an object dtype,
//! or a structured one with an object field) and to describe the array.
//!
//! It knows nothing of pickles; `container` walks the data when it is one.

/// A Python literal, as far as `.npy` headers use them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lit {
    Str(String),
    Int(i128),
    Bool(bool),
    None,
    Seq(Vec<Lit>),
    Dict(Vec<(Lit, Lit)>),
}

/// What the header says.
pub(crate) struct Header {
    /// Where the data starts.
    pub(crate) data: usize,
    /// The `descr` as text (`<f8`, or the structured list as written).
    pub(crate) descr: String,
    pub(crate) shape: Vec<u64>,
    pub(crate) fortran: bool,
    /// numpy unpickles the data (`dtype.hasobject`).
    pub(crate) object: bool,
}

/// Deepest nesting of a header literal (numpy's own headers nest 4 deep).
const MAX_DEPTH: usize = 32;

/// Reads the header of the `.npy` file `data` (which starts with `\x93NUMPY`). An
/// error is `(offset, message)`.
pub(crate) fn header(data: &[u8]) -> Result<Header, (usize, String)> {
    let (at, len): (usize, usize) = match data.get(6) {
        Some(1) => data
            .get(8..10)
            .map(|b| (10, u16::from_le_bytes([b[0], b[1]]) as usize)),
        Some(2 | 3) => data
            .get(8..12)
            .map(|b| (12, u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)),
        Some(v) => return Err((6, format!("unknown .npy format version {v}"))),
        None => None,
    }
    .ok_or((6, "the .npy header was truncated".to_string()))?;
    let end = at
        .checked_add(len)
        .filter(|&e| e <= data.len())
        .ok_or((at, ".npy header runs past the end of the file".to_string()))?;
    let text = String::from_utf8_lossy(&data[at..end]);
    let parsed = Parser {
        s: text.as_bytes(),
        i: 0,
    }
    .all();
    let Some(Lit::Dict(items)) = parsed else {
        // numpy would refuse the header too; but should a literal it reads fail here,
        // err on the side of a pickle wherever an object dtype could be named.
        let object = text.contains('O') || text.contains("object");
        return Ok(Header {
            data: end,
            descr: String::new(),
            shape: Vec::new(),
            fortran: false,
            object,
        });
    };
    let get = |k: &str| {
        items
            .iter()
            .find(|(key, _)| *key == Lit::Str(k.into()))
            .map(|(_, v)| v)
    };
    let descr = get("descr").ok_or((at, ".npy header has no 'descr'".to_string()))?;
    let shape = match get("shape") {
        Some(Lit::Seq(v)) => v
            .iter()
            .map(|d| match d {
                Lit::Int(n) => u64::try_from(*n).ok(),
                _ => None,
            })
            .collect::<Option<Vec<u64>>>(),
        _ => None,
    }
    .ok_or((
        at,
        ".npy header's 'shape' is not a tuple of ints".to_string(),
    ))?;
    let fortran = matches!(get("fortran_order"), Some(Lit::Bool(true)));
    let descr_text = match descr {
        Lit::Str(s) => s.clone(),
        other => render(other),
    };
    Ok(Header {
        data: end,
        descr: descr_text,
        shape,
        fortran,
        object: has_object(descr, 0),
    })
}

/// Whether a `descr` (a dtype string, or a list of `(name, format[, shape])` fields)
/// holds Python objects. Unknown forms count as objects.
fn has_object(d: &Lit, depth: usize) -> bool {
    match d {
        Lit::Str(s) => s.split(',').any(|part| {
            let t = part.trim().trim_start_matches(|c: char| {
                c.is_ascii_digit() || matches!(c, '<' | '>' | '|' | '=' | '(' | ')' | ' ' | ',')
            });
            t.starts_with('O') || t.starts_with("object")
        }),
        Lit::Seq(fields) if depth < MAX_DEPTH => fields.iter().any(|f| match f {
            Lit::Seq(parts) if parts.len() >= 2 => has_object(&parts[1], depth + 1),
            _ => true,
        }),
        _ => true,
    }
}

fn render(l: &Lit) -> String {
    match l {
        Lit::Str(s) => format!("{s:?}"),
        Lit::Int(i) => i.to_string(),
        Lit::Bool(b) => if *b { "True" } else { "False" }.into(),
        Lit::None => "None".into(),
        Lit::Seq(v) => {
            let inner: Vec<String> = v.iter().map(render).collect();
            format!("[{}]", inner.join(", "))
        }
        Lit::Dict(v) => {
            let inner: Vec<String> = v
                .iter()
                .map(|(k, v)| format!("{}: {}", render(k), render(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn all(mut self) -> Option<Lit> {
        let v = self.value(0)?;
        self.ws();
        (self.i == self.s.len()).then_some(v)
    }

    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Option<Lit> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        let c = *self.s.get(self.i)?;
        match c {
            b'\'' | b'"' => self.string(c),
            b'(' | b'[' => {
                self.i += 1;
                let close = if c == b'(' { b')' } else { b']' };
                let mut items = Vec::new();
                loop {
                    if self.eat(close) {
                        return Some(Lit::Seq(items));
                    }
                    items.push(self.value(depth + 1)?);
                    if !self.eat(b',') {
                        return self.eat(close).then_some(Lit::Seq(items));
                    }
                }
            }
            b'{' => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    if self.eat(b'}') {
                        return Some(Lit::Dict(items));
                    }
                    let k = self.value(depth + 1)?;
                    if !self.eat(b':') {
                        return None;
                    }
                    let v = self.value(depth + 1)?;
                    items.push((k, v));
                    if !self.eat(b',') {
                        return self.eat(b'}').then_some(Lit::Dict(items));
                    }
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = self.i;
                self.i += 1;
                while self
                    .s
                    .get(self.i)
                    .is_some_and(|c| c.is_ascii_digit() || *c == b'_')
                {
                    self.i += 1;
                }
                let t: String = String::from_utf8_lossy(&self.s[start..self.i]).replace('_', "");
                // Python 2 longs: `3L`.
                if matches!(self.s.get(self.i), Some(b'L' | b'l')) {
                    self.i += 1;
                }
                t.parse().ok().map(Lit::Int)
            }
            _ => {
                for (word, v) in [
                    ("True", Lit::Bool(true)),
                    ("False", Lit::Bool(false)),
                    ("None", Lit::None),
                ] {
                    if self.s[self.i..].starts_with(word.as_bytes()) {
                        self.i += word.len();
                        return Some(v);
                    }
                }
                None
            }
        }
    }

    /// A quoted string; escapes are kept as written except `\\` and the quote (dtype
    /// strings and field names have none in practice).
    fn string(&mut self, q: u8) -> Option<Lit> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let c = *self.s.get(self.i)?;
            self.i += 1;
            if c == q {
                return Some(Lit::Str(String::from_utf8_lossy(&out).into_owned()));
            }
            if c == b'\\' {
                let e = *self.s.get(self.i)?;
                self.i += 1;
                if e != q && e != b'\\' {
                    out.push(b'\\');
                }
                out.push(e);
            } else {
                out.push(c);
            }
        }
    }
}
