//! From names to meaning: Python 2 renames, the user's hooks (find_class,
//! persistent_load, extensions, buffers) and the emulated standard-library classes.
//!
//! The VM consults the hooks while it runs; the emulation is a pass over the finished
//! graph, skipped when `Options::emulate` is off (`pickle-vm json --raw`).

pub(crate) mod allow;
pub(crate) mod compat;
pub(crate) mod hooks;
pub(crate) mod stdlib;
