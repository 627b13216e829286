//! Rebuilding frames from the recorded constructions: the block manager, its blocks
//! and their placements, the axes, and every array kind a block may hold.

use super::pyarrow::restore;
use super::{
    Cell, Column, Data, DataFrame, Index, IndexKind, Kind, Label, Pandas, Series, Strings, Tz,
    Values,
};
use crate::array::{NdArray, NpKind, TimeUnit};
use crate::error::{Error, ErrorKind, Result};
use crate::value::{Emulated, Node, Slot, Value};
use num_traits::ToPrimitive;

type V<'g, 'de> = Value<'g, 'de>;

/// A malformed-frame error at the value's byte offset.
pub(crate) fn bad(v: V<'_, '_>, msg: impl Into<String>) -> Error {
    let e = Error::new(ErrorKind::Format, msg);
    match v.offset() {
        Some(o) => e.with_offset(o),
        None => e,
    }
}

fn unsupported(v: V<'_, '_>, msg: impl Into<String>) -> Error {
    let e = Error::new(ErrorKind::Unsupported, msg);
    match v.offset() {
        Some(o) => e.with_offset(o),
        None => e,
    }
}

/// `(module, name)` of a global value.
pub(crate) fn global<'g>(v: V<'g, '_>) -> Option<(&'g str, &'g str)> {
    let g = v.as_global()?;
    Some((&g.module, &g.name))
}

/// The class or callable of a recorded construction.
pub(crate) fn callable<'g>(v: V<'g, '_>) -> Option<(&'g str, &'g str)> {
    let obj = v.as_object()?;
    global(v.with(obj.callable))
}

fn args<'g, 'de>(v: V<'g, 'de>) -> Vec<V<'g, 'de>> {
    match v.as_object() {
        Some(obj) => v
            .graph()
            .items(obj.args)
            .iter()
            .map(|s| v.with(*s))
            .collect(),
        None => Vec::new(),
    }
}

fn state<'g, 'de>(v: V<'g, 'de>) -> Option<V<'g, 'de>> {
    Some(v.with(v.as_object()?.state?))
}

/// `"dataframe"` / `"series"` when `v` is a pandas frame or Series (its state has
/// `_typ` and a manager).
fn typ<'g>(v: V<'g, '_>) -> Option<&'g str> {
    let obj = v.as_object()?;
    let st = v.with(obj.state?);
    st.dict_pairs()?;
    let t = st.get("_typ")?.as_str()?;
    (matches!(t, "dataframe" | "series") && (st.get("_mgr").is_some() || st.get("_data").is_some()))
        .then_some(t)
}

/// `true` when `v` is a pickled DataFrame or Series.
pub(crate) fn is_pandas_object(v: V<'_, '_>) -> bool {
    typ(v).is_some()
}

thread_local! {
    /// Bytes the rebuild of the current frame may still make (copies of shared strings,
    /// arrays, categories and cells count each time): a frame whose blocks, cells or
    /// levels repeat one big value many times is refused, not materialized.
    static LEFT: std::cell::Cell<u64> = const { std::cell::Cell::new(u64::MAX) };
    static START: std::cell::Cell<u64> = const { std::cell::Cell::new(u64::MAX) };
}

/// Charges `bytes` of output to the rebuild; `false` once the budget is spent.
fn charge(bytes: u64) -> bool {
    LEFT.with(|l| {
        let left = l.get();
        if bytes > left {
            l.set(0);
            false
        } else {
            l.set(left - bytes);
            true
        }
    })
}

fn spent() -> bool {
    LEFT.with(|l| l.get() == 0)
}

fn over_budget(v: V<'_, '_>) -> Error {
    let budget = START.with(|s| s.get());
    let e = Error::limit(format!(
        "rebuilding the pandas frame would make more than {budget} bytes (a value repeated \
         in many blocks, cells or index rows counts each time; the budget is \
         Limits::max_expanded_bytes' default, 64 × the input + 64 MiB)"
    ));
    match v.offset() {
        Some(o) => e.with_offset(o),
        None => e,
    }
}

pub(crate) fn charge_or(v: V<'_, '_>, bytes: u64) -> Result<()> {
    if charge(bytes) {
        Ok(())
    } else {
        Err(over_budget(v))
    }
}

/// Reads a DataFrame or a Series, and how many bytes the rebuild made.
pub(crate) fn pandas_with_cost(v: V<'_, '_>) -> (Result<Pandas>, u64) {
    let budget = crate::options::default_expanded_bytes(v.graph().input_len());
    LEFT.with(|l| l.set(budget));
    START.with(|s| s.set(budget));
    let r = pandas(v);
    let cost = budget - LEFT.with(|l| l.get());
    LEFT.with(|l| l.set(u64::MAX));
    (r, cost)
}

/// Reads a DataFrame or a Series.
fn pandas(v: V<'_, '_>) -> Result<Pandas> {
    let Some(t) = typ(v) else {
        let what = v.type_name();
        let article = if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        return Err(Error::new(
            ErrorKind::Type,
            format!("the pickle holds {article} {what}, not a pandas DataFrame or Series"),
        ));
    };
    let st = state(v).expect("typ checked the state");
    let mgr = st
        .get("_mgr")
        .or_else(|| st.get("_data"))
        .expect("typ checked");
    if t == "dataframe" {
        frame(mgr).map(Pandas::DataFrame)
    } else {
        let name = st
            .get("_name")
            .or_else(|| st.get("name"))
            .map(label)
            .unwrap_or(Label::None);
        series(mgr, name).map(Pandas::Series)
    }
}

/// Blocks and axes of a manager: `BlockManager(blocks, axes)` (pandas ≥ 1.1's
/// `__reduce__`), or the `"0.14.1"` state of `__setstate__` (SingleBlockManager, and
/// older BlockManagers).
struct Manager<'g, 'de> {
    /// (values, placement) per block; placement `None` when the block gave none.
    blocks: Vec<(V<'g, 'de>, Option<V<'g, 'de>>)>,
    axes: Vec<V<'g, 'de>>,
}

