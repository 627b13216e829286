//! pyarrow arrays as pickled: `pyarrow.lib._restore_array((type, length, null_count,
//! offset, buffers, children, dictionary))`, buffers as `py_buffer(bytes)`, types as
//! `type_for_alias(name)`, `timestamp(unit, tz)`, `dictionary(index, value, ordered)`.
//! The buffers follow the Arrow columnar format: a validity bitmap (LSB first, absent
//! when no value is null), then the values (or a bitmap for bools, or offsets and data
//! for strings); `offset` is where the array starts in them.

use super::build::{bad, callable, charge_or};
use super::{Data, Kind, Strings, Tz, Values};
use crate::array::TimeUnit;
use crate::error::{Error, ErrorKind, Result};
use crate::value::Value;

type V<'g, 'de> = Value<'g, 'de>;

/// An Arrow type, as far as pandas columns use them.
#[derive(Debug, Clone, PartialEq)]
enum Ty {
    Bool,
    Int(u8, bool),
    Float(u8),
    Str { large: bool },
    Timestamp(TimeUnit, Option<String>),
    Duration(TimeUnit),
    Dictionary(Box<Ty>, Box<Ty>, bool),
    Null,
}

impl Ty {
    /// pyarrow's `str(type)`.
    fn name(&self) -> String {
        match self {
            Ty::Bool => "bool".into(),
            Ty::Int(w, signed) => format!("{}int{}", if *signed { "" } else { "u" }, w * 8),
            Ty::Float(2) => "halffloat".into(),
            Ty::Float(4) => "float".into(),
            Ty::Float(_) => "double".into(),
            Ty::Str { large: false } => "string".into(),
            Ty::Str { large: true } => "large_string".into(),
            Ty::Timestamp(u, None) => format!("timestamp[{u}]"),
            Ty::Timestamp(u, Some(tz)) => format!("timestamp[{u}, tz={tz}]"),
            Ty::Duration(u) => format!("duration[{u}]"),
            Ty::Dictionary(i, v, o) => format!(
                "dictionary<values={}, indices={}, ordered={}>",
                v.name(),
                i.name(),
                u8::from(*o)
            ),
            Ty::Null => "null".into(),
        }
    }
}

fn ty(t: V<'_, '_>) -> Result<Ty> {
    ty_at(t, false)
}

