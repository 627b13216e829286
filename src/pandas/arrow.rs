//! DataFrames as Arrow record batches and Arrow IPC files (feature `arrow`), with the
//! `pandas` schema metadata pyarrow writes, so that `pd.read_feather` and
//! `pd.read_parquet` rebuild the frame: its index (a RangeIndex as metadata only, other
//! indexes as columns), column labels (MultiIndex columns too) and dtypes.
//!
//! | pandas column | Arrow type | `pandas_type` / `numpy_type` |
//! | --- | --- | --- |
//! | `bool`, `int8`…`uint64`, `float32`/`float64` (NaN → null) | the same primitive | `int64` / `int64` … |
//! | `Int8`…`UInt64`, `Float32`/`Float64`, `boolean` (pd.NA → null) | the same primitive | `int64` / `Int64` … |
//! | `object` of str | `string` (an all-missing or empty one: `null`) | `unicode` / `object` (`empty`) |
//! | `object` of bool, int, float (int and float: double), bytes | `bool`, `int64`, `double`, `binary` | `bool`, `int64`, `float64`, `bytes` / `object` |
//! | `string` (python storage), `str` of python storage | `string` | `unicode` / `string`, `str` |
//! | `string[pyarrow]`, pandas 3's `str` | `large_string` | `object` / `string`, `str` |
//! | `category` | `dictionary<int8…int64, values>` with `ordered` (codes as wide as pandas makes them) | `categorical` / `int8` …, `{num_categories, ordered}` |
//! | `datetime64[unit]` | `timestamp[unit]` | `datetime` / `datetime64[unit]` |
//! | `datetime64[unit, tz]` | `timestamp[unit, tz]` (IANA name, `+05:30`) | `datetimetz` / `datetime64[unit]`, `{timezone}` |
//! | `timedelta64[unit]` | `duration[unit]` | `object` / `timedelta64[unit]` |
//! | `ArrowDtype` columns | their own type | … / `int64[pyarrow]` … |
//!
//! Complex columns, object columns of several types (`int` and `str`) or of other
//! objects (lists, dicts, datetimes, Decimals) are errors naming the column, as in
//! pyarrow.

use super::{Cell, Data, DataFrame, IndexKind, Kind, Label, Values, WriteOptions};
use crate::error::{Error, ErrorKind, Result};
use arrow_array::types::{
    ArrowDictionaryKeyType, DurationMicrosecondType, DurationMillisecondType,
    DurationNanosecondType, DurationSecondType, Float32Type, Float64Type, Int16Type, Int32Type,
    Int64Type, Int8Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{
    Array, ArrayRef, ArrowPrimitiveType, BinaryArray, BooleanArray, DictionaryArray,
    GenericStringArray, NullArray, OffsetSizeTrait, PrimitiveArray, RecordBatch,
    RecordBatchOptions,
};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit as AUnit};
use serde_json::{json, Value as Json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// An Arrow error as a crate error (I/O errors keep their kind).
pub(crate) fn arrow_error(e: ArrowError) -> Error {
    match e {
        ArrowError::IoError(_, io) => Error::from(io),
        e => Error::new(ErrorKind::Format, format!("arrow: {e}")),
    }
}

fn unsupported(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Unsupported, msg)
}

/// One column of the output (a data column or an index level).
struct Col<'a> {
    data: &'a Data,
    ty: DataType,
    /// A categorical's dictionary (its categories), built once for every batch.
    dict: Option<ArrayRef>,
}

/// What a frame becomes: the schema with its metadata and the columns to slice.
pub(crate) struct Plan<'a> {
    schema: SchemaRef,
    cols: Vec<Col<'a>>,
    rows: usize,
}

