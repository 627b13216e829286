//! `df.to_csv()`: the text pandas writes with its defaults, byte for byte.
//!
//! What pandas does (checked against pandas 3.1 on numpy 2.4 and Python's `csv` module):
//!
//! - The index comes first, one column per level. The header row starts with the index
//!   name (empty when unnamed; with a MultiIndex, each level's name or empty), then the
//!   column labels as `str(label)`. Under MultiIndex columns there is one header row per
//!   column level, led by that level's name, then a row of the index names (only when
//!   one of them is set).
//! - Missing values (NaN, None, `pd.NA`, NaT, a categorical's −1) are empty fields.
//! - Floats are numpy's `str()`: for float64 Python's `repr` (`0.1`, `1e+16`, `1e-05`,
//!   `inf`, `-0.0`); for float32 the shortest digits of 32 bits, in exponent notation
//!   outside `1e-4 <= |x| < 1e6` (`1e+06`). Bools are `True`/`False`.
//! - Datetimes are formatted as a column: `2024-01-01` when every value is midnight and
//!   the column has no time zone; otherwise `2024-01-01 00:00:00`, with `.fff`, `.ffffff`
//!   or `.fffffffff` on every value when any value has milliseconds, microseconds or
//!   nanoseconds, and the UTC offset (`+01:00`) of a tz-aware column. pyarrow timestamps
//!   are `str(Timestamp)`, one by one.
//! - Timedeltas are formatted as a column too: `1 days` when all are whole days,
//!   otherwise `0 days 01:00:00` (`-1 days +23:59:59`) with `.ffffff` on every value when
//!   any has a fraction of a second (`.fffffffff` when any has nanoseconds).
//! - Categoricals are their values, formatted as the used categories would be.
//! - Objects are `str(value)`: containers with the `repr` of their items, `datetime`
//!   with a space, `timedelta` as Python prints it (`1 day, 0:00:05`).
//! - Quoting is Python's `csv.QUOTE_MINIMAL`: a field holding `,`, `"`, `\r` or `\n` is
//!   quoted, `"` doubled; a row of one empty field is written `""`. Lines end in `\n`.

use super::time::{civil_from_days, offset_text};
use super::write::WriteOptions;
use super::{Cell, Data, DataFrame, Kind, Label, Tz, Values};
use crate::error::Result;
use crate::pyrepr::float_repr;
use std::fmt::Write as _;
use std::io::Write;

/// Writes a frame as `df.to_csv()` does (index included, header, `,` between fields,
/// `\n` after each line), `opts.batch_rows` rows at a time, calling `opts.progress`
/// with the number of rows written after each batch. See the module docs for the text
/// of each dtype.
///
/// ```no_run
/// use serde_pickle_vm::pandas::{self, WriteOptions};
///
/// let df = pandas::read_pickle("frame.pkl")?.into_frame()?;
/// let out = std::io::BufWriter::new(std::fs::File::create("frame.csv")?);
/// pandas::write_csv(&df, out, WriteOptions::default())?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_csv<W: Write>(df: &DataFrame, mut out: W, mut opts: WriteOptions) -> Result<()> {
    let mut text = String::new();
    header(df, &mut text);
    out.write_all(text.as_bytes())?;
    let fields: Vec<Field<'_>> = df
        .index
        .levels
        .iter()
        .chain(df.columns.iter())
        .map(|c| Field::new(&c.data, None))
        .collect();
    let n = df.len();
    let batch = opts.batch_rows.max(1);
    let mut scratch = String::new();
    let mut start = 0;
    while start < n {
        let end = (start + batch).min(n);
        text.clear();
        for i in start..end {
            let single = fields.len() == 1;
            for (j, f) in fields.iter().enumerate() {
                if j > 0 {
                    text.push(',');
                }
                scratch.clear();
                f.write(i, &mut scratch);
                push_field(&mut text, &scratch, single);
            }
            text.push('\n');
        }
        out.write_all(text.as_bytes())?;
        start = end;
        if let Some(progress) = opts.progress.as_mut() {
            progress(end as u64);
        }
    }
    out.flush()?;
    Ok(())
}

/// Appends one field, quoted when it must be (`csv.QUOTE_MINIMAL`).
fn push_field(out: &mut String, s: &str, single: bool) {
    if s.is_empty() {
        // The csv module tells a row of one empty field from an empty line.
        if single {
            out.push_str("\"\"");
        }
        return;
    }
    if !s.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n')) {
        out.push_str(s);
        return;
    }
    out.push('"');
    let mut parts = s.split('"');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for p in parts {
        out.push_str("\"\"");
        out.push_str(p);
    }
    out.push('"');
}

