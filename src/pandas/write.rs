//! Options shared by the columnar writers ([`write_ipc`](super::write_ipc) and
//! [`write_parquet`](super::write_parquet), features `arrow` and `parquet`).

use std::fmt;

/// How a frame is written: the rows per batch (an Arrow record batch, a Parquet row
/// group) and a callback after each batch.
pub struct WriteOptions {
    /// Rows per batch (default 65 536). Each batch is built from the frame's columns
    /// only when it is written, so the extra memory a write takes is about one batch.
    /// 0 is taken as 1.
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

impl fmt::Debug for WriteOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteOptions")
            .field("batch_rows", &self.batch_rows)
            .field("progress", &self.progress.as_ref().map(|_| "FnMut(u64)"))
            .finish()
    }
}

impl WriteOptions {
    /// Reports `rows` written so far to the callback, if there is one.
    #[cfg_attr(not(feature = "arrow"), allow(dead_code))]
    pub(crate) fn report(&mut self, rows: u64) {
        if let Some(p) = self.progress.as_mut() {
            p(rows);
        }
    }
}
