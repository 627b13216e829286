//! [`NpDtype`]: a numpy dtype in full — numbers, fixed-size strings and bytes, datetimes
//! with their unit, records with named fields at offsets, sub-arrays and objects — and
//! numpy's names for it (`dtype.str`, `dtype.name`).
//!
//! This module knows nothing of pickles or files: the numpy emulation and the `.npy`
//! reader build dtypes, arrays hold them.

use super::dtype::{ByteOrder, Dtype};
use std::fmt;

/// What kind of value each element of a numpy array is (numpy's `dtype.kind`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NpKind {
    /// `?`: one byte, 0 or 1.
    Bool,
    /// `i`: a signed integer of 1, 2, 4 or 8 bytes.
    Int,
    /// `u`: an unsigned integer of 1, 2, 4 or 8 bytes.
    UInt,
    /// `f`: an IEEE float of 2, 4 or 8 bytes (or a platform long double of 12 or 16).
    Float,
    /// `c`: two floats, real then imaginary.
    Complex,
    /// `U`: a fixed number of UCS-4 code points (`itemsize / 4`), NUL-padded.
    Str,
    /// `S`: a fixed number of bytes, NUL-padded.
    Bytes,
    /// `V`: raw bytes, or a record when the dtype has [`fields`](NpDtype::fields), or a
    /// sub-array when it has a [`subarray`](NpDtype::subarray).
    Void,
    /// `M`: `datetime64`, an `i64` count of [`TimeUnit`]s since 1970-01-01T00:00.
    DateTime(TimeUnit),
    /// `m`: `timedelta64`, an `i64` count of [`TimeUnit`]s.
    TimeDelta(TimeUnit),
    /// `O`: a Python object.
    Object,
}

/// The unit of a `datetime64` / `timedelta64` dtype: `[ns]`, `[s]`, `[D]`, `[10ms]`.
///
/// ```
/// use serde_pickle_vm::array::TimeUnit;
/// let u = TimeUnit::parse("ns").unwrap();
/// assert_eq!(u.to_string(), "ns");
/// assert_eq!(u.nanos(), Some(1));
/// assert_eq!(TimeUnit::parse("10ms").unwrap().nanos(), Some(10_000_000));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeUnit {
    /// numpy's unit code: `Y`, `M`, `W`, `D`, `h`, `m`, `s`, `ms`, `us`, `ns`, `ps`,
    /// `fs`, `as`, or `generic` (no unit).
    pub unit: String,
    /// How many units one count is (numpy's `[10ms]`); 1 almost always.
    pub count: u32,
}

const UNITS: &[&str] = &[
    "Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as", "generic",
];

impl TimeUnit {
    /// Parses the text between numpy's brackets: `"ns"`, `"D"`, `"10ms"`, `"generic"`.
    /// numpy writes `μs` for microseconds in some reprs; that is accepted too.
    pub fn parse(text: &str) -> Option<TimeUnit> {
        let digits = text.bytes().take_while(u8::is_ascii_digit).count();
        let count = if digits == 0 {
            1
        } else {
            text[..digits].parse().ok().filter(|&n| n > 0)?
        };
        let unit = match &text[digits..] {
            "μs" => "us",
            u => u,
        };
        UNITS.contains(&unit).then(|| TimeUnit {
            unit: unit.to_string(),
            count,
        })
    }

    /// One count in nanoseconds, for the units of fixed length (`W` and below);
    /// `None` for years, months, generic and units finer than a nanosecond.
    pub fn nanos(&self) -> Option<i64> {
        let base: i64 = match self.unit.as_str() {
            "W" => 7 * 86_400_000_000_000,
            "D" => 86_400_000_000_000,
            "h" => 3_600_000_000_000,
            "m" => 60_000_000_000,
            "s" => 1_000_000_000,
            "ms" => 1_000_000,
            "us" => 1_000,
            "ns" => 1,
            _ => return None,
        };
        base.checked_mul(self.count as i64)
    }

