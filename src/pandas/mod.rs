//! pandas DataFrames and Series from their pickles (feature `pandas`): the frame
//! `DataFrame.to_pickle()` wrote, rebuilt from the recorded constructions of the graph
//! into owned columns — no Python, no pandas, no code run.
//!
//! ```no_run
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Row {
//!     id: i64,
//!     name: Option<String>,
//!     score: f64,
//! }
//!
//! // One struct per row, fields by column name (compressed files are inflated).
//! let rows: Vec<Row> = serde_pickle_vm::from_file("frame.pkl.gz")?;
//!
//! // The frame itself: shape, index, columns and their dtypes.
//! let df = serde_pickle_vm::pandas::read_pickle("frame.pkl.gz")?.into_frame()?;
//! println!("{} rows, columns {:?}", df.len(), df.column_names());
//! print!("{}", df.info());
//! # Ok::<(), serde_pickle_vm::Error>(())
//! ```
//!
//! # What is read
//!
//! The block managers of pandas 1.5, 2.x and 3.x (`BlockManager` of `_unpickle_block`s,
//! `SingleBlockManager` for a Series), their axes (`_new_Index` of `Index`,
//! `RangeIndex`, `DatetimeIndex`, `CategoricalIndex`, `MultiIndex`) and the arrays in
//! the blocks: numpy arrays (ints, unsigned ints, floats, bools, complex, `datetime64`,
//! `timedelta64`, objects), the masked arrays of the nullable dtypes (`Int8` … `UInt64`,
//! `Float32`/`Float64`, `boolean`), `StringDtype` (python and pyarrow storage, and
//! pandas 3's default `str`), `Categorical`, `DatetimeArray` with a time zone (IANA
//! names from `zoneinfo` or `pytz`, fixed offsets) and `TimedeltaArray`, and pyarrow
//! arrays (`pyarrow.lib._restore_array`: strings, large strings, ints, floats, bools,
//! timestamps, dictionaries) behind `ArrowStringArray` and `ArrowExtensionArray`.
//! Anything else (sparse, interval, period, extension dtypes of other packages) is an
//! error naming the dtype and the column.
//!
//! # Missing values
//!
//! A cell is missing when pandas' `isna()` says so: `None` and NaN in object and string
//! columns, `pd.NA` in the nullable and pyarrow dtypes, `NaT` in datetimes and
//! timedeltas, code −1 of a categorical, and NaN in a numpy float column. A missing
//! value reads as `None` into an `Option<T>` and is an error (`expected f64, found
//! None`) into a plain `T` — with one exception: a NaN of a numpy float column is
//! also a float, and reads into `f64`/`f32` as NaN.

#[cfg(feature = "arrow")]
mod arrow;
mod build;
mod csv;
mod de;
mod info;
#[cfg(feature = "parquet")]
mod parquet;
mod pyarrow;
mod time;
mod write;

#[cfg(feature = "arrow")]
pub use arrow::write_ipc;
pub use csv::write_csv;
#[cfg(feature = "parquet")]
pub use parquet::write_parquet;
pub use time::Tz;
pub use write::WriteOptions;

use crate::array::TimeUnit;
use crate::error::{Error, ErrorKind, Result};
use crate::value::{Graph, Value};
use std::fmt;

pub(crate) use build::{is_pandas_object, pandas_with_cost};
pub(crate) use de::{Budget, FrameDe};

/// A pandas DataFrame: an index and named columns of equal length, in the frame's
/// column order.
#[derive(Debug, Clone, PartialEq)]
pub struct DataFrame {
    pub(crate) index: Index,
    pub(crate) columns: Vec<Column>,
    pub(crate) column_names: Option<Vec<Option<String>>>,
}

/// A pandas Series: a name, an index and one column of values.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub(crate) index: Index,
    pub(crate) column: Column,
}

/// A DataFrame or a Series: what a pickle of pandas data holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Pandas {
    /// A `pandas.DataFrame`.
    DataFrame(DataFrame),
    /// A `pandas.Series`.
    Series(Series),
}

impl Pandas {
    /// The frame, or an error if this is a Series (use [`Series::into_frame`] to make
    /// one column of it).
    pub fn into_frame(self) -> Result<DataFrame> {
        match self {
            Pandas::DataFrame(df) => Ok(df),
            Pandas::Series(_) => Err(Error::new(
                ErrorKind::Type,
                "the pickle holds a pandas Series, not a DataFrame (Series::into_frame makes one)",
            )),
        }
    }
}