/// The type `t`; `inner` within a dictionary type (whose index and value types are not
/// dictionaries: a nesting, or a type shared by both sides at every level, would be
/// walked without end).
fn ty_at(t: V<'_, '_>, inner: bool) -> Result<Ty> {
    let args: Vec<V<'_, '_>> = match t.as_object() {
        Some(obj) => t
            .graph()
            .items(obj.args)
            .iter()
            .map(|s| t.with(*s))
            .collect(),
        None => Vec::new(),
    };
    let unsupported = |what: String| {
        Error::new(
            ErrorKind::Unsupported,
            format!("pyarrow type {what} is not supported in a pandas column"),
        )
    };
    match callable(t) {
        Some(("pyarrow.lib", "type_for_alias")) => {
            let name = args.first().and_then(|a| a.as_str()).unwrap_or("");
            Ok(match name {
                "bool" | "boolean" => Ty::Bool,
                "int8" | "i1" => Ty::Int(1, true),
                "int16" | "i2" => Ty::Int(2, true),
                "int32" | "i4" => Ty::Int(4, true),
                "int64" | "i8" => Ty::Int(8, true),
                "uint8" | "u1" => Ty::Int(1, false),
                "uint16" | "u2" => Ty::Int(2, false),
                "uint32" | "u4" => Ty::Int(4, false),
                "uint64" | "u8" => Ty::Int(8, false),
                "halffloat" | "float16" | "f2" => Ty::Float(2),
                "float" | "float32" | "f4" => Ty::Float(4),
                "double" | "float64" | "f8" => Ty::Float(8),
                "string" | "str" | "utf8" => Ty::Str { large: false },
                "large_string" | "large_str" | "large_utf8" => Ty::Str { large: true },
                "null" => Ty::Null,
                n => {
                    if let Some(u) = n
                        .strip_prefix("timestamp[")
                        .and_then(|r| r.strip_suffix(']'))
                    {
                        return TimeUnit::parse(u)
                            .map(|u| Ty::Timestamp(u, None))
                            .ok_or_else(|| unsupported(n.into()));
                    }
                    if let Some(u) = n
                        .strip_prefix("duration[")
                        .and_then(|r| r.strip_suffix(']'))
                    {
                        return TimeUnit::parse(u)
                            .map(Ty::Duration)
                            .ok_or_else(|| unsupported(n.into()));
                    }
                    return Err(unsupported(n.into()));
                }
            })
        }
        Some(("pyarrow.lib", "timestamp")) => {
            let unit = args
                .first()
                .and_then(|u| u.as_str())
                .and_then(TimeUnit::parse)
                .ok_or_else(|| bad(t, "a pyarrow timestamp type without a unit"))?;
            let tz = args.get(1).and_then(|z| z.as_str()).map(str::to_string);
            Ok(Ty::Timestamp(unit, tz))
        }
        Some(("pyarrow.lib", "duration")) => {
            let unit = args
                .first()
                .and_then(|u| u.as_str())
                .and_then(TimeUnit::parse)
                .ok_or_else(|| bad(t, "a pyarrow duration type without a unit"))?;
            Ok(Ty::Duration(unit))
        }
        Some(("pyarrow.lib", "dictionary")) => {
            let (Some(i), Some(v)) = (args.first(), args.get(1)) else {
                return Err(bad(
                    t,
                    "a pyarrow dictionary type without index and value types",
                ));
            };
            if inner {
                return Err(unsupported("dictionary within a dictionary type".into()));
            }
            let ordered = args.get(2).and_then(|o| o.as_bool()).unwrap_or(false);
            Ok(Ty::Dictionary(
                Box::new(ty_at(*i, true)?),
                Box::new(ty_at(*v, true)?),
                ordered,
            ))
        }
        Some((m, n)) => Err(unsupported(format!("{m}.{n}"))),
        None => Err(bad(
            t,
            format!(
                "a pyarrow type is {}, not a type constructor",
                crate::de::describe_value(t)
            ),
        )),
    }
}

/// Reads a restored pyarrow array (or a chunked array of them): its values, validity
/// and pyarrow's name of its type.
pub(crate) fn restore(v: V<'_, '_>) -> Result<(Values, Option<Vec<bool>>, String)> {
    restore_depth(v, 0)
}

