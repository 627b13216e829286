//! Hostile input, one class at a time: every case ends in a clear error (its kind, and the
//! limit or defect named in the message) or a bounded success — never a panic, a stack
//! overflow or a runaway allocation. (`tests/bounds.rs` measures the allocations; the
//! fuzz targets in `fuzz/` search for what these miss, and the inputs they found are
//! replayed from `tests/regressions/` at the end of this file.)

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_pickle_vm::json::{to_string, to_writer, JsonOptions};
use serde_pickle_vm::{
    from_reader, from_slice, from_slice_with_options, load_reader, load_slice, Error, ErrorKind,
    Limits, Options, Unpickler,
};
use std::path::Path;

/// Runs `f` on a thread with the default 2 MiB test stack: deep inputs must not need more.
fn small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[track_caller]
fn expect_err<T>(r: serde_pickle_vm::Result<T>, kind: ErrorKind, needle: &str) -> Error {
    let err = match r {
        Ok(_) => panic!("expected a {kind:?} error naming {needle:?}, got a value"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), kind, "{err}");
    assert!(
        err.to_string().contains(needle),
        "{err} does not name {needle:?}"
    );
    err
}

fn p4(body: &[u8]) -> Vec<u8> {
    let mut v = b"\x80\x04".to_vec();
    v.extend_from_slice(body);
    v
}

// ------------------------------------------------------------------ truncation

fn small_fixtures(max: usize) -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut out = Vec::new();
    for dir in ["pickles", "serde"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if ext == "pkl" || ext == "pickle" {
                let data = std::fs::read(&path).unwrap();
                if data.len() <= max {
                    out.push(data);
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// `tests/mutations.rs` cuts every fixture at every byte from a slice; here the cuts go
/// through the reader too, and both must say "truncated" (the prefix of a valid pickle
/// runs exactly as the whole did, so running out of input is the only possible error).
#[test]
fn truncation_at_every_point_is_truncated_from_slice_and_reader() {
    let files = small_fixtures(512);
    assert!(files.len() > 300, "{}", files.len());
    for data in &files {
        if load_slice(data).is_err() {
            continue; // the error fixtures fail anyway
        }
        for end in 0..data.len() {
            let cut = &data[..end];
            for (how, r) in [("slice", load_slice(cut)), ("reader", load_reader(cut))] {
                let err = r
                    .err()
                    .unwrap_or_else(|| panic!("{how}: a cut at {end} loads"));
                assert_eq!(
                    err.kind(),
                    ErrorKind::Truncated,
                    "{how} cut at {end}: {err}"
                );
                assert!(err.offset().unwrap() <= end as u64, "{how}: {err}");
            }
        }
    }
}

// ------------------------------------------------------------------ lying lengths

#[test]
fn declared_lengths_far_beyond_the_input() {
    let huge = 1u64 << 62;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "BINBYTES8",
            [&[0x8e][..], &huge.to_le_bytes(), b"abc."].concat(),
        ),
        (
            "BINUNICODE8",
            [&[0x8d][..], &huge.to_le_bytes(), b"abc."].concat(),
        ),
        (
            "BYTEARRAY8",
            [&[0x96][..], &huge.to_le_bytes(), b"abc."].concat(),
        ),
        (
            "BINUNICODE",
            [&b"X"[..], &u32::MAX.to_le_bytes(), b"abc."].concat(),
        ),
        (
            "BINBYTES",
            [&b"B"[..], &u32::MAX.to_le_bytes(), b"abc."].concat(),
        ),
        (
            "BINSTRING",
            [&b"T"[..], &i32::MAX.to_le_bytes(), b"abc."].concat(),
        ),
        (
            "LONG4",
            [&[0x8b][..], &i32::MAX.to_le_bytes(), b"abc."].concat(),
        ),
    ];
    for (op, body) in cases {
        let data = p4(&body);
        // A slice knows what remains: truncated, before anything is allocated.
        let err = expect_err(load_slice(&data), ErrorKind::Truncated, "truncated");
        assert_eq!((err.offset(), err.opcode()), (Some(2), Some(op)), "{err}");
        // A stream cannot know: a length over Limits::max_alloc is refused outright, a
        // smaller one fails as the stream ends (having grown its buffer only as far as
        // the data went; tests/bounds.rs measures that).
        let err = load_reader(&data[..]).unwrap_err();
        assert_eq!((err.offset(), err.opcode()), (Some(2), Some(op)), "{err}");
        if op.ends_with('8') {
            assert_eq!(err.kind(), ErrorKind::Limit, "{err}");
            assert!(err.message().contains("4611686018427387904 bytes"), "{err}");
            assert!(err.message().contains("Limits::max_alloc"), "{err}");
        } else {
            assert_eq!(err.kind(), ErrorKind::Truncated, "{err}");
        }
        // serde and the torch loader go through the same VM.
        expect_err(from_slice::<IgnoredAny>(&data), ErrorKind::Truncated, op);
    }
    // A lower allocation limit turns even a truthful length into a limit error.
    let opts = Options {
        limits: Limits {
            max_alloc: 1000,
            ..Limits::default()
        },
        ..Options::default()
    };
    let mut data = p4(&[0x8e]);
    data.extend_from_slice(&2000u64.to_le_bytes());
    data.extend(std::iter::repeat_n(b'x', 2000));
    data.push(b'.');
    expect_err(
        Unpickler::with_options(opts.clone()).load_slice(&data),
        ErrorKind::Limit,
        "Limits::max_alloc",
    );
    expect_err(
        Unpickler::with_options(opts).load_reader(&data[..]),
        ErrorKind::Limit,
        "Limits::max_alloc",
    );
}

// ------------------------------------------------------------------ deep nesting

const DEEP: usize = 1_000_000;

/// `((((…llll.`: a million MARKs closed by a million LISTs.
fn deep_marks(n: usize) -> Vec<u8> {
    let mut v = b"\x80\x02".to_vec();
    v.extend(std::iter::repeat_n(b'(', n));
    v.extend(std::iter::repeat_n(b'l', n));
    v.push(b'.');
    v
}

/// `]]]]…aaaa.`: a million EMPTY_LISTs, each APPENDed into the one below.
fn deep_appends(n: usize) -> Vec<u8> {
    let mut v = b"\x80\x02".to_vec();
    v.extend(std::iter::repeat_n(b']', n));
    v.extend(std::iter::repeat_n(b'a', n - 1));
    v.push(b'.');
    v
}

/// `}}}…` with SETITEM: dicts nested through their values (`{0: {0: …}}`), protocol 4.
fn deep_dicts(n: usize) -> Vec<u8> {
    let mut v = b"\x80\x04".to_vec();
    for _ in 0..n {
        v.extend_from_slice(b"}K\x00");
    }
    v.push(b'N');
    v.extend(std::iter::repeat_n(b's', n));
    v.push(b'.');
    v
}

/// A type that nests without end, like a tree.
#[derive(Deserialize)]
#[allow(dead_code)]
struct Nest(Vec<Nest>);

#[derive(Deserialize)]
#[allow(dead_code)]
enum Tree {
    Leaf(i64),
    Node(Vec<Tree>),
}

/// A writer that only counts.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0 += b.len();
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn check_deep(data: Vec<u8>, levels: usize) {
    small_stack(move || {
        // The VM builds it (an arena: no recursion to build or to drop).
        let g = load_slice(&data).unwrap();
        assert!(g.node_count() >= levels);
        let raw = Unpickler::with_options(Options {
            emulate: false,
            ..Options::default()
        })
        .load_slice(&data)
        .unwrap();
        drop(raw);
        let owned = load_reader(&data[..]).unwrap();
        drop(owned);
        // The JSON renderer walks it iteratively: linear output, any depth.
        let json = to_string(&g, &JsonOptions::default()).unwrap();
        assert!(
            json.len() >= 2 * levels && json.len() < 16 * levels,
            "{}",
            json.len()
        );
        // The torch layer's walks over graphs are iterative too.
        #[cfg(feature = "torch")]
        assert!(serde_pickle_vm::torch::named_tensors(&g).is_empty());
        drop(g);
        // serde stops at Limits::max_depth, whatever the target.
        let depth = "Limits::max_depth";
        expect_err(
            from_slice::<serde_json::Value>(&data),
            ErrorKind::Limit,
            depth,
        );
        // IgnoredAny skips the value without walking it: fine at any depth.
        assert!(from_slice::<IgnoredAny>(&data).is_ok());
        // A list-of-lists type: the depth limit for list chains, a type error at the
        // first level for dict chains; never a stack overflow.
        let err = from_slice::<Nest>(&data).map(|_| ()).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Limit | ErrorKind::Type),
            "{err}"
        );
        expect_err(
            from_reader::<_, serde_json::Value>(&data[..]),
            ErrorKind::Limit,
            depth,
        );
        // A typed target that is not as deep fails on the type, early.
        expect_err(
            from_slice::<Vec<Vec<i32>>>(&data),
            ErrorKind::Type,
            "invalid type",
        );
        // The limit is a setting: lower it and the message says the new number.
        let opts = Options {
            limits: Limits {
                max_depth: 10,
                ..Limits::default()
            },
            ..Options::default()
        };
        expect_err(
            from_slice_with_options::<serde_json::Value>(&data, &opts),
            ErrorKind::Limit,
            "more than 10 nested",
        );
    });
}

