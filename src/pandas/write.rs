//! What the writers of frames (CSV, and the Arrow and Parquet ones) share.

/// Options of the frame writers ([`write_csv`](super::write_csv), and the Arrow and
/// Parquet writers).
pub struct WriteOptions {
    /// Rows formatted and written at a time (default 65 536); `progress` is called after
    /// each batch.
    pub batch_rows: usize,
    /// Called after each batch with the number of rows written so far.
    pub progress: Option<Box<dyn FnMut(u64) + Send>>,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            batch_rows: 65_536,
            progress: None,
        }
    }
}