fn push_row<'s>(out: &mut String, fields: impl IntoIterator<Item = &'s str>) {
    let fields: Vec<&str> = fields.into_iter().collect();
    let single = fields.len() == 1;
    for (j, f) in fields.iter().enumerate() {
        if j > 0 {
            out.push(',');
        }
        push_field(out, f, single);
    }
    out.push('\n');
}

/// `str(label)` as the csv module writes it: `None` is empty.
fn label_text(l: &Label) -> String {
    match l {
        Label::None => String::new(),
        Label::Other(s) => iso_space(s),
        l => l.to_string(),
    }
}

/// `name or ""`: what pandas writes for the names of a MultiIndex.
fn falsy_empty(l: &Label) -> String {
    match l {
        Label::Int(0) | Label::Bool(false) => String::new(),
        Label::Float(x) if *x == 0.0 => String::new(),
        Label::Tuple(p) if p.is_empty() => String::new(),
        l => label_text(l),
    }
}

fn header(df: &DataFrame, out: &mut String) {
    let levels = &df.index.levels;
    let index_names: Vec<String> = match levels.as_slice() {
        [] => vec![String::new()],
        [one] => vec![label_text(&one.name)],
        many => many.iter().map(|l| falsy_empty(&l.name)).collect(),
    };
    let col_levels = df.column_names.as_ref().map_or(1, |n| n.len());
    if col_levels <= 1 {
        let labels: Vec<String> = df.columns.iter().map(|c| label_text(&c.name)).collect();
        push_row(
            out,
            index_names.iter().chain(labels.iter()).map(String::as_str),
        );
        return;
    }
    let names = df.column_names.as_deref().unwrap_or_default();
    for lev in 0..col_levels {
        let mut row: Vec<String> = Vec::with_capacity(index_names.len() + df.columns.len());
        row.push(names.get(lev).cloned().flatten().unwrap_or_default());
        row.extend(std::iter::repeat_n(String::new(), index_names.len() - 1));
        row.extend(df.columns.iter().map(|c| match &c.name {
            Label::Tuple(parts) => parts.get(lev).map(label_text).unwrap_or_default(),
            l if lev == 0 => label_text(l),
            _ => String::new(),
        }));
        push_row(out, row.iter().map(String::as_str));
    }
    if index_names.iter().any(|s| !s.is_empty()) {
        push_row(
            out,
            index_names
                .iter()
                .map(String::as_str)
                .chain(std::iter::repeat_n("", df.columns.len())),
        );
    }
}

/// An ISO datetime's `T` as the space of `str(datetime)`; other text unchanged.
fn iso_space(s: &str) -> String {
    let b = s.as_bytes();
    if b.len() > 10
        && b[10] == b'T'
        && b[4] == b'-'
        && b[7] == b'-'
        && b[..4].iter().all(u8::is_ascii_digit)
    {
        let mut t = s.to_string();
        t.replace_range(10..11, " ");
        return t;
    }
    s.to_string()
}

/// A time zone with its rules looked up once.
enum Zone {
    Fixed(i32),
    Named(jiff::tz::TimeZone),
}

impl Zone {
    fn new(tz: &Tz) -> Zone {
        match tz {
            Tz::Fixed(s) => Zone::Fixed(*s),
            Tz::Named(n) if n == "UTC" => Zone::Fixed(0),
            Tz::Named(n) => match jiff::tz::TimeZone::get(n) {
                Ok(z) => Zone::Named(z),
                Err(_) => Zone::Fixed(0),
            },
        }
    }

    fn offset(&self, utc_seconds: i64) -> i32 {
        match self {
            Zone::Fixed(s) => *s,
            Zone::Named(z) => jiff::Timestamp::from_second(utc_seconds)
                .map(|t| z.to_offset(t).seconds())
                .unwrap_or(0),
        }
    }
}

/// How one column (or index level) is written, with what pandas decides for the
/// column as a whole.
enum Field<'a> {
    /// Each value on its own.
    Plain(&'a Data),
    /// numpy datetimes and `DatetimeTZDtype`.
    DateTime {
        data: &'a Data,
        values: &'a [i64],
        per: i128,
        zone: Option<Zone>,
        date_only: bool,
        digits: u8,
    },
    /// numpy timedeltas.
    TimeDelta {
        data: &'a Data,
        values: &'a [i64],
        per: i128,
        days_only: bool,
        digits: u8,
    },
    /// Codes into the categories' own field.
    Categorical {
        codes: &'a [i32],
        categories: Box<Field<'a>>,
    },
}