    /// `true` for numpy's generic unit (`datetime64` without brackets).
    pub fn is_generic(&self) -> bool {
        self.unit == "generic"
    }
}

impl fmt::Display for TimeUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.count != 1 {
            write!(f, "{}", self.count)?;
        }
        f.write_str(&self.unit)
    }
}

/// A named field of a record dtype.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The field's name.
    pub name: String,
    /// Its dtype (possibly a record or a sub-array itself).
    pub dtype: NpDtype,
    /// Its byte offset in the record.
    pub offset: usize,
    /// Its title, when the dtype gave one (`(title, name)` pairs).
    pub title: Option<String>,
}

/// A numpy dtype.
///
/// ```
/// use serde_pickle_vm::array::{NpDtype, NpKind, Field};
/// let f8 = NpDtype::parse("<f8").unwrap();
/// assert_eq!((f8.kind(), f8.itemsize(), f8.name().as_str()), (&NpKind::Float, 8, "float64"));
/// assert_eq!(NpDtype::parse("<M8[ns]").unwrap().str(), "<M8[ns]");
/// assert_eq!(NpDtype::parse("U3").unwrap().itemsize(), 12);
///
/// // np.dtype([('x', '<f4'), ('n', '<i8')])
/// let rec = NpDtype::record(
///     vec![
///         Field { name: "x".into(), dtype: NpDtype::parse("<f4").unwrap(), offset: 0, title: None },
///         Field { name: "n".into(), dtype: NpDtype::parse("<i8").unwrap(), offset: 4, title: None },
///     ],
///     12,
/// )
/// .unwrap();
/// assert_eq!(rec.str(), "|V12");
/// assert_eq!(rec.fields()[1].offset, 4);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpDtype {
    kind: NpKind,
    order: ByteOrder,
    itemsize: usize,
    fields: Vec<Field>,
    subarray: Option<Box<(NpDtype, Vec<usize>)>>,
}

/// The single-character numpy type codes and what they stand for.
fn char_code(c: char) -> Option<(NpKind, usize)> {
    Some(match c {
        '?' => (NpKind::Bool, 1),
        'b' => (NpKind::Int, 1),
        'B' => (NpKind::UInt, 1),
        'h' => (NpKind::Int, 2),
        'H' => (NpKind::UInt, 2),
        'i' => (NpKind::Int, 4),
        'I' => (NpKind::UInt, 4),
        'l' | 'q' | 'p' => (NpKind::Int, 8),
        'L' | 'Q' | 'P' => (NpKind::UInt, 8),
        'e' => (NpKind::Float, 2),
        'f' => (NpKind::Float, 4),
        'd' => (NpKind::Float, 8),
        'g' => (NpKind::Float, 16),
        'F' => (NpKind::Complex, 8),
        'D' => (NpKind::Complex, 16),
        'G' => (NpKind::Complex, 32),
        'O' => (NpKind::Object, 8),
        _ => return None,
    })
}

impl NpDtype {
    /// A plain (non-record) dtype; `None` when `itemsize` does not suit `kind` (an int of
    /// 3 bytes, a UCS-4 string whose size is not a multiple of 4, …).
    pub fn new(kind: NpKind, order: ByteOrder, itemsize: usize) -> Option<NpDtype> {
        let ok = match &kind {
            NpKind::Bool => itemsize == 1,
            NpKind::Int | NpKind::UInt => matches!(itemsize, 1 | 2 | 4 | 8),
            NpKind::Float => matches!(itemsize, 2 | 4 | 8 | 12 | 16),
            NpKind::Complex => matches!(itemsize, 8 | 16 | 24 | 32),
            NpKind::Str => itemsize % 4 == 0,
            NpKind::Bytes | NpKind::Void => true,
            NpKind::DateTime(_) | NpKind::TimeDelta(_) => itemsize == 8,
            NpKind::Object => itemsize == 8,
        };
        let order =
            if itemsize <= 1 || matches!(kind, NpKind::Bytes | NpKind::Void | NpKind::Object) {
                ByteOrder::native()
            } else {
                order
            };
        ok.then_some(NpDtype {
            kind,
            order,
            itemsize,
            fields: Vec::new(),
            subarray: None,
        })
    }