fn manager<'g, 'de>(mgr: V<'g, 'de>) -> Result<Manager<'g, 'de>> {
    let a = args(mgr);
    if let (Some((_, name)), [blocks, axes]) = (callable(mgr), a.as_slice()) {
        if name == "BlockManager" && blocks.seq().is_some() {
            let mut out = Vec::new();
            for b in blocks.iter() {
                out.push(block(b)?);
            }
            return Ok(Manager {
                blocks: out,
                axes: axes.iter().collect(),
            });
        }
    }
    // __setstate__ forms.
    let st = state(mgr).ok_or_else(|| {
        bad(
            mgr,
            format!(
                "the frame's block manager is {}, not a BlockManager",
                crate::de::describe_value(mgr)
            ),
        )
    })?;
    let parts: Vec<V<'_, '_>> = st.iter().collect();
    if let Some(extra) = parts.get(3).and_then(|x| x.get("0.14.1")) {
        let axes = extra
            .get("axes")
            .ok_or_else(|| bad(mgr, "the block manager's state has no axes"))?;
        let blocks = extra
            .get("blocks")
            .ok_or_else(|| bad(mgr, "the block manager's state has no blocks"))?;
        let mut out = Vec::new();
        for b in blocks.iter() {
            let values = b
                .get("values")
                .ok_or_else(|| bad(b, "a block of the manager's state has no values"))?;
            out.push((values, b.get("mgr_locs")));
        }
        return Ok(Manager {
            blocks: out,
            axes: axes.iter().collect(),
        });
    }
    Err(bad(
        mgr,
        "unknown block manager layout (not pandas 1.x–3.x)",
    ))
}

/// `_unpickle_block(values, placement, ndim)` / `new_block(values, placement, ndim)`.
fn block<'g, 'de>(b: V<'g, 'de>) -> Result<(V<'g, 'de>, Option<V<'g, 'de>>)> {
    match (callable(b), args(b).as_slice()) {
        (Some((_, "_unpickle_block" | "new_block" | "make_block")), [values, placement, ..]) => {
            Ok((*values, Some(*placement)))
        }
        _ => Err(bad(
            b,
            format!(
                "a block of the frame is {}, not _unpickle_block(values, placement, ndim)",
                crate::de::describe_value(b)
            ),
        )),
    }
}

/// The column positions of a placement: a slice, an int array, a list, or a
/// BlockPlacement; `ncols` bounds the positions.
fn placement(p: V<'_, '_>, ncols: usize) -> Result<Vec<usize>> {
    let pos: Vec<i64> = if let Some(Emulated::Slice(s)) = p.as_emulated() {
        let g = |i: usize| p.with(s[i]).as_i64();
        let start = g(0).unwrap_or(0);
        let stop = g(1).ok_or_else(|| bad(p, "a block placement slice has no stop"))?;
        let step = g(2).unwrap_or(1);
        if step <= 0 || start < 0 {
            return Err(bad(
                p,
                format!("block placement slice({start}, {stop}, {step}) is not a forward slice"),
            ));
        }
        // Positions past the columns end the walk (and are an error below).
        let mut pos = Vec::new();
        let mut i = start;
        while i < stop {
            pos.push(i);
            if i >= ncols as i64 {
                break;
            }
            i = i.saturating_add(step);
        }
        pos
    } else if let Some(Emulated::NdArray(a)) = p.as_emulated() {
        int_values(a).ok_or_else(|| bad(p, "a block placement array is not of ints"))?
    } else if p.seq().is_some() {
        p.iter()
            .map(|x| {
                x.as_i64()
                    .ok_or_else(|| bad(p, "a block placement holds a non-int"))
            })
            .collect::<Result<_>>()?
    } else if let Some(inner) = state(p).or_else(|| args(p).first().copied()) {
        // BlockPlacement(slice-or-array).
        return placement(inner, ncols);
    } else {
        return Err(bad(
            p,
            format!(
                "a block placement is {}, not a slice or an int array",
                crate::de::describe_value(p)
            ),
        ));
    };
    pos.into_iter()
        .map(|i| {
            usize::try_from(i)
                .ok()
                .filter(|&i| i < ncols)
                .ok_or_else(|| {
                    bad(
                        p,
                        format!("block placement {i} is outside the frame's {ncols} columns"),
                    )
                })
        })
        .collect()
}

fn frame(mgr: V<'_, '_>) -> Result<DataFrame> {
    let m = manager(mgr)?;
    let [cols_axis, rows_axis] = m.axes.as_slice() else {
        return Err(bad(
            mgr,
            format!("a DataFrame's manager has {} axes, not 2", m.axes.len()),
        ));
    };
    let col_index = index(*cols_axis).map_err(|e| e.note(" (in the column labels)"))?;
    let index = index(*rows_axis).map_err(|e| e.note(" (in the row index)"))?;
    let labels = labels_of(&col_index);
    let ncols = labels.len();
    let nrows = index.len();
    let mut slots: Vec<Option<Data>> = vec![None; ncols];
    for (bi, (values, place)) in m.blocks.iter().enumerate() {
        let place = match place {
            Some(p) => placement(*p, ncols)?,
            None => return Err(bad(*values, format!("block {bi} has no placement"))),
        };
        let datas = array(*values, place.len()).map_err(|e| {
            let names: Vec<String> = place
                .iter()
                .map(|&c| format!("{:?}", labels[c].to_string()))
                .collect();
            if names.len() == 1 {
                e.note(&format!(" (column {}, block {bi})", names[0]))
            } else {
                e.note(&format!(" (columns {}, block {bi})", names.join(", ")))
            }
        })?;
        if datas.len() != place.len() {
            return Err(bad(
                *values,
                format!(
                    "block {bi} holds {} columns but its placement names {}",
                    datas.len(),
                    place.len()
                ),
            ));
        }
        for (d, c) in datas.into_iter().zip(place) {
            if d.len() != nrows {
                return Err(bad(
                    *values,
                    format!(
                        "column {:?} (block {bi}) has {} rows but the index has {nrows}",
                        labels[c].to_string(),
                        d.len()
                    ),
                ));
            }
            if slots[c].is_some() {
                return Err(bad(
                    *values,
                    format!(
                        "block placements overlap: column {c} ({:?}) is in two blocks",
                        labels[c].to_string()
                    ),
                ));
            }
            slots[c] = Some(d);
        }
    }
    let mut columns = Vec::with_capacity(ncols);
    for (c, (slot, name)) in slots.into_iter().zip(labels).enumerate() {
        match slot {
            Some(data) => columns.push(Column { name, data }),
            None => {
                return Err(bad(
                    mgr,
                    format!(
                    "block placements do not cover the columns: column {c} ({:?}) is in no block",
                    name.to_string()
                ),
                ))
            }
        }
    }
    let column_names = (col_index.levels.len() > 1 || col_index.levels[0].name != Label::None)
        .then(|| col_index.names());
    Ok(DataFrame {
        index,
        columns,
        column_names,
    })
}

