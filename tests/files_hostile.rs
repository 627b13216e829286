//! Malformed `.npy`, `.npz` and joblib files: a clear error, never a panic, a hang or an
//! allocation beyond the input's size. Truncations at every byte, lying shapes and
//! lengths, bad literals, deep nesting, joblib arrays shorter than declared or of absurd
//! shapes; then random mutations of every fixture of `fixtures/files/` through the entry
//! point, `dis` and the plain loaders.
#![cfg(feature = "npz")]

use serde_pickle_vm::dis::DisOptions;
use serde_pickle_vm::file::{self, Format};
use serde_pickle_vm::ErrorKind;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/files");

/// Counts the bytes allocated by this thread's loads (the peak of live bytes).
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = LIVE.fetch_add(l.size(), Ordering::Relaxed) + l.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static A: Counting = Counting;

/// The tests of this file run one at a time, so that the peaks they measure are theirs.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// The peak of live bytes while `f` runs, above what was live before.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    (out, PEAK.load(Ordering::Relaxed).saturating_sub(base))
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}/{name}")).unwrap()
}

/// A `.npy` file of `header` (padded as numpy pads it) followed by `data`.
fn npy(version: u8, header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = b"\x93NUMPY".to_vec();
    out.extend_from_slice(&[version, 0]);
    let len_size = if version == 1 { 2 } else { 4 };
    let total = 8 + len_size + header.len() + 1;
    let pad = (64 - total % 64) % 64;
    let hlen = header.len() + pad + 1;
    out.extend_from_slice(&(hlen as u32).to_le_bytes()[..len_size]);
    out.extend_from_slice(header.as_bytes());
    out.extend(std::iter::repeat_n(b' ', pad));
    out.push(b'\n');
    out.extend_from_slice(data);
    out
}

fn err(data: &[u8]) -> serde_pickle_vm::Error {
    file::load_bytes(data).unwrap_err()
}

#[test]
fn truncated_npy_files_fail_at_every_length() {
    let _serial = serial();
    for name in [
        "npy_v1_f8.npy",
        "npy_v3_record_utf8.npy",
        "npy_v1_object.npy",
        "npy_v2_f8.npy",
    ] {
        let data = read(name);
        for n in 0..data.len() {
            let cut = &data[..n];
            match file::load_bytes(cut) {
                Err(e) => assert!(!e.message().is_empty()),
                // The object array's pickle may end before the file does.
                Ok(l) => assert!(matches!(l.format, Format::Npy { .. }), "{name} cut at {n}"),
            }
            let _ = file::dis(cut, &mut String::new(), &DisOptions::default());
        }
    }
}

#[test]
fn npy_header_errors_are_clear() {
    let _serial = serial();
    let cases: &[(&[u8], &str)] = &[
        (b"\x93NUMPY", "truncated .npy header: the file ends before the format version (at byte 6)"),
        (b"\x93NUMPY\x02\x00\x10", "truncated .npy header: the file ends before the 4-byte header length (at byte 8)"),
        (b"\x93NUMPY\x01\x00\x40\x00{'descr'", ".npy header length 64 runs past the end of the file: 8 bytes follow the length (at byte 8)"),
        (b"\x93NUMPY\x02\x00\xff\xff\xff\xff", ".npy header of 4294967295 bytes is longer than the 16777216 accepted (at byte 8)"),
        (b"\x93NUMPY\x05\x00", "unsupported .npy format version 5.0 (1.0, 2.0 and 3.0 are known) (at byte 6)"),
    ];
    for (data, msg) in cases {
        assert_eq!(err(data).to_string(), *msg);
    }
    let h = |header: &str| err(&npy(1, header, &[])).to_string();
    assert_eq!(
        h("[1, 2]"),
        "the .npy header is a list, not a dict (at byte 10)"
    );
    assert_eq!(
        h("{'descr': '<f8', 'shape': (1,)}"),
        "the .npy header must have the keys 'descr', 'fortran_order' and 'shape' (at byte 10)"
    );
    assert_eq!(
        h("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}"),
        "the .npy header has an unexpected key \"x\" (at byte 10)"
    );
    assert_eq!(
        h("{'descr': '<f8', 'fortran_order': False, 'shape': (1.5,)}"),
        "bad .npy header literal: only ints are accepted here (no floats, no other bases) (at byte 62)"
    );
    assert_eq!(
        h("{'descr': 3, 'fortran_order': False, 'shape': (1,)}"),
        "descr must be a str, a list of fields or a (dtype, shape) tuple, not 3 (at byte 10)"
    );
    assert_eq!(
        h("{'descr': '<f8, 'fortran_order': False, 'shape': (1,)}"),
        "bad .npy header literal: expected ',' or '}' (at byte 27)"
    );
    assert_eq!(
        h("{'descr': [('a', '<f8'), ('b',)], 'fortran_order': False, 'shape': (1,)}"),
        "a record field must be (name, dtype) or (name, dtype, shape), not 1 items (at byte 10)"
    );
    assert!(
        h("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), } __import__('os')")
            .starts_with("bad .npy header literal: unexpected text after the literal")
    );
}