    /// A record dtype of `itemsize` bytes with `fields`; `None` when a field runs past
    /// the end of the record.
    pub fn record(fields: Vec<Field>, itemsize: usize) -> Option<NpDtype> {
        for f in &fields {
            if f.offset.checked_add(f.dtype.itemsize)? > itemsize {
                return None;
            }
        }
        Some(NpDtype {
            kind: NpKind::Void,
            order: ByteOrder::native(),
            itemsize,
            fields,
            subarray: None,
        })
    }

    /// A sub-array dtype (`('<f4', (2, 3))`): `shape` elements of `base` in C order.
    /// `None` when the size overflows.
    pub fn subarray_of(base: NpDtype, shape: Vec<usize>) -> Option<NpDtype> {
        let n = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))?;
        let itemsize = base.itemsize.checked_mul(n)?;
        Some(NpDtype {
            kind: NpKind::Void,
            order: ByteOrder::native(),
            itemsize,
            fields: Vec::new(),
            subarray: Some(Box::new((base, shape))),
        })
    }

    /// Parses a numpy type string: `dtype.str` (`"<f8"`, `"|b1"`, `"<U5"`, `"|S4"`,
    /// `"|V8"`, `"<M8[ns]"`, `"|O"`), a type code without order (`"f8"`, native order),
    /// or a one-character code (`"d"`, `"?"`, `"l"`).
    pub fn parse(s: &str) -> Option<NpDtype> {
        let (order, code) = match s.as_bytes().first()? {
            b'<' => (ByteOrder::Little, &s[1..]),
            b'>' => (ByteOrder::Big, &s[1..]),
            b'|' | b'=' => (ByteOrder::native(), &s[1..]),
            _ => (ByteOrder::native(), s),
        };
        let mut chars = code.chars();
        let c = chars.next()?;
        let rest = chars.as_str();
        if rest.is_empty() {
            let (kind, size) = match c {
                'U' => (NpKind::Str, 0),
                'S' | 'a' => (NpKind::Bytes, 0),
                'V' => (NpKind::Void, 0),
                'M' => (NpKind::DateTime(generic()), 8),
                'm' => (NpKind::TimeDelta(generic()), 8),
                c => char_code(c)?,
            };
            return NpDtype::new(kind, order, size);
        }
        // `M8[ns]`, `m8[10ms]`, `M8`.
        if c == 'M' || c == 'm' {
            let (size, unit) = match rest.split_once('[') {
                Some((size, unit)) => (size, TimeUnit::parse(unit.strip_suffix(']')?)?),
                None => (rest, generic()),
            };
            if size != "8" {
                return None;
            }
            let kind = if c == 'M' {
                NpKind::DateTime(unit)
            } else {
                NpKind::TimeDelta(unit)
            };
            return NpDtype::new(kind, order, 8);
        }
        if !rest.bytes().all(|b| b.is_ascii_digit()) || rest.len() > 18 {
            return None;
        }
        let n: usize = rest.parse().ok()?;
        let kind = match c {
            'b' => NpKind::Bool,
            'i' => NpKind::Int,
            'u' => NpKind::UInt,
            'f' => NpKind::Float,
            'c' => NpKind::Complex,
            'U' => NpKind::Str,
            'S' | 'a' => NpKind::Bytes,
            'V' => NpKind::Void,
            'O' => NpKind::Object,
            _ => return None,
        };
        let itemsize = if kind == NpKind::Str {
            n.checked_mul(4)?
        } else {
            n
        };
        NpDtype::new(kind, order, itemsize)
    }

    /// The dtype of a torch element type in byte order `order` (for tensors shown as
    /// arrays); `None` for types numpy lacks (bfloat16, float8, quantized).
    pub fn from_tensor_dtype(dtype: Dtype, order: ByteOrder) -> Option<NpDtype> {
        let mut d = NpDtype::parse(dtype.numpy_descr()?)?;
        if d.itemsize > 1 {
            d.order = order;
        }
        Some(d)
    }

    /// What each element is.
    pub fn kind(&self) -> &NpKind {
        &self.kind
    }

    /// Bytes per element (numpy's `dtype.itemsize`).
    pub fn itemsize(&self) -> usize {
        self.itemsize
    }

    /// The byte order of multi-byte numbers, strings and datetimes (this machine's for
    /// the others).
    pub fn byte_order(&self) -> ByteOrder {
        self.order
    }

    /// The fields of a record dtype, in order (empty otherwise).
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// The base dtype and shape of a sub-array dtype.
    pub fn subarray(&self) -> Option<(&NpDtype, &[usize])> {
        self.subarray.as_ref().map(|b| (&b.0, b.1.as_slice()))
    }

    /// The unit of a datetime64 or timedelta64 dtype.
    pub fn unit(&self) -> Option<&TimeUnit> {
        match &self.kind {
            NpKind::DateTime(u) | NpKind::TimeDelta(u) => Some(u),
            _ => None,
        }
    }

    /// `true` for a record dtype (one with fields).
    pub fn is_record(&self) -> bool {
        !self.fields.is_empty()
    }

    /// The torch element type with the same layout (numbers and bools), which the
    /// tensor machinery reads.
    pub fn tensor_dtype(&self) -> Option<Dtype> {
        use Dtype::*;
        Some(match (&self.kind, self.itemsize) {
            (NpKind::Bool, 1) => Bool,
            (NpKind::Int, 1) => I8,
            (NpKind::Int, 2) => I16,
            (NpKind::Int, 4) => I32,
            (NpKind::Int, 8) => I64,
            (NpKind::UInt, 1) => U8,
            (NpKind::UInt, 2) => U16,
            (NpKind::UInt, 4) => U32,
            (NpKind::UInt, 8) => U64,
            (NpKind::Float, 2) => F16,
            (NpKind::Float, 4) => F32,
            (NpKind::Float, 8) => F64,
            (NpKind::Complex, 8) => C64,
            (NpKind::Complex, 16) => C128,
            _ => return None,
        })
    }

    /// numpy's `dtype.str`: `"<f8"`, `"|b1"`, `"<U5"`, `"|S4"`, `"|V12"` (records and
    /// sub-arrays), `"<M8[ns]"`, `"|O"`.
    pub fn str(&self) -> String {
        let order = match (&self.kind, self.itemsize) {
            (NpKind::Bytes | NpKind::Void | NpKind::Object | NpKind::Bool, _) | (_, 0 | 1) => '|',
            _ => match self.order {
                ByteOrder::Little => '<',
                ByteOrder::Big => '>',
            },
        };
        let (code, size) = self.code();
        if *self.kind() == NpKind::Object {
            return "|O".into();
        }
        match self.unit() {
            Some(u) if !u.is_generic() => format!("{order}{code}{size}[{u}]"),
            _ => format!("{order}{code}{size}"),
        }
    }

    /// The kind character and the number numpy writes after it.
    fn code(&self) -> (char, usize) {
        match &self.kind {
            NpKind::Bool => ('b', 1),
            NpKind::Int => ('i', self.itemsize),
            NpKind::UInt => ('u', self.itemsize),
            NpKind::Float => ('f', self.itemsize),
            NpKind::Complex => ('c', self.itemsize),
            NpKind::Str => ('U', self.itemsize / 4),
            NpKind::Bytes => ('S', self.itemsize),
            NpKind::Void => ('V', self.itemsize),
            NpKind::DateTime(_) => ('M', 8),
            NpKind::TimeDelta(_) => ('m', 8),
            NpKind::Object => ('O', 8),
        }
    }

    /// numpy's `dtype.name`: `"float64"`, `"bool"`, `"str160"` (bits), `"bytes32"`,
    /// `"void96"`, `"datetime64[ns]"`, `"object"`.
    pub fn name(&self) -> String {
        let bits = self.itemsize * 8;
        match &self.kind {
            NpKind::Bool => "bool".into(),
            NpKind::Int => format!("int{bits}"),
            NpKind::UInt => format!("uint{bits}"),
            NpKind::Float => format!("float{bits}"),
            NpKind::Complex => format!("complex{bits}"),
            NpKind::Str => format!("str{bits}"),
            NpKind::Bytes => format!("bytes{bits}"),
            NpKind::Void => format!("void{bits}"),
            NpKind::DateTime(u) | NpKind::TimeDelta(u) => {
                let base = if matches!(self.kind, NpKind::DateTime(_)) {
                    "datetime64"
                } else {
                    "timedelta64"
                };
                if u.is_generic() {
                    base.into()
                } else {
                    format!("{base}[{u}]")
                }
            }
            NpKind::Object => "object".into(),
        }
    }

    /// `true` when reading an element needs its bytes reversed on this machine.
    pub fn needs_swap(&self) -> bool {
        self.order != ByteOrder::native() && self.component_size() > 1
    }

    /// The size of the unit byte order applies to: half a complex, one UCS-4 code unit
    /// of a string, the element for other numbers; 1 for bytes, void and records.
    pub fn component_size(&self) -> usize {
        match &self.kind {
            NpKind::Complex => self.itemsize / 2,
            NpKind::Str => 4,
            NpKind::Bytes | NpKind::Void | NpKind::Object => 1,
            _ => self.itemsize,
        }
    }
}