fn series(mgr: V<'_, '_>, name: Label) -> Result<Series> {
    let m = manager(mgr)?;
    let [axis] = m.axes.as_slice() else {
        return Err(bad(
            mgr,
            format!("a Series' manager has {} axes, not 1", m.axes.len()),
        ));
    };
    let index = index(*axis).map_err(|e| e.note(" (in the Series' index)"))?;
    let [(values, _)] = m.blocks.as_slice() else {
        return Err(bad(
            mgr,
            format!("a Series' manager has {} blocks, not 1", m.blocks.len()),
        ));
    };
    let mut datas = array(*values, 1)?;
    if datas.len() != 1 {
        return Err(bad(*values, "a Series' block holds more than one column"));
    }
    let data = datas.pop().expect("one");
    if data.len() != index.len() {
        return Err(bad(
            *values,
            format!(
                "the Series has {} values but its index has {} rows",
                data.len(),
                index.len()
            ),
        ));
    }
    Ok(Series {
        index,
        column: Column { name, data },
    })
}

/// A label (column name, index name) from a value.
pub(crate) fn label(v: V<'_, '_>) -> Label {
    match v.slot() {
        Slot::None => Label::None,
        Slot::Bool(b) => Label::Bool(b),
        Slot::Int(i) => Label::Int(i),
        Slot::Float(f) => Label::Float(f),
        _ => {
            if let Some(s) = v.as_str() {
                return Label::Str(s.to_string());
            }
            if let Some(Node::Tuple(_)) = v.node() {
                return Label::Tuple(v.iter().map(label).collect());
            }
            Label::Other(super::time::cell_text(&cell(v, 0)))
        }
    }
}

/// The labels of the column axis: one per column (tuples for MultiIndex columns).
fn labels_of(ix: &Index) -> Vec<Label> {
    let n = ix.len();
    (0..n)
        .map(|r| {
            let parts: Vec<Label> = ix.levels.iter().map(|l| label_at(&l.data, r)).collect();
            if parts.len() == 1 {
                parts.into_iter().next().expect("one")
            } else {
                Label::Tuple(parts)
            }
        })
        .collect()
}

fn label_at(d: &Data, r: usize) -> Label {
    if d.is_null(r) {
        return Label::None;
    }
    match d.values() {
        Values::Str(s) => Label::Str(s.get(r).unwrap_or_default().to_string()),
        Values::Object(c) => match &c[r] {
            Cell::Str(s) => Label::Str(s.clone()),
            Cell::Int(i) => Label::Int(*i),
            Cell::Float(f) => Label::Float(*f),
            Cell::Bool(b) => Label::Bool(*b),
            Cell::None => Label::None,
            Cell::List(parts) | Cell::Tuple(parts) => Label::Tuple(
                parts
                    .iter()
                    .map(|p| match p {
                        Cell::Str(s) => Label::Str(s.clone()),
                        Cell::Int(i) => Label::Int(*i),
                        other => Label::Other(super::time::cell_text(other)),
                    })
                    .collect(),
            ),
            other => Label::Other(super::time::cell_text(other)),
        },
        Values::I64(v) => Label::Int(v[r]),
        Values::I32(v) => Label::Int(v[r] as i64),
        Values::F64(v) => Label::Float(v[r]),
        Values::Bool(v) => Label::Bool(v[r]),
        Values::Categorical {
            codes, categories, ..
        } => label_at(categories, codes[r] as usize),
        other => Label::Other(other.text(r)),
    }
}

/// An index (`_new_Index(cls, state)`, `_new_DatetimeIndex`, a bare RangeIndex …).
pub(crate) fn index(v: V<'_, '_>) -> Result<Index> {
    let a = args(v);
    let (cls, d) = match (callable(v), a.as_slice()) {
        (
            Some((
                _,
                "_new_Index" | "_new_DatetimeIndex" | "_new_TimedeltaIndex" | "_new_PeriodIndex",
            )),
            [cls, d, ..],
        ) => (global(*cls).map(|g| g.1).unwrap_or(""), *d),
        _ => {
            return Err(bad(
                v,
                format!(
                    "an axis of the frame is {}, not a pandas Index",
                    crate::de::describe_value(v)
                ),
            ))
        }
    };
    let name = d.get("name").map(label).unwrap_or(Label::None);
    match cls {
        "RangeIndex" => {
            let g = |k: &str, dflt: i64| -> Result<i64> {
                match d.get(k) {
                    None => Ok(dflt),
                    Some(x) if x.is_none() => Ok(dflt),
                    Some(x) => x
                        .as_i64()
                        .ok_or_else(|| bad(x, format!("RangeIndex {k} is not an int"))),
                }
            };
            let (start, stop, step) = (g("start", 0)?, g("stop", 0)?, g("step", 1)?);
            if step == 0 {
                return Err(bad(d, "RangeIndex step is 0"));
            }
            // In i128: the bounds may be any two i64s (and `step` i64::MIN).
            let (span, by) = if step > 0 {
                (stop as i128 - start as i128, step as i128)
            } else {
                (start as i128 - stop as i128, -(step as i128))
            };
            let n = range_len(ceil_div(span.max(0), by), v)?;
            charge_or(v, n as u64 * 8)?;
            // Every value lies between start and stop; `i * step` alone may not fit.
            let values: Vec<i64> = (0..n as i128)
                .map(|i| (start as i128 + i * step as i128) as i64)
                .collect();
            Ok(Index {
                kind: IndexKind::Range { start, stop, step },
                levels: vec![Column {
                    name,
                    data: Data::new(Values::I64(values), None, Kind::Numpy),
                }],
            })
        }
        "MultiIndex" => {
            let levels = d
                .get("levels")
                .ok_or_else(|| bad(d, "a MultiIndex has no levels"))?;
            let codes = d
                .get("codes")
                .or_else(|| d.get("labels"))
                .ok_or_else(|| bad(d, "a MultiIndex has no codes"))?;
            let names: Vec<Label> = d
                .get("names")
                .map(|n| n.iter().map(label).collect())
                .unwrap_or_default();
            let levels: Vec<V<'_, '_>> = levels.iter().collect();
            let codes: Vec<V<'_, '_>> = codes.iter().collect();
            if levels.len() != codes.len() || levels.is_empty() {
                return Err(bad(
                    d,
                    format!(
                        "a MultiIndex has {} levels and {} code arrays",
                        levels.len(),
                        codes.len()
                    ),
                ));
            }
            let mut out = Vec::new();
            let mut n = None;
            for (i, (lv, cv)) in levels.iter().zip(&codes).enumerate() {
                let level = index(*lv)?;
                let cats = level.levels.into_iter().next().expect("one level").data;
                let codes = codes_of(*cv)?;
                if *n.get_or_insert(codes.len()) != codes.len() {
                    return Err(bad(*cv, "the code arrays of a MultiIndex differ in length"));
                }
                let data = take(&cats, &codes, *cv)?;
                out.push(Column {
                    name: names.get(i).cloned().unwrap_or(Label::None),
                    data,
                });
            }
            Ok(Index {
                kind: IndexKind::Multi,
                levels: out,
            })
        }
        _ => {
            let data = d
                .get("data")
                .ok_or_else(|| bad(d, format!("a {cls} has no data")))?;
            let mut arrays = array(data, 1).map_err(|e| e.note(&format!(" (in a {cls})")))?;
            if arrays.len() != 1 {
                return Err(bad(data, format!("a {cls}'s data is not one-dimensional")));
            }
            let data = arrays.pop().expect("one");
            let kind = match cls {
                "DatetimeIndex" => IndexKind::Datetime,
                "TimedeltaIndex" => IndexKind::Timedelta,
                "CategoricalIndex" => IndexKind::Categorical,
                "PeriodIndex" | "IntervalIndex" => {
                    return Err(unsupported(
                        v,
                        format!("a {cls} is not supported (period and interval data)"),
                    ))
                }
                _ => match data.values() {
                    Values::DateTime { .. } => IndexKind::Datetime,
                    Values::TimeDelta { .. } => IndexKind::Timedelta,
                    Values::Categorical { .. } => IndexKind::Categorical,
                    _ => IndexKind::Index,
                },
            };
            Ok(Index {
                kind,
                levels: vec![Column { name, data }],
            })
        }
    }
}