fn restore_depth(v: V<'_, '_>, depth: usize) -> Result<(Values, Option<Vec<bool>>, String)> {
    if depth > 4 {
        return Err(bad(v, "pyarrow arrays nested too deep"));
    }
    let state = match callable(v) {
        Some(("pyarrow.lib", "_restore_array")) => {
            let obj = v.as_object().expect("callable");
            let first = v.graph().items(obj.args).first().copied();
            first.map(|s| v.with(s))
        }
        Some(("pyarrow.lib", "chunked_array")) => {
            return chunked(v, depth);
        }
        // A dictionary's values: the state tuple itself.
        _ if v.seq().is_some_and(|s| s.len() == 7) => Some(v),
        _ => None,
    };
    let Some(state) = state else {
        return Err(bad(
            v,
            format!(
                "a pyarrow array is {}, not pyarrow.lib._restore_array(...)",
                crate::de::describe_value(v)
            ),
        ));
    };
    let parts: Vec<V<'_, '_>> = state.iter().collect();
    let [t, length, _null_count, offset, buffers, _children, dictionary] = parts.as_slice() else {
        return Err(bad(state, "a pyarrow array state is not (type, length, null_count, offset, buffers, children, dictionary)"));
    };
    let ty = ty(*t)?;
    let len = length
        .as_i64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| bad(*length, "a pyarrow array length is not a non-negative int"))?;
    let off = offset
        .as_i64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| bad(*offset, "a pyarrow array offset is not a non-negative int"))?;
    let bufs: Vec<Option<&[u8]>> = buffers.iter().map(buffer).collect::<Result<_>>()?;
    // What the copy will make: a buffer shared by many arrays counts each time.
    let bytes: u64 = bufs.iter().map(|b| b.map_or(0, |b| b.len() as u64)).sum();
    // Every array costs something, however short: a chunk may be shared by many chunked
    // arrays, each shared in turn (256: what a restore costs; pickled, one takes ≥ 17
    // bytes, so an honest pickle stays well within the 64-per-byte budget).
    charge_or(
        v,
        bytes
            .saturating_add((len as u64).saturating_mul(8))
            .saturating_add(256),
    )?;
    let get = |i: usize| bufs.get(i).copied().flatten();
    let validity = match get(0) {
        Some(bits) => Some(bitmap(bits, off, len).ok_or_else(|| {
            bad(
                *buffers,
                "a pyarrow validity bitmap is shorter than the array",
            )
        })?),
        None => None,
    };
    let short = || {
        bad(
            *buffers,
            format!("a pyarrow {} buffer is shorter than the array", ty.name()),
        )
    };
    let values = match &ty {
        Ty::Null => {
            return Ok((Values::Object(vec![super::Cell::None; len]), Some(vec![false; len]), ty.name()));
        }
        Ty::Bool => Values::Bool(bitmap(get(1).unwrap_or(&[]), off, len).ok_or_else(short)?),
        Ty::Int(w, s) => ints(get(1).unwrap_or(&[]), off, len, *w, *s).ok_or_else(short)?,
        Ty::Float(w) => floats(get(1).unwrap_or(&[]), off, len, *w).ok_or_else(short)?,
        Ty::Timestamp(u, _) | Ty::Duration(u) => {
            let Values::I64(vals) = ints(get(1).unwrap_or(&[]), off, len, 8, true).ok_or_else(short)? else {
                unreachable!()
            };
            match &ty {
                Ty::Timestamp(_, tz) => {
                    let tz = tz.as_deref().map(tz_of_name);
                    if let Some(z) = tz.as_ref().filter(|z| !z.is_known()) {
                        return Err(Error::new(
                            ErrorKind::Unsupported,
                            format!("time zone {z} is not in the tz database (jiff's bundled copy)"),
                        ));
                    }
                    Values::DateTime {
                        values: vals,
                        unit: u.clone(),
                        tz,
                    }
                }
                _ => Values::TimeDelta {
                    values: vals,
                    unit: u.clone(),
                },
            }
        }
        Ty::Str { large } => {
            strings(get(1).unwrap_or(&[]), get(2).unwrap_or(&[]), off, len, *large)
                .ok_or_else(|| bad(*buffers, format!("pyarrow {} buffers are malformed (offsets out of order or past the data, or not UTF-8)", ty.name())))?
        }
        Ty::Dictionary(index, _, ordered) => {
            let Ty::Int(w, s) = **index else {
                return Err(bad(*t, "a pyarrow dictionary's indices are not ints"));
            };
            let codes = ints(get(1).unwrap_or(&[]), off, len, w, s).ok_or_else(short)?;
            let codes: Vec<i64> = match codes {
                Values::I8(c) => c.into_iter().map(i64::from).collect(),
                Values::I16(c) => c.into_iter().map(i64::from).collect(),
                Values::I32(c) => c.into_iter().map(i64::from).collect(),
                Values::I64(c) => c,
                Values::U8(c) => c.into_iter().map(i64::from).collect(),
                Values::U16(c) => c.into_iter().map(i64::from).collect(),
                Values::U32(c) => c.into_iter().map(i64::from).collect(),
                Values::U64(c) => c.into_iter().map(|x| x.min(i64::MAX as u64) as i64).collect(),
                _ => unreachable!(),
            };
            if dictionary.is_none() {
                return Err(bad(*dictionary, "a pyarrow dictionary array has no dictionary"));
            }
            let (dv, dvalid, _) = restore_depth(dictionary_array(*dictionary, &ty)?, depth + 1)?;
            let cats = Data::new(dv, dvalid, Kind::Arrow { type_name: String::new() });
            let n = cats.len() as i64;
            let mut out = Vec::with_capacity(len);
            for (i, &c) in codes.iter().enumerate() {
                let present = validity.as_ref().is_none_or(|v| v[i]);
                if !present {
                    out.push(-1);
                } else if c < 0 || c >= n {
                    return Err(bad(*buffers, format!("dictionary index {c} is outside the {n} dictionary values")));
                } else {
                    out.push(c as i32);
                }
            }
            Values::Categorical { codes: out, categories: Box::new(cats), ordered: *ordered }
        }
    };
    Ok((values, validity, ty.name()))
}

