//! The columnar writers (features `arrow` and `parquet`): every DataFrame and Series of
//! the pandas fixtures (`fixtures/pandas/v3`, `v2`, `v1`) is written as Parquet and as
//! an Arrow IPC file into memory, read back with the `parquet` crate's
//! `ParquetRecordBatchReaderBuilder` and `arrow-ipc`'s `FileReader`, and compared with
//! the values pandas recorded (datetimes and timedeltas as nanoseconds); the schema's
//! `pandas` metadata names the index columns and the column labels as pyarrow would.
//! Frames Parquet and Arrow cannot hold (complex, mixed objects) are errors naming the
//! column.
#![cfg(all(feature = "arrow", feature = "parquet"))]

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, SchemaRef, TimeUnit};
use serde_json::Value as Json;
use serde_pickle_vm::pandas::{
    read_pickle, write_ipc, write_parquet, DataFrame, Pandas, WriteOptions,
};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

fn dir(v: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/pandas")
        .join(v)
}

fn read_json(p: &Path) -> Json {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn frame(p: &Path) -> DataFrame {
    match read_pickle(p).unwrap() {
        Pandas::DataFrame(df) => df,
        Pandas::Series(s) => s.into_frame(),
    }
}

fn opts(rows: usize) -> WriteOptions {
    WriteOptions {
        batch_rows: rows,
        ..WriteOptions::default()
    }
}

fn to_parquet(df: &DataFrame, rows: usize) -> serde_pickle_vm::Result<Vec<u8>> {
    let mut buf = Vec::new();
    write_parquet(df, &mut buf, opts(rows))?;
    Ok(buf)
}

fn to_ipc(df: &DataFrame, rows: usize) -> serde_pickle_vm::Result<Vec<u8>> {
    let mut buf = Vec::new();
    write_ipc(df, &mut buf, opts(rows))?;
    Ok(buf)
}

/// (schema, batches) of a Parquet file.
fn read_parquet(buf: Vec<u8>) -> (SchemaRef, Vec<RecordBatch>, usize) {
    let b = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        bytes::Bytes::from(buf),
    )
    .unwrap();
    let groups = b.metadata().num_row_groups();
    let schema = b.schema().clone();
    let reader = b.build().unwrap();
    let batches = reader.collect::<Result<Vec<_>, _>>().unwrap();
    (schema, batches, groups)
}

/// (schema, batches) of an Arrow IPC file.
fn read_ipc(buf: Vec<u8>) -> (SchemaRef, Vec<RecordBatch>) {
    let reader = arrow_ipc::reader::FileReader::try_new(std::io::Cursor::new(buf), None).unwrap();
    let schema = reader.schema();
    let batches = reader.collect::<Result<Vec<_>, _>>().unwrap();
    (schema, batches)
}

fn ns_per(u: &TimeUnit) -> i64 {
    match u {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    }
}

/// The `i`th value of an Arrow array as JSON (what the fixtures record: datetimes and
/// timedeltas as nanoseconds, a dictionary's value).
fn value(a: &dyn Array, i: usize) -> Json {
    if a.is_null(i) {
        return Json::Null;
    }
    macro_rules! p {
        ($t:ty) => {
            Json::from(a.as_primitive::<$t>().value(i))
        };
    }
    match a.data_type() {
        DataType::Boolean => Json::from(a.as_boolean().value(i)),
        DataType::Int8 => p!(Int8Type),
        DataType::Int16 => p!(Int16Type),
        DataType::Int32 => p!(Int32Type),
        DataType::Int64 => p!(Int64Type),
        DataType::UInt8 => p!(UInt8Type),
        DataType::UInt16 => p!(UInt16Type),
        DataType::UInt32 => p!(UInt32Type),
        DataType::UInt64 => p!(UInt64Type),
        DataType::Float32 => Json::from(a.as_primitive::<Float32Type>().value(i) as f64),
        DataType::Float64 => p!(Float64Type),
        DataType::Utf8 => Json::from(a.as_string::<i32>().value(i)),
        DataType::LargeUtf8 => Json::from(a.as_string::<i64>().value(i)),
        DataType::Timestamp(u, _) | DataType::Duration(u) => {
            let raw = match a.data_type() {
                DataType::Timestamp(TimeUnit::Second, _) => {
                    a.as_primitive::<TimestampSecondType>().value(i)
                }
                DataType::Timestamp(TimeUnit::Millisecond, _) => {
                    a.as_primitive::<TimestampMillisecondType>().value(i)
                }
                DataType::Timestamp(TimeUnit::Microsecond, _) => {
                    a.as_primitive::<TimestampMicrosecondType>().value(i)
                }
                DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                    a.as_primitive::<TimestampNanosecondType>().value(i)
                }
                DataType::Duration(TimeUnit::Second) => {
                    a.as_primitive::<DurationSecondType>().value(i)
                }
                DataType::Duration(TimeUnit::Millisecond) => {
                    a.as_primitive::<DurationMillisecondType>().value(i)
                }
                DataType::Duration(TimeUnit::Microsecond) => {
                    a.as_primitive::<DurationMicrosecondType>().value(i)
                }
                _ => a.as_primitive::<DurationNanosecondType>().value(i),
            };
            Json::from(raw * ns_per(u))
        }
        DataType::Dictionary(k, _) => {
            let (key, values): (usize, &ArrayRef) = match k.as_ref() {
                DataType::Int8 => {
                    let d = a.as_dictionary::<Int8Type>();
                    (d.keys().value(i) as usize, d.values())
                }
                DataType::Int16 => {
                    let d = a.as_dictionary::<Int16Type>();
                    (d.keys().value(i) as usize, d.values())
                }
                DataType::Int32 => {
                    let d = a.as_dictionary::<Int32Type>();
                    (d.keys().value(i) as usize, d.values())
                }
                DataType::Int64 => {
                    let d = a.as_dictionary::<Int64Type>();
                    (d.keys().value(i) as usize, d.values())
                }
                other => panic!("dictionary keys {other}"),
            };
            value(values.as_ref(), key)
        }
        other => panic!("unexpected Arrow type {other}"),
    }
}