/// The values of `cats` at `codes` (−1: missing).
fn take(cats: &Data, codes: &[i64], at: V<'_, '_>) -> Result<Data> {
    let n = cats.len();
    if let Some(c) = codes.iter().find(|&&c| c >= n as i64 || c < -1) {
        return Err(bad(
            at,
            format!("code {c} is outside the {n} values of its categories or level"),
        ));
    }
    let weight: u64 = match cats.values() {
        Values::Str(s) => codes
            .iter()
            .map(|&c| {
                8 + if c >= 0 {
                    s.get(c as usize).map_or(0, str::len) as u64
                } else {
                    0
                }
            })
            .sum(),
        Values::Object(_) => codes.len() as u64 * 64,
        _ => codes.len() as u64 * 16,
    };
    charge_or(at, weight)?;
    let valid: Vec<bool> = codes.iter().map(|&c| c >= 0).collect();
    let any_missing = valid.iter().any(|v| !v);
    let idx = |c: i64| c.max(0) as usize;
    macro_rules! pick {
        ($v:expr, $ctor:path) => {
            $ctor(
                codes
                    .iter()
                    .map(|&c| $v.get(idx(c)).cloned().unwrap_or_default())
                    .collect(),
            )
        };
    }
    let empty = n == 0;
    let values = match cats.values() {
        _ if empty && !codes.is_empty() => {
            return Err(bad(at, "codes into an empty level"));
        }
        Values::Bool(v) => pick!(v, Values::Bool),
        Values::I8(v) => pick!(v, Values::I8),
        Values::I16(v) => pick!(v, Values::I16),
        Values::I32(v) => pick!(v, Values::I32),
        Values::I64(v) => pick!(v, Values::I64),
        Values::U8(v) => pick!(v, Values::U8),
        Values::U16(v) => pick!(v, Values::U16),
        Values::U32(v) => pick!(v, Values::U32),
        Values::U64(v) => pick!(v, Values::U64),
        Values::F32(v) => pick!(v, Values::F32),
        Values::F64(v) => pick!(v, Values::F64),
        Values::C64(v) => pick!(v, Values::C64),
        Values::C128(v) => pick!(v, Values::C128),
        Values::Object(v) => pick!(v, Values::Object),
        Values::Str(s) => {
            let mut out = Strings::new();
            for &c in codes {
                out.push(if c >= 0 {
                    s.get(idx(c)).unwrap_or_default()
                } else {
                    ""
                });
            }
            Values::Str(out)
        }
        Values::DateTime { values, unit, tz } => Values::DateTime {
            values: codes
                .iter()
                .map(|&c| if c >= 0 { values[idx(c)] } else { i64::MIN })
                .collect(),
            unit: unit.clone(),
            tz: tz.clone(),
        },
        Values::TimeDelta { values, unit } => Values::TimeDelta {
            values: codes
                .iter()
                .map(|&c| if c >= 0 { values[idx(c)] } else { i64::MIN })
                .collect(),
            unit: unit.clone(),
        },
        Values::Categorical {
            codes: inner,
            categories,
            ordered,
        } => Values::Categorical {
            codes: codes
                .iter()
                .map(|&c| if c >= 0 { inner[idx(c)] } else { -1 })
                .collect(),
            categories: categories.clone(),
            ordered: *ordered,
        },
    };
    let mut valid = valid;
    if let Some(cv) = cats.validity() {
        for (v, &c) in valid.iter_mut().zip(codes) {
            if c >= 0 && !cv[idx(c)] {
                *v = false;
            }
        }
    }
    let valid = (any_missing || cats.validity().is_some()).then_some(valid);
    Ok(Data::new(values, valid, cats.kind().clone()))
}

fn codes_of(v: V<'_, '_>) -> Result<Vec<i64>> {
    match v.as_emulated() {
        Some(Emulated::NdArray(a)) if a.shape().len() == 1 => {
            int_values(a).ok_or_else(|| bad(v, "codes are not an int array"))
        }
        _ => Err(bad(
            v,
            format!(
                "codes are {}, not an int array",
                crate::de::describe_value(v)
            ),
        )),
    }
}