/// A column (or an index level): a label and its data.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The column's label (`df.columns[i]`).
    pub name: Label,
    /// The values.
    pub data: Data,
}

/// A column or index label.
#[derive(Debug, Clone, PartialEq)]
pub enum Label {
    /// `None` (an unnamed Series, an unnamed index).
    None,
    /// A string.
    Str(String),
    /// An int.
    Int(i64),
    /// A float.
    Float(f64),
    /// A bool.
    Bool(bool),
    /// A tuple: the label of a column under MultiIndex columns, one part per level.
    Tuple(Vec<Label>),
    /// Another kind of value, as text (a datetime label as ISO text).
    Other(String),
}

impl Label {
    /// The label as a field name: a string itself, an int in decimal, a tuple's parts
    /// joined by `.`; `None` for `Label::None`.
    pub fn key(&self) -> Option<String> {
        match self {
            Label::None => None,
            Label::Str(s) | Label::Other(s) => Some(s.clone()),
            Label::Tuple(parts) => Some(
                parts
                    .iter()
                    .map(|p| p.key().unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("."),
            ),
            l => Some(l.to_string()),
        }
    }

    /// The label as a string when it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Label::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for Label {
    /// `str(label)` as Python prints it (tuples as `('a', 1)`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Label::None => f.write_str("None"),
            Label::Str(s) | Label::Other(s) => f.write_str(s),
            Label::Int(i) => write!(f, "{i}"),
            Label::Float(x) => f.write_str(&crate::pyrepr::float_repr(*x)),
            Label::Bool(b) => f.write_str(if *b { "True" } else { "False" }),
            Label::Tuple(parts) => {
                f.write_str("(")?;
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    match p {
                        Label::Str(s) => f.write_str(&crate::pyrepr::str_repr(s))?,
                        p => write!(f, "{p}")?,
                    }
                }
                if parts.len() == 1 {
                    f.write_str(",")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// The row labels of a frame: one level, or several for a MultiIndex, each level
/// as long as the frame (`reset_index()`'s columns).
#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    /// The kind of index pandas had.
    pub kind: IndexKind,
    /// One column per level: its name (`index.names[i]`) and its value at every row.
    pub levels: Vec<Column>,
}

/// Which index class a frame had.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexKind {
    /// `RangeIndex(start, stop, step)` (its one level holds the values as int64).
    Range {
        /// First value.
        start: i64,
        /// End (exclusive).
        stop: i64,
        /// Step (non-zero).
        step: i64,
    },
    /// `Index` of ints, floats, strings or objects.
    Index,
    /// `DatetimeIndex`, naive or with a time zone.
    Datetime,
    /// `TimedeltaIndex`.
    Timedelta,
    /// `CategoricalIndex`.
    Categorical,
    /// `MultiIndex`: several levels.
    Multi,
}

impl IndexKind {
    /// The pandas class: `RangeIndex`, `Index`, `DatetimeIndex`, `TimedeltaIndex`,
    /// `CategoricalIndex`, `MultiIndex`.
    pub fn class_name(&self) -> &'static str {
        match self {
            IndexKind::Range { .. } => "RangeIndex",
            IndexKind::Index => "Index",
            IndexKind::Datetime => "DatetimeIndex",
            IndexKind::Timedelta => "TimedeltaIndex",
            IndexKind::Categorical => "CategoricalIndex",
            IndexKind::Multi => "MultiIndex",
        }
    }
}

impl Index {
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.levels.first().map_or(0, |l| l.data.len())
    }

    /// `true` when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The level names (`index.names`), `None` for unnamed levels.
    pub fn names(&self) -> Vec<Option<String>> {
        self.levels.iter().map(|l| l.name.key()).collect()
    }

    /// The `i`th row's label as text (for messages and `info`).
    pub fn label_text(&self, row: usize) -> String {
        let parts: Vec<String> = self
            .levels
            .iter()
            .map(|l| l.data.text(row).unwrap_or_else(|| "NaN".into()))
            .collect();
        if parts.len() == 1 {
            parts.into_iter().next().unwrap_or_default()
        } else {
            format!("({})", parts.join(", "))
        }
    }
}

