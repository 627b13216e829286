//! Resource bounds that hold: a counting global allocator measures what the VM, the JSON
//! renderer and the serde walk allocate for adversarial inputs, and the tests assert the
//! bounds documented in ARCHITECTURE.md ("Resource bounds") and on `Limits`:
//!
//! * the VM (default options) peaks at ≤ 96·N + 1 MiB for an input of N bytes (from a
//!   slice or a reader), and its work is linear: doubling N at most about doubles the
//!   number of allocations and the peak;
//! * the compact JSON rendering is ≤ 16·N + 64 bytes and its working memory
//!   (output included) peaks at ≤ 64·N + 1 MiB;
//! * a serde walk visits at most `Limits::max_expansion` nodes (default 10 × nodes +
//!   1,000,000): a 1 KB "billion laughs" stops with an error after allocating a bounded
//!   amount, whatever it would have expanded to.
//!
//! Counting is per thread, so the tests may run in parallel.

use serde_pickle_vm::json::{to_string, JsonOptions};
use serde_pickle_vm::{from_graph, load_reader, load_slice, ErrorKind};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static CURRENT: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

fn grow(n: usize) {
    let _ = CURRENT.try_with(|c| {
        let now = c.get() + n as isize;
        c.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
    let _ = COUNT.try_with(|c| c.set(c.get() + 1));
}

fn shrink(n: usize) {
    let _ = CURRENT.try_with(|c| c.set(c.get() - n as isize));
}

// SAFETY: forwards to the system allocator; only counts on the side.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grow(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grow(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrink(layout.size());
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Count the moment both blocks may exist, as a copying realloc has them.
        grow(new_size);
        shrink(layout.size());
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[derive(Debug, Clone, Copy)]
struct Usage {
    /// Most bytes held at once above what was held before.
    peak: usize,
    /// Allocations (and reallocations) made.
    allocs: u64,
}

fn measure<T>(f: impl FnOnce() -> T) -> (T, Usage) {
    let base = CURRENT.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let count = COUNT.with(Cell::get);
    let out = f();
    let usage = Usage {
        peak: (PEAK.with(Cell::get) - base).max(0) as usize,
        allocs: COUNT.with(Cell::get) - count,
    };
    (out, usage)
}

const MIB: usize = 1 << 20;

/// Adversarial pickles of about `n` bytes: each repeats the cheapest opcode sequence that
/// makes the VM keep something (a stack entry, a node, a memo entry, a mark, ...).
fn adversarial(n: usize) -> Vec<(&'static str, Vec<u8>)> {
    fn rep(head: &[u8], unit: &[u8], n: usize, tail: &[u8]) -> Vec<u8> {
        let mut v = head.to_vec();
        v.extend(std::iter::repeat_n(unit, n / unit.len()).flatten());
        v.extend_from_slice(tail);
        v
    }
    let mut sparse = b"\x80\x04N".to_vec();
    let mut x: u32 = 0x9e37_79b9;
    for _ in 0..n / 5 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        sparse.push(b'r');
        sparse.extend_from_slice(&x.to_le_bytes());
    }
    sparse.push(b'.');
    let mut leaps = b"\x80\x04N".to_vec();
    for k in 0..n / 5 {
        leaps.push(b'r');
        leaps.extend_from_slice(&((k as u32).wrapping_mul(3).wrapping_add(4096)).to_le_bytes());
    }
    leaps.push(b'.');
    let set = b"\x80\x04\x8c\x08builtins\x8c\x03set\x93\x94";
    let cls = b"\x80\x04\x8c\x08__main__\x8c\x01C\x93\x94";
    vec![
        ("DUP", rep(b"\x80\x04N", b"2", n, b".")),
        ("EMPTY_LIST", rep(b"\x80\x04", b"]", n, b".")),
        ("EMPTY_DICT", rep(b"\x80\x04", b"}", n, b".")),
        ("EMPTY_SET", rep(b"\x80\x04", b"\x8f", n, b".")),
        ("EMPTY_TUPLE", rep(b"\x80\x04", b")", n, b".")),
        ("MARK", rep(b"\x80\x04", b"(", n, b"N.")),
        ("MARK LIST", rep(b"\x80\x04", b"(l", n, b".")),
        ("TUPLE1 chain", rep(b"\x80\x04N", b"\x85", n, b".")),
        ("TUPLE2 of DUP", rep(b"\x80\x04N", b"2\x86", n, b".")),
        ("APPEND chain", rep(b"\x80\x04]", b"Na", n, b".")),
        ("APPENDS", rep(b"\x80\x04](", b"N", n, b"e.")),
        ("SETITEMS", rep(b"\x80\x04}(", b"NN", n, b"u.")),
        // Two lists (dicts) appended to in turn: neither stays at the end of the store,
        // so every append moves a span (with room to double).
        (
            "APPEND alternating",
            rep(
                b"\x80\x04]\x94]\x94",
                b"h\x00Na0h\x01Na0",
                n / 10,
                b"h\x00.",
            ),
        ),
        (
            "SETITEM alternating",
            rep(
                b"\x80\x04}\x94}\x94",
                b"h\x00NNs0h\x01NNs0",
                n / 12,
                b"h\x00.",
            ),
        ),
        (
            "nested APPEND",
            rep(b"\x80\x04", b"]", n / 2, &rep(b"", b"a", n / 2 - 1, b".")),
        ),
        ("MEMOIZE", rep(b"\x80\x04N", b"\x94", n, b".")),
        ("BINPUT", rep(b"\x80\x04N", b"q\x00", n, b".")),
        ("BINGET", rep(b"\x80\x04N\x94", b"h\x00", n, b".")),
        ("LONG_BINPUT sparse", sparse),
        ("LONG_BINPUT leaps", leaps),
        ("SHORT_BINUNICODE", rep(b"\x80\x04", b"\x8c\x00", n, b".")),
        ("SHORT_BINBYTES", rep(b"\x80\x04", b"C\x00", n, b".")),
        (
            "BYTEARRAY8",
            rep(b"\x80\x05", b"\x96\0\0\0\0\0\0\0\0", n, b"."),
        ),
        (
            "LONG1",
            rep(
                b"\x80\x04",
                b"\x8a\x09\x01\x02\x03\x04\x05\x06\x07\x08\x09",
                n,
                b".",
            ),
        ),
        ("UNICODE escapes", {
            let mut v = b"V".to_vec();
            v.extend(std::iter::repeat_n(&b"\\U0001f600"[..], n / 10).flatten());
            v.extend_from_slice(b"\n.");
            v
        }),
        ("REDUCE set()", rep(set, b"h\x00)R", n, b".")),
        ("NEWOBJ", rep(cls, b"h\x00)\x81", n, b".")),
        ("REDUCE of DUP", rep(cls, b"2)R", n, b".")),
        ("NEWOBJ of DUP", rep(cls, b"2)\x81", n, b".")),
        ("OBJ", rep(cls, b"(h\x00o", n, b".")),
        ("BUILD", rep(cls, b"h\x00)\x81N\x94b", n, b".")),
        ("FRAME", rep(b"\x80\x04", b"\x95\0\0\0\0\0\0\0\0", n, b"N.")),
        ("INT text", rep(b"", b"I1\n", n, b".")),
    ]
}

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut out = Vec::new();
    for dir in ["pickles", "serde"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            if ext == "pkl" || ext == "pickle" {
                out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out
}

/// The VM's peak allocation per input byte, and its additive constant.
const VM_PER_BYTE: usize = 96;
const VM_CONST: usize = MIB;

#[test]
fn vm_memory_is_linear_in_the_input() {
    let n = 1 << 20;
    let mut worst = (0.0f64, "");
    for (name, data) in adversarial(n) {
        let len = data.len();
        let (r, slice) = measure(|| load_slice(&data).map(|g| g.node_count()));
        assert!(r.is_ok(), "{name}: {:?}", r.err());
        let (r, reader) = measure(|| load_reader(&data[..]).map(|g| g.node_count()));
        assert!(r.is_ok(), "{name}: {:?}", r.err());
        for (how, u) in [("slice", slice), ("reader", reader)] {
            let ratio = u.peak.saturating_sub(VM_CONST) as f64 / len as f64;
            eprintln!(
                "{name:>20} {how:>6}: peak {:>10} = {ratio:5.1}·N + 1 MiB, {} allocations",
                u.peak, u.allocs
            );
            assert!(
                u.peak <= VM_PER_BYTE * len + VM_CONST,
                "{name} ({how}): peak {} for {len} bytes",
                u.peak
            );
            if ratio > worst.0 {
                worst = (ratio, name);
            }
        }
    }
    eprintln!("worst: {:.1}·N + 1 MiB ({})", worst.0, worst.1);
    // The fixtures (CPython's own pickles of every protocol) sit far below.
    for (name, data) in fixtures() {
        let (_, u) = measure(|| load_slice(&data).map(|g| g.node_count()));
        assert!(
            u.peak <= VM_PER_BYTE * data.len() + VM_CONST,
            "{name}: {}",
            u.peak
        );
    }
}

#[test]
fn vm_work_is_linear_in_the_input() {
    let (small, big) = (adversarial(1 << 18), adversarial(1 << 19));
    for ((name, a), (_, b)) in small.iter().zip(&big) {
        let (ga, ua) = measure(|| load_slice(a).map(|g| g.node_count()).unwrap_or(0));
        let (gb, ub) = measure(|| load_slice(b).map(|g| g.node_count()).unwrap_or(0));
        // Nodes: exactly proportional (every node costs input bytes).
        assert!(gb <= 2 * ga + 16, "{name}: {ga} → {gb} nodes");
        // Allocations and peak: at most about doubled (vectors double, so allow the
        // step of one doubling beyond).
        let allocs = ub.allocs as f64 / ua.allocs.max(1) as f64;
        let peak = ub.peak as f64 / ua.peak.max(1) as f64;
        eprintln!("{name:>20}: nodes {ga} → {gb}, allocations ×{allocs:.2}, peak ×{peak:.2}");
        assert!(
            ub.allocs <= 2 * ua.allocs + 64,
            "{name}: allocations ×{allocs:.2}"
        );
        assert!(ub.peak <= 4 * ua.peak + MIB, "{name}: peak ×{peak:.2}");
    }
}

#[test]
fn lying_lengths_allocate_what_the_input_holds() {
    // BINBYTES8 claiming 1 GiB with 1 MiB behind it: a slice refuses before allocating,
    // a stream grows its buffer only as the data arrives.
    let mut data = b"\x80\x04\x8e".to_vec();
    data.extend_from_slice(&(1u64 << 30).to_le_bytes());
    data.extend(std::iter::repeat_n(b'x', MIB));
    let (r, u) = measure(|| load_slice(&data).map(|_| ()));
    assert_eq!(r.unwrap_err().kind(), ErrorKind::Truncated);
    assert!(
        u.peak <= VM_PER_BYTE * data.len() + VM_CONST,
        "slice: {}",
        u.peak
    );
    let (r, u) = measure(|| load_reader(&data[..]).map(|_| ()));
    assert_eq!(r.unwrap_err().kind(), ErrorKind::Truncated);
    assert!(u.peak <= 4 * data.len() + VM_CONST, "reader: {}", u.peak);
    eprintln!("reader peak for a lying 1 GiB over 1 MiB: {}", u.peak);
}

/// The JSON renderer's peak (output included) per input byte: deep nesting costs a
/// few work items per level.
const JSON_PER_BYTE: usize = 320;
/// The compact JSON's length per input byte (a one-byte DUP can add a `{"ref":N}`).
const JSON_OUT_PER_BYTE: usize = 32;

#[test]
fn json_output_and_memory_are_linear() {
    let n = 1 << 19;
    let mut worst = (0.0f64, 0.0f64);
    for (name, data) in adversarial(n) {
        // Wrap the stream in MARK … LIST so that everything it left on the stack is
        // reachable from the root (a pickle's root is only the top of its stack).
        let at = if data.starts_with(b"\x80") { 2 } else { 0 };
        let data = [&data[..at], b"(", &data[at..data.len() - 1], b"l."].concat();
        let g = load_slice(&data).unwrap();
        let (json, u) = measure(|| to_string(&g, &JsonOptions::default()).unwrap());
        let (out, mem) = (
            json.len() as f64 / data.len() as f64,
            u.peak.saturating_sub(MIB) as f64 / data.len() as f64,
        );
        eprintln!("{name:>20}: output {out:5.1}·N, peak {mem:5.1}·N + 1 MiB");
        worst = (worst.0.max(out), worst.1.max(mem));
        assert!(
            json.len() <= JSON_OUT_PER_BYTE * data.len() + 64,
            "{name}: {} bytes",
            json.len()
        );
        assert!(
            u.peak <= JSON_PER_BYTE * data.len() + MIB,
            "{name}: peak {}",
            u.peak
        );
    }
    eprintln!(
        "worst: output {:.1}·N, peak {:.1}·N + 1 MiB",
        worst.0, worst.1
    );
    // Sharing is written once: 60 levels of (x, x) render in a few KB, not 2^60 nodes.
    let mut laughs = b"\x80\x02N".to_vec();
    laughs.extend(std::iter::repeat_n(&b"2\x86"[..], 60).flatten());
    laughs.push(b'.');
    let g = load_slice(&laughs).unwrap();
    let (json, u) = measure(|| to_string(&g, &JsonOptions::default()).unwrap());
    assert!(
        json.len() < JSON_OUT_PER_BYTE * laughs.len() + 64,
        "{}",
        json.len()
    );
    assert!(u.peak < MIB, "{}", u.peak);
}

#[test]
fn serde_is_bounded_by_the_expansion_budget() {
    // 60 levels of (x, x): 2^60 leaves. The walk stops at the budget (10 × nodes +
    // 1,000,000 visits), having allocated in proportion to the budget, not to 2^60.
    let mut laughs = b"\x80\x02N".to_vec();
    laughs.extend(std::iter::repeat_n(&b"2\x86"[..], 60).flatten());
    laughs.push(b'.');
    let g = load_slice(&laughs).unwrap();
    let (r, u) = measure(|| from_graph::<serde_json::Value>(&g).map(|_| ()));
    let err = r.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit, "{err}");
    eprintln!(
        "serde_json::Value over the laughs: peak {}, {} allocations",
        u.peak, u.allocs
    );
    // serde_json::Value: at most a few allocations and ~100 bytes per visit.
    assert!(u.allocs <= 4 * 1_000_100, "{}", u.allocs);
    assert!(u.peak <= 160 * 1_000_100, "{}", u.peak);
    // What stays within the budget deserializes, in proportion to what it visits.
    let mut small = b"\x80\x02N".to_vec();
    small.extend(std::iter::repeat_n(&b"2\x86"[..], 16).flatten());
    small.push(b'.');
    let g = load_slice(&small).unwrap();
    let (r, u) = measure(|| from_graph::<serde_json::Value>(&g).map(|_| ()));
    assert!(r.is_ok());
    assert!(u.peak <= 160 * (1 << 17), "{}", u.peak);
}

#[cfg(feature = "compress")]
mod compress_common;

/// A compression bomb stops at the inflation limit having allocated what it inflated
/// (the output grows as it arrives: at most twice the limit) plus the decoder's own
/// state, which is bounded whatever the input declares: lz4 frames ~12 MiB (4 MiB
/// blocks, linked), bzip2 ~4 MiB, zstd the frame's window (at most 100 MiB, ruzstd's
/// cap; these frames ask for much less), xz and lzma a dictionary that grows with the
/// output.
#[cfg(feature = "compress")]
#[test]
fn compression_bombs_allocate_what_the_limit_allows() {
    use serde_pickle_vm::compress::{decompress, decompress_reader, InflateLimits};
    use serde_pickle_vm::{Limits, Options, Unpickler};
    use std::io::Read;
    let limit = 1u64 << 20;
    let limits = InflateLimits {
        max_bytes: limit,
        max_ratio: u64::MAX,
    };
    let (_, bombs) = compress_common::bombs(8 << 20);
    for (codec, data) in bombs {
        let (r, slice) = measure(|| decompress(&data, codec, &limits));
        assert_eq!(r.unwrap_err().kind(), ErrorKind::Limit, "{codec}");
        let (r, reader) = measure(|| {
            let mut out = Vec::new();
            decompress_reader(&data[..], codec, &limits)
                .and_then(|mut r| r.read_to_end(&mut out).map_err(Into::into))
        });
        assert_eq!(r.unwrap_err().kind(), ErrorKind::Limit, "{codec}");
        let opts = Options {
            limits: Limits {
                max_inflated: limit,
                max_inflate_ratio: u64::MAX,
                ..Limits::default()
            },
            ..Options::default()
        };
        let (r, load) = measure(|| Unpickler::with_options(opts).load_reader(&data[..]));
        assert_eq!(r.unwrap_err().kind(), ErrorKind::Limit, "{codec}");
        eprintln!(
            "{codec}: {} bytes; peak {} (slice), {} (reader), {} (load_reader)",
            data.len(),
            slice.peak,
            reader.peak,
            load.peak
        );
        let state = match codec.name() {
            "lz4" => 13 << 20,
            "zstd" => 8 << 20,
            _ => 5 << 20,
        };
        for peak in [slice.peak, reader.peak, load.peak] {
            assert!(
                peak as u64 <= 2 * limit + state,
                "{codec}: peak {peak} over {}",
                2 * limit + state
            );
        }
    }
}

/// pandas frames: the rebuild of every fixture frame and of the bombs stays within a
/// small multiple of the input (each shared value copied counts against the budget of
/// 64 × the input + 64 MiB, so a bomb is refused well before that).
#[cfg(feature = "pandas")]
#[test]
fn pandas_rebuilds_are_bounded() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pandas");
    for name in [
        "extra/bomb_shared_blocks.pkl",
        "extra/bomb_category.pkl",
        "v3/mixed.p5.pkl",
    ] {
        let data = std::fs::read(root.join(name)).unwrap();
        let graph = serde_pickle_vm::load_slice(&data).unwrap();
        let (_, usage) = measure(|| serde_pickle_vm::pandas::Pandas::from_graph(&graph));
        // The budget, plus what the values' containers cost beyond their bytes.
        let bound = 64 * data.len() + 80 * MIB;
        assert!(usage.peak <= bound, "{name}: peak {} > {bound}", usage.peak);
        let (_, usage) = measure(|| {
            serde_pickle_vm::from_slice::<Vec<std::collections::HashMap<String, String>>>(&data)
        });
        assert!(usage.peak <= 2 * bound, "{name}: serde peak {}", usage.peak);
    }
}