/// Pretty JSON and the disassembly indent by depth: linear all the same (the
/// indentation stops growing), shown at 200,000 levels to keep debug runs quick.
#[test]
fn pretty_json_and_dis_of_deep_nesting_are_linear() {
    use serde_pickle_vm::dis::{dis_to_string, DisOptions};
    for data in [deep_marks(DEEP / 5), deep_appends(DEEP / 5)] {
        let g = load_slice(&data).unwrap();
        let compact = to_string(&g, &JsonOptions::default()).unwrap().len();
        let mut sink = Counter(0);
        let pretty = JsonOptions {
            pretty: true,
            data: true,
            ..JsonOptions::default()
        };
        to_writer(&g, &pretty, &mut sink).unwrap();
        // At worst each character of the compact form opens a line indented 100 levels.
        assert!(sink.0 < 202 * compact, "{} bytes of pretty JSON", sink.0);
        let text = dis_to_string(&data, &DisOptions::default()).unwrap();
        assert!(
            text.len() < 600 * data.len(),
            "{} bytes of listing",
            text.len()
        );
    }
}

#[test]
fn a_million_levels_of_mark_list() {
    check_deep(deep_marks(DEEP), DEEP);
}

#[test]
fn a_million_levels_of_append() {
    check_deep(deep_appends(DEEP), DEEP);
}

#[test]
fn deep_setitem() {
    // 200,000 levels: the million-level cases above cover the walks; this one adds dicts.
    check_deep(deep_dicts(DEEP / 5), DEEP / 5);
}

#[test]
fn deep_tuples_and_objects() {
    // 200,000 levels: the million-level cases above cover the walks.
    const LEVELS: usize = DEEP / 5;
    // TUPLE1 chains and REDUCE chains (objects whose argument is the object below).
    let mut tuples = b"\x80\x02N".to_vec();
    tuples.extend(std::iter::repeat_n(0x85, LEVELS));
    tuples.push(b'.');
    check_deep(tuples, LEVELS);
    // Objects whose one argument is the object below: C(C(C(…None…))).
    let mut objs2 = b"\x80\x02".to_vec();
    objs2.extend(std::iter::repeat_n(&b"c__main__\nC\n"[..], LEVELS).flatten());
    objs2.push(b'N');
    objs2.extend(std::iter::repeat_n(&b"\x85R"[..], LEVELS).flatten());
    objs2.push(b'.');
    small_stack(move || {
        let g = load_slice(&objs2).unwrap();
        let json = to_string(&g, &JsonOptions::default()).unwrap();
        assert!(json.len() > LEVELS);
        expect_err(
            from_slice::<serde_json::Value>(&objs2),
            ErrorKind::Limit,
            "Limits::max_depth",
        );
        // Objects are not a Tree variant: refused at the first level.
        expect_err(
            from_slice::<Tree>(&objs2),
            ErrorKind::Type,
            "expected enum Tree",
        );
    });
}

