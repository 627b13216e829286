//! DataFrames as Parquet files (feature `parquet`): the Arrow record batches of
//! [`arrow`](super::arrow) through the `parquet` crate's Arrow writer, one row group
//! per batch, snappy-compressed, with the Arrow schema (`ARROW:schema`) and pyarrow's
//! `pandas` metadata in the file's key-value metadata — what `pd.read_parquet` reads
//! back into the frame.
//!
//! Parquet has no timestamp in seconds: such columns are stored in milliseconds (a
//! `TIMESTAMP(MILLIS)` column) under an `ARROW:schema` that says `timestamp[s]`, as
//! pyarrow stores them, so pyarrow reads them back in seconds.
//!
//! Categoricals of strings (or bytes) are written here rather than by the crate's
//! column writers, which re-encode a dictionary array from its values (categories in
//! order of first appearance, unused ones dropped): each row group's column chunk is a
//! PLAIN dictionary page of the categories as pandas holds them, then RLE_DICTIONARY
//! data pages of the codes, as pyarrow writes them, so `pd.read_parquet` gives back
//! the same categories in the same order (every row group has the same dictionary,
//! which pyarrow keeps as is when it joins them). Categoricals of other values are left
//! to the crate's writers: pyarrow reads those back as plain columns anyway.

use super::arrow::{arrow_error, Plan};
use super::{DataFrame, WriteOptions};
use crate::error::{Error, ErrorKind, Result};
use arrow_array::cast::AsArray;
use arrow_array::types::TimestampSecondType;
use arrow_array::{Array, ArrayRef, PrimitiveArray, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use bytes::Bytes;
use parquet::arrow::arrow_writer::{
    compute_leaves, ArrowColumnChunk, ArrowColumnWriter, ArrowLeafColumn, ArrowWriterOptions,
};
use parquet::arrow::{add_encoded_arrow_schema_to_metadata, ArrowWriter};
use parquet::basic::{Compression, Encoding};
use parquet::column::page::{CompressedPage, Page, PageWriteSpec, PageWriter};
use parquet::column::writer::ColumnCloseResult;
use parquet::data_type::ByteArray;
use parquet::errors::ParquetError;
use parquet::file::metadata::{ColumnChunkMetaData, ColumnChunkMetaDataBuilder, KeyValue};
use parquet::file::page_index::offset_index::{OffsetIndexMetaData, PageLocation};
use parquet::file::properties::WriterProperties;
use parquet::file::statistics::Statistics;
use parquet::file::writer::{SerializedPageWriter, TrackedWrite};
use parquet::schema::types::ColumnDescPtr;
use std::sync::Arc;

fn parquet_error(e: ParquetError) -> Error {
    match e {
        ParquetError::External(inner) => match inner.downcast::<std::io::Error>() {
            Ok(io) => Error::from(*io),
            Err(other) => Error::new(ErrorKind::Format, format!("parquet: {other}")),
        },
        e => Error::new(ErrorKind::Format, format!("parquet: {e}")),
    }
}

/// The schema the Parquet columns are written with: timestamps in seconds become
/// milliseconds.
fn storage_schema(schema: &Schema) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Timestamp(TimeUnit::Second, tz) => f
                .as_ref()
                .clone()
                .with_data_type(DataType::Timestamp(TimeUnit::Millisecond, tz.clone())),
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// A batch in the storage schema.
fn to_storage(batch: RecordBatch, storage: &SchemaRef) -> Result<RecordBatch> {
    if batch.schema().fields() == storage.fields() {
        return Ok(batch);
    }
    let columns = batch
        .columns()
        .iter()
        .zip(storage.fields())
        .map(|(c, f)| -> Result<ArrayRef> {
            let DataType::Timestamp(TimeUnit::Second, tz) = c.data_type() else {
                return Ok(c.clone());
            };
            let secs = c.as_primitive::<TimestampSecondType>();
            let mut out = Vec::with_capacity(secs.len());
            for (i, &s) in secs.values().iter().enumerate() {
                out.push(match s.checked_mul(1000) {
                    Some(ms) => ms,
                    None if secs.is_null(i) => 0,
                    None => {
                        return Err(Error::new(
                            ErrorKind::Unsupported,
                            format!(
                                "column {:?}: the datetime {s} s is beyond what Parquet's \
                                 milliseconds hold",
                                f.name()
                            ),
                        ))
                    }
                });
            }
            let ms = PrimitiveArray::<arrow_array::types::TimestampMillisecondType>::new(
                out.into(),
                secs.nulls().cloned(),
            )
            .with_timezone_opt(tz.clone());
            Ok(Arc::new(ms))
        })
        .collect::<Result<Vec<_>>>()?;
    RecordBatch::try_new_with_options(
        storage.clone(),
        columns,
        &arrow_array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )
    .map_err(arrow_error)
}

/// Writes the frame as a Parquet file: one row group per `opts.batch_rows` rows,
/// snappy compression, and the metadata `pd.read_parquet` rebuilds the index, the
/// column labels and the dtypes from.
pub fn write_parquet<W: std::io::Write + Send>(
    df: &DataFrame,
    out: W,
    mut opts: WriteOptions,
) -> Result<()> {
    let plan = Plan::new(df)?;
    let rows = opts.batch_rows.max(1);
    let schema = plan.schema();
    let storage = storage_schema(&schema);
    // The `pandas` metadata also as a key of the file's own metadata (as pyarrow
    // writes it), for readers that do not decode `ARROW:schema`.
    let kv: Vec<KeyValue> = schema
        .metadata()
        .iter()
        .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
        .collect();
    // Dictionary encoding where it pays (as pyarrow, which falls back to plain once a
    // dictionary outgrows its page): columns whose first rows are mostly distinct (ids,
    // measurements, timestamps) are written plain from the start, which saves building
    // a dictionary of a million entries only to drop it.
    let sample = plan.batch(0, plan.rows().min(SAMPLE))?;
    let mut builder = WriterProperties::builder();
    for (field, column) in schema.fields().iter().zip(sample.columns()) {
        if mostly_distinct(column.as_ref()) {
            builder = builder.set_column_dictionary_enabled(
                parquet::schema::types::ColumnPath::from(field.name().as_str()),
                false,
            );
        }
    }
    let mut props = builder
        .set_key_value_metadata(Some(kv))
        .set_compression(Compression::SNAPPY)
        .set_created_by(format!(
            "serde_pickle_vm version {}",
            env!("CARGO_PKG_VERSION")
        ))
        .build();
    // The Arrow schema of the frame (seconds and all), not of the storage.
    add_encoded_arrow_schema_to_metadata(&schema, &mut props);
    let options = ArrowWriterOptions::new()
        .with_properties(props)
        .with_skip_arrow_metadata(true);
    // The Arrow writer makes the file writer (Parquet schema, properties, metadata);
    // its column writers write every column but the categoricals of strings.
    let (mut file, columns) = ArrowWriter::try_new_with_options(out, storage.clone(), options)
        .and_then(ArrowWriter::into_serialized_writer)
        .map_err(parquet_error)?;
    let leaves = file.schema_descr().columns().to_vec();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let mut done = 0u64;
    for (group, batch) in plan.batches(rows).enumerate() {
        let batch = to_storage(batch?, &storage)?;
        if batch.num_rows() == 0 {
            continue;
        }
        let mut writers = columns
            .create_column_writers(group)
            .map_err(parquet_error)?
            .into_iter();
        // One task per column: its leaves, their writers (a categorical of strings is
        // written here, its writer unused).
        let mut leaf = leaves.iter();
        let mut tasks = Vec::new();
        for (field, column) in storage.fields().iter().zip(batch.columns()) {
            let parts = compute_leaves(field, column).map_err(parquet_error)?;
            let descrs: Vec<ColumnDescPtr> = leaf.by_ref().take(parts.len()).cloned().collect();
            let ws: Vec<_> = writers.by_ref().take(parts.len()).collect();
            if ws.len() != parts.len() {
                return Err(schema_mismatch(field));
            }
            tasks.push(Task {
                descrs,
                column: column.clone(),
                parts,
                writers: ws,
            });
        }
        // Columns are encoded and compressed in parallel, appended in order.
        let encoded = encode_all(tasks, threads)?;
        let mut rg = file.next_row_group().map_err(parquet_error)?;
        for e in encoded {
            match e {
                Encoded::Dictionary(data, close) => {
                    rg.append_column(&data, *close).map_err(parquet_error)?
                }
                Encoded::Chunks(chunks) => {
                    for c in chunks {
                        c.append_to_row_group(&mut rg).map_err(parquet_error)?;
                    }
                }
            }
        }
        rg.close().map_err(parquet_error)?;
        done += batch.num_rows() as u64;
        opts.report(done);
    }
    file.close().map_err(parquet_error)?;
    Ok(())
}

/// Rows sampled to decide on dictionary encoding.
const SAMPLE: usize = 4096;

/// More than half of the values distinct (nulls aside): a dictionary would not pay.
/// Dictionaries (categoricals) and bools are never "mostly distinct".
fn mostly_distinct(a: &dyn Array) -> bool {
    use std::collections::HashSet;
    let n = a.len();
    if n < 64 {
        return false;
    }
    let present = n - a.null_count();
    let distinct = match a.data_type() {
        DataType::Utf8 => a
            .as_string::<i32>()
            .iter()
            .flatten()
            .collect::<HashSet<_>>()
            .len(),
        DataType::LargeUtf8 => a
            .as_string::<i64>()
            .iter()
            .flatten()
            .collect::<HashSet<_>>()
            .len(),
        DataType::Dictionary(..) | DataType::Boolean => return false,
        t => match t.primitive_width() {
            Some(w) => {
                let data = a.to_data();
                let Some(buf) = data.buffers().first() else {
                    return false;
                };
                let values = &buf.as_slice()[data.offset() * w..];
                (0..n)
                    .filter(|&i| a.is_valid(i))
                    .filter_map(|i| values.get(i * w..(i + 1) * w))
                    .collect::<HashSet<_>>()
                    .len()
            }
            None => return false,
        },
    };
    distinct * 2 > present
}

/// One column of a row group to encode.
struct Task {
    descrs: Vec<ColumnDescPtr>,
    column: ArrayRef,
    parts: Vec<ArrowLeafColumn>,
    writers: Vec<ArrowColumnWriter>,
}

/// A column chunk ready to append.
enum Encoded {
    /// A categorical of strings, written here.
    Dictionary(Bytes, Box<ColumnCloseResult>),
    /// The crate's column chunks, one per leaf.
    Chunks(Vec<ArrowColumnChunk>),
}

fn encode(task: Task) -> Result<Encoded> {
    if let [descr] = &task.descrs[..] {
        if let Some((data, close)) = dictionary_chunk(descr, &task.column)? {
            return Ok(Encoded::Dictionary(data, Box::new(close)));
        }
    }
    let mut chunks = Vec::with_capacity(task.parts.len());
    for (part, mut w) in task.parts.iter().zip(task.writers) {
        w.write(part).map_err(parquet_error)?;
        chunks.push(w.close().map_err(parquet_error)?);
    }
    Ok(Encoded::Chunks(chunks))
}

/// Encodes the tasks on up to `threads` threads (columns dealt out in turn); the
/// results in the tasks' order.
fn encode_all(tasks: Vec<Task>, threads: usize) -> Result<Vec<Encoded>> {
    let n = tasks.len();
    if threads <= 1 || n <= 1 {
        return tasks.into_iter().map(encode).collect();
    }
    let mut lanes: Vec<Vec<(usize, Task)>> = (0..threads.min(n)).map(|_| Vec::new()).collect();
    for (i, t) in tasks.into_iter().enumerate() {
        let k = lanes.len();
        lanes[i % k].push((i, t));
    }
    let mut out: Vec<Option<Result<Encoded>>> = (0..n).map(|_| None).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = lanes
            .into_iter()
            .map(|lane| {
                scope.spawn(move || {
                    lane.into_iter()
                        .map(|(i, t)| (i, encode(t)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(results) => {
                    for (i, r) in results {
                        out[i] = Some(r);
                    }
                }
                Err(p) => std::panic::resume_unwind(p),
            }
        }
    });
    out.into_iter()
        .map(|r| r.expect("every task ran"))
        .collect()
}

fn schema_mismatch(field: &Field) -> Error {
    Error::new(
        ErrorKind::Format,
        format!(
            "parquet: column {:?} does not match the file's schema",
            field.name()
        ),
    )
}

/// Rows per data page of a categorical column chunk.
const PAGE_ROWS: usize = 1 << 16;

/// A categorical column of strings or bytes as one column chunk (its bytes and what
/// the row group records of it): a PLAIN dictionary page of the categories in their
/// order, unused ones included, then RLE_DICTIONARY data pages of the codes (with
/// definition levels for the missing ones), snappy-compressed; chunk statistics of the
/// categories used. `None` for any other column.
fn dictionary_chunk(
    descr: &ColumnDescPtr,
    column: &ArrayRef,
) -> Result<Option<(Bytes, ColumnCloseResult)>> {
    let Some(dict) = column.as_any_dictionary_opt() else {
        return Ok(None);
    };
    let values = dict.values();
    let categories: Vec<&[u8]> = match values.data_type() {
        DataType::Utf8 => values
            .as_string::<i32>()
            .iter()
            .flatten()
            .map(str::as_bytes)
            .collect(),
        DataType::LargeUtf8 => values
            .as_string::<i64>()
            .iter()
            .flatten()
            .map(str::as_bytes)
            .collect(),
        DataType::Binary => values.as_binary::<i32>().iter().flatten().collect(),
        DataType::LargeBinary => values.as_binary::<i64>().iter().flatten().collect(),
        _ => return Ok(None),
    };
    let nullable = descr.max_def_level() == 1;
    if categories.len() != values.len()
        || descr.max_rep_level() != 0
        || descr.max_def_level() > 1
        || (!nullable && column.null_count() > 0)
    {
        return Ok(None);
    }
    let n = column.len();
    let keys = if categories.is_empty() {
        vec![0; n]
    } else {
        dict.normalized_keys()
    };
    let nulls = column.logical_nulls();
    let valid = |i: usize| nulls.as_ref().is_none_or(|m| m.is_valid(i));

    let mut sink = TrackedWrite::new(Vec::new());
    let mut pages = SerializedPageWriter::new(&mut sink);
    let mut specs = Vec::new();
    let mut plain = Vec::new();
    for c in &categories {
        plain.extend_from_slice(&(c.len() as u32).to_le_bytes());
        plain.extend_from_slice(c);
    }
    let page = compressed(plain, |buf| Page::DictionaryPage {
        buf,
        num_values: categories.len() as u32,
        encoding: Encoding::PLAIN,
        is_sorted: false,
    })?;
    specs.push(pages.write_page(page).map_err(parquet_error)?);

    let bits = (usize::BITS - categories.len().saturating_sub(1).leading_zeros()).max(1) as u8;
    let mut used = vec![false; categories.len()];
    let mut null_count = 0u64;
    let mut codes: Vec<u32> = Vec::with_capacity(PAGE_ROWS.min(n));
    let mut levels: Vec<u32> = Vec::with_capacity(PAGE_ROWS.min(n));
    for start in (0..n).step_by(PAGE_ROWS) {
        let end = (start + PAGE_ROWS).min(n);
        codes.clear();
        levels.clear();
        for i in start..end {
            let ok = valid(i);
            levels.push(ok as u32);
            if ok {
                used[keys[i]] = true;
                codes.push(keys[i] as u32);
            } else {
                null_count += 1;
            }
        }
        let mut buf = Vec::new();
        if nullable {
            let mut rle = Vec::new();
            rle_hybrid(&levels, 1, &mut rle);
            buf.extend_from_slice(&(rle.len() as u32).to_le_bytes());
            buf.extend_from_slice(&rle);
        }
        buf.push(bits);
        rle_hybrid(&codes, bits, &mut buf);
        let page = compressed(buf, |buf| Page::DataPage {
            buf,
            num_values: (end - start) as u32,
            encoding: Encoding::RLE_DICTIONARY,
            def_level_encoding: Encoding::RLE,
            rep_level_encoding: Encoding::RLE,
            statistics: None,
        })?;
        specs.push(pages.write_page(page).map_err(parquet_error)?);
    }
    pages.close().map_err(parquet_error)?;

    let mut seen = categories
        .iter()
        .zip(&used)
        .filter(|(_, &u)| u)
        .map(|(c, _)| *c);
    let first = seen.next();
    let (min, max) = seen.fold((first, first), |(lo, hi), c| {
        (lo.map(|l| l.min(c)), hi.map(|h| h.max(c)))
    });
    let stat = |v: Option<&[u8]>| v.map(|b| ByteArray::from(b.to_vec()));
    let data = sink.into_inner().map_err(parquet_error)?;
    let metadata = chunk_metadata(descr, &specs, n)
        .set_statistics(Statistics::byte_array(
            stat(min),
            stat(max),
            None,
            Some(null_count),
            false,
        ))
        .build()
        .map_err(parquet_error)?;
    let close = ColumnCloseResult {
        bytes_written: data.len() as u64,
        rows_written: n as u64,
        metadata,
        bloom_filter: None,
        column_index: None,
        // The crate's file writer wants an offset index of every column or of none.
        offset_index: Some(OffsetIndexMetaData {
            page_locations: specs[1..]
                .iter()
                .zip((0..n).step_by(PAGE_ROWS))
                .map(|(s, first)| PageLocation {
                    offset: s.offset as i64,
                    compressed_page_size: s.compressed_size as i32,
                    first_row_index: first as i64,
                })
                .collect(),
            unencoded_byte_array_data_bytes: None,
        }),
    };
    Ok(Some((Bytes::from(data), close)))
}

/// A page of `raw` bytes, snappy-compressed.
fn compressed(raw: Vec<u8>, page: impl FnOnce(Bytes) -> Page) -> Result<CompressedPage> {
    let buf = snap::raw::Encoder::new()
        .compress_vec(&raw)
        .map_err(|e| Error::new(ErrorKind::Format, format!("parquet: snappy: {e}")))?;
    Ok(CompressedPage::new(page(Bytes::from(buf)), raw.len()))
}

/// The column chunk's metadata from the pages written (offsets from its start, as
/// `append_column` takes them).
fn chunk_metadata(
    descr: &ColumnDescPtr,
    specs: &[PageWriteSpec],
    rows: usize,
) -> ColumnChunkMetaDataBuilder {
    let data_offset = specs.get(1).map_or(0, |s| s.offset);
    ColumnChunkMetaData::builder(descr.clone())
        .set_compression(Compression::SNAPPY)
        .set_encodings(vec![
            Encoding::PLAIN,
            Encoding::RLE,
            Encoding::RLE_DICTIONARY,
        ])
        .set_total_compressed_size(specs.iter().map(|s| s.compressed_size as i64).sum())
        .set_total_uncompressed_size(specs.iter().map(|s| s.uncompressed_size as i64).sum())
        .set_num_values(rows as i64)
        .set_dictionary_page_offset(Some(0))
        .set_data_page_offset(data_offset as i64)
}

/// Appends `values` (each below `2^bits`) to `out` in Parquet's RLE / bit-packed
/// hybrid encoding: runs of 8 or more equal values as RLE runs, the rest bit-packed
/// in groups of 8 (the last one padded with zeros).
fn rle_hybrid(values: &[u32], bits: u8, out: &mut Vec<u8>) {
    fn uleb(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push(v as u8 | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    fn pack(vals: &[u32], bits: u8, out: &mut Vec<u8>) {
        if vals.is_empty() {
            return;
        }
        let groups = vals.len().div_ceil(8);
        uleb(((groups as u64) << 1) | 1, out);
        let (mut acc, mut n) = (0u64, 0u32);
        for v in vals
            .iter()
            .copied()
            .chain(std::iter::repeat_n(0, groups * 8 - vals.len()))
        {
            acc |= u64::from(v) << n;
            n += u32::from(bits);
            while n >= 8 {
                out.push(acc as u8);
                acc >>= 8;
                n -= 8;
            }
        }
        debug_assert_eq!(n, 0);
    }
    let width = usize::from(bits).div_ceil(8);
    let mut pending: Vec<u32> = Vec::new();
    let mut i = 0;
    while i < values.len() {
        let v = values[i];
        let run = values[i..].iter().take_while(|&&x| x == v).count();
        if run >= 8 && pending.len() % 8 == 0 {
            pack(&pending, bits, out);
            pending.clear();
            uleb((run as u64) << 1, out);
            out.extend_from_slice(&v.to_le_bytes()[..width]);
            i += run;
        } else {
            let take = if run >= 8 { 8 - pending.len() % 8 } else { run };
            pending.extend_from_slice(&values[i..i + take]);
            i += take;
        }
    }
    pack(&pending, bits, out);
}