/// Two JSON values equal, numbers by value (`1` and `1.0` alike).
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(p), Some(q)) => p == q,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(p), Some(q)) => p == q,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        _ => a == b,
    }
}

/// The values of field `f` over all batches.
fn column_values(batches: &[RecordBatch], f: usize) -> Vec<Json> {
    let mut out = Vec::new();
    for b in batches {
        let a = b.column(f);
        out.extend((0..a.len()).map(|i| value(a.as_ref(), i)));
    }
    out
}

fn check_values(got: &[Json], exp: &Json, what: &str) {
    let exp = exp
        .as_array()
        .unwrap_or_else(|| panic!("{what}: no values"));
    assert_eq!(got.len(), exp.len(), "{what}: row count");
    for (r, (g, e)) in got.iter().zip(exp).enumerate() {
        assert!(same(g, e), "{what}: row {r}: wrote {g}, pandas had {e}");
    }
}

/// A label as pyarrow's field name: a str itself, a tuple as `str(tuple)` of its parts'
/// strings.
fn field_name(l: &Json) -> String {
    match l {
        Json::String(s) => s.clone(),
        Json::Null => "None".into(),
        Json::Array(parts) => {
            let p: Vec<String> = parts
                .iter()
                .map(|p| format!("'{}'", field_name(p)))
                .collect();
            format!("({})", p.join(", "))
        }
        other => other.to_string(),
    }
}