// ------------------------------------------------------------------ sharing and cycles

/// `x = None; 60 times: x = (x, x)` — 2^60 leaves in 130 bytes (protocol 2: DUP, TUPLE2).
fn billion_laughs(levels: usize) -> Vec<u8> {
    let mut v = b"\x80\x02N".to_vec();
    v.extend(std::iter::repeat_n(&b"2\x86"[..], levels).flatten());
    v.push(b'.');
    v
}

/// The same with lists, through the memo: `l = []; l.append(prev); l.append(prev)`.
fn billion_laughs_lists(levels: usize) -> Vec<u8> {
    let mut v = b"\x80\x02N".to_vec();
    for i in 0..levels as u32 {
        // stack: prev → PUT i → ] → GET i, APPEND, GET i, APPEND → swap via memo
        v.push(b'r');
        v.extend_from_slice(&i.to_le_bytes());
        v.push(b'0'); // POP prev
        v.push(b']');
        for _ in 0..2 {
            v.push(b'j');
            v.extend_from_slice(&i.to_le_bytes());
            v.push(b'a');
        }
    }
    v.push(b'.');
    v
}

#[test]
fn exponential_sharing_renders_linearly_and_serde_stops() {
    for data in [billion_laughs(60), billion_laughs_lists(60)] {
        assert!(data.len() < 1200, "{}", data.len());
        let g = load_slice(&data).unwrap();
        // JSON writes each shared node once and refers to it after: linear output.
        let json = to_string(&g, &JsonOptions::default()).unwrap();
        assert!(json.len() < 100 * 60, "{} bytes of JSON", json.len());
        assert!(json.contains(r#"{"ref":"#), "{json}");
        // serde copies shared nodes: the expansion budget stops it.
        let budget = "Limits::max_expansion";
        // (IgnoredAny skips without walking, so it has nothing to expand.)
        assert!(from_slice::<IgnoredAny>(&data).is_ok());
        expect_err(
            from_slice::<serde_json::Value>(&data),
            ErrorKind::Limit,
            budget,
        );
        // The default budget is 10 × nodes + 1,000,000; a small one names itself.
        let opts = Options {
            limits: Limits {
                max_expansion: Some(100),
                ..Limits::default()
            },
            ..Options::default()
        };
        expect_err(
            from_slice_with_options::<serde_json::Value>(&data, &opts),
            ErrorKind::Limit,
            "visited 100 nodes",
        );
    }
    // A sharing depth the budget allows deserializes (2^10 leaves).
    let small = billion_laughs(10);
    let v: serde_json::Value = from_slice(&small).unwrap();
    assert_eq!(v[1][0][1][0][1][0][1][0][1][0], serde_json::Value::Null);
}

#[test]
fn cycles_through_serde_name_the_path() {
    // L = []; L.append(L)
    let list = b"\x80\x02]q\x00h\x00a.";
    let err = expect_err(
        from_slice::<serde_json::Value>(list),
        ErrorKind::Type,
        "cycle",
    );
    assert_eq!(err.path(), Some("[0]"), "{err}");
    expect_err(from_slice::<Nest>(list), ErrorKind::Type, "cycle");
    // d = {"a": [1, d]}
    let dict = b"\x80\x02}q\x00X\x01\x00\x00\x00a]q\x01(K\x01h\x00es.";
    let err = expect_err(
        from_slice::<serde_json::Value>(dict),
        ErrorKind::Type,
        "cycle",
    );
    assert_eq!(err.path(), Some("a[1]"), "{err}");
    // An object whose BUILD state is itself (18 bytes, found by the serde fuzzer): it
    // recursed through its state until the stack overflowed.
    let selfish = b"c__main__\nC\n)R2b.";
    let err = small_stack(move || from_slice::<serde_json::Value>(selfish).unwrap_err());
    assert_eq!(err.kind(), ErrorKind::Type, "{err}");
    assert!(
        err.message()
            .starts_with("cycle: this object contains itself"),
        "{err}"
    );
    small_stack(move || {
        assert!(from_slice::<Nest>(selfish).is_err());
        assert!(from_slice::<std::collections::HashMap<String, i32>>(selfish).is_err());
        assert!(from_slice::<Vec<i32>>(selfish).is_err());
    });
    // ... and one whose state holds it: o.__dict__ = {"me": o}.
    let nested = b"c__main__\nC\n)Rq\x00}X\x02\x00\x00\x00meh\x00sb.";
    let err = small_stack(move || from_slice::<serde_json::Value>(nested).unwrap_err());
    assert!(err.message().starts_with("cycle"), "{err}");
    // The graph keeps the cycle; JSON writes it with a ref.
    let g = load_slice(dict).unwrap();
    let json = to_string(&g, &JsonOptions::default()).unwrap();
    assert!(json.starts_with(r#"{"id":0,"value":"#), "{json}");
    assert!(json.contains(r#"[1,{"ref":0}]"#), "{json}");
}

/// A 100 KB string memoized once and fetched `refs` times (BINGET), in a list.
fn shared_string(len: usize, refs: usize) -> Vec<u8> {
    let mut data = b"\x80\x04(\x8d".to_vec();
    data.extend_from_slice(&(len as u64).to_le_bytes());
    data.extend(std::iter::repeat_n(b'x', len));
    data.push(0x94);
    data.extend(std::iter::repeat_n(&b"h\x00"[..], refs - 1).flatten());
    data.extend_from_slice(b"l.");
    data
}

/// A string or byte string has no identity (in the JSON, and for serde), so one that the
/// memo shares is copied at every reference: 100 KB fetched 50,000 times from 200 KB of
/// pickle would be 5 GB. Both walks weigh the bytes they copy against a budget that
/// scales with the input (64 × N + 64 MiB by default).
#[test]
fn shared_large_strings_are_bounded() {
    let data = shared_string(100_000, 50_000);
    let g = load_slice(&data).unwrap();
    assert_eq!(g.input_len(), data.len() as u64);
    // JSON: an error naming the budget, from to_string and from to_writer (which stops
    // after writing about the budget).
    expect_err(
        to_string(&g, &JsonOptions::default()),
        ErrorKind::Limit,
        "JsonOptions::max_expanded_bytes",
    );
    let mut sink = Counter(0);
    expect_err(
        to_writer(&g, &JsonOptions::default(), &mut sink),
        ErrorKind::Limit,
        "JSON expansion limit",
    );
    let budget = 64 * data.len() + (64 << 20);
    assert!(sink.0 < budget + (1 << 20), "{} bytes written", sink.0);
    // serde: into owned and into borrowed strings alike.
    for err in [
        serde_pickle_vm::from_graph::<Vec<String>>(&g).map(|_| ()),
        from_slice::<Vec<&str>>(&data).map(|_| ()),
        from_reader::<_, serde_json::Value>(&data[..]).map(|_| ()),
    ] {
        expect_err(err, ErrorKind::Limit, "Limits::max_expanded_bytes");
    }
    // Skipping the value copies nothing.
    assert!(from_slice::<IgnoredAny>(&data).is_ok());

    // The same with bytes, shared by DUP (no memo at all): 1 byte a copy.
    let mut dup = b"\x80\x04(\x8e".to_vec();
    dup.extend_from_slice(&100_000u64.to_le_bytes());
    dup.extend(std::iter::repeat_n(b'y', 100_000));
    dup.extend(std::iter::repeat_n(b'2', 50_000));
    dup.extend_from_slice(b"l.");
    let g = load_slice(&dup).unwrap();
    expect_err(
        to_string(&g, &JsonOptions::default()),
        ErrorKind::Limit,
        "max_expanded_bytes",
    );
    expect_err(
        from_slice::<Vec<serde_bytes::ByteBuf>>(&dup),
        ErrorKind::Limit,
        "Limits::max_expanded_bytes",
    );

    // A few references are ordinary data: well within the default budget.
    let few = shared_string(100_000, 100);
    let g = load_slice(&few).unwrap();
    assert!(to_string(&g, &JsonOptions::default()).unwrap().len() > 100 * 100_000);
    assert_eq!(from_slice::<Vec<&str>>(&few).unwrap().len(), 100);
    // The budgets are settings: lowered, the few references fail; raised, the many pass.
    let tight = Options {
        limits: Limits {
            max_expanded_bytes: Some(1_000_000),
            ..Limits::default()
        },
        ..Options::default()
    };
    expect_err(
        from_slice_with_options::<Vec<&str>>(&few, &tight),
        ErrorKind::Limit,
        "more than 1000000 bytes",
    );
    let tight_json = JsonOptions {
        max_expanded_bytes: Some(1_000_000),
        ..JsonOptions::default()
    };
    expect_err(
        to_string(&g, &tight_json),
        ErrorKind::Limit,
        "more than 1000000 bytes",
    );
    let many = shared_string(2_000, 50_000);
    let roomy = Options {
        limits: Limits {
            max_expanded_bytes: Some(1 << 30),
            ..Limits::default()
        },
        ..Options::default()
    };
    assert!(from_slice::<Vec<&str>>(&many).is_err());
    assert_eq!(
        from_slice_with_options::<Vec<&str>>(&many, &roomy)
            .unwrap()
            .len(),
        50_000
    );
}

// ------------------------------------------------------------------ the memo

#[test]
fn memo_abuse() {
    // LONG_BINPUT 2^32-1 is stored sparsely: one entry, not four billion.
    let data = p4(b"N\x72\xff\xff\xff\xff0\x6a\xff\xff\xff\xff.");
    assert!(load_slice(&data).unwrap().root().is_none());
    // A protocol-0 PUT index beyond u64, and a negative one.
    let err = expect_err(
        load_slice(b"Np99999999999999999999\n."),
        ErrorKind::BadArgument,
        "out of range",
    );
    assert_eq!(err.opcode(), Some("PUT"));
    // Longer still: the same error (not an int-size limit), and leading zeros are fine.
    let err = expect_err(
        load_slice(b"Np999999999999999999999999999999\n."),
        ErrorKind::BadArgument,
        "PUT argument out of range",
    );
    assert!(!err.to_string().contains("max_int_digits"), "{err}");
    expect_err(
        load_slice(format!("Np{}\n.", "9".repeat(5000)).as_bytes()),
        ErrorKind::BadArgument,
        "PUT argument out of range",
    );
    let g = load_slice(b"Np0000000000000000000000007\n0g7\n.").unwrap();
    assert!(g.root().is_none());
    expect_err(load_slice(b"Np-1\n."), ErrorKind::BadArgument, "negative");
    // GET of an index never PUT, however large.
    let err = expect_err(
        load_slice(&p4(b"\x6a\xfe\xff\xff\xff.")),
        ErrorKind::Memo,
        "Memo value not found at index 4294967294",
    );
    assert_eq!(err.opcode(), Some("LONG_BINGET"));
    expect_err(
        load_slice(b"g18446744073709551615\n."),
        ErrorKind::BadArgument,
        "GET argument out of range",
    );
    expect_err(load_slice(b"g4294967295\n."), ErrorKind::Memo, "4294967295");
    // Indices that leap ahead (each about twice the last) stay sparse: memory follows
    // the entries stored, not the largest index (tests/bounds.rs measures it).
    let mut leaps = p4(b"N");
    let mut i: u64 = 1;
    while i < u32::MAX as u64 {
        leaps.push(b'r');
        leaps.extend_from_slice(&(i as u32).to_le_bytes());
        i = i * 2 + 4096;
    }
    leaps.push(b'.');
    assert!(load_slice(&leaps).is_ok());
    // More entries than Limits::max_memo: MEMOIZE, BINPUT, LONG_BINPUT, PUT.
    let opts = Options {
        limits: Limits {
            max_memo: 1000,
            ..Limits::default()
        },
        ..Options::default()
    };
    let mut memoize = p4(b"N");
    memoize.extend(std::iter::repeat_n(0x94, 1001));
    memoize.push(b'.');
    let mut sparse = p4(b"N");
    for k in 0..1001u32 {
        sparse.push(b'r');
        sparse.extend_from_slice(&(k.wrapping_mul(2_654_435_761)).to_le_bytes());
    }
    sparse.push(b'.');
    let mut text = b"N".to_vec();
    for k in 0..1001 {
        text.extend_from_slice(format!("p{}\n", k * 7919).as_bytes());
    }
    text.push(b'.');
    for data in [&memoize, &sparse, &text] {
        let mut up = Unpickler::with_options(opts.clone());
        expect_err(up.load_slice(data), ErrorKind::Limit, "Limits::max_memo");
        let mut up = Unpickler::with_options(opts.clone());
        expect_err(
            up.load_reader(&data[..]),
            ErrorKind::Limit,
            "more than 1000",
        );
    }
    // Overwriting one index a million times is one entry.
    let mut same = p4(b"N");
    same.extend(std::iter::repeat_n(&b"q\x07"[..], 1_000_000).flatten());
    same.push(b'.');
    assert!(Unpickler::with_options(opts).load_slice(&same).is_ok());
}

// ------------------------------------------------------------------ framing and protocol

#[test]
fn frames_that_lie() {
    // Longer than the input: truncated, naming both lengths (a slice knows).
    let data = p4(b"\x95\x00\x00\x00\x00\x00\x00\x00\x80N.");
    let err = expect_err(load_slice(&data), ErrorKind::Truncated, "FRAME of");
    assert_eq!(err.opcode(), Some("FRAME"));
    let data = p4(b"\x95\xff\xff\xff\xff\xff\xff\xff\xffN.");
    expect_err(
        load_slice(&data),
        ErrorKind::Truncated,
        "18446744073709551615 bytes",
    );
    // A stream does not look ahead: frames are hints, so the pickle inside still loads.
    assert!(load_reader(&data[..]).unwrap().root().is_none());
    // Shorter than the data, zero, or splitting an opcode: frames are only hints (as
    // CPython's C unpickler treats them), so these load.
    for body in [
        &b"\x95\x01\x00\x00\x00\x00\x00\x00\x00K\x07."[..],
        b"\x95\x00\x00\x00\x00\x00\x00\x00\x00K\x07.",
        b"\x95\x03\x00\x00\x00\x00\x00\x00\x00\x95\x02\x00\x00\x00\x00\x00\x00\x00K\x07.",
    ] {
        let data = p4(body);
        assert_eq!(load_slice(&data).unwrap().root().as_i64(), Some(7));
        assert_eq!(load_reader(&data[..]).unwrap().root().as_i64(), Some(7));
    }
    // A frame inside a frame that is cut: truncated, never a panic.
    let data = p4(b"\x95\x0b\x00\x00\x00\x00\x00\x00\x00\x95");
    expect_err(load_slice(&data), ErrorKind::Truncated, "truncated");
}

#[test]
fn protocols_that_lie() {
    // PROTO 2 followed by protocol-5 opcodes: fine (CPython reads them too).
    let data = b"\x80\x02\x96\x02\x00\x00\x00\x00\x00\x00\x00ab\x98\x94\x8c\x01x\x94\x95\x00\x00\x00\x00\x00\x00\x00\x00\x86.";
    let g = load_slice(data).unwrap();
    assert_eq!(g.root().len(), Some(2));
    // No PROTO at all, then PROTO late: also fine.
    assert!(load_slice(b"N\x80\x04\x8c\x01a\x86.").is_ok());
    // PROTO 9 (and 6, 255): unsupported, naming the number.
    for p in [6u8, 9, 255] {
        let data = [0x80, p, b'N', b'.'];
        let err = expect_err(
            load_slice(&data),
            ErrorKind::Unsupported,
            &format!("unsupported pickle protocol: {p}"),
        );
        assert_eq!((err.offset(), err.opcode()), (Some(0), Some("PROTO")));
        expect_err(load_reader(&data[..]), ErrorKind::Unsupported, "protocol");
    }
}

// ------------------------------------------------------------------ missing handlers

#[test]
fn ext_codes_and_persistent_ids_without_a_handler() {
    for (data, code) in [
        (&b"\x80\x02\x82\x07."[..], 7),
        (b"\x80\x02\x83\xff\xff.", 65535),
        (b"\x80\x02\x84\xff\xff\xff\x7f.", i32::MAX),
    ] {
        let err = expect_err(
            load_slice(data),
            ErrorKind::Unsupported,
            &format!("unregistered extension code {code}"),
        );
        assert_eq!(err.offset(), Some(2));
        expect_err(
            from_slice::<IgnoredAny>(data),
            ErrorKind::Unsupported,
            "extension",
        );
    }
    // EXT4 with a negative or zero code: a bad argument.
    expect_err(
        load_slice(b"\x80\x02\x84\xff\xff\xff\xff."),
        ErrorKind::BadArgument,
        "code <= 0",
    );
    expect_err(
        load_slice(b"\x80\x02\x82\x00."),
        ErrorKind::BadArgument,
        "code <= 0",
    );
    // A persistent id with no hook stays in the graph; serde says what is missing.
    for data in [&b"Pabc\n."[..], b"\x80\x02X\x01\x00\x00\x00aQ."] {
        let g = load_slice(data).unwrap();
        assert!(matches!(
            g.root().node(),
            Some(serde_pickle_vm::Node::PersId(_))
        ));
        assert!(to_string(&g, &JsonOptions::default())
            .unwrap()
            .contains("persid"));
        expect_err(
            from_slice::<serde_json::Value>(data),
            ErrorKind::Unsupported,
            "persistent_load",
        );
    }
    // A hook that fails: its error, at the opcode.
    let err = Unpickler::new()
        .persistent_load(|_| Err(Error::new(ErrorKind::Rejected, "no storages here")))
        .load_slice(b"Pabc\n.")
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.opcode()),
        (ErrorKind::Rejected, Some("PERSID"))
    );
}

// ------------------------------------------------------------------ torch archives

#[cfg(feature = "torch")]
mod torch {
    use super::*;
    use serde_pickle_vm::torch::{Checkpoint, LoadOptions};

    fn crc32(data: &[u8]) -> u32 {
        let mut table = [0u32; 256];
        for (i, t) in table.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *t = c;
        }
        !data.iter().fold(!0u32, |c, &b| {
            table[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8)
        })
    }

    /// A minimal zip writer: stored or deflated entries, no data descriptors.
    pub(super) fn zip(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, data, deflate) in entries {
            let (method, body) = if *deflate {
                (8u16, miniz_oxide::deflate::compress_to_vec(data, 10))
            } else {
                (0u16, data.to_vec())
            };
            let crc = crc32(data);
            let offset = out.len() as u32;
            let head = |sig: u32, central: bool| {
                let mut h = sig.to_le_bytes().to_vec();
                if central {
                    h.extend_from_slice(&20u16.to_le_bytes());
                }
                h.extend_from_slice(&20u16.to_le_bytes()); // version needed
                h.extend_from_slice(&0u16.to_le_bytes()); // flags
                h.extend_from_slice(&method.to_le_bytes());
                h.extend_from_slice(&[0; 4]); // time, date
                h.extend_from_slice(&crc.to_le_bytes());
                h.extend_from_slice(&(body.len() as u32).to_le_bytes());
                h.extend_from_slice(&(data.len() as u32).to_le_bytes());
                h.extend_from_slice(&(name.len() as u16).to_le_bytes());
                h.extend_from_slice(&0u16.to_le_bytes()); // extra
                if central {
                    h.extend_from_slice(&[0; 6]); // comment length, disk, internal attrs
                    h.extend_from_slice(&[0; 4]); // external attrs
                    h.extend_from_slice(&offset.to_le_bytes());
                }
                h.extend_from_slice(name.as_bytes());
                h
            };
            out.extend(head(0x0403_4b50, false));
            out.extend_from_slice(&body);
            central.extend(head(0x0201_4b50, true));
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    /// `{"w": tensor}` with float32 storage `key` of `numel` elements, protocol 2.
    pub(super) fn tensor_pickle(key: &str, numel: u32, shape: &[i64], stride: &[i64]) -> Vec<u8> {
        let mut p = b"\x80\x02}X\x01\x00\x00\x00wctorch._utils\n_rebuild_tensor_v2\n(".to_vec();
        p.extend_from_slice(b"(X\x07\x00\x00\x00storagectorch\nFloatStorage\n");
        p.push(b'X');
        p.extend_from_slice(&(key.len() as u32).to_le_bytes());
        p.extend_from_slice(key.as_bytes());
        p.extend_from_slice(b"X\x03\x00\x00\x00cpuJ");
        p.extend_from_slice(&numel.to_le_bytes());
        p.extend_from_slice(b"tQK\x00");
        for dims in [shape, stride] {
            p.push(b'(');
            for &d in dims {
                p.push(0x8a);
                p.push(8);
                p.extend_from_slice(&d.to_le_bytes());
            }
            p.push(b't');
        }
        p.extend_from_slice(b"\x89ccollections\nOrderedDict\n)RtRs.");
        p
    }

    fn read_all(c: &Checkpoint) -> serde_pickle_vm::Result<()> {
        for (_, t) in c.tensors() {
            t.sha256()?;
        }
        Ok(())
    }

    #[test]
    fn a_wellformed_handmade_archive_loads() {
        let pkl = tensor_pickle("0", 4, &[2, 2], &[2, 1]);
        let data: Vec<u8> = [1f32, 2., 3., 4.]
            .iter()
            .flat_map(|f| f.to_le_bytes())
            .collect();
        let file = zip(&[
            ("archive/data.pkl", &pkl, false),
            ("archive/data/0", &data, true),
        ]);
        let c = Checkpoint::from_slice(&file).unwrap();
        assert_eq!(
            c.tensor("w").unwrap().to_vec::<f32>().unwrap(),
            [1., 2., 3., 4.]
        );
    }

    #[test]
    fn zip_bomb_members() {
        // A storage of 4 MiB of zeros deflates about 1000×.
        let pkl = tensor_pickle("0", 1 << 20, &[1 << 20], &[1]);
        let zeros = vec![0u8; 4 << 20];
        let file = zip(&[
            ("archive/data.pkl", &pkl, false),
            ("archive/data/0", &zeros, true),
        ]);
        assert!(
            file.len() * 500 < zeros.len(),
            "ratio {}",
            zeros.len() / file.len()
        );
        // Opening is lazy: nothing inflates until the tensor is read.
        let c = Checkpoint::from_slice(&file).unwrap();
        assert_eq!(c.tensor("w").unwrap().nbytes(), 4 << 20);
        // By default the ratio (over 100×) refuses it, before inflating past the limit.
        let err = read_all(&c).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Limit, "{err}");
        assert!(err.to_string().contains("max_inflate_ratio"), "{err}");
        // Allowing the ratio, a lower LoadOptions::max_inflated refuses it.
        let opts = LoadOptions {
            max_inflated: 1 << 20,
            max_inflate_ratio: 10_000,
            ..LoadOptions::default()
        };
        let bytes = serde_pickle_vm::torch::Bytes::new(file.clone());
        let err = Checkpoint::from_bytes_with(bytes, &opts)
            .and_then(|c| read_all(&c).map(|_| c))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Limit, "{err}");
        assert!(
            err.to_string().contains("LoadOptions::max_inflated"),
            "{err}"
        );
        // Allowing both, it is an ordinary (compressed) storage.
        let opts_ok = LoadOptions {
            max_inflate_ratio: 10_000,
            ..LoadOptions::default()
        };
        let bytes = serde_pickle_vm::torch::Bytes::new(file.clone());
        let c = Checkpoint::from_bytes_with(bytes, &opts_ok).unwrap();
        assert!(read_all(&c).is_ok());
        // A header that lies (declares 16 bytes, inflates to 4 MiB): inflation stops at
        // the declared size and the lie is an error.
        let mut lying = file.clone();
        let cd = lying.len() - 22 - (46 + "archive/data/0".len());
        let local = lying
            .windows(14)
            .position(|w| w == b"archive/data/0")
            .unwrap()
            - 30;
        for at in [local + 22, cd + 24] {
            lying[at..at + 4].copy_from_slice(&16u32.to_le_bytes());
        }
        let pkl16 = tensor_pickle("0", 4, &[4], &[1]);
        assert_eq!(pkl16.len(), pkl.len());
        lying[30 + "archive/data.pkl".len()..][..pkl.len()].copy_from_slice(&pkl16);
        let bytes = serde_pickle_vm::torch::Bytes::new(lying);
        let err = Checkpoint::from_bytes_with(bytes, &opts_ok)
            .and_then(|c| read_all(&c).map(|_| c))
            .unwrap_err();
        assert!(err.to_string().contains("archive/data/0"), "{err}");
        // The pickle itself as a bomb: the same limit.
        let big_pkl = [
            &b"\x80\x04\x8e\x00\x00\x40\x00\x00\x00\x00\x00"[..],
            &zeros,
            b".",
        ]
        .concat();
        let file = zip(&[("archive/data.pkl", &big_pkl, true)]);
        let bytes = serde_pickle_vm::torch::Bytes::new(file);
        let err = Checkpoint::from_bytes_with(bytes, &opts).unwrap_err();
        assert!(err.to_string().contains("archive/data.pkl"), "{err}");
        assert!(err.to_string().contains("max_inflated"), "{err}");
    }

    #[test]
    fn member_names_that_climb() {
        let data: Vec<u8> = [1f32, 2.].iter().flat_map(|f| f.to_le_bytes()).collect();
        // Names are only keys into the archive's directory; nothing touches the file
        // system. A prefix of `..` is as good as any other.
        let pkl = tensor_pickle("0", 2, &[2], &[1]);
        let file = zip(&[("../data.pkl", &pkl, false), ("../data/0", &data, false)]);
        let c = Checkpoint::from_slice(&file).unwrap();
        assert_eq!(c.tensor("w").unwrap().to_vec::<f32>().unwrap(), [1., 2.]);
        // Deeper climbs are not `<archive>/data.pkl`.
        let file = zip(&[("../../x/data.pkl", &pkl, false)]);
        let err = Checkpoint::from_slice(&file).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Format);
        assert!(err.to_string().contains("data.pkl"), "{err}");
        // A storage key that climbs names a member that does not exist.
        let pkl = tensor_pickle("../../../etc/passwd", 2, &[2], &[1]);
        let file = zip(&[
            ("archive/data.pkl", &pkl, false),
            ("archive/data/0", &data, false),
        ]);
        let err = Checkpoint::from_slice(&file).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Format);
        assert!(
            err.to_string().contains("archive/data/../../../etc/passwd"),
            "{err}"
        );
    }

    #[test]
    fn tensors_that_lie_about_their_extent() {
        let data: Vec<u8> = [1f32, 2., 3., 4.]
            .iter()
            .flat_map(|f| f.to_le_bytes())
            .collect();
        let load = |shape: &[i64], stride: &[i64], numel: u32| {
            let pkl = tensor_pickle("0", numel, shape, stride);
            let file = zip(&[
                ("archive/data.pkl", &pkl, false),
                ("archive/data/0", &data, false),
            ]);
            Checkpoint::from_slice(&file).and_then(|c| read_all(&c).map(|_| c))
        };
        for (shape, stride, numel, needle) in [
            // Storage shorter than the tensor's extent (and than its own declared numel).
            (&[5i64][..], &[1i64][..], 4, "out of range"),
            (&[4], &[1], 8, "storage"),
            (&[2, 2], &[3, 1], 4, "out of range"),
            // Negative and huge strides.
            (&[2], &[-1], 4, "stride"),
            (&[2], &[i64::MAX], 4, "out of range"),
            (&[2, 2], &[1 << 62, 1 << 62], 4, "out of range"),
            // Negative dims and shape products that overflow.
            (&[-2], &[1], 4, "negative size"),
            (&[1 << 32, 1 << 32], &[0, 0], 4, "overflow"),
            (&[i64::MAX, 2], &[0, 0], 4, "overflow"),
            (&[1 << 31, 1 << 31, 4], &[0, 0, 0], 4, "overflow"),
            // Rank mismatch between shape and strides.
            (&[2, 2], &[1], 4, "stride"),
        ] {
            let err = load(shape, stride, numel)
                .err()
                .unwrap_or_else(|| panic!("{shape:?} {stride:?} loaded"));
            assert_eq!(err.kind(), ErrorKind::Format, "{shape:?} {stride:?}: {err}");
            assert!(
                err.to_string().contains(needle),
                "{shape:?} {stride:?}: {err} lacks {needle:?}"
            );
        }
        // A stride-0 view of one element (torch's `expand`) may be huge: it loads
        // lazily, its size is known before anything is read, and reading it fails with
        // an error instead of aborting (the torch fuzzer's JSON rendering hashed one).
        let pkl = tensor_pickle("0", 4, &[1 << 22, 1 << 22], &[0, 0]);
        let file = zip(&[
            ("archive/data.pkl", &pkl, false),
            ("archive/data/0", &data, false),
        ]);
        let c = Checkpoint::from_slice(&file).unwrap();
        let t = c.tensor("w").unwrap();
        assert_eq!(t.nbytes(), 1 << 46);
        let err = t.sha256().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Limit, "{err}");
        assert!(
            err.message().contains("more than can be allocated"),
            "{err}"
        );
        let json = to_string(c.graph(), &JsonOptions::default()).unwrap();
        assert!(json.contains("more than can be allocated"), "{json}");
    }

    #[test]
    fn not_a_torch_file() {
        for bytes in [
            &b"\x80\x02}q\x00."[..], // a plain pickle named .pt: a plain checkpoint
            b"PK\x03\x04garbage",
            b"\x00\x01\x02\x03 not a zip and not a pickle",
            b"PK\x05\x06",
        ] {
            let _ = Checkpoint::from_slice(bytes);
            let _ = Checkpoint::from_reader(std::io::Cursor::new(bytes.to_vec()));
        }
        let err = Checkpoint::from_slice(b"\x00\x01\x02\x03 not a zip").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Format, "{err}");
        // A legacy file whose magic number is wrong.
        let mut legacy = b"\x80\x02\x8a\x0a".to_vec();
        legacy.extend_from_slice(&0x1950a86a20f9469cfc6du128.to_le_bytes()[..10]);
        legacy.extend_from_slice(b".\x80\x02M\xe9\x03.");
        let err = Checkpoint::from_slice(&legacy).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Format, "{err}");
    }
}