#[test]
fn lying_shapes_and_overflows() {
    let _serial = serial();
    let f = npy(
        1,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000,), }",
        &[0; 16],
    );
    let (e, peak) = peak_of(|| err(&f));
    assert_eq!(e.kind(), ErrorKind::Truncated);
    assert_eq!(
        e.to_string(),
        ".npy header declares shape [1000000] of <f8 (8000000 bytes) but 16 bytes follow the header (at byte 128)"
    );
    assert!(peak < 1 << 20, "{peak}");
    let f = npy(
        1,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }",
        &[],
    );
    assert_eq!(
        err(&f).to_string(),
        ".npy header declares shape [4294967296, 4294967296, 16] of <f8, whose size overflows (at byte 128)"
    );
    let f = npy(
        1,
        "{'descr': ('<f8', (4294967296, 4294967296)), 'fortran_order': False, 'shape': (), }",
        &[],
    );
    assert!(err(&f).to_string().contains("overflows"), "{}", err(&f));
    let f = npy(
        1,
        &format!(
            "{{'descr': '<f8', 'fortran_order': False, 'shape': ({},), }}",
            "9".repeat(40)
        ),
        &[],
    );
    assert!(
        err(&f).to_string().contains("an int too large"),
        "{}",
        err(&f)
    );
}

#[test]
fn deeply_nested_headers_are_refused_quickly() {
    let _serial = serial();
    for depth in [100, 10_000, 1_000_000] {
        let header = format!(
            "{{'descr': {}'<f8'{}, 'fortran_order': False, 'shape': (), }}",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let f = npy(2, &header, &[]);
        let t = std::time::Instant::now();
        let (e, peak) = peak_of(|| err(&f));
        assert!(
            e.to_string().contains("nested deeper than 64 levels"),
            "{e}"
        );
        assert!(t.elapsed().as_secs() < 2);
        assert!(peak < 4 * f.len() + (1 << 20), "{peak} for {}", f.len());
    }
    // Records may nest 64 levels but no deeper than the literal allows.
    let mut descr = "'<i4'".to_string();
    for _ in 0..30 {
        descr = format!("[('f', {descr})]");
    }
    let f = npy(
        1,
        &format!("{{'descr': {descr}, 'fortran_order': False, 'shape': (1,), }}"),
        &[0; 4],
    );
    assert!(file::load_bytes(&f).is_ok());
}

/// joblib_doc.joblib (`{"name": "w", "weights": np.arange(4.0)}`): the array's block
/// starts at 244 (after the wrapper's BUILD) and is 44 bytes: a padding byte, 11 bytes of
/// padding, 32 bytes of data.
#[test]
fn joblib_arrays_shorter_than_declared() {
    let _serial = serial();
    let data = read("joblib_doc.joblib");
    for n in 244..288 {
        let cut = &data[..n];
        let msg = format!(
            "joblib array of shape [4] of <f8 needs {} bytes, the file ends after {} (at byte 244)",
            if n == 244 { 33 } else { 44 },
            n - 244
        );
        assert_eq!(
            serde_pickle_vm::load_slice(cut).unwrap_err().to_string(),
            msg,
            "cut at {n}"
        );
        assert_eq!(err(cut).to_string(), msg);
        // A stream counts what arrived.
        let e = serde_pickle_vm::load_reader(cut).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Truncated, "{e}");
        assert!(
            e.to_string()
                .starts_with("joblib array of shape [4] of <f8 needs"),
            "{e}"
        );
        let mut out = String::new();
        let e = file::dis(cut, &mut out, &DisOptions::default()).unwrap_err();
        assert_eq!(e.to_string(), msg);
        assert!(
            out.ends_with(&format!(
                "  244: [joblib array data of <f8, shape [4]: the file ends {} bytes into it]\n",
                n - 244
            )),
            "{out}"
        );
    }
    for n in 0..data.len() {
        let _ = serde_pickle_vm::load_slice(&data[..n]);
        let _ = serde_pickle_vm::load_reader(&data[..n]);
    }
}

