//! Typed loads: pickle bytes straight into Rust types (VM + serde walk).
//!
//! The inputs are the workloads of `benches/vm.rs` / `benches/compare.py`, written here by
//! a tiny pickle writer that emits what CPython's protocol 4 pickler does (memoized
//! strings, interned dict keys as BINGETs, APPENDS/SETITEMS batches of 1000), so the
//! bench needs no Python. They are also saved under `target/typed-bench/<name>.pickle`
//! so that `compare.py` can time CPython on the very same bytes.
//!
//! Bench ids: `typed/ints_1m`, `typed/floats_1m`, `typed/strings_1m`,
//! `typed/strs_1m_borrowed`, `typed/records_200k`, `typed/records_200k_borrowed`,
//! `typed/records_200k_graph_only` (the VM alone), `typed/records_200k_walk_only` (the
//! serde walk alone, from a loaded graph), `typed/objects_200k`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde::Deserialize;
use std::collections::HashMap;

/// Writes protocol 4 opcodes the way CPython's pickler does (without FRAMEs).
struct Writer {
    out: Vec<u8>,
    next_memo: u32,
    interned: HashMap<&'static str, u32>,
}

impl Writer {
    fn new() -> Self {
        Writer {
            out: vec![0x80, 4],
            next_memo: 0,
            interned: HashMap::new(),
        }
    }
    fn memoize(&mut self) -> u32 {
        self.out.push(0x94);
        self.next_memo += 1;
        self.next_memo - 1
    }
    fn get(&mut self, i: u32) {
        if i < 256 {
            self.out.extend([b'h', i as u8]);
        } else {
            self.out.push(b'j');
            self.out.extend(i.to_le_bytes());
        }
    }
    fn int(&mut self, i: i64) {
        if (0..256).contains(&i) {
            self.out.extend([b'K', i as u8]);
        } else if (0..65536).contains(&i) {
            self.out.push(b'M');
            self.out.extend((i as u16).to_le_bytes());
        } else if i32::try_from(i).is_ok() {
            self.out.push(b'J');
            self.out.extend((i as i32).to_le_bytes());
        } else {
            self.out.extend([0x8a, 8]);
            self.out.extend(i.to_le_bytes());
        }
    }
    fn float(&mut self, f: f64) {
        self.out.push(b'G');
        self.out.extend(f.to_be_bytes());
    }
    fn bool(&mut self, b: bool) {
        self.out.push(if b { 0x88 } else { 0x89 });
    }
    fn str(&mut self, s: &str) {
        if s.len() < 256 {
            self.out.extend([0x8c, s.len() as u8]);
        } else {
            self.out.push(b'X');
            self.out.extend((s.len() as u32).to_le_bytes());
        }
        self.out.extend(s.as_bytes());
        self.memoize();
    }
    /// An interned string (dict keys, short literals): written once, then BINGET.
    fn interned(&mut self, s: &'static str) {
        match self.interned.get(s) {
            Some(&i) => self.get(i),
            None => {
                self.str(s);
                self.interned.insert(s, self.next_memo - 1);
            }
        }
    }
    /// `[f(0), f(1), …]` in APPENDS batches of 1000.
    fn list(&mut self, n: usize, mut f: impl FnMut(&mut Self, usize)) {
        self.out.push(b']');
        self.memoize();
        for start in (0..n).step_by(1000) {
            let end = (start + 1000).min(n);
            if end - start > 1 {
                self.out.push(b'(');
            }
            for i in start..end {
                f(self, i);
            }
            self.out.push(if end - start > 1 { b'e' } else { b'a' });
        }
    }
    fn dict(&mut self, f: impl FnOnce(&mut Self)) {
        self.out.push(b'}');
        self.memoize();
        self.out.push(b'(');
        f(self);
        self.out.push(b'u');
    }
    fn finish(mut self) -> Vec<u8> {
        self.out.push(b'.');
        self.out
    }
}

fn ints(n: usize) -> Vec<u8> {
    let mut w = Writer::new();
    w.list(n, |w, i| w.int(i as i64));
    w.finish()
}

fn floats(n: usize) -> Vec<u8> {
    let mut w = Writer::new();
    w.list(n, |w, i| w.float(i as f64 * 0.5));
    w.finish()
}

fn strings(n: usize) -> Vec<u8> {
    let mut w = Writer::new();
    w.list(n, |w, i| w.str(&format!("s{i}")));
    w.finish()
}