/// Compares what was read back with the fixture's expected frame.
fn check(schema: &SchemaRef, batches: &[RecordBatch], exp: &Json, what: &str) {
    let text = schema
        .metadata()
        .get("pandas")
        .unwrap_or_else(|| panic!("{what}: no pandas metadata in {:?}", schema.metadata()));
    let meta: Json =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: pandas metadata: {e}"));
    let (columns, index): (Vec<Json>, &Json) = if exp["kind"] == "Series" {
        let name = if exp["name"].is_null() {
            Json::from(0)
        } else {
            exp["name"].clone()
        };
        let mut c = exp.clone();
        c["name"] = name;
        (vec![c], &exp["index"])
    } else {
        (exp["columns"].as_array().unwrap().clone(), &exp["index"])
    };
    let ncols = columns.len();
    // Data columns first, in order, named by their labels.
    for (i, c) in columns.iter().enumerate() {
        let name = field_name(&c["name"]);
        assert_eq!(schema.field(i).name(), &name, "{what}: field {i}");
        assert_eq!(
            meta["columns"][i]["field_name"], name,
            "{what}: metadata of field {i}"
        );
        let got = column_values(batches, i);
        let exp_vals = if c.get("ns").is_some() {
            &c["ns"]
        } else {
            &c["values"]
        };
        check_values(&got, exp_vals, &format!("{what}: column {name:?}"));
        if c["dtype"] == "category" {
            assert!(
                matches!(schema.field(i).data_type(), DataType::Dictionary(..)),
                "{what}: {name:?} is not a dictionary"
            );
            assert_eq!(
                schema.field(i).dict_is_ordered(),
                c["categories"]["ordered"].as_bool(),
                "{what}: {name:?} ordered"
            );
        }
    }
    // The index: a RangeIndex as metadata, other levels as the last columns.
    let ic = meta["index_columns"].as_array().unwrap();
    if index["kind"] == "range" {
        assert_eq!(schema.fields().len(), ncols, "{what}: fields");
        assert_eq!(ic.len(), 1, "{what}: index_columns");
        assert_eq!(ic[0]["kind"], "range");
        let r = index["range"].as_array().unwrap();
        assert_eq!(
            [&ic[0]["start"], &ic[0]["stop"], &ic[0]["step"]],
            [&r[0], &r[1], &r[2]],
            "{what}: range"
        );
    } else {
        let levels = index["levels"].as_array().unwrap();
        assert_eq!(ic.len(), levels.len(), "{what}: index_columns");
        assert_eq!(
            schema.fields().len(),
            ncols + levels.len(),
            "{what}: fields"
        );
        for (l, lv) in levels.iter().enumerate() {
            let f = ncols + l;
            let fname = ic[l].as_str().unwrap();
            assert_eq!(schema.field(f).name(), fname, "{what}: index field {l}");
            let expected_name = match &index["names"][l] {
                Json::String(s) => s.clone(),
                _ => format!("__index_level_{l}__"),
            };
            assert_eq!(fname, expected_name, "{what}: index level {l} name");
            let got = column_values(batches, f);
            let exp_vals = match index.get("ns").and_then(|n| n.get(l)) {
                Some(ns) if !ns.is_null() => ns,
                _ => lv,
            };
            check_values(&got, exp_vals, &format!("{what}: index level {l}"));
        }
    }
    // The labels of the column axis.
    let names = exp["column_names"].as_array().cloned().unwrap_or_default();
    let ci = meta["column_indexes"].as_array().unwrap();
    if exp["kind"] == "DataFrame" {
        assert_eq!(ci.len(), names.len().max(1), "{what}: column_indexes");
        for (l, n) in names.iter().enumerate() {
            assert_eq!(&ci[l]["name"], n, "{what}: column level {l} name");
        }
    }
}

/// Cases Parquet and Arrow cannot hold, and the column the error must name.
const UNWRITABLE: &[(&str, &str)] = &[("numeric", "\"c128\""), ("objects", "\"mixed\"")];