/// A joblib wrapper declaring `shape` (a protocol 2 pickle written by hand: the
/// wrapper's NEWOBJ, its state dict, BUILD), followed by `tail`.
fn wrapper(shape: &[u64], dtype: &str, tail: &[u8]) -> Vec<u8> {
    let mut p = b"\x80\x02cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81}(".to_vec();
    let s = |p: &mut Vec<u8>, t: &str| {
        p.push(b'X');
        p.extend_from_slice(&(t.len() as u32).to_le_bytes());
        p.extend_from_slice(t.as_bytes());
    };
    s(&mut p, "shape");
    p.push(b'(');
    for &d in shape {
        p.extend_from_slice(b"\x8a\x09");
        p.extend_from_slice(&d.to_le_bytes());
        p.push(0);
    }
    p.push(b't');
    s(&mut p, "order");
    s(&mut p, "C");
    s(&mut p, "dtype");
    p.extend_from_slice(b"cnumpy\ndtype\n");
    s(&mut p, dtype);
    p.extend_from_slice(b"\x89\x88\x87R(K\x03");
    s(&mut p, "<");
    p.extend_from_slice(b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb");
    s(&mut p, "numpy_array_alignment_bytes");
    p.extend_from_slice(b"K\x10ub");
    p.extend_from_slice(tail);
    p
}

#[test]
fn joblib_shapes_of_absurd_size() {
    let _serial = serial();
    // The product overflows.
    let p = wrapper(&[1 << 40, 1 << 40], "f8", b"\x00.");
    let e = serde_pickle_vm::load_slice(&p).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Format);
    assert!(e.to_string().starts_with("joblib array of shape [1099511627776, 1099511627776] of <f8: its size overflows (at byte"), "{e}");
    // 8 TB declared over a few bytes: refused before anything is allocated.
    let p = wrapper(&[1_000_000_000_000], "f8", b"\x00.");
    let at = p.len() - 2;
    for e in [
        peak_of(|| serde_pickle_vm::load_slice(&p).unwrap_err()),
        peak_of(|| err(&p)),
    ] {
        let (e, peak) = e;
        assert_eq!(
            e.to_string(),
            format!("joblib array of shape [1000000000000] of <f8 needs 8000000000001 bytes, the file ends after 2 (at byte {at})")
        );
        assert!(peak < 1 << 20, "{peak}");
    }
    // A stream cannot tell in advance: it stops at the allocation limit, or at the end.
    let (e, peak) = peak_of(|| serde_pickle_vm::load_reader(&p[..]).unwrap_err());
    assert!(
        matches!(e.kind(), ErrorKind::Limit | ErrorKind::Truncated),
        "{e}"
    );
    assert!(peak < 1 << 20, "{peak}");
    // A declared padding longer than what follows.
    let p = wrapper(&[1], "f8", b"\xff\x00\x00");
    assert!(serde_pickle_vm::load_slice(&p)
        .unwrap_err()
        .to_string()
        .contains("needs 264 bytes, the file ends after 3"));
    // A well-formed one loads.
    let mut tail = vec![3u8, 0xff, 0xff, 0xff];
    tail.extend_from_slice(&2.5f64.to_le_bytes());
    tail.push(b'.');
    let p = wrapper(&[1], "f8", &tail);
    let g = serde_pickle_vm::load_slice(&p).unwrap();
    let Some(serde_pickle_vm::Emulated::NdArray(a)) = g.root().as_emulated() else {
        panic!()
    };
    assert_eq!(a.tensor().unwrap().to_vec::<f64>().unwrap(), [2.5]);
}

