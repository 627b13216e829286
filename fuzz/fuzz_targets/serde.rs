//! `from_slice` into self-describing and typed targets.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Deserialize, Debug)]
#[allow(dead_code)]
enum Shape {
    Unit,
    Circle(f64),
    Rect { w: f64, h: f64 },
    Pair(i64, String),
}

#[derive(Deserialize, Debug)]
#[allow(dead_code)]
struct Record {
    name: String,
    id: Option<u64>,
    tags: Vec<String>,
    scores: HashMap<String, f64>,
    nested: Option<Vec<Option<Box<Record>>>>,
    shape: Option<Shape>,
    #[serde(default)]
    raw: Option<serde_bytes_like::Buf>,
}

mod serde_bytes_like {
    /// Accepts bytes (or a sequence of u8) without serde_bytes.
    #[derive(Debug)]
    pub struct Buf(#[allow(dead_code)] pub Vec<u8>);
    impl<'de> serde::Deserialize<'de> for Buf {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Buf;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("bytes")
                }
                fn visit_bytes<E>(self, v: &[u8]) -> Result<Buf, E> {
                    Ok(Buf(v.to_vec()))
                }
                fn visit_seq<A: serde::de::SeqAccess<'de>>(
                    self,
                    mut a: A,
                ) -> Result<Buf, A::Error> {
                    let mut out = Vec::new();
                    while let Some(b) = a.next_element::<u8>()? {
                        out.push(b);
                    }
                    Ok(Buf(out))
                }
            }
            d.deserialize_bytes(V)
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = serde_pickle_vm::from_slice::<IgnoredAny>(data);
    let _ = serde_pickle_vm::from_slice::<serde_json::Value>(data);
    let _ = serde_pickle_vm::from_slice::<Record>(data);
    let _ = serde_pickle_vm::from_slice::<Vec<Record>>(data);
    let _ = serde_pickle_vm::from_slice::<Vec<(String, f64)>>(data);
    let _ = serde_pickle_vm::from_slice::<BTreeMap<String, Vec<Option<i64>>>>(data);
    let _ = serde_pickle_vm::from_slice::<Shape>(data);
    let _ = serde_pickle_vm::from_slice::<(bool, i128, u8, char, String)>(data);
    let _ = serde_pickle_vm::from_slice::<&str>(data);
    let _ = serde_pickle_vm::from_reader::<_, serde_json::Value>(data);
});
