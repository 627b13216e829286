//! The decoders of compressed containers: every codec on any bytes (the first byte picks
//! it), from a slice and through the streaming reader (which must agree when both
//! succeed), and the loaders on the input as it is (sniffing it). Bombs stop at the
//! limits (64 MiB here, under the 2 GiB rss limit of `run.sh`), never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_pickle_vm::compress::{decompress, decompress_reader, sniff, Codec, InflateLimits};
use serde_pickle_vm::ErrorKind;
use std::io::Read;

const LIMITS: InflateLimits = InflateLimits {
    max_bytes: 64 << 20,
    max_ratio: 100,
};

fn both(data: &[u8], codec: Codec) {
    let slice = decompress(data, codec, &LIMITS);
    let mut out = Vec::new();
    let reader = decompress_reader(data, codec, &LIMITS)
        .and_then(|mut r| r.read_to_end(&mut out).map_err(Into::into));
    if let Err(e) = &slice {
        assert!(
            matches!(
                e.kind(),
                ErrorKind::Format | ErrorKind::Limit | ErrorKind::Unsupported
            ),
            "{codec}: {e}"
        );
    }
    if let (Ok(a), Ok(_)) = (&slice, &reader) {
        assert!(a == &out, "{codec}: slice and reader disagree");
    }
}

fuzz_target!(|data: &[u8]| {
    if let Some((&pick, rest)) = data.split_first() {
        both(rest, Codec::ALL[pick as usize % Codec::ALL.len()]);
    }
    if let Some(codec) = sniff(data) {
        both(data, codec);
        let _ = serde_pickle_vm::load_slice(data);
        let _ = serde_pickle_vm::load_reader(data);
    }
});