/// The elements of an int array of any width, in C order.
fn int_values(a: &NdArray) -> Option<Vec<i64>> {
    let vals = numeric(a).ok()?;
    let n = vals.len();
    let row = vals.into_iter().next();
    let out: Vec<i64> = match row? {
        Values::I8(v) => v.into_iter().map(i64::from).collect(),
        Values::I16(v) => v.into_iter().map(i64::from).collect(),
        Values::I32(v) => v.into_iter().map(i64::from).collect(),
        Values::I64(v) => v,
        Values::U8(v) => v.into_iter().map(i64::from).collect(),
        Values::U16(v) => v.into_iter().map(i64::from).collect(),
        Values::U32(v) => v.into_iter().map(i64::from).collect(),
        Values::U64(v) => v
            .into_iter()
            .map(|x| x.to_i64().unwrap_or(i64::MAX))
            .collect(),
        _ => return None,
    };
    let _ = n;
    Some(out)
}

/// What the rebuild charges for a column besides its values (its `Data`, the
/// name and plan the rows and writers make for it).
const COLUMN_COST: u64 = 64;

/// A numeric numpy array as typed values: one `Values` per row of a 2-D block
/// (`(columns, rows)`), or one for a 1-D array.
fn numeric(a: &NdArray) -> Result<Vec<Values>> {
    let (k, n) = match a.shape() {
        [n] => (1, *n),
        [k, n] => (*k, *n),
        s => {
            return Err(Error::new(
                ErrorKind::Format,
                format!("a block array has shape {s:?}, not 1 or 2 dimensions"),
            ))
        }
    };
    let dt = a.dtype();
    let size = dt.itemsize();
    // What the copy makes: every element as at least a value's 8 bytes (a float16 becomes
    // an f32, a bool a cell that rows and serde deliver one by one), and every row a
    // column of its own (a shape of (2**40, 0) holds no data, but as many columns).
    let cost = (k as u64)
        .saturating_mul(n as u64)
        .saturating_mul(size.max(8) as u64)
        .saturating_add((k as u64).saturating_mul(COLUMN_COST));
    if !charge(cost) {
        return Err(Error::limit(
            "rebuilding the pandas frame would copy more array data than its budget \
             (an array shared by many blocks counts each time)",
        ));
    }
    let bytes = a.items_c_order()?;
    let swap = dt.needs_swap();
    let mut out = Vec::with_capacity(k);
    for r in 0..k {
        let row = &bytes[r * n * size..(r + 1) * n * size];
        macro_rules! dec {
            ($t:ty, $ctor:path) => {{
                $ctor(
                    row.chunks_exact(size)
                        .map(|c| {
                            let arr: [u8; std::mem::size_of::<$t>()] =
                                c.try_into().expect("itemsize");
                            if swap {
                                <$t>::from_be_bytes(arr)
                            } else {
                                <$t>::from_le_bytes(arr)
                            }
                        })
                        .collect(),
                )
            }};
        }
        let vals = match (dt.kind(), size) {
            (NpKind::Bool, 1) => Values::Bool(row.iter().map(|b| *b != 0).collect()),
            (NpKind::Int, 1) => dec!(i8, Values::I8),
            (NpKind::Int, 2) => dec!(i16, Values::I16),
            (NpKind::Int, 4) => dec!(i32, Values::I32),
            (NpKind::Int, 8) => dec!(i64, Values::I64),
            (NpKind::UInt, 1) => dec!(u8, Values::U8),
            (NpKind::UInt, 2) => dec!(u16, Values::U16),
            (NpKind::UInt, 4) => dec!(u32, Values::U32),
            (NpKind::UInt, 8) => dec!(u64, Values::U64),
            (NpKind::Float, 4) => dec!(f32, Values::F32),
            (NpKind::Float, 8) => dec!(f64, Values::F64),
            (NpKind::Float, 2) => {
                let bits = match dec!(u16, Values::U16) {
                    Values::U16(b) => b,
                    _ => unreachable!(),
                };
                Values::F32(
                    bits.into_iter()
                        .map(|b| half::f16::from_bits(b).to_f32())
                        .collect(),
                )
            }
            (NpKind::Complex, 8) => {
                let Values::F32(f) = dec_pairs_f32(row, swap) else {
                    unreachable!()
                };
                Values::C64(f.chunks_exact(2).map(|p| (p[0], p[1])).collect())
            }
            (NpKind::Complex, 16) => {
                let Values::F64(f) = dec_pairs_f64(row, swap) else {
                    unreachable!()
                };
                Values::C128(f.chunks_exact(2).map(|p| (p[0], p[1])).collect())
            }
            (NpKind::DateTime(u), 8) => Values::DateTime {
                values: match dec!(i64, Values::I64) {
                    Values::I64(v) => v,
                    _ => unreachable!(),
                },
                unit: u.clone(),
                tz: None,
            },
            (NpKind::TimeDelta(u), 8) => Values::TimeDelta {
                values: match dec!(i64, Values::I64) {
                    Values::I64(v) => v,
                    _ => unreachable!(),
                },
                unit: u.clone(),
            },
            _ => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!("numpy dtype {} is not supported in a frame", dt.str()),
                ))
            }
        };
        out.push(vals);
    }
    Ok(out)
}

fn dec_pairs_f32(row: &[u8], swap: bool) -> Values {
    Values::F32(
        row.chunks_exact(4)
            .map(|c| {
                let a: [u8; 4] = c.try_into().expect("4");
                if swap {
                    f32::from_be_bytes(a)
                } else {
                    f32::from_le_bytes(a)
                }
            })
            .collect(),
    )
}

fn dec_pairs_f64(row: &[u8], swap: bool) -> Values {
    Values::F64(
        row.chunks_exact(8)
            .map(|c| {
                let a: [u8; 8] = c.try_into().expect("8");
                if swap {
                    f64::from_be_bytes(a)
                } else {
                    f64::from_le_bytes(a)
                }
            })
            .collect(),
    )
}