/// What pandas array a column's [`Values`] came from: with the values' type it gives
/// the pandas dtype (`str(df[c].dtype)`, see [`Data::dtype_name`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A plain numpy array (`int64`, `float64`, `bool`, `complex128`, `datetime64[ns]`,
    /// `timedelta64[ns]`).
    Numpy,
    /// A numpy array of Python objects (`object`).
    Object,
    /// A masked array of a nullable dtype (`Int64`, `UInt8`, `Float64`, `boolean`, …).
    Masked,
    /// `StringDtype`: `storage` is `"python"` or `"pyarrow"`; `na_nan` is pandas 3's
    /// default `str` dtype (missing values are NaN, `str(dtype)` is `"str"`), otherwise
    /// missing values are `pd.NA` (`"string"`).
    String {
        /// `"python"` or `"pyarrow"`.
        storage: String,
        /// pandas 3's NaN-variant (`str`).
        na_nan: bool,
    },
    /// `Categorical` (`category`): [`Values::Categorical`].
    Categorical,
    /// `datetime64[unit, tz]` (`DatetimeTZDtype`).
    DateTimeTz,
    /// A pyarrow-backed `ArrowExtensionArray` (`pd.ArrowDtype`): `type_name` is
    /// pyarrow's name of the type (`int64`, `timestamp[us, tz=UTC]`, `large_string`,
    /// `dictionary<values=string, indices=int32, ordered=0>`).
    Arrow {
        /// pyarrow's `str(type)`.
        type_name: String,
    },
}

/// The values of a column, one variant per storage type; missing values are marked by
/// [`Data::is_null`].
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Bools.
    Bool(Vec<bool>),
    /// `int8`.
    I8(Vec<i8>),
    /// `int16`.
    I16(Vec<i16>),
    /// `int32`.
    I32(Vec<i32>),
    /// `int64`.
    I64(Vec<i64>),
    /// `uint8`.
    U8(Vec<u8>),
    /// `uint16`.
    U16(Vec<u16>),
    /// `uint32`.
    U32(Vec<u32>),
    /// `uint64`.
    U64(Vec<u64>),
    /// `float32`.
    F32(Vec<f32>),
    /// `float64`.
    F64(Vec<f64>),
    /// `complex64`: (re, im).
    C64(Vec<(f32, f32)>),
    /// `complex128`: (re, im).
    C128(Vec<(f64, f64)>),
    /// Strings (a missing one is an empty string marked null).
    Str(Strings),
    /// Python objects of mixed types.
    Object(Vec<Cell>),
    /// Datetimes: counts of `unit` since the epoch (UTC when `tz` is set); NaT is
    /// `i64::MIN`.
    DateTime {
        /// The counts.
        values: Vec<i64>,
        /// `s`, `ms`, `us` or `ns`.
        unit: TimeUnit,
        /// The time zone of a tz-aware column.
        tz: Option<Tz>,
    },
    /// Timedeltas: counts of `unit`; NaT is `i64::MIN`.
    TimeDelta {
        /// The counts.
        values: Vec<i64>,
        /// `s`, `ms`, `us` or `ns`.
        unit: TimeUnit,
    },
    /// A categorical: codes into `categories` (−1 is missing).
    Categorical {
        /// One code per row.
        codes: Vec<i32>,
        /// The categories (no missing values).
        categories: Box<Data>,
        /// `ordered=True`.
        ordered: bool,
    },
}

/// Strings in one buffer: `offsets[i]..offsets[i + 1]` of `data` is the `i`th (the
/// layout of an Arrow `large_string` array).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Strings {
    offsets: Vec<usize>,
    data: String,
}

impl Strings {
    /// No strings.
    pub fn new() -> Strings {
        Strings {
            offsets: vec![0],
            data: String::new(),
        }
    }

    /// Room for `n` strings of `bytes` bytes in all.
    pub fn with_capacity(n: usize, bytes: usize) -> Strings {
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        Strings {
            offsets,
            data: String::with_capacity(bytes),
        }
    }

    /// Appends a string.
    pub fn push(&mut self, s: &str) {
        self.data.push_str(s);
        self.offsets.push(self.data.len());
    }