const NS_PER_SEC: i128 = 1_000_000_000;
const NS_PER_DAY: i128 = 86_400 * NS_PER_SEC;

/// The digits of the fraction a set of nanosecond counts needs (`ms` gives 3 for
/// datetimes; timedeltas round it up to 6).
fn fraction_digits(ns: impl Iterator<Item = i128>) -> u8 {
    let mut digits = 0;
    for v in ns {
        let frac = v.rem_euclid(NS_PER_SEC);
        let d = if frac % 1000 != 0 {
            9
        } else if frac % 1_000_000 != 0 {
            6
        } else if frac != 0 {
            3
        } else {
            0
        };
        if d > digits {
            digits = d;
            if d == 9 {
                break;
            }
        }
    }
    digits
}

impl<'a> Field<'a> {
    /// The field of `data`; `used` limits the values that decide the column's format
    /// (the categories a categorical's codes point at).
    fn new(data: &'a Data, used: Option<&[bool]>) -> Field<'a> {
        let present = |i: usize| !data.is_null(i) && used.is_none_or(|u| u[i]);
        let arrow = matches!(data.kind(), Kind::Arrow { .. });
        match data.values() {
            Values::DateTime { values, unit, tz } if !arrow => {
                let per = unit.nanos().unwrap_or(1) as i128;
                let ns = || {
                    (0..values.len())
                        .filter(|&i| present(i))
                        .map(|i| values[i] as i128 * per)
                };
                let date_only = tz.is_none() && ns().all(|v| v.rem_euclid(NS_PER_DAY) == 0);
                Field::DateTime {
                    data,
                    values,
                    per,
                    zone: tz.as_ref().map(Zone::new),
                    date_only,
                    digits: fraction_digits(ns()),
                }
            }
            Values::TimeDelta { values, unit } if !arrow => {
                let per = unit.nanos().unwrap_or(1) as i128;
                let ns = || {
                    (0..values.len())
                        .filter(|&i| present(i))
                        .map(|i| values[i] as i128 * per)
                };
                let days_only = ns().all(|v| v.rem_euclid(NS_PER_DAY) == 0);
                let digits = match fraction_digits(ns()) {
                    3 => 6,
                    d => d,
                };
                Field::TimeDelta {
                    data,
                    values,
                    per,
                    days_only,
                    digits,
                }
            }
            Values::Categorical {
                codes, categories, ..
            } => {
                let mut in_use = vec![false; categories.len()];
                for (i, &c) in codes.iter().enumerate() {
                    if c >= 0 && used.is_none_or(|u| u[i]) {
                        if let Some(slot) = in_use.get_mut(c as usize) {
                            *slot = true;
                        }
                    }
                }
                Field::Categorical {
                    codes,
                    categories: Box::new(Field::new(categories, Some(&in_use))),
                }
            }
            _ => Field::Plain(data),
        }
    }

    /// Appends the text of the `i`th value (nothing when it is missing).
    fn write(&self, i: usize, out: &mut String) {
        match self {
            Field::Plain(data) => {
                if !data.is_null(i) {
                    plain(data.values(), i, out);
                }
            }
            Field::DateTime {
                data,
                values,
                per,
                zone,
                date_only,
                digits,
            } => {
                let v = values[i];
                if v != i64::MIN && !data.is_null(i) {
                    datetime(v as i128 * per, zone.as_ref(), *date_only, *digits, out);
                }
            }
            Field::TimeDelta {
                data,
                values,
                per,
                days_only,
                digits,
            } => {
                let v = values[i];
                if v != i64::MIN && !data.is_null(i) {
                    timedelta(v as i128 * per, *days_only, *digits, out);
                }
            }
            Field::Categorical { codes, categories } => {
                if let Ok(c) = usize::try_from(codes[i]) {
                    categories.write(c, out);
                }
            }
        }
    }
}

fn push_fraction(frac: u32, digits: u8, out: &mut String) {
    let _ = match digits {
        3 => write!(out, ".{:03}", frac / 1_000_000),
        6 => write!(out, ".{:06}", frac / 1000),
        9 => write!(out, ".{frac:09}"),
        _ => Ok(()),
    };
}

fn datetime(ns: i128, zone: Option<&Zone>, date_only: bool, digits: u8, out: &mut String) {
    let secs = ns
        .div_euclid(NS_PER_SEC)
        .clamp(i64::MIN as i128, i64::MAX as i128) as i64;
    let frac = ns.rem_euclid(NS_PER_SEC) as u32;
    let offset = zone.map(|z| z.offset(secs));
    let local = secs.saturating_add(offset.unwrap_or(0) as i64);
    let (y, m, d) = civil_from_days(local.div_euclid(86_400));
    let _ = if (0..=9999).contains(&y) {
        write!(out, "{y:04}-{m:02}-{d:02}")
    } else {
        write!(out, "{y}-{m:02}-{d:02}")
    };
    if date_only {
        return;
    }
    let sod = local.rem_euclid(86_400);
    let _ = write!(
        out,
        " {:02}:{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
    push_fraction(frac, digits, out);
    if let Some(off) = offset {
        out.push_str(&offset_text(off));
    }
}

fn timedelta(ns: i128, days_only: bool, digits: u8, out: &mut String) {
    let days = ns.div_euclid(NS_PER_DAY);
    if days_only {
        let _ = write!(out, "{days} days");
        return;
    }
    let rest = ns.rem_euclid(NS_PER_DAY);
    let secs = rest / NS_PER_SEC;
    let _ = write!(
        out,
        "{days} days {}{:02}:{:02}:{:02}",
        if days < 0 { "+" } else { "" },
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    push_fraction((rest % NS_PER_SEC) as u32, digits, out);
}

/// numpy's `str()` of a float32: the shortest digits of 32 bits, positional for
/// `1e-4 <= |x| < 1e6` (numpy 2.4), else `1.5e+06`.
pub(crate) fn f32_into(x: f32, out: &mut String) {
    if !x.is_finite() {
        out.push_str(&float_repr(x as f64));
        return;
    }
    let a = x.abs() as f64;
    // The shortest digits; on a tie between two of that length, the even one (numpy's
    // Dragon4, where Rust's `{:e}` rounds up).
    let sci = crate::pyrepr::shortest_sci(x);
    if a == 0.0 || (1e-4..1e6).contains(&a) {
        let shortest: f64 = sci.parse().unwrap_or(x as f64);
        out.push_str(&float_repr(shortest));
        return;
    }
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let _ = write!(
        out,
        "{mantissa}e{}{:02}",
        if exp < 0 { '-' } else { '+' },
        exp.unsigned_abs()
    );
}

/// A part of a complex number: the float without a trailing `.0` (`repr(1+2j)`).
fn complex_part(mut s: String) -> String {
    if s.ends_with(".0") {
        s.truncate(s.len() - 2);
    }
    s
}

/// Python's `str(complex)`: `(1+2j)`, `1.5j` when the real part is +0.
fn complex_text(re: f64, im: f64, re_text: String, im_text: String, out: &mut String) {
    let (re_text, im_text) = (complex_part(re_text), complex_part(im_text));
    if re == 0.0 && re.is_sign_positive() {
        let _ = write!(out, "{im_text}j");
        return;
    }
    let sign = if im.is_sign_negative() && !im.is_nan() {
        ""
    } else {
        "+"
    };
    let _ = write!(out, "({re_text}{sign}{im_text}j)");
}

fn plain(values: &Values, i: usize, out: &mut String) {
    let _ = match values {
        Values::Bool(v) => {
            out.push_str(if v[i] { "True" } else { "False" });
            Ok(())
        }
        Values::I8(v) => write!(out, "{}", v[i]),
        Values::I16(v) => write!(out, "{}", v[i]),
        Values::I32(v) => write!(out, "{}", v[i]),
        Values::I64(v) => write!(out, "{}", v[i]),
        Values::U8(v) => write!(out, "{}", v[i]),
        Values::U16(v) => write!(out, "{}", v[i]),
        Values::U32(v) => write!(out, "{}", v[i]),
        Values::U64(v) => write!(out, "{}", v[i]),
        Values::F32(v) => {
            f32_into(v[i], out);
            Ok(())
        }
        Values::F64(v) => {
            out.push_str(&float_repr(v[i]));
            Ok(())
        }
        // pandas writes complex numbers as Python's `complex` (a complex64 widened).
        Values::C64(v) => {
            let (re, im) = (v[i].0 as f64, v[i].1 as f64);
            complex_text(re, im, float_repr(re), float_repr(im), out);
            Ok(())
        }
        Values::C128(v) => {
            let (re, im) = v[i];
            complex_text(re, im, float_repr(re), float_repr(im), out);
            Ok(())
        }
        Values::Str(s) => {
            out.push_str(s.get(i).unwrap_or_default());
            Ok(())
        }
        Values::Object(cells) => {
            cell_str(&cells[i], out);
            Ok(())
        }
        // pyarrow timestamps and durations: `str(Timestamp)`, `str(Timedelta)`.
        other => {
            out.push_str(&other.text(i));
            Ok(())
        }
    };
}

/// Python's `str(timedelta)`: `0:00:01`, `1 day, 0:00:05`, `-1 day, 23:59:59.500000`.
fn py_timedelta(ns: i64, out: &mut String) {
    let us = ns.div_euclid(1000) as i128;
    let days = us.div_euclid(86_400_000_000);
    let rest = us.rem_euclid(86_400_000_000);
    let (secs, micros) = (rest / 1_000_000, rest % 1_000_000);
    if days != 0 {
        let _ = write!(
            out,
            "{days} day{}, ",
            if days.abs() == 1 { "" } else { "s" }
        );
    }
    let _ = write!(
        out,
        "{}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    if micros != 0 {
        let _ = write!(out, ".{micros:06}");
    }
}

/// `str(value)` of an object cell.
fn cell_str(c: &Cell, out: &mut String) {
    match c {
        Cell::Str(s) => out.push_str(s),
        Cell::Text(s) => out.push_str(&iso_space(s)),
        Cell::Nanos(n) => py_timedelta(*n, out),
        c => cell_repr(c, out),
    }
}

/// `repr(value)` of an object cell (inside a container).
fn cell_repr(c: &Cell, out: &mut String) {
    match c {
        Cell::None => out.push_str("None"),
        Cell::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
        Cell::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Cell::BigInt(s) => out.push_str(s),
        Cell::Float(f) => out.push_str(&float_repr(*f)),
        Cell::Str(s) => out.push_str(&crate::pyrepr::str_repr(s)),
        Cell::Bytes(b) => out.push_str(&crate::pyrepr::bytes_repr(b)),
        Cell::List(items) => {
            out.push('[');
            for (k, item) in items.iter().enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                cell_repr(item, out);
            }
            out.push(']');
        }
        Cell::Tuple(items) => {
            out.push('(');
            for (k, item) in items.iter().enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                cell_repr(item, out);
            }
            if items.len() == 1 {
                out.push(',');
            }
            out.push(')');
        }
        Cell::Dict(pairs) => {
            out.push('{');
            for (k, (key, value)) in pairs.iter().enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                cell_repr(key, out);
                out.push_str(": ");
                cell_repr(value, out);
            }
            out.push('}');
        }
        Cell::Text(s) => out.push_str(&iso_space(s)),
        Cell::Nanos(n) => py_timedelta(*n, out),
        Cell::Other(name) => {
            let _ = write!(out, "<{name} object>");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32s(x: f32) -> String {
        let mut s = String::new();
        f32_into(x, &mut s);
        s
    }

    #[test]
    fn float32_like_numpy() {
        assert_eq!(f32s(0.1), "0.1");
        assert_eq!(f32s(999_999.0), "999999.0");
        assert_eq!(f32s(1e6), "1e+06");
        assert_eq!(f32s(16_777_216.0), "1.6777216e+07");
        assert_eq!(f32s(1e-4), "1e-04");
        assert_eq!(f32s(0.00010001), "0.00010001");
        assert_eq!(f32s(-0.0), "-0.0");
        assert_eq!(f32s(3.4028235e38), "3.4028235e+38");
        assert_eq!(f32s(f32::NEG_INFINITY), "-inf");
        // A tie between two shortest strings: the even digit.
        assert_eq!(f32s(-340_310.125_f64 as f32), "-340310.12");
    }

    #[test]
    fn quoting_like_the_csv_module() {
        let q = |s: &str, single: bool| {
            let mut out = String::new();
            push_field(&mut out, s, single);
            out
        };
        assert_eq!(q("plain text", false), "plain text");
        assert_eq!(q("a,b", false), "\"a,b\"");
        assert_eq!(q("say \"hi\"", false), "\"say \"\"hi\"\"\"");
        assert_eq!(q("l\nm", false), "\"l\nm\"");
        // A bare CR is quoted (CPython ≥ 3.11.9 / 3.12.3).
        assert_eq!(q("c\rr", false), "\"c\rr\"");
        assert_eq!(q("", false), "");
        assert_eq!(q("", true), "\"\"");
    }

    #[test]
    fn python_timedelta_text() {
        let t = |ns: i64| {
            let mut s = String::new();
            py_timedelta(ns, &mut s);
            s
        };
        assert_eq!(t(1_000_000_000), "0:00:01");
        assert_eq!(t(-86_400_000_000_000 + 5_000_000_000), "-1 day, 0:00:05");
        assert_eq!(t(2 * 86_400_000_000_000 + 5_000), "2 days, 0:00:00.000005");
    }
}