/// One object of an object array as a cell (`depth` bounds nesting).
pub(crate) fn cell(v: V<'_, '_>, depth: usize) -> Cell {
    if !charge(32 + v.graph().scalar_bytes(v.slot())) {
        return Cell::None;
    }
    match v.slot() {
        Slot::None => return Cell::None,
        Slot::Bool(b) => return Cell::Bool(b),
        Slot::Int(i) => return Cell::Int(i),
        Slot::Float(f) => return Cell::Float(f),
        _ => {}
    }
    if let Some(s) = v.as_str() {
        return Cell::Str(s.to_string());
    }
    let Some(node) = v.node() else {
        return Cell::None;
    };
    match node {
        Node::BigInt(b) => Cell::BigInt(b.to_string()),
        Node::Bytes(_) | Node::ByteArray(_) => Cell::Bytes(v.as_bytes().unwrap_or(&[]).to_vec()),
        Node::Tuple(_) if depth < 32 => Cell::Tuple(v.iter().map(|x| cell(x, depth + 1)).collect()),
        Node::List(_) | Node::Set(_) | Node::FrozenSet(_) if depth < 32 => {
            Cell::List(v.iter().map(|x| cell(x, depth + 1)).collect())
        }
        Node::Dict(_) if depth < 32 => Cell::Dict(
            v.items()
                .map(|it| {
                    it.map(|(k, x)| (cell(k, depth + 1), cell(x, depth + 1)))
                        .collect()
                })
                .unwrap_or_default(),
        ),
        Node::Emulated(e) => match &**e {
            Emulated::TimeDelta {
                days,
                seconds,
                microseconds,
            } => Cell::Nanos(
                days.saturating_mul(86_400_000_000_000)
                    .saturating_add(seconds * 1_000_000_000)
                    .saturating_add(microseconds * 1000),
            ),
            Emulated::NpScalar(s) => match s.item() {
                crate::array::Item::Bool(b) => Cell::Bool(b),
                crate::array::Item::Int(i) => Cell::Int(i),
                crate::array::Item::UInt(u) => match i64::try_from(u) {
                    Ok(i) => Cell::Int(i),
                    Err(_) => Cell::BigInt(u.to_string()),
                },
                crate::array::Item::Float(f) => Cell::Float(f),
                crate::array::Item::Str(s) => Cell::Str(s),
                _ => Cell::Other("numpy scalar".into()),
            },
            other => match other.isoformat() {
                Some(s) => Cell::Text(s),
                None => match other {
                    Emulated::Decimal(d) => Cell::Text(d.clone()),
                    Emulated::Uuid(u) => Cell::Text(Emulated::uuid_string(*u)),
                    o => Cell::Other(o.type_name().into()),
                },
            },
        },
        Node::Object(_) => match callable(v) {
            // A pandas Timestamp in an object column: `Timestamp(value, freq, tz, unit)` is
            // pickled as `_unpickle_timestamp(value, freq, tz, reso)`.
            Some((_, "_unpickle_timestamp")) => {
                let a = args(v);
                match a.first().and_then(|x| x.as_i64()) {
                    Some(ns) => Cell::Text(super::time::timestamp_text(
                        ns,
                        &reso_unit(a.get(3).and_then(|x| x.as_i64())),
                        a.get(2).and_then(|t| tz_of(*t)).as_ref(),
                        'T',
                    )),
                    None => Cell::Other("Timestamp".into()),
                }
            }
            // `Timedelta` in an object column: `_timedelta_unpickle(value, reso)`.
            Some((_, "_timedelta_unpickle")) => {
                let a = args(v);
                match a.first().and_then(|x| x.as_i64()) {
                    Some(n) => {
                        let unit = reso_unit(a.get(1).and_then(|x| x.as_i64()));
                        match super::time::to_nanos(n, &unit) {
                            Some(ns) => Cell::Nanos(ns),
                            None => Cell::Other("Timedelta".into()),
                        }
                    }
                    None => Cell::Other("Timedelta".into()),
                }
            }
            Some((m, n)) => Cell::Other(format!("{m}.{n}")),
            None => Cell::Other("object".into()),
        },
        Node::Global(g) => Cell::Other(format!("{}.{}", g.module, g.name)),
        _ => Cell::Other(v.type_name().into()),
    }
}

/// The unit of a pandas resolution code (`NPY_DATETIMEUNIT`: 7 s, 8 ms, 9 us, 10 ns).
fn reso_unit(reso: Option<i64>) -> TimeUnit {
    let u = match reso {
        Some(7) => "s",
        Some(8) => "ms",
        Some(9) => "us",
        _ => "ns",
    };
    TimeUnit::parse(u).expect("unit")
}

/// A time zone object: `zoneinfo.ZoneInfo._unpickle(key, 1)`, `pytz._p(name, …)`,
/// `pytz._UTC()`, `pytz.FixedOffset(minutes)`, `datetime.timezone(timedelta)`,
/// `dateutil.tz.tzutc()`, or a plain string.
pub(crate) fn tz_of(t: V<'_, '_>) -> Option<Tz> {
    if t.is_none() {
        return None;
    }
    if let Some(s) = t.as_str() {
        return Some(Tz::Named(s.to_string()));
    }
    let a = args(t);
    let obj = t.as_object()?;
    let call = t.with(obj.callable);
    if let Some(inner) = call.as_object() {
        // getattr(ZoneInfo, "_unpickle")(key, from_cache).
        let ia = args(call);
        if let (Some(("builtins", "getattr")), [cls, _]) =
            (global(t.with(inner.callable)), ia.as_slice())
        {
            if global(*cls).is_some_and(|g| g.0 == "zoneinfo" || g.1 == "ZoneInfo") {
                return Some(Tz::Named(a.first()?.as_str()?.to_string()));
            }
        }
        return None;
    }
    let (m, n) = global(call)?;
    match (m, n) {
        ("zoneinfo" | "zoneinfo._zoneinfo", _) => Some(Tz::Named(a.first()?.as_str()?.to_string())),
        ("pytz", "_p") => Some(Tz::Named(a.first()?.as_str()?.to_string())),
        ("pytz", "_UTC" | "utc") => Some(Tz::Named("UTC".into())),
        ("pytz", "FixedOffset") => fixed(a.first()?.as_i64()?.checked_mul(60)?),
        ("datetime", "timezone") => match a.first()?.as_emulated()? {
            Emulated::TimeDelta {
                days,
                seconds,
                microseconds: 0,
            } => match days.checked_mul(86_400)?.checked_add(*seconds)? {
                0 => Some(Tz::Named("UTC".into())),
                s => fixed(s),
            },
            _ => None,
        },
        ("dateutil.tz.tz", "tzutc") => Some(Tz::Named("UTC".into())),
        _ => None,
    }
}