    /// The number of strings.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// `true` when there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`th string.
    pub fn get(&self, i: usize) -> Option<&str> {
        let (a, b) = (*self.offsets.get(i)?, *self.offsets.get(i + 1)?);
        self.data.get(a..b)
    }

    /// The offsets (`len() + 1` of them, starting at 0).
    pub fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// All the strings, back to back.
    pub fn data(&self) -> &str {
        &self.data
    }

    /// The strings in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        self.offsets.windows(2).map(|w| &self.data[w[0]..w[1]])
    }
}

/// One Python object of an object column.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Cell {
    /// `None` (missing).
    #[default]
    None,
    /// A bool.
    Bool(bool),
    /// An int of 64 bits.
    Int(i64),
    /// An int beyond 64 bits, in decimal.
    BigInt(String),
    /// A float (NaN is missing).
    Float(f64),
    /// A str.
    Str(String),
    /// Bytes.
    Bytes(Vec<u8>),
    /// A list or set.
    List(Vec<Cell>),
    /// A tuple.
    Tuple(Vec<Cell>),
    /// A dict.
    Dict(Vec<(Cell, Cell)>),
    /// A datetime, date, time, Decimal, UUID (their text: ISO 8601, the exact decimal,
    /// the canonical UUID) or a numpy scalar's value as text.
    Text(String),
    /// A timedelta, in nanoseconds.
    Nanos(i64),
    /// An object of another class: its `module.qualname`.
    Other(String),
}

impl Cell {
    /// `true` for `None`, NaN, `pd.NA` and `pd.NaT` (what `isna` finds).
    pub fn is_null(&self) -> bool {
        match self {
            Cell::None => true,
            Cell::Float(f) => f.is_nan(),
            Cell::Other(name) => matches!(
                name.as_str(),
                "pandas.NA"
                    | "pandas._libs.missing.NA"
                    | "pandas.NaT"
                    | "pandas._libs.tslibs.nattype.NaT"
                    | "pandas._libs.tslibs.nattype._nat_unpickle"
                    | "pandas._libs.tslibs.nattype.__nat_unpickle"
            ),
            _ => false,
        }
    }

    /// The Python type name, for messages and `info`.
    pub fn type_name(&self) -> &str {
        match self {
            Cell::None => "NoneType",
            Cell::Bool(_) => "bool",
            Cell::Int(_) | Cell::BigInt(_) => "int",
            Cell::Float(_) => "float",
            Cell::Str(_) => "str",
            Cell::Bytes(_) => "bytes",
            Cell::List(_) => "list",
            Cell::Tuple(_) => "tuple",
            Cell::Dict(_) => "dict",
            Cell::Text(_) => "text",
            Cell::Nanos(_) => "timedelta",
            Cell::Other(name) => name,
        }
    }
}

/// The data of one column: values, which are missing, and the pandas array they came
/// from.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    values: Values,
    /// `true` where a value is present; `None` when every value is (NaN of float
    /// columns and NaT are marked here too).
    valid: Option<Vec<bool>>,
    kind: Kind,
}

impl Data {
    /// Data from values, a validity mask (`true` = present; `None`: derive it from the
    /// values: NaN, NaT, code −1, `None` objects) and the array kind.
    pub fn new(values: Values, valid: Option<Vec<bool>>, kind: Kind) -> Data {
        let mut d = Data {
            values,
            valid,
            kind,
        };
        d.mark_missing();
        d
    }

