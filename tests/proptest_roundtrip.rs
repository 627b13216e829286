//! Property test: random Python-like values, written by a small pickler in this file for
//! every protocol 0–5 (the opcodes each protocol's CPython pickler uses), load back to
//! the same values through both readers. Complements the CPython fixtures with shapes
//! nobody wrote by hand.

use proptest::prelude::*;
use serde_pickle_vm::{load_reader, load_slice, Value, ValueKind};

#[derive(Debug, Clone)]
enum V {
    None,
    Bool(bool),
    Int(i64),
    Big(i128),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<V>),
    Tuple(Vec<V>),
    Dict(Vec<(String, V)>),
}

fn value() -> impl Strategy<Value = V> {
    let leaf = prop_oneof![
        Just(V::None),
        any::<bool>().prop_map(V::Bool),
        any::<i64>().prop_map(V::Int),
        (-1000i64..1000).prop_map(V::Int),
        any::<i128>().prop_map(V::Big),
        any::<f64>().prop_map(V::Float),
        ".{0,12}".prop_map(V::Str),
        "[a-z\\\\\n\r\u{1a}\u{0}]{0,6}".prop_map(V::Str),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(V::Bytes),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(V::List),
            prop::collection::vec(inner.clone(), 0..5).prop_map(V::Tuple),
            prop::collection::vec((".{0,6}", inner), 0..6).prop_map(V::Dict),
        ]
    })
}

/// A pickler for protocol `proto`, following what CPython writes.
struct Writer {
    proto: u8,
    out: Vec<u8>,
}

impl Writer {
    fn new(proto: u8) -> Self {
        let mut out = Vec::new();
        if proto >= 2 {
            out.extend_from_slice(&[0x80, proto]);
        }
        Writer { proto, out }
    }

    fn finish(mut self, v: &V) -> Vec<u8> {
        self.value(v);
        self.out.push(b'.');
        self.out
    }

    fn int_text(&mut self, op: u8, text: String) {
        self.out.push(op);
        self.out.extend_from_slice(text.as_bytes());
        self.out.push(b'\n');
    }

    fn long1(&mut self, v: i128) {
        let mut bytes = v.to_le_bytes().to_vec();
        while bytes.len() > 1 {
            let last = bytes[bytes.len() - 1];
            let prev = bytes[bytes.len() - 2];
            if (last == 0 && prev & 0x80 == 0) || (last == 0xff && prev & 0x80 != 0) {
                bytes.pop();
            } else {
                break;
            }
        }
        self.out.push(0x8a);
        self.out.push(bytes.len() as u8);
        self.out.extend_from_slice(&bytes);
    }