/// The dictionary of a dictionary array: pickled as the inner `_restore_array` state
/// tuple itself, or as a whole restored array.
fn dictionary_array<'g, 'de>(d: V<'g, 'de>, _ty: &Ty) -> Result<V<'g, 'de>> {
    Ok(d)
}

fn tz_of_name(name: &str) -> Tz {
    // Arrow writes fixed offsets as "+05:30".
    let b = name.as_bytes();
    if b.len() == 6 && (b[0] == b'+' || b[0] == b'-') && b[3] == b':' {
        if let (Ok(h), Ok(m)) = (name[1..3].parse::<i32>(), name[4..6].parse::<i32>()) {
            let s = h * 3600 + m * 60;
            return Tz::Fixed(if b[0] == b'-' { -s } else { s });
        }
    }
    Tz::Named(name.to_string())
}

fn chunked(v: V<'_, '_>, depth: usize) -> Result<(Values, Option<Vec<bool>>, String)> {
    let obj = v.as_object().expect("callable");
    let args: Vec<V<'_, '_>> = v
        .graph()
        .items(obj.args)
        .iter()
        .map(|s| v.with(*s))
        .collect();
    let Some(chunks) = args.first() else {
        return Err(bad(v, "a pyarrow chunked array without chunks"));
    };
    let mut parts = Vec::new();
    for c in chunks.iter() {
        parts.push(restore_depth(c, depth + 1)?);
    }
    if parts.is_empty() {
        return Err(Error::new(
            ErrorKind::Unsupported,
            "an empty pyarrow chunked array (no type to read)",
        ));
    }
    let name = parts[0].2.clone();
    let mut it = parts.into_iter();
    let (mut values, valid, _) = it.next().expect("one");
    let mut n = values.len();
    let mut validity = valid;
    for (vals, valid, _) in it {
        let m = vals.len();
        if validity.is_some() || valid.is_some() {
            let mut all = validity.take().unwrap_or_else(|| vec![true; n]);
            all.extend(valid.unwrap_or_else(|| vec![true; m]));
            validity = Some(all);
        }
        append(&mut values, vals).map_err(|e| bad(v, e))?;
        n += m;
    }
    Ok((values, validity, name))
}

fn append(a: &mut Values, b: Values) -> std::result::Result<(), String> {
    match (a, b) {
        (Values::Bool(x), Values::Bool(y)) => x.extend(y),
        (Values::I8(x), Values::I8(y)) => x.extend(y),
        (Values::I16(x), Values::I16(y)) => x.extend(y),
        (Values::I32(x), Values::I32(y)) => x.extend(y),
        (Values::I64(x), Values::I64(y)) => x.extend(y),
        (Values::U8(x), Values::U8(y)) => x.extend(y),
        (Values::U16(x), Values::U16(y)) => x.extend(y),
        (Values::U32(x), Values::U32(y)) => x.extend(y),
        (Values::U64(x), Values::U64(y)) => x.extend(y),
        (Values::F32(x), Values::F32(y)) => x.extend(y),
        (Values::F64(x), Values::F64(y)) => x.extend(y),
        (Values::Str(x), Values::Str(y)) => {
            for s in y.iter() {
                x.push(s);
            }
        }
        (Values::DateTime { values: x, .. }, Values::DateTime { values: y, .. }) => x.extend(y),
        (Values::TimeDelta { values: x, .. }, Values::TimeDelta { values: y, .. }) => x.extend(y),
        _ => return Err("the chunks of a pyarrow chunked array differ in type".into()),
    }
    Ok(())
}