    /// Adds to the mask the values that are missing by their own value.
    fn mark_missing(&mut self) {
        fn flags<T>(v: &[T], f: impl Fn(&T) -> bool) -> Option<Vec<bool>> {
            // A scan first: most columns have no such value, and pay nothing more.
            let first = v.iter().position(&f)?;
            let mut out = vec![false; v.len()];
            for (o, x) in out[first..].iter_mut().zip(&v[first..]) {
                *o = f(x);
            }
            Some(out)
        }
        let numpy = self.kind == Kind::Numpy;
        let missing = match &self.values {
            Values::F32(v) if numpy => flags(v, |x| x.is_nan()),
            Values::F64(v) if numpy => flags(v, |x| x.is_nan()),
            Values::C64(v) if numpy => flags(v, |x| x.0.is_nan() || x.1.is_nan()),
            Values::C128(v) if numpy => flags(v, |x| x.0.is_nan() || x.1.is_nan()),
            Values::DateTime { values, .. } | Values::TimeDelta { values, .. } => {
                flags(values, |x| *x == i64::MIN)
            }
            Values::Categorical { codes, .. } => flags(codes, |c| *c < 0),
            Values::Object(cells) => flags(cells, Cell::is_null),
            _ => None,
        };
        let Some(missing) = missing else {
            return;
        };
        match &mut self.valid {
            Some(valid) => {
                for (v, m) in valid.iter_mut().zip(&missing) {
                    *v &= !m;
                }
            }
            None => self.valid = Some(missing.iter().map(|m| !m).collect()),
        }
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// `true` when there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values.
    pub fn values(&self) -> &Values {
        &self.values
    }

    /// The pandas array kind.
    pub fn kind(&self) -> &Kind {
        &self.kind
    }

    /// The validity mask (`true` = present), `None` when no value is missing.
    pub fn validity(&self) -> Option<&[bool]> {
        self.valid.as_deref()
    }

    /// `true` when the `i`th value is missing (see the module docs).
    pub fn is_null(&self, i: usize) -> bool {
        self.valid.as_ref().is_some_and(|v| !v[i])
    }

    /// How many values are missing (`df[c].isna().sum()`).
    pub fn null_count(&self) -> usize {
        self.valid
            .as_ref()
            .map_or(0, |v| v.iter().filter(|b| !**b).count())
    }

    /// The pandas dtype as `str(dtype)` prints it: `int64`, `Int64`, `boolean`,
    /// `object`, `string`, `str`, `category`, `datetime64[ns]`,
    /// `datetime64[ns, Europe/Berlin]`, `timedelta64[ns]`, `int64[pyarrow]`.
    pub fn dtype_name(&self) -> String {
        let base = self.values.numpy_name();
        match &self.kind {
            Kind::Numpy => base,
            Kind::Object => "object".into(),
            Kind::Masked => match &self.values {
                Values::Bool(_) => "boolean".into(),
                Values::I8(_) => "Int8".into(),
                Values::I16(_) => "Int16".into(),
                Values::I32(_) => "Int32".into(),
                Values::I64(_) => "Int64".into(),
                Values::U8(_) => "UInt8".into(),
                Values::U16(_) => "UInt16".into(),
                Values::U32(_) => "UInt32".into(),
                Values::U64(_) => "UInt64".into(),
                Values::F32(_) => "Float32".into(),
                Values::F64(_) => "Float64".into(),
                _ => base,
            },
            Kind::String { na_nan: true, .. } => "str".into(),
            Kind::String { .. } => "string".into(),
            Kind::Categorical => "category".into(),
            Kind::DateTimeTz => match &self.values {
                Values::DateTime {
                    unit, tz: Some(tz), ..
                } => format!("datetime64[{unit}, {tz}]"),
                _ => base,
            },
            Kind::Arrow { type_name } => format!("{type_name}[pyarrow]"),
        }
    }

    /// The `i`th value as `str(value)` would print it in a frame's repr (`None` when
    /// missing): numbers in Python's repr, datetimes as `Timestamp` prints them.
    pub fn text(&self, i: usize) -> Option<String> {
        if self.is_null(i) {
            return None;
        }
        Some(self.values.text(i))
    }
}

impl Values {
    /// The number of values.
    pub fn len(&self) -> usize {
        match self {
            Values::Bool(v) => v.len(),
            Values::I8(v) => v.len(),
            Values::I16(v) => v.len(),
            Values::I32(v) => v.len(),
            Values::I64(v) => v.len(),
            Values::U8(v) => v.len(),
            Values::U16(v) => v.len(),
            Values::U32(v) => v.len(),
            Values::U64(v) => v.len(),
            Values::F32(v) => v.len(),
            Values::F64(v) => v.len(),
            Values::C64(v) => v.len(),
            Values::C128(v) => v.len(),
            Values::Str(v) => v.len(),
            Values::Object(v) => v.len(),
            Values::DateTime { values, .. } | Values::TimeDelta { values, .. } => values.len(),
            Values::Categorical { codes, .. } => codes.len(),
        }
    }