impl<'a> Plan<'a> {
    pub(crate) fn new(df: &'a DataFrame) -> Result<Plan<'a>> {
        // Data columns: their field names are str(label), as pyarrow's.
        let mut names: Vec<(Json, String)> = Vec::with_capacity(df.columns.len());
        let mut taken: HashSet<String> = HashSet::new();
        for c in &df.columns {
            let (meta, field) = name_strings(&c.name);
            if !taken.insert(field.clone()) {
                return Err(unsupported(format!(
                    "duplicate column name {field:?}: Parquet and Arrow columns need distinct names"
                )));
            }
            names.push((meta, field));
        }
        // Index levels: a RangeIndex is metadata only; other levels are columns named
        // after the level (`__index_level_N__` when unnamed or taken by a column).
        let mut descriptors: Vec<Json> = Vec::new();
        let mut index_cols: Vec<(Json, String, &'a Data)> = Vec::new();
        match (&df.index.kind, df.index.levels.as_slice()) {
            (IndexKind::Range { start, stop, step }, [level]) => {
                descriptors.push(json!({
                    "kind": "range",
                    "name": label_json(&level.name),
                    "start": start,
                    "stop": stop,
                    "step": step,
                }));
            }
            (_, levels) => {
                for (i, level) in levels.iter().enumerate() {
                    let (meta, own) = name_strings(&level.name);
                    let field = if level.name != Label::None && !taken.contains(&own) {
                        own
                    } else {
                        let mut j = i;
                        while taken.contains(&format!("__index_level_{j}__")) {
                            j += 1;
                        }
                        format!("__index_level_{j}__")
                    };
                    taken.insert(field.clone());
                    descriptors.push(Json::String(field.clone()));
                    index_cols.push((meta, field, &level.data));
                }
            }
        }

        let mut fields = Vec::new();
        let mut cols = Vec::new();
        let mut meta_cols = Vec::new();
        let all = df
            .columns
            .iter()
            .zip(names)
            .map(|(c, (m, f))| (m, f, &c.data))
            .chain(index_cols);
        for (meta_name, field_name, data) in all {
            let ty = arrow_type(data, &field_name)?;
            let dict = match (data.values(), &ty) {
                (Values::Categorical { categories, .. }, DataType::Dictionary(_, vt)) => {
                    Some(build(categories, vt, 0, categories.len(), None)?)
                }
                _ => None,
            };
            let mut field = Field::new(field_name.clone(), ty.clone(), true);
            if let Values::Categorical { ordered, .. } = data.values() {
                field = field.with_dict_is_ordered(*ordered);
            }
            meta_cols.push(column_meta(meta_name, &field_name, data, &ty));
            fields.push(field);
            cols.push(Col { data, ty, dict });
        }

        let pandas = json!({
            "index_columns": descriptors,
            "column_indexes": column_indexes(df),
            "columns": meta_cols,
            "attributes": {},
            "creator": {"library": "serde_pickle_vm", "version": env!("CARGO_PKG_VERSION")},
        });
        let mut metadata = HashMap::new();
        metadata.insert("pandas".to_string(), pandas.to_string());
        Ok(Plan {
            schema: Arc::new(Schema::new_with_metadata(fields, metadata)),
            cols,
            rows: df.len(),
        })
    }

    pub(crate) fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Rows `a..b` as a record batch.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    pub(crate) fn batch(&self, a: usize, b: usize) -> Result<RecordBatch> {
        let arrays = self
            .cols
            .iter()
            .map(|c| build(c.data, &c.ty, a, b, c.dict.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        let opts = RecordBatchOptions::new().with_row_count(Some(b - a));
        RecordBatch::try_new_with_options(self.schema.clone(), arrays, &opts).map_err(arrow_error)
    }

    /// The batches of `rows` rows (the last may be shorter; none for an empty frame).
    pub(crate) fn batches(self, rows: usize) -> impl Iterator<Item = Result<RecordBatch>> + 'a {
        let rows = rows.max(1);
        let n = self.rows;
        (0..n)
            .step_by(rows)
            .map(move |a| self.batch(a, (a + rows).min(n)))
    }
}

impl DataFrame {
    /// The columns Arrow and Parquet cannot hold (complex numbers, Python objects of
    /// mixed types, lists and dicts, ints beyond 64 bits, duplicate names), with the
    /// reason for each: positions in [`columns`](Self::columns). Drop them with
    /// [`drop_columns`](Self::drop_columns) to write the rest.
    ///
    /// ```no_run
    /// let mut df = serde_pickle_vm::pandas::read_pickle("frame.pkl")?.into_frame()?;
    /// let bad = df.unwritable_columns();
    /// for (i, why) in &bad {
    ///     eprintln!("skipping column {}: {why}", df.columns()[*i].name);
    /// }
    /// df.drop_columns(&bad.iter().map(|(i, _)| *i).collect::<Vec<_>>());
    /// let out = std::fs::File::create("frame.parquet")?;
    /// serde_pickle_vm::pandas::write_parquet(&df, out, Default::default())?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unwritable_columns(&self) -> Vec<(usize, Error)> {
        let mut out = Vec::new();
        let mut taken: HashSet<String> = HashSet::new();
        for (i, c) in self.columns.iter().enumerate() {
            let (_, field) = name_strings(&c.name);
            if let Err(e) = arrow_type(&c.data, &field) {
                out.push((i, e));
            } else if !taken.insert(field.clone()) {
                out.push((
                    i,
                    unsupported(format!(
                        "duplicate column name {field:?}: Parquet and Arrow columns need distinct names"
                    )),
                ));
            }
        }
        out
    }

    /// The Arrow schema of the frame's columns and non-range index levels, with the
    /// `pandas` metadata pyarrow writes (`index_columns`, `column_indexes`, `columns`).
    pub fn arrow_schema(&self) -> Result<SchemaRef> {
        Ok(Plan::new(self)?.schema())
    }

    /// The whole frame as one record batch (see [`DataFrame::arrow_schema`]).
    pub fn to_record_batch(&self) -> Result<RecordBatch> {
        Plan::new(self)?.batch(0, self.len())
    }

    /// The frame as record batches of `rows` rows (0 is taken as 1), each built from
    /// the columns only when the iterator reaches it. A frame that cannot be written
    /// gives one error.
    pub fn record_batches(&self, rows: usize) -> impl Iterator<Item = Result<RecordBatch>> + '_ {
        let (plan, err) = match Plan::new(self) {
            Ok(p) => (Some(p), None),
            Err(e) => (None, Some(e)),
        };
        err.map(Err)
            .into_iter()
            .chain(plan.into_iter().flat_map(move |p| p.batches(rows)))
    }
}

/// Writes the frame as an Arrow IPC file (Feather v2: what `pd.read_feather` and
/// `pyarrow.ipc.open_file` read), uncompressed, one record batch per
/// `opts.batch_rows` rows.
pub fn write_ipc<W: std::io::Write>(df: &DataFrame, out: W, mut opts: WriteOptions) -> Result<()> {
    let plan = Plan::new(df)?;
    let schema = plan.schema();
    let mut w = arrow_ipc::writer::FileWriter::try_new(out, &schema).map_err(arrow_error)?;
    let mut done = 0u64;
    for batch in plan.batches(opts.batch_rows) {
        let batch = batch?;
        w.write(&batch).map_err(arrow_error)?;
        done += batch.num_rows() as u64;
        opts.report(done);
    }
    w.finish().map_err(arrow_error)?;
    Ok(())
}

/// (the `name` of the metadata, the field name) of a label, as pyarrow's
/// `_column_name_to_strings` and `str(name)`: a str itself, `None` as null / `"None"`,
/// other scalars in Python's `str`, a tuple as `str` of the tuple of its parts' strings.
fn name_strings(l: &Label) -> (Json, String) {
    match l {
        Label::None => (Json::Null, "None".into()),
        Label::Float(f) if f.is_nan() => (Json::Null, "nan".into()),
        l => {
            let s = label_string(l);
            (Json::String(s.clone()), s)
        }
    }
}

fn label_string(l: &Label) -> String {
    match l {
        Label::Tuple(parts) => {
            let texts: Vec<String> = parts
                .iter()
                .map(|p| match p {
                    Label::None => "None".to_string(),
                    Label::Float(f) if f.is_nan() => "nan".to_string(),
                    p => crate::pyrepr::str_repr(&label_string(p)),
                })
                .collect();
            if texts.len() == 1 {
                format!("({},)", texts[0])
            } else {
                format!("({})", texts.join(", "))
            }
        }
        l => l.to_string(),
    }
}

/// A level name as JSON, kept as its own type when JSON has one (pyarrow's
/// `_level_name`).
fn label_json(l: &Label) -> Json {
    match l {
        Label::None => Json::Null,
        Label::Str(s) | Label::Other(s) => Json::String(s.clone()),
        Label::Int(i) => json!(i),
        Label::Float(f) if f.is_finite() => json!(f),
        Label::Bool(b) => json!(b),
        l => Json::String(label_string(l)),
    }
}

/// `column_indexes`: one descriptor per level of the column axis, with the dtype
/// pandas would infer for its labels.
fn column_indexes(df: &DataFrame) -> Vec<Json> {
    let nlevels = match (&df.column_names, df.columns.first().map(|c| &c.name)) {
        (Some(n), _) => n.len().max(1),
        (None, Some(Label::Tuple(p))) => p.len().max(1),
        _ => 1,
    };
    (0..nlevels)
        .map(|lvl| {
            let labels: Vec<&Label> = df
                .columns
                .iter()
                .map(|c| match &c.name {
                    Label::Tuple(p) if nlevels > 1 => p.get(lvl).unwrap_or(&Label::None),
                    l => l,
                })
                .collect();
            let name = df
                .column_names
                .as_ref()
                .and_then(|n| n.get(lvl).cloned().flatten())
                .map_or(Json::Null, Json::String);
            let str_like = |l: &&Label| matches!(l, Label::Str(_) | Label::Other(_));
            let int = |l: &&Label| matches!(l, Label::Int(_));
            let num = |l: &&Label| matches!(l, Label::Int(_) | Label::Float(_));
            let (pandas_type, numpy_type, metadata) = if labels.is_empty() {
                ("int64", "int64", Json::Null)
            } else if labels.iter().all(str_like) {
                ("unicode", "object", json!({"encoding": "UTF-8"}))
            } else if labels.iter().all(int) {
                ("int64", "int64", Json::Null)
            } else if labels.iter().all(num) {
                ("float64", "float64", Json::Null)
            } else if labels.iter().any(int) {
                ("mixed-integer", "object", Json::Null)
            } else {
                ("mixed", "object", Json::Null)
            };
            json!({
                "name": name,
                "field_name": name,
                "pandas_type": pandas_type,
                "numpy_type": numpy_type,
                "metadata": metadata,
            })
        })
        .collect()
}

/// pyarrow's `get_logical_type` of an Arrow type.
fn logical_type(ty: &DataType) -> &'static str {
    match ty {
        DataType::Null => "empty",
        DataType::Boolean => "bool",
        DataType::Int8 => "int8",
        DataType::Int16 => "int16",
        DataType::Int32 => "int32",
        DataType::Int64 => "int64",
        DataType::UInt8 => "uint8",
        DataType::UInt16 => "uint16",
        DataType::UInt32 => "uint32",
        DataType::UInt64 => "uint64",
        DataType::Float16 => "float16",
        DataType::Float32 => "float32",
        DataType::Float64 => "float64",
        DataType::Utf8 => "unicode",
        DataType::Binary => "bytes",
        DataType::Dictionary(..) => "categorical",
        DataType::Timestamp(_, Some(_)) => "datetimetz",
        DataType::Timestamp(_, None) => "datetime",
        _ => "object",
    }
}