fn generic() -> TimeUnit {
    TimeUnit {
        unit: "generic".into(),
        count: 1,
    }
}

impl fmt::Display for NpDtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_strings_round_trip() {
        for s in [
            "<f8",
            ">i4",
            "|b1",
            "|u1",
            "|i1",
            "<u8",
            "<f2",
            "<c8",
            ">c16",
            "<U5",
            "|S4",
            "|V12",
            "<M8[ns]",
            ">m8[us]",
            "<M8[D]",
            "<M8[10ms]",
            "<M8",
            "|O",
        ] {
            assert_eq!(NpDtype::parse(s).unwrap().str(), s, "{s}");
        }
        assert_eq!(NpDtype::parse("d").unwrap().name(), "float64");
        assert_eq!(NpDtype::parse("<U5").unwrap().name(), "str160");
        assert_eq!(NpDtype::parse("<m8[s]").unwrap().name(), "timedelta64[s]");
        for bad in [
            "",
            "<",
            "<i3",
            "<U3x",
            "<M8[xs]",
            "<M4[ns]",
            "<f99999999999999999999",
            "Z",
        ] {
            assert!(NpDtype::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn records_check_their_fields() {
        let f = |name: &str, d: &str, offset| Field {
            name: name.into(),
            dtype: NpDtype::parse(d).unwrap(),
            offset,
            title: None,
        };
        assert!(NpDtype::record(vec![f("a", "<f8", 0), f("b", "<i4", 8)], 12).is_some());
        assert!(NpDtype::record(vec![f("a", "<f8", 8)], 12).is_none());
        assert!(NpDtype::record(vec![f("a", "<f8", usize::MAX)], 12).is_none());
        let sub = NpDtype::subarray_of(NpDtype::parse("<f4").unwrap(), vec![2, 3]).unwrap();
        assert_eq!((sub.itemsize(), sub.str()), (24, "|V24".to_string()));
        assert!(
            NpDtype::subarray_of(NpDtype::parse("<f4").unwrap(), vec![usize::MAX, 2]).is_none()
        );
    }
}