    /// `true` when there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// numpy's name of the storage type (`int64`, `float32`, `bool`, `object`,
    /// `datetime64[ns]`).
    pub fn numpy_name(&self) -> String {
        match self {
            Values::Bool(_) => "bool".into(),
            Values::I8(_) => "int8".into(),
            Values::I16(_) => "int16".into(),
            Values::I32(_) => "int32".into(),
            Values::I64(_) => "int64".into(),
            Values::U8(_) => "uint8".into(),
            Values::U16(_) => "uint16".into(),
            Values::U32(_) => "uint32".into(),
            Values::U64(_) => "uint64".into(),
            Values::F32(_) => "float32".into(),
            Values::F64(_) => "float64".into(),
            Values::C64(_) => "complex64".into(),
            Values::C128(_) => "complex128".into(),
            Values::Str(_) | Values::Object(_) => "object".into(),
            Values::DateTime { unit, .. } => format!("datetime64[{unit}]"),
            Values::TimeDelta { unit, .. } => format!("timedelta64[{unit}]"),
            Values::Categorical { codes, .. } => {
                let _ = codes;
                "category".into()
            }
        }
    }

    /// The `i`th value as text (see [`Data::text`]); missing values are not checked.
    pub fn text(&self, i: usize) -> String {
        use crate::pyrepr::float_repr;
        match self {
            Values::Bool(v) => (if v[i] { "True" } else { "False" }).into(),
            Values::I8(v) => v[i].to_string(),
            Values::I16(v) => v[i].to_string(),
            Values::I32(v) => v[i].to_string(),
            Values::I64(v) => v[i].to_string(),
            Values::U8(v) => v[i].to_string(),
            Values::U16(v) => v[i].to_string(),
            Values::U32(v) => v[i].to_string(),
            Values::U64(v) => v[i].to_string(),
            Values::F32(v) => time::f32_text(v[i]),
            Values::F64(v) => float_repr(v[i]),
            Values::C64(v) => time::complex_text(v[i].0 as f64, v[i].1 as f64),
            Values::C128(v) => time::complex_text(v[i].0, v[i].1),
            Values::Str(v) => v.get(i).unwrap_or_default().to_string(),
            Values::Object(v) => time::cell_text(&v[i]),
            Values::DateTime { values, unit, tz } => {
                time::timestamp_text(values[i], unit, tz.as_ref(), ' ')
            }
            Values::TimeDelta { values, unit } => time::timedelta_text(values[i], unit),
            Values::Categorical {
                codes, categories, ..
            } => categories.values.text(codes[i].max(0) as usize),
        }
    }
}

impl DataFrame {
    /// A frame of `columns` (all of one length) over a RangeIndex.
    pub fn from_columns(columns: Vec<Column>) -> Result<DataFrame> {
        let n = columns.first().map_or(0, |c| c.data.len());
        if let Some(c) = columns.iter().find(|c| c.data.len() != n) {
            return Err(Error::new(
                ErrorKind::Format,
                format!(
                    "column {:?} has {} rows, the first column {n}",
                    c.name.to_string(),
                    c.data.len()
                ),
            ));
        }
        let index = Index {
            kind: IndexKind::Range {
                start: 0,
                stop: n as i64,
                step: 1,
            },
            levels: vec![Column {
                name: Label::None,
                data: Data::new(Values::I64((0..n as i64).collect()), None, Kind::Numpy),
            }],
        };
        Ok(DataFrame {
            index,
            columns,
            column_names: None,
        })
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// `true` when the frame has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `(rows, columns)`, as `df.shape`.
    pub fn shape(&self) -> (usize, usize) {
        (self.len(), self.columns.len())
    }

    /// The index.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// The columns in order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The column labels as text (`str(label)`).
    pub fn column_names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.to_string()).collect()
    }

    /// The names of the column axis's levels (`df.columns.names`), when it has any.
    pub fn column_axis_names(&self) -> Option<&[Option<String>]> {
        self.column_names.as_deref()
    }

    /// Removes the columns at `positions` (positions in [`columns`](Self::columns)).
    pub fn drop_columns(&mut self, positions: &[usize]) {
        let mut i = 0;
        self.columns.retain(|_| {
            let keep = !positions.contains(&i);
            i += 1;
            keep
        });
    }