/// A column's entry of `columns` (pyarrow's `get_column_metadata`).
fn column_meta(name: Json, field: &str, d: &Data, ty: &DataType) -> Json {
    let (numpy_type, metadata) = match (d.kind(), d.values(), ty) {
        (
            Kind::Categorical,
            Values::Categorical {
                categories,
                ordered,
                ..
            },
            DataType::Dictionary(key, _),
        ) => (
            key.to_string().to_lowercase(),
            json!({"num_categories": categories.len(), "ordered": ordered}),
        ),
        (
            Kind::DateTimeTz,
            Values::DateTime {
                unit, tz: Some(tz), ..
            },
            _,
        ) => (
            format!("datetime64[{unit}]"),
            json!({"timezone": tz.arrow_name()}),
        ),
        // pandas cannot parse the dtype name of an ArrowDtype dictionary
        // (`dictionary<…>[pyarrow]`) back, so pyarrow's metadata for it makes
        // `read_parquet` fail; `category` reads it as a categorical.
        (Kind::Arrow { .. }, Values::Categorical { .. }, _) => ("category".into(), Json::Null),
        _ => (d.dtype_name(), Json::Null),
    };
    json!({
        "name": name,
        "field_name": field,
        "pandas_type": logical_type(ty),
        "numpy_type": numpy_type,
        "metadata": metadata,
    })
}

