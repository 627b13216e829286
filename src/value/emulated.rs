//! Standard-library values that the resolver recognises in a pickle and turns into native
//! data (see `resolve`): dict subclasses, complex, Decimal, the datetime family, UUID,
//! range and slice.

use super::{Items, Packed, Pairs};
use crate::array::Order;
use std::fmt::Write;

/// Which dict-like class an [`Emulated::Dict`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DictClass {
    /// `collections.OrderedDict`.
    OrderedDict,
    /// `collections.defaultdict`.
    DefaultDict,
    /// `collections.Counter`.
    Counter,
    /// A plain `dict` that a BUILD gave instance state.
    Dict,
}

impl DictClass {
    /// `module:qualname`, as the JSON rendering names it.
    pub fn global_name(self) -> &'static str {
        match self {
            DictClass::OrderedDict => "collections:OrderedDict",
            DictClass::DefaultDict => "collections:defaultdict",
            DictClass::Counter => "collections:Counter",
            DictClass::Dict => "builtins:dict",
        }
    }
}

/// A UTC offset of a timezone-aware time, as `datetime.timezone` stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcOffset {
    /// Whole seconds east of UTC (may be negative).
    pub seconds: i32,
    /// Extra microseconds (same sign as `seconds`).
    pub microseconds: i32,
}

/// A recognised standard-library value.
#[derive(Debug, Clone, PartialEq)]
pub enum Emulated {
    /// A dict subclass (OrderedDict, defaultdict, Counter) or a dict with instance state.
    Dict {
        /// Which class.
        class: DictClass,
        /// The items in insertion order.
        items: Pairs,
        /// `defaultdict`'s `default_factory`.
        default_factory: Option<Packed>,
        /// Instance state a BUILD gave it (torch state dicts' `_metadata`).
        state: Option<Packed>,
    },
    /// `complex(re, im)`.
    Complex(f64, f64),
    /// `decimal.Decimal`, as its exact string.
    Decimal(String),
    /// `datetime.datetime`.
    DateTime {
        /// Year, month, day.
        date: (u16, u8, u8),
        /// Hour, minute, second, microsecond.
        time: (u8, u8, u8, u32),
        /// The UTC offset, when aware with a fixed-offset timezone.
        offset: Option<UtcOffset>,
    },
    /// `datetime.date`.
    Date(u16, u8, u8),
    /// `datetime.time`.
    Time {
        /// Hour, minute, second, microsecond.
        time: (u8, u8, u8, u32),
        /// The UTC offset, when aware with a fixed-offset timezone.
        offset: Option<UtcOffset>,
    },
    /// `datetime.timedelta`, normalised as Python keeps it.
    TimeDelta {
        /// Days (may be negative).
        days: i64,
        /// 0 ≤ seconds < 86400.
        seconds: i64,
        /// 0 ≤ microseconds < 1000000.
        microseconds: i64,
    },
    /// `uuid.UUID`.
    Uuid(u128),
    /// `range(start, stop, step)`.
    Range([Packed; 3]),
    /// `slice(start, stop, step)`.
    Slice([Packed; 3]),
    /// A torch tensor or Parameter (`torch._utils._rebuild_tensor_v2`, `_rebuild_parameter`,
    /// …), rebuilt over its storage by `torch::load` or the `--torch` emulation.
    Tensor(Box<crate::array::Tensor>),
    /// A numpy array of a fixed-size dtype (`numpy.core.multiarray._reconstruct`,
    /// `_frombuffer`, a `.npy` file, a joblib array).
    NdArray(Box<crate::array::NdArray>),
    /// A numpy array of Python objects (`dtype=object`): its elements are values of the
    /// graph, `items` in logical (C) order whatever the memory order (numpy pickles an
    /// object array's elements in C order).
    ObjectArray {
        /// The shape.
        shape: Vec<usize>,
        /// The memory order the array had (its `items` are in C order).
        order: Order,
        /// The elements in C order, `shape.iter().product()` of them.
        items: Items,
    },
    /// A numpy scalar (`numpy.core.multiarray.scalar`).
    NpScalar(Box<crate::array::NpScalar>),
}

impl Emulated {
    /// The Python type name, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Emulated::Dict { class, .. } => match class {
                DictClass::OrderedDict => "OrderedDict",
                DictClass::DefaultDict => "defaultdict",
                DictClass::Counter => "Counter",
                DictClass::Dict => "dict",
            },
            Emulated::Complex(..) => "complex",
            Emulated::Decimal(_) => "Decimal",
            Emulated::DateTime { .. } => "datetime",
            Emulated::Date(..) => "date",
            Emulated::Time { .. } => "time",
            Emulated::TimeDelta { .. } => "timedelta",
            Emulated::Uuid(_) => "UUID",
            Emulated::Range(_) => "range",
            Emulated::Slice(_) => "slice",
            Emulated::Tensor(_) => "Tensor",
            Emulated::NdArray(_) | Emulated::ObjectArray { .. } => "ndarray",
            Emulated::NpScalar(_) => "numpy scalar",
        }
    }

    /// The ISO 8601 text of a date, time or datetime, exactly as Python's `isoformat()`
    /// writes it; `None` for other values.
    ///
    /// ```
    /// use serde_pickle_vm::Emulated;
    /// let d = Emulated::DateTime { date: (2024, 1, 2), time: (3, 4, 5, 6), offset: None };
    /// assert_eq!(d.isoformat().unwrap(), "2024-01-02T03:04:05.000006");
    /// ```
    pub fn isoformat(&self) -> Option<String> {
        let mut s = String::new();
        match self {
            Emulated::DateTime { date, time, offset } => {
                write_date(&mut s, *date);
                s.push('T');
                write_time(&mut s, *time, *offset);
            }
            Emulated::Date(y, m, d) => write_date(&mut s, (*y, *m, *d)),
            Emulated::Time { time, offset } => write_time(&mut s, *time, *offset),
            _ => return None,
        }
        Some(s)
    }

    /// The canonical text of a UUID (`8-4-4-4-12` lowercase hex).
    pub fn uuid_string(value: u128) -> String {
        let h = format!("{value:032x}");
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }
}

fn write_date(s: &mut String, (y, m, d): (u16, u8, u8)) {
    let _ = write!(s, "{y:04}-{m:02}-{d:02}");
}

fn write_time(s: &mut String, (h, mi, sec, us): (u8, u8, u8, u32), offset: Option<UtcOffset>) {
    let _ = write!(s, "{h:02}:{mi:02}:{sec:02}");
    if us != 0 {
        let _ = write!(s, ".{us:06}");
    }
    if let Some(off) = offset {
        // Python: sign, then hours:minutes[:seconds[.microseconds]] of the absolute value.
        let total_us = off.seconds as i64 * 1_000_000 + off.microseconds as i64;
        let sign = if total_us < 0 { '-' } else { '+' };
        let abs = total_us.unsigned_abs();
        let (secs, micros) = (abs / 1_000_000, abs % 1_000_000);
        let (hh, mm, ss) = (secs / 3600, (secs / 60) % 60, secs % 60);
        let _ = write!(s, "{sign}{hh:02}:{mm:02}");
        if ss != 0 || micros != 0 {
            let _ = write!(s, ":{ss:02}");
            if micros != 0 {
                let _ = write!(s, ".{micros:06}");
            }
        }
    }
}
