//! The disassembler, plain and annotated.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_pickle_vm::dis::{dis_to_string, DisOptions};

fuzz_target!(|data: &[u8]| {
    let _ = dis_to_string(data, &DisOptions::default());
    let _ = dis_to_string(
        data,
        &DisOptions {
            annotate: 30,
            indent: 2,
        },
    );
});