fn arrow_unit(u: &crate::array::TimeUnit, col: &str) -> Result<AUnit> {
    match (u.unit.as_str(), u.count) {
        ("s", 1) => Ok(AUnit::Second),
        ("ms", 1) => Ok(AUnit::Millisecond),
        ("us", 1) => Ok(AUnit::Microsecond),
        ("ns", 1) => Ok(AUnit::Nanosecond),
        _ => Err(unsupported(format!(
            "column {col:?} has time unit {u}; Parquet and Arrow have s, ms, us and ns"
        ))),
    }
}

/// The index type pandas gives a categorical's codes: the narrowest signed int that
/// holds the number of categories (`coerce_indexer_dtype`).
fn codes_type(n: usize) -> DataType {
    if n < i8::MAX as usize {
        DataType::Int8
    } else if n < i16::MAX as usize {
        DataType::Int16
    } else if n < i32::MAX as usize {
        DataType::Int32
    } else {
        DataType::Int64
    }
}

/// The index type named in pyarrow's `dictionary<values=…, indices=int32, …>`.
fn named_index_type(type_name: &str) -> Option<DataType> {
    let rest = type_name.split("indices=").nth(1)?;
    let name = rest.split([',', '>']).next()?.trim();
    Some(match name {
        "int8" => DataType::Int8,
        "int16" => DataType::Int16,
        "int32" => DataType::Int32,
        "int64" => DataType::Int64,
        "uint8" => DataType::UInt8,
        "uint16" => DataType::UInt16,
        "uint32" => DataType::UInt32,
        "uint64" => DataType::UInt64,
        _ => return None,
    })
}

