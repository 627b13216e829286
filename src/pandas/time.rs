//! Time zones and the text of datetimes, timedeltas and other cells, as pandas prints
//! them (`Timestamp.isoformat()`, `str(Timestamp)`, `str(Timedelta)`).
//!
//! Offsets of IANA zones come from `jiff`'s bundled copy of the tz database, so the
//! text is the same on every machine.

use super::Cell;
use crate::array::TimeUnit;
use std::fmt;

/// The time zone of a tz-aware datetime column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tz {
    /// An IANA zone (`zoneinfo.ZoneInfo("Europe/Berlin")`, `pytz.timezone(...)`,
    /// `dateutil.tz.gettz(...)`), or `UTC`.
    Named(String),
    /// A fixed offset from UTC in seconds (`datetime.timezone(timedelta(hours=5))`,
    /// `pytz.FixedOffset(300)`).
    Fixed(i32),
}

impl Tz {
    /// The zone's name for an Arrow timestamp type and pandas' parquet metadata:
    /// the IANA name, or `+05:30` for a fixed offset.
    pub fn arrow_name(&self) -> String {
        match self {
            Tz::Named(n) => n.clone(),
            Tz::Fixed(secs) => offset_text(*secs),
        }
    }

    /// The UTC offset in seconds at `utc_seconds` since the epoch; an unknown zone name
    /// is UTC (pandas could not have written it).
    pub fn offset_at(&self, utc_seconds: i64) -> i32 {
        match self {
            Tz::Fixed(s) => *s,
            Tz::Named(n) if n == "UTC" => 0,
            Tz::Named(n) => {
                let Ok(tz) = jiff::tz::TimeZone::get(n) else {
                    return 0;
                };
                let Ok(ts) = jiff::Timestamp::from_second(utc_seconds) else {
                    return 0;
                };
                tz.to_offset(ts).seconds()
            }
        }
    }

    /// `true` when the tz database knows the zone (fixed offsets always).
    pub fn is_known(&self) -> bool {
        match self {
            Tz::Fixed(_) => true,
            Tz::Named(n) => n == "UTC" || jiff::tz::TimeZone::get(n).is_ok(),
        }
    }
}

impl fmt::Display for Tz {
    /// As pandas prints it in a dtype: `Europe/Berlin`, `UTC`, `UTC+05:30`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tz::Named(n) => f.write_str(n),
            Tz::Fixed(0) => f.write_str("UTC"),
            Tz::Fixed(s) => write!(f, "UTC{}", offset_text(*s)),
        }
    }
}

/// `+05:30`, `-08:00`, `+00:00` (seconds shown only when not whole minutes).
pub(crate) fn offset_text(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.unsigned_abs();
    let (h, m, s) = (a / 3600, a / 60 % 60, a % 60);
    if s != 0 {
        format!("{sign}{h:02}:{m:02}:{s:02}")
    } else {
        format!("{sign}{h:02}:{m:02}")
    }
}

/// A count of `unit` as nanoseconds, `None` on overflow or for units other than
/// s/ms/us/ns (and D, h, m, W).
pub(crate) fn to_nanos(count: i64, unit: &TimeUnit) -> Option<i64> {
    count.checked_mul(unit.nanos()?)
}

/// (seconds, nanoseconds in 0..1e9) of a count of `unit`, without overflow.
fn split(count: i64, unit: &TimeUnit) -> (i64, u32) {
    let per = unit.nanos().unwrap_or(1) as i128;
    let ns = count as i128 * per;
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000) as u32;
    (secs.clamp(i64::MIN as i128, i64::MAX as i128) as i64, frac)
}