#[test]
fn fixtures_round_trip() {
    let mut checked = 0;
    for v in ["v3", "v2", "v1"] {
        let d = dir(v);
        let manifest = read_json(&d.join("manifest.json"));
        let mut seen = std::collections::HashSet::new();
        for f in manifest["files"].as_array().unwrap() {
            let case = f["case"].as_str().unwrap();
            if !f["codec"].is_null() || !seen.insert(case.to_string()) {
                continue;
            }
            let what = format!("{v}/{}", f["file"].as_str().unwrap());
            let exp = read_json(&d.join(f["expected"].as_str().unwrap()));
            let df = frame(&d.join(f["file"].as_str().unwrap()));
            if let Some((_, col)) = UNWRITABLE.iter().find(|(c, _)| *c == case) {
                for e in [to_parquet(&df, 2).unwrap_err(), to_ipc(&df, 2).unwrap_err()] {
                    assert!(e.to_string().contains(col), "{what}: {e}");
                }
                continue;
            }
            for rows in [2, 65_536] {
                let w = format!("{what} (parquet, {rows} rows a batch)");
                let (schema, batches, _) = read_parquet(to_parquet(&df, rows).unwrap());
                check(&schema, &batches, &exp, &w);
                let w = format!("{what} (ipc, {rows} rows a batch)");
                let (schema, batches) = read_ipc(to_ipc(&df, rows).unwrap());
                check(&schema, &batches, &exp, &w);
            }
            // The schema of the frame is the schema written.
            let (schema, _) = read_ipc(to_ipc(&df, 2).unwrap());
            assert_eq!(
                schema.as_ref(),
                df.arrow_schema().unwrap().as_ref(),
                "{what}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 60, "only {checked} fixtures checked");
}

#[test]
fn bounded_batches() {
    // categorical: 5 rows, two categoricals and a CategoricalIndex.
    let df = frame(&dir("v3").join("categorical.p5.pkl"));
    assert_eq!(df.len(), 5);
    let batches: Vec<RecordBatch> = df.record_batches(2).map(|b| b.unwrap()).collect();
    let sizes: Vec<usize> = batches.iter().map(|b| b.num_rows()).collect();
    assert_eq!(sizes, [2, 2, 1]);
    // Every batch carries the whole dictionary (the categories, in their order).
    for b in &batches {
        let d = b.column(0).as_dictionary::<Int8Type>();
        let cats: Vec<&str> = d.values().as_string::<i64>().iter().flatten().collect();
        assert_eq!(cats, ["blue", "green", "red"]);
    }
    let whole = df.to_record_batch().unwrap();
    assert_eq!(whole.num_rows(), 5);
    assert_eq!(whole.schema(), df.arrow_schema().unwrap());
    assert_eq!(df.record_batches(0).count(), 5);

    // One Parquet row group and one IPC batch per batch; progress after each.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let mut buf = Vec::new();
    let o = WriteOptions {
        batch_rows: 2,
        progress: Some(Box::new(move |n| s.lock().unwrap().push(n))),
    };
    write_parquet(&df, &mut buf, o).unwrap();
    assert_eq!(*seen.lock().unwrap(), [2, 4, 5]);
    let (_, batches, groups) = read_parquet(buf);
    assert_eq!(groups, 3);
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 5);
    let (_, batches) = read_ipc(to_ipc(&df, 2).unwrap());
    assert_eq!(batches.len(), 3);
}

/// The categories of a column's dictionary page in each row group of a Parquet file
/// (PLAIN byte arrays), read with the `parquet` crate's page reader.
fn dictionary_pages(buf: &[u8], column: usize) -> Vec<Vec<String>> {
    use parquet::column::page::Page;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let r = SerializedFileReader::new(bytes::Bytes::copy_from_slice(buf)).unwrap();
    (0..r.num_row_groups())
        .map(|g| {
            let rg = r.get_row_group(g).unwrap();
            let meta = rg.metadata().column(column);
            assert!(meta.dictionary_page_offset().is_some(), "row group {g}");
            let mut pages = rg.get_column_page_reader(column).unwrap();
            let Some(Page::DictionaryPage {
                buf, num_values, ..
            }) = pages.get_next_page().unwrap()
            else {
                panic!("row group {g}: no dictionary page first");
            };
            let mut out = Vec::new();
            let mut b = &buf[..];
            for _ in 0..num_values {
                let n = u32::from_le_bytes(b[..4].try_into().unwrap()) as usize;
                out.push(String::from_utf8(b[4..4 + n].to_vec()).unwrap());
                b = &b[4 + n..];
            }
            assert!(b.is_empty());
            out
        })
        .collect()
}

#[test]
fn categories_kept_in_every_row_group() {
    // series_cat: ['b', 'a', NaN, 'b'] over categories ['a', 'b', 'c'] ('c' unused);
    // categorical: color ['red', 'green', NaN, 'red', 'blue'] over ['blue', 'green',
    // 'red'], and its CategoricalIndex (column 2). Two rows a row group: the later row
    // groups use fewer categories, or none of some.
    for (file, column, cats) in [
        ("series_cat.p5.pkl", 0, &["a", "b", "c"][..]),
        ("categorical.p5.pkl", 0, &["blue", "green", "red"][..]),
        ("categorical.p5.pkl", 2, &["g1", "g2", "g3"][..]),
    ] {
        let df = frame(&dir("v3").join(file));
        let buf = to_parquet(&df, 2).unwrap();
        let pages = dictionary_pages(&buf, column);
        assert_eq!(pages.len(), df.len().div_ceil(2), "{file}");
        for p in &pages {
            assert_eq!(p, cats, "{file}: column {column}");
        }
        // The Arrow reader hands back that dictionary in every batch of a row group
        // (a batch across row groups it re-encodes from the values).
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            bytes::Bytes::from(buf),
        )
        .unwrap()
        .with_batch_size(2)
        .build()
        .unwrap();
        let batches = reader.collect::<Result<Vec<_>, _>>().unwrap();
        assert_eq!(batches.len(), pages.len());
        for b in &batches {
            assert!(matches!(
                b.schema().field(column).data_type(),
                DataType::Dictionary(..)
            ));
            let d = b.column(column).as_any_dictionary();
            let got: Vec<Json> = (0..d.values().len())
                .map(|i| value(d.values(), i))
                .collect();
            assert_eq!(got, cats, "{file}: column {column}");
        }
    }
}

#[test]
fn mixed_objects_are_an_error() {
    let df = frame(&dir("v3").join("objects.p5.pkl"));
    let msg = df.arrow_schema().unwrap_err().to_string();
    assert!(
        msg.contains("column \"mixed\" holds int, str and float objects")
            && msg.contains("one type per column"),
        "{msg}"
    );
    // The error comes out of the batch iterator too, once.
    let errs: Vec<_> = df.record_batches(2).collect();
    assert_eq!(errs.len(), 1);
    assert!(errs[0].is_err());
}

#[test]
fn complex_is_an_error() {
    let df = frame(&dir("v2").join("numeric.p5.pkl"));
    let msg = to_parquet(&df, 10).unwrap_err().to_string();
    assert!(
        msg.contains("column \"c128\" holds complex128 values"),
        "{msg}"
    );
}

#[test]
fn pandas_metadata_as_pyarrow_writes_it() {
    // A MultiIndex: one column per level, named by the levels.
    let df = frame(&dir("v3").join("multiindex.p5.pkl"));
    let schema = df.arrow_schema().unwrap();
    let text = schema
        .metadata()
        .get("pandas")
        .unwrap_or_else(|| panic!("no pandas metadata in {:?}", schema.metadata()));
    let meta: Json = serde_json::from_str(text).unwrap();
    assert_eq!(meta["index_columns"], serde_json::json!(["city", "year"]));
    let cols = meta["columns"].as_array().unwrap();
    let names: Vec<&str> = cols.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["pop", "n", "city", "year"]);
    assert_eq!(cols[2]["pandas_type"], "object");
    assert_eq!(cols[2]["numpy_type"], "str");
    // MultiIndex columns: str(tuple) names, one column_indexes entry per level.
    let df = frame(&dir("v2").join("multi_columns.p5.pkl"));
    let schema = df.arrow_schema().unwrap();
    let text = schema
        .metadata()
        .get("pandas")
        .unwrap_or_else(|| panic!("no pandas metadata in {:?}", schema.metadata()));
    let meta: Json = serde_json::from_str(text).unwrap();
    assert_eq!(schema.field(0).name(), "('a', 'x')");
    let ci = &meta["column_indexes"];
    assert_eq!(ci[0]["name"], "top");
    assert_eq!(ci[1]["name"], "sub");
    assert_eq!(ci[0]["pandas_type"], "unicode");
    // Types: nullable, categorical codes, tz-aware, object strings.
    let df = frame(&dir("v2").join("mixed.p5.pkl"));
    let schema = df.arrow_schema().unwrap();
    let text = schema
        .metadata()
        .get("pandas")
        .unwrap_or_else(|| panic!("no pandas metadata in {:?}", schema.metadata()));
    let meta: Json = serde_json::from_str(text).unwrap();
    let by_name = |n: &str| {
        meta["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(by_name("count")["numpy_type"], "Int64");
    assert_eq!(by_name("grade")["numpy_type"], "int8");
    assert_eq!(by_name("grade")["metadata"]["num_categories"], 3);
    assert_eq!(by_name("ts")["pandas_type"], "datetimetz");
    assert_eq!(by_name("ts")["metadata"]["timezone"], "UTC");
    assert_eq!(by_name("name")["pandas_type"], "unicode");
    assert_eq!(by_name("name")["numpy_type"], "object");
    assert_eq!(
        schema.field_with_name("ts").unwrap().data_type(),
        &DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
    );
    assert_eq!(
        schema.field_with_name("name").unwrap().data_type(),
        &DataType::Utf8
    );
    // A fixed offset is written as "+05:30".
    let df = frame(&dir("v3").join("datetimes.p5.pkl"));
    let schema = df.arrow_schema().unwrap();
    assert_eq!(
        schema.field_with_name("ist").unwrap().data_type(),
        &DataType::Timestamp(TimeUnit::Nanosecond, Some("+05:30".into()))
    );
    assert_eq!(
        schema.field_with_name("td").unwrap().data_type(),
        &DataType::Duration(TimeUnit::Nanosecond)
    );
}

#[test]
fn empty_frames() {
    for (v, case) in [("v3", "empty"), ("v3", "empty_nocols"), ("v1", "empty")] {
        let df = frame(&dir(v).join(format!("{case}.p5.pkl")));
        assert_eq!(df.record_batches(2).count(), 0);
        let b = df.to_record_batch().unwrap();
        assert_eq!(b.num_rows(), 0);
        let (schema, batches, _) = read_parquet(to_parquet(&df, 2).unwrap());
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 0);
        assert_eq!(schema.fields().len(), df.columns().len());
        let (schema, _) = read_ipc(to_ipc(&df, 2).unwrap());
        assert_eq!(schema.fields().len(), df.columns().len());
    }
}
