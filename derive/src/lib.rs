//! Derive macros for `serde_pickle_vm` (see the main crate's documentation).
//!
//! This crate is filled in by the serde work; for now it only reserves the name.
