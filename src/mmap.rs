//! Memory maps of checkpoint files (feature `mmap`): the crate's one use of `unsafe`.

use std::fs::File;
use std::io;

/// Maps `file` read-only.
pub(crate) fn map(file: &File) -> io::Result<memmap2::Mmap> {
    // SAFETY: `Mmap::map` is unsafe because the mapping's contents change if another
    // process modifies or truncates the file while it is mapped, which safe Rust cannot
    // rule out. We map read-only, never hand out `&mut`, and every read is bounds-checked
    // against the length captured at map time (zip directory entries, storage extents,
    // tensor strides are all validated before slicing). A concurrent truncation can still
    // raise SIGBUS, as with every memory-mapped reader (torch's own mmap=True included);
    // callers who cannot rule that out use `Checkpoint::from_reader` instead.
    unsafe { memmap2::Mmap::map(file) }
}