    fn str(&mut self, s: &str) {
        if self.proto == 0 {
            // raw-unicode-escape, escaping what CPython escapes (and all non-ASCII).
            self.out.push(b'V');
            for c in s.chars() {
                match c {
                    '\\' | '\0' | '\n' | '\r' | '\u{1a}' => self
                        .out
                        .extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes()),
                    c if c.is_ascii() => self.out.push(c as u8),
                    c if (c as u32) < 0x10000 => self
                        .out
                        .extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes()),
                    c => self
                        .out
                        .extend_from_slice(format!("\\U{:08x}", c as u32).as_bytes()),
                }
            }
            self.out.push(b'\n');
        } else if self.proto >= 4 && s.len() < 256 {
            self.out.push(0x8c);
            self.out.push(s.len() as u8);
            self.out.extend_from_slice(s.as_bytes());
        } else {
            self.out.push(b'X');
            self.out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            self.out.extend_from_slice(s.as_bytes());
        }
    }

    fn value(&mut self, v: &V) {
        let p = self.proto;
        match v {
            V::None => self.out.push(b'N'),
            V::Bool(b) if p >= 2 => self.out.push(if *b { 0x88 } else { 0x89 }),
            V::Bool(b) => self
                .out
                .extend_from_slice(if *b { b"I01\n" } else { b"I00\n" }),
            V::Int(i) if p == 0 => self.int_text(b'I', i.to_string()),
            V::Int(i) if (0..256).contains(i) => self.out.extend_from_slice(&[b'K', *i as u8]),
            V::Int(i) if (256..65536).contains(i) => {
                self.out.push(b'M');
                self.out.extend_from_slice(&(*i as u16).to_le_bytes());
            }
            V::Int(i) if i32::try_from(*i).is_ok() => {
                self.out.push(b'J');
                self.out.extend_from_slice(&(*i as i32).to_le_bytes());
            }
            V::Int(i) if p >= 2 => self.long1(*i as i128),
            V::Int(i) => self.int_text(b'L', format!("{i}L")),
            V::Big(i) if p >= 2 => self.long1(*i),
            V::Big(i) => self.int_text(b'L', format!("{i}L")),
            V::Float(f) if p == 0 => self.int_text(b'F', format!("{f:?}")),
            V::Float(f) => {
                self.out.push(b'G');
                self.out.extend_from_slice(&f.to_be_bytes());
            }
            V::Str(s) => self.str(s),
            V::Bytes(b) if p >= 3 => {
                if b.len() < 256 {
                    self.out.extend_from_slice(&[b'C', b.len() as u8]);
                } else {
                    self.out.push(b'B');
                    self.out.extend_from_slice(&(b.len() as u32).to_le_bytes());
                }
                self.out.extend_from_slice(b);
            }
            V::Bytes(b) => {
                // _codecs.encode(latin-1 text, 'latin1'), as protocols < 3 write bytes.
                self.out.extend_from_slice(b"c_codecs\nencode\n(");
                let text: String = b.iter().map(|&x| x as char).collect();
                self.str(&text);
                self.str("latin1");
                self.out.extend_from_slice(b"tR");
            }
            V::List(items) => {
                if p == 0 {
                    self.out.push(b'(');
                    items.iter().for_each(|i| self.value(i));
                    self.out.push(b'l');
                } else {
                    self.out.extend_from_slice(b"](");
                    items.iter().for_each(|i| self.value(i));
                    self.out.push(b'e');
                }
            }
            V::Tuple(items) if p >= 2 && items.len() <= 3 => {
                if items.is_empty() {
                    self.out.push(b')');
                } else {
                    items.iter().for_each(|i| self.value(i));
                    self.out.push(0x84 + items.len() as u8);
                }
            }
            V::Tuple(items) => {
                self.out.push(b'(');
                items.iter().for_each(|i| self.value(i));
                self.out.push(b't');
            }
            V::Dict(pairs) => {
                if p == 0 {
                    self.out.push(b'(');
                } else {
                    self.out.extend_from_slice(b"}(");
                }
                for (k, v) in pairs {
                    self.str(k);
                    self.value(v);
                }
                self.out.push(if p == 0 { b'd' } else { b'u' });
            }
        }
    }
}