/// A zone the tz database knows (its offsets make the ISO text): an unknown name is an
/// error, not UTC.
fn known_tz(t: V<'_, '_>, tz: Tz) -> Result<Tz> {
    if tz.is_known() {
        Ok(tz)
    } else {
        Err(unsupported(
            t,
            format!("time zone {tz} is not in the tz database (jiff's bundled copy)"),
        ))
    }
}

/// A fixed UTC offset in seconds; Python's are strictly within a day (`None` beyond).
fn fixed(secs: i64) -> Option<Tz> {
    (secs.unsigned_abs() < 86_400).then_some(Tz::Fixed(secs as i32))
}

/// The arrays of a block: one [`Data`] per column the block holds (`ncols` of a 2-D
/// numpy block; one for an extension array).
pub(crate) fn array(v: V<'_, '_>, ncols: usize) -> Result<Vec<Data>> {
    match v.as_emulated() {
        Some(Emulated::NdArray(a)) => {
            if let [rows, _] = a.shape() {
                if *rows != ncols {
                    return Err(bad(
                        v,
                        format!("a block holds {rows} columns but its placement names {ncols}"),
                    ));
                }
            }
            let vals = numeric(a).map_err(|e| at(v, e))?;
            return Ok(vals
                .into_iter()
                .map(|x| Data::new(x, None, Kind::Numpy))
                .collect());
        }
        Some(Emulated::ObjectArray { shape, items, .. }) => {
            let items = v.graph().items(*items);
            let (k, n) = match shape.as_slice() {
                [n] => (1, *n),
                [k, n] => (*k, *n),
                s => return Err(bad(v, format!("an object block has shape {s:?}"))),
            };
            if shape.len() == 2 && k != ncols {
                return Err(bad(
                    v,
                    format!("a block holds {k} columns but its placement names {ncols}"),
                ));
            }
            charge_or(v, (k as u64).saturating_mul(COLUMN_COST))?;
            let mut out = Vec::with_capacity(k);
            for r in 0..k {
                let row = &items[r * n..(r + 1) * n];
                out.push(objects(v, row.iter().map(|s| v.with(*s)), n, Kind::Object)?);
            }
            return Ok(out);
        }
        Some(other) => {
            return Err(unsupported(
                v,
                format!("a block of {} is not a pandas array", other.type_name()),
            ))
        }
        None => {}
    }
    let Some((module, name)) = callable(v) else {
        return Err(bad(
            v,
            format!(
                "a block holds {}, not an array",
                crate::de::describe_value(v)
            ),
        ));
    };
    if !module.starts_with("pandas") {
        return Err(unsupported(
            v,
            format!("a block holds a {module}.{name}, not a pandas or numpy array"),
        ));
    }
    let one = |d: Data| Ok(vec![d]);
    if name.contains("Interval") {
        return Err(unsupported(
            v,
            "pandas interval columns (IntervalArray) are not supported",
        ));
    }
    match name {
        "__pyx_unpickle_NDArrayBacked" => {
            let a = args(v);
            let cls = a
                .first()
                .and_then(|c| global(*c))
                .map(|g| g.1)
                .unwrap_or("");
            let st: Vec<V<'_, '_>> = state(v).map(|s| s.iter().collect()).unwrap_or_default();
            let (dtype, arr) = match st.as_slice() {
                [dtype, arr, ..] => (*dtype, *arr),
                _ => return Err(bad(v, format!("a {cls} has no (dtype, data) state"))),
            };
            ndarray_backed(v, cls, dtype, arr, ncols)
        }
        "IntegerArray" | "FloatingArray" | "BooleanArray" => {
            let data = v
                .get("_data")
                .ok_or_else(|| bad(v, format!("a {name} has no _data")))?;
            let mask = v
                .get("_mask")
                .ok_or_else(|| bad(v, format!("a {name} has no _mask")))?;
            let (Some(Emulated::NdArray(d)), Some(Emulated::NdArray(m))) =
                (data.as_emulated(), mask.as_emulated())
            else {
                return Err(bad(
                    v,
                    format!("a {name}'s _data and _mask are not numpy arrays"),
                ));
            };
            let vals = numeric(d).map_err(|e| at(v, e))?;
            let mask = numeric(m).map_err(|e| at(v, e))?;
            let (Some(vals), Some(Values::Bool(mask))) =
                (vals.into_iter().next(), mask.into_iter().next())
            else {
                return Err(bad(v, format!("a {name}'s mask is not a bool array")));
            };
            if mask.len() != vals.len() {
                return Err(bad(
                    v,
                    format!(
                        "a {name}'s mask has {} values but its data {}",
                        mask.len(),
                        vals.len()
                    ),
                ));
            }
            let valid: Vec<bool> = mask.iter().map(|m| !m).collect();
            let any = valid.iter().any(|x| !x);
            one(Data::new(vals, any.then_some(valid), Kind::Masked))
        }
        "ArrowStringArray" | "ArrowExtensionArray" | "ArrowStringArrayNumpySemantics" => {
            let pa = v
                .get("_pa_array")
                .or_else(|| v.get("_data"))
                .ok_or_else(|| bad(v, format!("a {name} has no _pa_array")))?;
            let dtype = v.get("_dtype");
            let kind = match dtype.and_then(callable) {
                Some((_, "StringDtype")) => string_kind(dtype.expect("some")),
                _ if name != "ArrowExtensionArray" => Kind::String {
                    storage: "pyarrow".into(),
                    na_nan: name == "ArrowStringArrayNumpySemantics",
                },
                _ => Kind::Arrow {
                    type_name: String::new(),
                },
            };
            let (values, valid, type_name) = restore(pa)?;
            let kind = match kind {
                Kind::Arrow { .. } => Kind::Arrow { type_name },
                k => k,
            };
            one(Data::new(values, valid, kind))
        }
        "SparseArray" | "IntervalArray" | "PeriodArray" => Err(unsupported(
            v,
            format!("pandas {name} columns are not supported"),
        )),
        _ => Err(unsupported(
            v,
            format!("pandas array {module}.{name} is not supported"),
        )),
    }
}

fn at(v: V<'_, '_>, e: Error) -> Error {
    match (e.offset(), v.offset()) {
        (None, Some(o)) => e.with_offset(o),
        _ => e,
    }
}