/// `Timestamp.isoformat()` (`sep` `'T'`) or `str(Timestamp)` (`sep` `' '`) of a
/// datetime count; `NaT` for `i64::MIN`.
pub(crate) fn timestamp_text(count: i64, unit: &TimeUnit, tz: Option<&Tz>, sep: char) -> String {
    if count == i64::MIN {
        return "NaT".into();
    }
    let (utc_secs, frac) = split(count, unit);
    let offset = tz.map(|t| t.offset_at(utc_secs));
    let local = utc_secs.saturating_add(offset.unwrap_or(0) as i64);
    let days = local.div_euclid(86_400);
    let sod = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut s = if (0..=9999).contains(&y) {
        format!("{y:04}-{m:02}-{d:02}")
    } else {
        format!("{y}-{m:02}-{d:02}")
    };
    s.push(sep);
    s.push_str(&format!(
        "{:02}:{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    ));
    push_fraction(&mut s, frac);
    if let Some(off) = offset {
        s.push_str(&offset_text(off));
    }
    s
}

/// `.ffffff` when there are microseconds only, `.fffffffff` when there are
/// nanoseconds, nothing for whole seconds (pandas' rule).
fn push_fraction(s: &mut String, frac: u32) {
    if frac == 0 {
        return;
    }
    if frac % 1000 == 0 {
        s.push_str(&format!(".{:06}", frac / 1000));
    } else {
        s.push_str(&format!(".{frac:09}"));
    }
}

/// `str(Timedelta)`: `0 days 01:00:00`, `-1 days +23:59:59.999999999`; `NaT`.
pub(crate) fn timedelta_text(count: i64, unit: &TimeUnit) -> String {
    if count == i64::MIN {
        return "NaT".into();
    }
    let (secs, frac) = split(count, unit);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let mut s = format!(
        "{days} days {}{:02}:{:02}:{:02}",
        if days < 0 { "+" } else { "" },
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
    push_fraction(&mut s, frac);
    s
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Python's `repr(complex)`: `(1+2j)`, `-1.5j` when the real part is +0.
pub(crate) fn complex_text(re: f64, im: f64) -> String {
    // Python's repr of a complex part has no `.0`: `(1-2j)`.
    let r = |x: f64| {
        let s = crate::pyrepr::float_repr(x);
        match s.strip_suffix(".0") {
            Some(t) => t.to_string(),
            None => s,
        }
    };
    let imag = if im.is_sign_negative() || im.is_nan() && im.is_sign_negative() {
        r(im)
    } else {
        format!("+{}", r(im))
    };
    if re == 0.0 && re.is_sign_positive() {
        format!("{}j", r(im))
    } else {
        format!("({}{imag}j)", r(re))
    }
}

/// numpy's `str(np.float32(x))` (the CSV writer's rule: shortest digits, ties to even).
pub(crate) fn f32_text(x: f32) -> String {
    let mut s = String::new();
    super::csv::f32_into(x, &mut s);
    s
}

/// The text of an object cell (`str(value)`).
pub(crate) fn cell_text(c: &Cell) -> String {
    match c {
        Cell::None => "None".into(),
        Cell::Bool(b) => (if *b { "True" } else { "False" }).into(),
        Cell::Int(i) => i.to_string(),
        Cell::BigInt(s) | Cell::Text(s) | Cell::Str(s) => s.clone(),
        Cell::Float(f) => crate::pyrepr::float_repr(*f),
        Cell::Bytes(b) => crate::pyrepr::bytes_repr(b),
        Cell::List(items) => {
            let parts: Vec<String> = items.iter().map(cell_text).collect();
            format!("[{}]", parts.join(", "))
        }
        Cell::Tuple(items) => {
            let parts: Vec<String> = items.iter().map(cell_text).collect();
            let comma = if items.len() == 1 { "," } else { "" };
            format!("({}{comma})", parts.join(", "))
        }
        Cell::Dict(pairs) => {
            let parts: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}: {}", cell_text(k), cell_text(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Cell::Nanos(n) => timedelta_text(*n, &TimeUnit::parse("ns").expect("ns")),
        Cell::Other(name) => format!("<{name} object>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns() -> TimeUnit {
        TimeUnit::parse("ns").unwrap()
    }

    #[test]
    fn iso_text() {
        // 2024-01-01T00:00:00 UTC in ns.
        let t = 1_704_067_200_000_000_000;
        assert_eq!(timestamp_text(t, &ns(), None, 'T'), "2024-01-01T00:00:00");
        assert_eq!(
            timestamp_text(t + 1, &ns(), None, 'T'),
            "2024-01-01T00:00:00.000000001"
        );
        assert_eq!(
            timestamp_text(t + 500_000_000, &ns(), None, ' '),
            "2024-01-01 00:00:00.500000"
        );
        let berlin = Tz::Named("Europe/Berlin".into());
        assert_eq!(
            timestamp_text(t, &ns(), Some(&berlin), 'T'),
            "2024-01-01T01:00:00+01:00"
        );
        // Summer time.
        let july = t + 182 * 86_400 * 1_000_000_000;
        assert_eq!(
            timestamp_text(july, &ns(), Some(&berlin), 'T'),
            "2024-07-01T02:00:00+02:00"
        );
        assert_eq!(
            timestamp_text(-1, &ns(), None, 'T'),
            "1969-12-31T23:59:59.999999999"
        );
        assert_eq!(Tz::Fixed(19800).to_string(), "UTC+05:30");
        assert_eq!(timedelta_text(3_600_000_000_000, &ns()), "0 days 01:00:00");
        assert_eq!(timedelta_text(-1, &ns()), "-1 days +23:59:59.999999999");
        assert_eq!(f32_text(0.1), "0.1");
        // An unknown zone is not taken for UTC (the rebuild refuses it).
        assert!(!Tz::Named("Nowhere/Else".into()).is_known());
        assert!(Tz::Named("America/New_York".into()).is_known());
        assert_eq!(complex_text(1.0, -2.0), "(1-2j)");
    }
}
