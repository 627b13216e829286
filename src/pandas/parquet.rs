//! DataFrames as Parquet files (feature `parquet`): the Arrow record batches of
//! [`arrow`](super::arrow) through the `parquet` crate's Arrow writer, one row group
//! per batch, snappy-compressed, with the Arrow schema (`ARROW:schema`) and pyarrow's
//! `pandas` metadata in the file's key-value metadata — what `pd.read_parquet` reads
//! back into the frame.
//!
//! Parquet has no timestamp in seconds: such columns are stored in milliseconds (a
//! `TIMESTAMP(MILLIS)` column) under an `ARROW:schema` that says `timestamp[s]`, as
//! pyarrow stores them, so pyarrow reads them back in seconds.

use super::arrow::{arrow_error, Plan};
use super::{DataFrame, WriteOptions};
use crate::error::{Error, ErrorKind, Result};
use arrow_array::cast::AsArray;
use arrow_array::types::TimestampSecondType;
use arrow_array::{Array, ArrayRef, PrimitiveArray, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use parquet::arrow::{add_encoded_arrow_schema_to_metadata, ArrowWriter};
use parquet::basic::Compression;
use parquet::errors::ParquetError;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
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
    let mut props = WriterProperties::builder()
        .set_key_value_metadata(Some(kv))
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(rows))
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
    let mut w =
        ArrowWriter::try_new_with_options(out, storage.clone(), options).map_err(parquet_error)?;
    let mut done = 0u64;
    for batch in plan.batches(rows) {
        let batch = to_storage(batch?, &storage)?;
        w.write(&batch).map_err(parquet_error)?;
        w.flush().map_err(parquet_error)?;
        done += batch.num_rows() as u64;
        opts.report(done);
    }
    w.close().map_err(parquet_error)?;
    Ok(())
}