/// A `py_buffer(bytes)` (or plain bytes), `None` for an absent buffer.
fn buffer<'g>(b: V<'g, '_>) -> Result<Option<&'g [u8]>> {
    if b.is_none() {
        return Ok(None);
    }
    if let Some(bytes) = b.as_bytes() {
        return Ok(Some(bytes));
    }
    if let Some(("pyarrow.lib", "py_buffer" | "foreign_buffer")) = callable(b) {
        let obj = b.as_object().expect("callable");
        if let Some(first) = b.graph().items(obj.args).first() {
            let inner = b.with(*first);
            if let Some(bytes) = inner.as_bytes() {
                return Ok(Some(bytes));
            }
            // bytearray(b"...") recorded as a call.
            if let Some(("builtins", "bytearray")) = callable(inner) {
                let o = inner.as_object().expect("callable");
                if let Some(x) = inner.graph().items(o.args).first() {
                    if let Some(bytes) = inner.with(*x).as_bytes() {
                        return Ok(Some(bytes));
                    }
                }
                return Ok(Some(&[]));
            }
        }
    }
    Err(bad(
        b,
        format!(
            "a pyarrow buffer is {}, not py_buffer(bytes)",
            crate::de::describe_value(b)
        ),
    ))
}

/// `len` bits from bit `off` (LSB first); `None` if the buffer is short.
fn bitmap(bits: &[u8], off: usize, len: usize) -> Option<Vec<bool>> {
    let end = off.checked_add(len)?;
    if end.div_ceil(8) > bits.len() {
        return None;
    }
    Some(
        (off..end)
            .map(|i| bits[i / 8] >> (i % 8) & 1 == 1)
            .collect(),
    )
}

fn slice(buf: &[u8], off: usize, len: usize, w: usize) -> Option<&[u8]> {
    let a = off.checked_mul(w)?;
    let b = off.checked_add(len)?.checked_mul(w)?;
    buf.get(a..b)
}

fn ints(buf: &[u8], off: usize, len: usize, w: u8, signed: bool) -> Option<Values> {
    let raw = slice(buf, off, len, w as usize)?;
    macro_rules! dec {
        ($t:ty, $ctor:path) => {
            $ctor(
                raw.chunks_exact(std::mem::size_of::<$t>())
                    .map(|c| <$t>::from_le_bytes(c.try_into().expect("width")))
                    .collect(),
            )
        };
    }
    Some(match (w, signed) {
        (1, true) => dec!(i8, Values::I8),
        (2, true) => dec!(i16, Values::I16),
        (4, true) => dec!(i32, Values::I32),
        (8, true) => dec!(i64, Values::I64),
        (1, false) => dec!(u8, Values::U8),
        (2, false) => dec!(u16, Values::U16),
        (4, false) => dec!(u32, Values::U32),
        (8, false) => dec!(u64, Values::U64),
        _ => return None,
    })
}

fn floats(buf: &[u8], off: usize, len: usize, w: u8) -> Option<Values> {
    let raw = slice(buf, off, len, w as usize)?;
    Some(match w {
        2 => Values::F32(
            raw.chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
        ),
        4 => Values::F32(
            raw.chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4")))
                .collect(),
        ),
        _ => Values::F64(
            raw.chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("8")))
                .collect(),
        ),
    })
}

fn strings(offsets: &[u8], data: &[u8], off: usize, len: usize, large: bool) -> Option<Values> {
    let w = if large { 8 } else { 4 };
    let raw = slice(offsets, off, len.checked_add(1)?, w)?;
    let offs: Vec<usize> = raw
        .chunks_exact(w)
        .map(|c| {
            if large {
                usize::try_from(i64::from_le_bytes(c.try_into().expect("8"))).ok()
            } else {
                usize::try_from(i32::from_le_bytes(c.try_into().expect("4"))).ok()
            }
        })
        .collect::<Option<_>>()?;
    let first = *offs.first()?;
    let last = *offs.last()?;
    if last > data.len() || offs.windows(2).any(|p| p[0] > p[1]) {
        return None;
    }
    let text = std::str::from_utf8(&data[first..last]).ok()?;
    let mut s = Strings::with_capacity(len, last - first);
    for p in offs.windows(2) {
        s.push(text.get(p[0] - first..p[1] - first)?);
    }
    Some(Values::Str(s))
}