#[test]
fn joblib_wrappers_of_odd_state() {
    let _serial = serial();
    // No shape, a shape of strings, an unknown dtype: errors, not guesses.
    let bad_shape = b"\x80\x02cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81}X\x05\x00\x00\x00shapeX\x01\x00\x00\x00xsb.";
    let e = serde_pickle_vm::load_slice(bad_shape).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("a joblib NumpyArrayWrapper without a shape"),
        "{e}"
    );
    let p = wrapper(&[1], "q9", b"\x00.");
    let e = serde_pickle_vm::load_slice(&p).unwrap_err();
    assert!(
        e.to_string().contains("whose dtype is not a numpy.dtype"),
        "{e}"
    );
    // A nested pickle (object dtype) that never ends.
    let p = wrapper(&[1], "O", b"\x80\x05]");
    let e = serde_pickle_vm::load_slice(&p).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Truncated, "{e}");
    // A BUILD of the wrapper's state on something else is an ordinary BUILD error.
    assert!(serde_pickle_vm::load_slice(b"K\x01}b.").is_err());
}

/// A small xorshift generator: the mutations are the same at every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, data: &[u8]) -> Vec<u8> {
    let mut d = data.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(6) {
            0 if !d.is_empty() => {
                let i = rng.below(d.len());
                d[i] = rng.next() as u8;
            }
            1 if !d.is_empty() => {
                let i = rng.below(d.len());
                d[i] ^= 1 << rng.below(8);
            }
            2 => d.truncate(rng.below(d.len() + 1)),
            3 => {
                let i = rng.below(d.len() + 1);
                d.insert(i, [0, 0xff, b'(', b'.', b'b', 0x7f][rng.below(6)]);
            }
            4 if d.len() > 1 => {
                let i = rng.below(d.len());
                d.remove(i);
            }
            _ if d.len() > 8 => {
                // An interesting number over four bytes (lengths, shapes).
                let i = rng.below(d.len() - 4);
                let v: u32 = [0, 1, 0x7fff_ffff, 0xffff_ffff, 64, 1 << 20][rng.below(6)];
                d[i..i + 4].copy_from_slice(&v.to_le_bytes());
            }
            _ => {}
        }
    }
    d
}

#[test]
fn random_mutations_of_every_fixture() {
    let _serial = serial();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut files: Vec<_> = std::fs::read_dir(DIR)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x != "json" && x != "dis"))
        .collect();
    files.sort();
    let rounds = if cfg!(debug_assertions) { 300 } else { 3000 };
    let t = std::time::Instant::now();
    for path in files {
        let data = std::fs::read(&path).unwrap();
        for _ in 0..rounds {
            let d = mutate(&mut rng, &data);
            let (_, peak) = peak_of(|| {
                if let Ok(l) = file::load_bytes(&d) {
                    let _ = serde_pickle_vm::json::to_string(&l.graph, &Default::default());
                    let opts = serde_pickle_vm::json::JsonOptions {
                        data: true,
                        ..Default::default()
                    };
                    let _ = serde_pickle_vm::json::to_string(&l.graph, &opts);
                }
                let _ = file::dis(&d, &mut String::new(), &DisOptions::default());
                let _ = serde_pickle_vm::load_reader(&d[..]);
            });
            // Inflation is bounded by 1 MiB, or 100x what the file holds; a bzip2
            // decoder keeps up to 900 kB blocks (about 10 MB of state) whatever its input.
            assert!(
                peak < 200 * d.len() + (16 << 20),
                "{}: {peak} bytes for {}",
                path.display(),
                d.len()
            );
        }
    }
    assert!(t.elapsed().as_secs() < 300);
}

#[test]
fn joblib_zfiles_that_lie() {
    let _serial = serial();
    let path = format!("{DIR}/old_compressed.pkl");
    let Ok(data) = std::fs::read(&path) else {
        return; // written only with OLD_JOBLIB
    };
    assert!(data.starts_with(b"ZF0x"));
    // Too short for its header.
    let e = err(&data[..10]);
    assert_eq!(
        e.to_string(),
        "a joblib Z-file of 10 bytes: its header alone is 21"
    );
    // A length that is not hex.
    let mut bad = data.clone();
    bad[4] = b'g';
    assert!(
        err(&bad).to_string().contains("is not a hex number"),
        "{}",
        err(&bad)
    );
    // A length that is not what the zlib data inflates to.
    let mut bad = data.clone();
    bad[2..21].copy_from_slice(b"0x1                ");
    assert!(
        err(&bad)
            .to_string()
            .starts_with("a joblib Z-file declares 1 bytes, its zlib data inflates to"),
        "{}",
        err(&bad)
    );
    // Truncated zlib data.
    let e = err(&data[..data.len() - 10]);
    assert_eq!(e.to_string(), "zlib data is truncated");
}