/// The Arrow type a column is written as (see the module docs).
fn arrow_type(d: &Data, col: &str) -> Result<DataType> {
    Ok(match d.values() {
        Values::Bool(_) => DataType::Boolean,
        Values::I8(_) => DataType::Int8,
        Values::I16(_) => DataType::Int16,
        Values::I32(_) => DataType::Int32,
        Values::I64(_) => DataType::Int64,
        Values::U8(_) => DataType::UInt8,
        Values::U16(_) => DataType::UInt16,
        Values::U32(_) => DataType::UInt32,
        Values::U64(_) => DataType::UInt64,
        Values::F32(_) => DataType::Float32,
        Values::F64(_) => DataType::Float64,
        Values::C64(_) | Values::C128(_) => {
            return Err(unsupported(format!(
                "column {col:?} holds {} values; Parquet and Arrow have no complex type",
                d.dtype_name()
            )))
        }
        Values::Str(_) => match d.kind() {
            Kind::Object if d.null_count() == d.len() => DataType::Null,
            Kind::String { storage, .. } if storage == "python" => DataType::Utf8,
            Kind::String { .. } => DataType::LargeUtf8,
            Kind::Arrow { type_name } if type_name.starts_with("large_") => DataType::LargeUtf8,
            _ => DataType::Utf8,
        },
        Values::Object(cells) => object_type(cells, col)?,
        Values::DateTime { unit, tz, .. } => DataType::Timestamp(
            arrow_unit(unit, col)?,
            tz.as_ref().map(|t| t.arrow_name().into()),
        ),
        Values::TimeDelta { unit, .. } => DataType::Duration(arrow_unit(unit, col)?),
        Values::Categorical { categories, .. } => {
            if matches!(categories.values(), Values::Categorical { .. }) {
                return Err(unsupported(format!(
                    "column {col:?} is a categorical of categoricals"
                )));
            }
            let mut values = arrow_type(categories, col)?;
            let key = match d.kind() {
                Kind::Arrow { type_name } => {
                    if values == DataType::Utf8 && type_name.contains("values=large_string") {
                        values = DataType::LargeUtf8;
                    }
                    named_index_type(type_name).unwrap_or(DataType::Int32)
                }
                _ => codes_type(categories.len()),
            };
            DataType::Dictionary(Box::new(key), Box::new(values))
        }
    })
}

/// The one Arrow type of an object column's values, or an error naming the column.
fn object_type(cells: &[Cell], col: &str) -> Result<DataType> {
    let mut seen: Vec<&str> = Vec::new();
    for c in cells.iter().filter(|c| !c.is_null()) {
        let t = match c {
            Cell::Text(_) => "datetime, date, time, Decimal or UUID",
            c => c.type_name(),
        };
        if !seen.contains(&t) {
            seen.push(t);
        }
        if let Cell::BigInt(b) = c {
            return Err(unsupported(format!(
                "column {col:?} holds the int {b}, beyond the 64 bits of Parquet and Arrow ints"
            )));
        }
    }
    Ok(match seen.as_slice() {
        [] => DataType::Null,
        ["bool"] => DataType::Boolean,
        ["int"] => DataType::Int64,
        ["float"] | ["int", "float"] | ["float", "int"] => DataType::Float64,
        ["bytes"] => DataType::Binary,
        ["str"] => DataType::Utf8,
        [one] => {
            return Err(unsupported(format!(
                "column {col:?} holds {one} objects, which have no Parquet or Arrow type here"
            )))
        }
        many => {
            let (last, rest) = many.split_last().expect("two or more");
            return Err(unsupported(format!(
                "column {col:?} holds {} and {last} objects; Parquet and Arrow need one type per column",
                rest.join(", ")
            )));
        }
    })
}