/// `{"id": i, "name": f"user{i}", "score": i*0.5, "tags": ["a","b"], "active": i%2==0}`
fn records(n: usize) -> Vec<u8> {
    let mut w = Writer::new();
    w.list(n, |w, i| {
        w.dict(|w| {
            w.interned("id");
            w.int(i as i64);
            w.interned("name");
            w.str(&format!("user{i}"));
            w.interned("score");
            w.float(i as f64 * 0.5);
            w.interned("tags");
            w.out.push(b']');
            w.memoize();
            w.out.push(b'(');
            w.interned("a");
            w.interned("b");
            w.out.push(b'e');
            w.interned("active");
            w.bool(i % 2 == 0);
        })
    });
    w.finish()
}

/// `Greeter(f"user{i}", i % 2 == 0)` instances: NEWOBJ + BUILD of a state dict.
fn objects(n: usize) -> Vec<u8> {
    let mut w = Writer::new();
    let mut class = None;
    w.list(n, |w, i| {
        match class {
            Some(c) => w.get(c),
            None => {
                w.str("__main__");
                w.str("Greeter");
                w.out.push(0x93);
                class = Some(w.memoize());
            }
        }
        w.out.extend([b')', 0x81]);
        w.memoize();
        w.dict(|w| {
            w.interned("name");
            w.str(&format!("user{i}"));
            w.interned("excited");
            w.bool(i % 2 == 0);
        });
        w.out.push(b'b');
    });
    w.finish()
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Record {
    id: u64,
    name: String,
    score: f64,
    tags: Vec<String>,
    active: bool,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct RecordRef<'a> {
    id: u64,
    name: &'a str,
    score: f64,
    #[serde(borrow)]
    tags: Vec<&'a str>,
    active: bool,
}

#[serde_pickle_vm::pickle(module = "__main__", class = "Greeter")]
#[derive(Deserialize)]
#[allow(dead_code)]
struct Greeter {
    name: String,
    excited: bool,
}

fn save(name: &str, data: &[u8]) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/typed-bench");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join(format!("{name}.pickle")), data);
    }
}

fn typed(c: &mut Criterion) {
    let mut g = c.benchmark_group("typed");
    g.sample_size(10);

    let data = ints(1_000_000);
    save("ints_1m", &data);
    g.throughput(Throughput::Elements(1_000_000));
    g.bench_function("ints_1m", |b| {
        b.iter(|| serde_pickle_vm::from_slice::<Vec<i64>>(&data).unwrap())
    });

    let data = floats(1_000_000);
    save("floats_1m", &data);
    g.bench_function("floats_1m", |b| {
        b.iter(|| serde_pickle_vm::from_slice::<Vec<f64>>(&data).unwrap())
    });

    let data = strings(1_000_000);
    save("strings_1m", &data);
    g.bench_function("strings_1m", |b| {
        b.iter(|| serde_pickle_vm::from_slice::<Vec<String>>(&data).unwrap())
    });
    g.bench_function("strs_1m_borrowed", |b| {
        b.iter(|| serde_pickle_vm::from_slice::<Vec<&str>>(&data).unwrap())
    });

    let data = records(200_000);
    save("records_200k", &data);
    g.throughput(Throughput::Elements(200_000));
    g.bench_function("records_200k", |b| {
        b.iter(|| serde_pickle_vm::from_slice::<Vec<Record>>(&data).unwrap())
    });
    g.bench_function("records_200k_borrowed", |b| {
        b.iter(|| serde_pickle_vm::from_slice::<Vec<RecordRef>>(&data).unwrap())
    });
    g.bench_function("records_200k_graph_only", |b| {
        b.iter(|| serde_pickle_vm::load_slice(&data).unwrap())
    });
    let graph = serde_pickle_vm::load_slice(&data).unwrap();
    g.bench_function("records_200k_walk_only", |b| {
        b.iter(|| serde_pickle_vm::from_graph::<Vec<Record>>(&graph).unwrap())
    });

    let data = objects(200_000);
    save("objects_200k", &data);
    g.bench_function("objects_200k", |b| {
        b.iter(|| serde_pickle_vm::from_slice::<Vec<Greeter>>(&data).unwrap())
    });
    g.finish();
}

criterion_group!(benches, typed);
criterion_main!(benches);