// ------------------------------------------------------------------ fuzz findings

/// Replays every input the fuzzers found (`tests/regressions/<target>/`) through what
/// its target exercises: each must end in an error or a value, quickly.
#[test]
fn fuzz_regressions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let Ok(dirs) = std::fs::read_dir(&root) else {
        return;
    };
    for dir in dirs {
        let dir = dir.unwrap().path();
        let target = dir.file_name().unwrap().to_string_lossy().to_string();
        for file in std::fs::read_dir(&dir).unwrap() {
            let path = file.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let name = path.display().to_string();
            let data2 = data.clone();
            let target2 = target.clone();
            let t = std::time::Instant::now();
            small_stack(move || replay(&target2, &data2));
            assert!(t.elapsed().as_secs() < 20, "{name} took {:?}", t.elapsed());
            let _ = name;
        }
    }
}

fn replay(target: &str, data: &[u8]) {
    match target {
        "vm" => {
            for g in [load_slice(data).ok(), load_reader(data).ok()]
                .into_iter()
                .flatten()
            {
                let _ = to_string(&g, &JsonOptions::default());
            }
            let raw = Options {
                emulate: false,
                ..Options::default()
            };
            if let Ok(g) = Unpickler::with_options(raw).load_slice(data) {
                let _ = to_string(&g, &JsonOptions::default());
            }
        }
        "serde" => {
            let _ = from_slice::<IgnoredAny>(data);
            let _ = from_slice::<serde_json::Value>(data);
            let _ = from_slice::<Nest>(data);
            let _ = from_slice::<Vec<(String, f64)>>(data);
            let _ = from_slice::<std::collections::HashMap<String, Option<Vec<i64>>>>(data);
        }
        "scan" => {
            let report = serde_pickle_vm::scan::scan_bytes(data);
            assert!(report.exit_code() <= 3);
            for (_, f) in report.findings() {
                let _ = f.what();
            }
        }
        "dis" => {
            use serde_pickle_vm::dis::{dis_to_string, DisOptions};
            let _ = dis_to_string(data, &DisOptions::default());
            let _ = dis_to_string(data, &DisOptions::annotated());
        }
        "files" => {
            use serde_pickle_vm::dis::DisOptions;
            if let Ok(l) = serde_pickle_vm::load_bytes(data) {
                let _ = to_string(&l.graph, &JsonOptions::default());
            }
            let _ = serde_pickle_vm::file::dis(data, &mut String::new(), &DisOptions::default());
        }
        // What the `pandas` fuzz target runs.
        #[cfg(feature = "pandas")]
        "pandas" => {
            use serde_pickle_vm::pandas::Pandas;
            if let Ok(g) = load_slice(data) {
                if let Ok(p) = Pandas::from_graph(&g) {
                    let _ = p.info();
                    if let Pandas::DataFrame(df) = &p {
                        for c in df.columns() {
                            let _ = (c.data.dtype_name(), c.data.null_count());
                            for i in 0..c.data.len().min(64) {
                                let _ = c.data.text(i);
                            }
                        }
                    }
                }
            }
            let _ = from_slice::<Vec<serde_json::Value>>(data);
            let _ = from_slice::<Vec<(Option<i64>, Option<String>)>>(data);
            let _ = from_slice::<std::collections::HashMap<String, Vec<serde_json::Value>>>(data);
        }
        #[cfg(feature = "torch")]
        "torch" => {
            use serde_pickle_vm::torch::Checkpoint;
            if let Ok(c) = Checkpoint::from_slice(data) {
                for (_, t) in c.tensors() {
                    if t.nbytes() <= 64 << 20 {
                        let _ = t.sha256();
                    }
                }
                let _ = to_string(c.graph(), &JsonOptions::default());
            }
        }
        _ => {}
    }
}