/// The validity of rows `a..b`, `None` when all are present.
fn nulls(d: &Data, a: usize, b: usize) -> Option<NullBuffer> {
    let v = &d.validity()?[a..b];
    v.iter()
        .any(|x| !x)
        .then(|| NullBuffer::from(BooleanBuffer::from_iter(v.iter().copied())))
}

fn prim<T: ArrowPrimitiveType>(v: &[T::Native], nulls: Option<NullBuffer>) -> PrimitiveArray<T> {
    PrimitiveArray::<T>::new(ScalarBuffer::from(v.to_vec()), nulls)
}

fn strings<O: OffsetSizeTrait>(
    s: &super::Strings,
    a: usize,
    b: usize,
    nulls: Option<NullBuffer>,
) -> Result<ArrayRef> {
    let offs = &s.offsets()[a..=b];
    let base = offs[0];
    let offsets = offs
        .iter()
        .map(|&o| O::from_usize(o - base))
        .collect::<Option<Vec<O>>>()
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Limit,
                "a batch of strings is larger than 2 GiB (use fewer rows per batch)",
            )
        })?;
    let bytes = &s.data().as_bytes()[base..offs[b - a]];
    let arr = GenericStringArray::<O>::try_new(
        OffsetBuffer::new(ScalarBuffer::from(offsets)),
        Buffer::from(bytes),
        nulls,
    )
    .map_err(arrow_error)?;
    Ok(Arc::new(arr))
}

fn keys<K: ArrowDictionaryKeyType>(
    codes: &[i32],
    nulls: Option<NullBuffer>,
    dict: &ArrayRef,
) -> Result<ArrayRef>
where
    K::Native: num_traits::NumCast,
{
    let k: Vec<K::Native> = codes
        .iter()
        .map(|&c| num_traits::cast(c.max(0)).unwrap_or_default())
        .collect();
    let keys = PrimitiveArray::<K>::new(ScalarBuffer::from(k), nulls);
    DictionaryArray::<K>::try_new(keys, dict.clone())
        .map(|d| Arc::new(d) as ArrayRef)
        .map_err(arrow_error)
}