/// `StringDtype(storage, na_value)` → the string kind.
fn string_kind(dtype: V<'_, '_>) -> Kind {
    let a = args(dtype);
    let storage = a
        .first()
        .and_then(|s| s.as_str())
        .or_else(|| dtype.get("storage").and_then(|s| s.as_str()))
        .unwrap_or("python")
        .to_string();
    let na_nan = a
        .get(1)
        .copied()
        .or_else(|| dtype.get("_na_value"))
        .and_then(|x| x.as_f64())
        .is_some_and(f64::is_nan);
    Kind::String { storage, na_nan }
}

/// Objects → a string column when every present value is a str, else object cells.
fn objects<'g, 'de>(
    at: V<'g, 'de>,
    items: impl Iterator<Item = V<'g, 'de>> + Clone,
    n: usize,
    kind: Kind,
) -> Result<Data> {
    let all_str = items.clone().all(|x| {
        x.as_str().is_some() || x.is_none() || x.as_f64().is_some_and(f64::is_nan) || is_na(x)
    });
    if all_str {
        let mut s = Strings::with_capacity(n, 0);
        let mut valid = Vec::with_capacity(n);
        for x in items {
            match x.as_str() {
                Some(t) => {
                    charge_or(at, 8 + t.len() as u64)?;
                    s.push(t);
                    valid.push(true);
                }
                None => {
                    s.push("");
                    valid.push(false);
                }
            }
        }
        let any = valid.iter().any(|v| !v);
        return Ok(Data::new(Values::Str(s), any.then_some(valid), kind));
    }
    let cells: Vec<Cell> = items
        .map(|x| if is_na(x) { Cell::None } else { cell(x, 0) })
        .collect();
    if spent() {
        return Err(over_budget(at));
    }
    Ok(Data::new(Values::Object(cells), None, kind))
}

/// `pd.NA` (`pandas._libs.missing.NAType()`) and `NaT`.
fn is_na(x: V<'_, '_>) -> bool {
    matches!(callable(x), Some((m, "NAType" | "__nat_unpickle")) if m.starts_with("pandas"))
        || matches!(global(x), Some((m, "NA" | "NaT")) if m.starts_with("pandas"))
}

fn ndarray_backed(
    v: V<'_, '_>,
    cls: &str,
    dtype: V<'_, '_>,
    arr: V<'_, '_>,
    ncols: usize,
) -> Result<Vec<Data>> {
    match cls {
        "Categorical" => {
            let cats = dtype
                .get("categories")
                .ok_or_else(|| bad(dtype, "a CategoricalDtype has no categories"))?;
            let ordered = dtype
                .get("ordered")
                .and_then(|o| o.as_bool())
                .unwrap_or(false);
            let cats = index(cats).map_err(|e| e.note(" (in the categories)"))?;
            let cats = cats.levels.into_iter().next().expect("one").data;
            let codes = codes_of(arr)?;
            let n = cats.len() as i64;
            if let Some(c) = codes.iter().find(|&&c| c >= n || c < -1) {
                return Err(bad(
                    arr,
                    format!("categorical code {c} is outside its {n} categories"),
                ));
            }
            let codes: Vec<i32> = codes.into_iter().map(|c| c as i32).collect();
            Ok(vec![Data::new(
                Values::Categorical {
                    codes,
                    categories: Box::new(cats),
                    ordered,
                },
                None,
                Kind::Categorical,
            )])
        }
        "DatetimeArray" | "TimedeltaArray" => {
            let Some(Emulated::NdArray(a)) = arr.as_emulated() else {
                return Err(bad(arr, format!("a {cls}'s data is not a numpy array")));
            };
            let tz = if callable(dtype).is_some_and(|c| c.1 == "DatetimeTZDtype") {
                let t = dtype
                    .get("tz")
                    .ok_or_else(|| bad(dtype, "a DatetimeTZDtype has no tz"))?;
                Some(known_tz(
                    t,
                    tz_of(t).ok_or_else(|| {
                        unsupported(
                            t,
                            format!(
                                "the time zone {} is not supported (zoneinfo, pytz, \
                             datetime.timezone and dateutil's UTC are; a fixed offset must \
                             be less than a day)",
                                crate::de::describe_value(t)
                            ),
                        )
                    })?,
                )?)
            } else {
                None
            };
            let mut vals = numeric(a).map_err(|e| at(arr, e))?;
            if a.shape().len() == 2 && vals.len() != ncols {
                return Err(bad(
                    arr,
                    format!(
                        "a block holds {} columns but its placement names {ncols}",
                        vals.len()
                    ),
                ));
            }
            let kind = if tz.is_some() {
                Kind::DateTimeTz
            } else {
                Kind::Numpy
            };
            for x in vals.iter_mut() {
                if let Values::DateTime { tz: t, .. } = x {
                    *t = tz.clone();
                }
            }
            Ok(vals
                .into_iter()
                .map(|x| Data::new(x, None, kind.clone()))
                .collect())
        }
        "StringArray" | "NumpyExtensionArray" | "PandasArray" => {
            let kind = if callable(dtype).is_some_and(|c| c.1 == "StringDtype") {
                string_kind(dtype)
            } else {
                Kind::Object
            };
            match arr.as_emulated() {
                Some(Emulated::ObjectArray { items, .. }) => {
                    let items = v.graph().items(*items);
                    let n = items.len();
                    Ok(vec![objects(v, items.iter().map(|s| v.with(*s)), n, kind)?])
                }
                Some(Emulated::NdArray(_)) => array(arr, ncols),
                _ => Err(bad(arr, format!("a {cls}'s data is not a numpy array"))),
            }
        }
        "PeriodArray" => Err(unsupported(
            v,
            "pandas PeriodArray columns are not supported",
        )),
        other => Err(unsupported(
            v,
            format!("pandas array {other} is not supported"),
        )),
    }
}

/// A RangeIndex's length, bounded: a frame's columns hold data for every row, so a
/// range far longer than the input could hold is hostile (no allocation for it).
fn range_len(n: i128, v: V<'_, '_>) -> Result<usize> {
    let cap = v.graph().input_len().saturating_mul(16).max(1 << 20);
    match u64::try_from(n) {
        Ok(n) if n <= cap => Ok(n as usize),
        _ => Err(Error::new(
            ErrorKind::Limit,
            format!(
                "a RangeIndex of {n} rows is longer than this input can describe (at most {cap})"
            ),
        )
        .with_offset(v.offset().unwrap_or(0))),
    }
}

fn ceil_div(a: i128, b: i128) -> i128 {
    a / b + i128::from(a % b != 0)
}