    /// The first column whose label is `name` (its [`Label::key`]).
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| c.name.key().as_deref() == Some(name))
    }

    /// A text summary like `df.info()`: the index, each column with its non-null count
    /// and dtype, and the dtype counts.
    pub fn info(&self) -> String {
        info::frame_info(self)
    }

    /// Deserializes the frame into `T` as [`from_slice`](crate::from_slice) would: a
    /// `Vec` of row structs, a struct or map of columns.
    pub fn deserialize<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        let budget = Budget::new(None);
        T::deserialize(FrameDe {
            pandas: de::PRef::Frame(self),
            budget: &budget,
        })
    }

    /// One column's values as `Vec<T>` (by label, see [`column`](Self::column); an
    /// index level by name, or `index`, too).
    pub fn column_as<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<Vec<T>> {
        let c = de::find(self, name).ok_or_else(|| {
            Error::new(
                ErrorKind::Type,
                format!("the frame has no column or index level {name:?}"),
            )
        })?;
        de::column_as(c, &Budget::new(None))
    }

    /// Reads a frame from a value of a graph (the root of a loaded pickle, or a value
    /// inside it).
    pub fn from_value(v: Value<'_, '_>) -> Result<DataFrame> {
        Pandas::from_value(v)?.into_frame()
    }
}

impl Series {
    /// The Series' name.
    pub fn name(&self) -> &Label {
        &self.column.name
    }

    /// The index.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// The values.
    pub fn data(&self) -> &Data {
        &self.column.data
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.column.data.len()
    }

    /// `true` when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A one-column frame (`series.to_frame()`; an unnamed Series' column is `0`).
    pub fn into_frame(self) -> DataFrame {
        let mut column = self.column;
        if column.name == Label::None {
            column.name = Label::Int(0);
        }
        DataFrame {
            index: self.index,
            columns: vec![column],
            column_names: None,
        }
    }

    /// A text summary like `series.info()`.
    pub fn info(&self) -> String {
        info::series_info(self)
    }

    /// The values as `Vec<T>`.
    pub fn values_as<T: serde::de::DeserializeOwned>(&self) -> Result<Vec<T>> {
        de::column_as(&self.column, &Budget::new(None))
    }
}

impl Pandas {
    /// Reads a DataFrame or Series from a value of a graph.
    pub fn from_value(v: Value<'_, '_>) -> Result<Pandas> {
        build::pandas_with_cost(v).0
    }

    /// Reads the DataFrame or Series at the root of a loaded graph.
    pub fn from_graph(graph: &Graph<'_>) -> Result<Pandas> {
        build::pandas_with_cost(graph.root()).0
    }

    /// Deserializes the frame or Series into `T` (rows, columns; a Series' values or
    /// label → value map), as [`from_slice`](crate::from_slice) would.
    pub fn deserialize<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        let budget = Budget::new(None);
        T::deserialize(FrameDe {
            pandas: self.into(),
            budget: &budget,
        })
    }

    /// A text summary like `df.info()` / `series.info()`.
    pub fn info(&self) -> String {
        match self {
            Pandas::DataFrame(df) => df.info(),
            Pandas::Series(s) => s.info(),
        }
    }
}

/// `true` when `v` is a pickled DataFrame or Series (its class and state; the frame
/// in it may still be malformed, which [`Pandas::from_value`] reports).
pub fn is_pandas(v: Value<'_, '_>) -> bool {
    build::is_pandas_object(v)
}

/// Reads a pickled DataFrame or Series from a file: any format
/// [`load_file`](crate::load_file) reads, compressed ones included.
///
/// The graph is read borrowed from the file's bytes and dropped once the frame is
/// rebuilt, so the peak is about the file plus the frame.
pub fn read_pickle(path: impl AsRef<std::path::Path>) -> Result<Pandas> {
    read_pickle_with(path, &crate::file::FileOptions::default())
}

/// [`read_pickle`] with options (limits, decompression, allow-lists).
pub fn read_pickle_with(
    path: impl AsRef<std::path::Path>,
    options: &crate::file::FileOptions,
) -> Result<Pandas> {
    crate::file::with_graph(path.as_ref(), options, Pandas::from_graph)
}

/// Reads a pickled DataFrame or Series from bytes (compressed ones are inflated).
pub fn read_pickle_bytes(bytes: &[u8]) -> Result<Pandas> {
    let graph = crate::load_slice(bytes)?;
    Pandas::from_graph(&graph)
}