/// Rows `a..b` of a column as an Arrow array of type `ty`.
fn build(d: &Data, ty: &DataType, a: usize, b: usize, dict: Option<&ArrayRef>) -> Result<ArrayRef> {
    let n = nulls(d, a, b);
    let arr: ArrayRef = match (d.values(), ty) {
        (_, DataType::Null) => Arc::new(NullArray::new(b - a)),
        (Values::Bool(v), _) => Arc::new(BooleanArray::new(
            BooleanBuffer::from_iter(v[a..b].iter().copied()),
            n,
        )),
        (Values::I8(v), _) => Arc::new(prim::<Int8Type>(&v[a..b], n)),
        (Values::I16(v), _) => Arc::new(prim::<Int16Type>(&v[a..b], n)),
        (Values::I32(v), _) => Arc::new(prim::<Int32Type>(&v[a..b], n)),
        (Values::I64(v), _) => Arc::new(prim::<Int64Type>(&v[a..b], n)),
        (Values::U8(v), _) => Arc::new(prim::<UInt8Type>(&v[a..b], n)),
        (Values::U16(v), _) => Arc::new(prim::<UInt16Type>(&v[a..b], n)),
        (Values::U32(v), _) => Arc::new(prim::<UInt32Type>(&v[a..b], n)),
        (Values::U64(v), _) => Arc::new(prim::<UInt64Type>(&v[a..b], n)),
        (Values::F32(v), _) => Arc::new(prim::<Float32Type>(&v[a..b], n)),
        (Values::F64(v), _) => Arc::new(prim::<Float64Type>(&v[a..b], n)),
        (Values::Str(s), DataType::LargeUtf8) => strings::<i64>(s, a, b, n)?,
        (Values::Str(s), _) => strings::<i32>(s, a, b, n)?,
        (Values::Object(cells), DataType::Boolean) => Arc::new(BooleanArray::new(
            BooleanBuffer::from_iter(cells[a..b].iter().map(|c| matches!(c, Cell::Bool(true)))),
            n,
        )),
        (Values::Object(cells), DataType::Int64) => {
            let v: Vec<i64> = cells[a..b]
                .iter()
                .map(|c| match c {
                    Cell::Int(i) => *i,
                    _ => 0,
                })
                .collect();
            Arc::new(PrimitiveArray::<Int64Type>::new(ScalarBuffer::from(v), n))
        }
        (Values::Object(cells), DataType::Float64) => {
            let v: Vec<f64> = cells[a..b]
                .iter()
                .map(|c| match c {
                    Cell::Int(i) => *i as f64,
                    Cell::Float(f) => *f,
                    _ => 0.0,
                })
                .collect();
            Arc::new(PrimitiveArray::<Float64Type>::new(ScalarBuffer::from(v), n))
        }
        (Values::Object(cells), DataType::Binary) => {
            let items = cells[a..b].iter().map(|c| match c {
                Cell::Bytes(b) => Some(b.as_slice()),
                _ => None,
            });
            Arc::new(BinaryArray::from_iter(items))
        }
        (Values::Object(cells), DataType::Utf8) => {
            let items = cells[a..b].iter().map(|c| match c {
                Cell::Str(s) => Some(s.as_str()),
                _ => None,
            });
            Arc::new(GenericStringArray::<i32>::from_iter(items))
        }
        (Values::DateTime { values, .. }, DataType::Timestamp(u, tz)) => {
            let v = &values[a..b];
            let tz = tz.clone();
            match u {
                AUnit::Second => Arc::new(prim::<TimestampSecondType>(v, n).with_timezone_opt(tz)),
                AUnit::Millisecond => {
                    Arc::new(prim::<TimestampMillisecondType>(v, n).with_timezone_opt(tz))
                }
                AUnit::Microsecond => {
                    Arc::new(prim::<TimestampMicrosecondType>(v, n).with_timezone_opt(tz))
                }
                AUnit::Nanosecond => {
                    Arc::new(prim::<TimestampNanosecondType>(v, n).with_timezone_opt(tz))
                }
            }
        }
        (Values::TimeDelta { values, .. }, DataType::Duration(u)) => {
            let v = &values[a..b];
            match u {
                AUnit::Second => Arc::new(prim::<DurationSecondType>(v, n)),
                AUnit::Millisecond => Arc::new(prim::<DurationMillisecondType>(v, n)),
                AUnit::Microsecond => Arc::new(prim::<DurationMicrosecondType>(v, n)),
                AUnit::Nanosecond => Arc::new(prim::<DurationNanosecondType>(v, n)),
            }
        }
        (Values::Categorical { codes, .. }, DataType::Dictionary(key, _)) => {
            let dict = dict.ok_or_else(|| {
                Error::new(
                    ErrorKind::Format,
                    "a categorical column without its dictionary",
                )
            })?;
            let c = &codes[a..b];
            match key.as_ref() {
                DataType::Int8 => keys::<Int8Type>(c, n, dict)?,
                DataType::Int16 => keys::<Int16Type>(c, n, dict)?,
                DataType::Int32 => keys::<Int32Type>(c, n, dict)?,
                DataType::Int64 => keys::<Int64Type>(c, n, dict)?,
                DataType::UInt8 => keys::<UInt8Type>(c, n, dict)?,
                DataType::UInt16 => keys::<UInt16Type>(c, n, dict)?,
                DataType::UInt32 => keys::<UInt32Type>(c, n, dict)?,
                DataType::UInt64 => keys::<UInt64Type>(c, n, dict)?,
                other => {
                    return Err(unsupported(format!(
                        "dictionary index type {other} is not supported"
                    )))
                }
            }
        }
        (v, ty) => {
            return Err(Error::new(
                ErrorKind::Format,
                format!("cannot write {} values as Arrow {ty}", v.numpy_name()),
            ))
        }
    };
    debug_assert_eq!(arr.len(), b - a);
    Ok(arr)
}