fn same(v: &V, got: Value<'_, '_>) -> Result<(), String> {
    let ok = match v {
        V::None => got.is_none(),
        V::Bool(b) => got.as_bool() == Some(*b),
        V::Int(i) => got.as_i64() == Some(*i),
        V::Big(i) => got.as_bigint().map(|b| b.to_string()) == Some(i.to_string()),
        V::Float(f) => got
            .as_f64()
            .is_some_and(|g| g.to_bits() == f.to_bits() || (g.is_nan() && f.is_nan())),
        V::Str(s) => got.as_str() == Some(s.as_str()),
        V::Bytes(b) => got.kind() == ValueKind::Bytes && got.as_bytes() == Some(b.as_slice()),
        V::List(items) | V::Tuple(items) => {
            let kind = if matches!(v, V::List(_)) {
                ValueKind::List
            } else {
                ValueKind::Tuple
            };
            if got.kind() != kind || got.len() != Some(items.len()) {
                return Err(format!("{v:?} vs {got:?}"));
            }
            for (item, g) in items.iter().zip(got.iter()) {
                same(item, g)?;
            }
            true
        }
        V::Dict(pairs) => {
            let Some(items) = got.items() else {
                return Err(format!("{v:?} vs {got:?}"));
            };
            let items: Vec<_> = items.collect();
            if items.len() != pairs.len() {
                return Err(format!("{v:?} vs {got:?}"));
            }
            for ((k, v), (gk, gv)) in pairs.iter().zip(items) {
                if gk.as_str() != Some(k.as_str()) {
                    return Err(format!("key {k:?} vs {gk:?}"));
                }
                same(v, gv)?;
            }
            true
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{v:?} vs {got:?}"))
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn values_round_trip_in_every_protocol(v in value()) {
        for proto in 0..=5u8 {
            let data = Writer::new(proto).finish(&v);
            let g = load_slice(&data).map_err(|e| TestCaseError::fail(format!("p{proto}: {e}")))?;
            same(&v, g.root()).map_err(|e| TestCaseError::fail(format!("p{proto} slice: {e}")))?;
            let g = load_reader(&data[..]).map_err(|e| TestCaseError::fail(format!("p{proto}: {e}")))?;
            same(&v, g.root()).map_err(|e| TestCaseError::fail(format!("p{proto} reader: {e}")))?;
        }
    }

    /// Lists of ints of every width, as the VM decodes runs of int opcodes in a loop of
    /// its own (and packs ints of more than 48 bits into a side table): every kind of
    /// int opcode next to every other, runs cut by the end of the stream reader's
    /// buffer, values at the edges of each encoding.
    #[test]
    fn int_lists_round_trip(ints in proptest::collection::vec(int_value(), 0..2000)) {
        let v = V::List(ints.into_iter().map(V::Int).collect());
        for proto in [2u8, 4, 5] {
            let data = Writer::new(proto).finish(&v);
            let g = load_slice(&data).map_err(|e| TestCaseError::fail(format!("p{proto}: {e}")))?;
            same(&v, g.root()).map_err(|e| TestCaseError::fail(format!("p{proto} slice: {e}")))?;
            let g = load_reader(&data[..]).map_err(|e| TestCaseError::fail(format!("p{proto}: {e}")))?;
            same(&v, g.root()).map_err(|e| TestCaseError::fail(format!("p{proto} reader: {e}")))?;
        }
    }
}

/// Ints spread over every encoding and its edges: BININT1, BININT2, BININT, LONG1 of 1
/// to 8 bytes, around ±2^47 (the packing limit) and the ends of i64.
fn int_value() -> impl Strategy<Value = i64> {
    prop_oneof![
        0i64..256,
        256i64..65536,
        any::<i32>().prop_map(i64::from),
        any::<i64>(),
        (0u32..64, any::<bool>(), -2i64..=2).prop_map(|(bits, neg, d)| {
            let v = (1i64 << bits.min(62)).saturating_add(d);
            if neg {
                v.saturating_neg()
            } else {
                v
            }
        }),
        Just(i64::MIN),
        Just(i64::MAX),
        Just((1i64 << 47) - 1),
        Just(-(1i64 << 47)),
    ]
}

/// 100,000 ints of every encoding (a fixed pseudo-random sequence): far more than the
/// stream reader buffers at once, so runs of int opcodes are cut at every buffer end.
#[test]
fn long_int_lists_across_reader_buffers() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let ints: Vec<i64> = (0..100_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let bits = (x >> 58) as u32; // 0..64
            let v = (x as i64) >> (63 - bits.min(63));
            if x & 1 == 0 {
                v
            } else {
                v.wrapping_neg()
            }
        })
        .collect();
    let v = V::List(ints.into_iter().map(V::Int).collect());
    for proto in [2u8, 5] {
        let data = Writer::new(proto).finish(&v);
        same(&v, load_slice(&data).unwrap().root()).unwrap();
        same(&v, load_reader(&data[..]).unwrap().root()).unwrap();
    }
}
