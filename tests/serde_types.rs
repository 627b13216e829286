//! serde's data model from CPython pickles of every protocol: scalars, ints of every
//! width, floats, text, bytes, options, sequences, maps (any key type), the stdlib values
//! and `deserialize_any` (so `serde_json::Value` reads any pickle).

mod serde_common;

use serde::Deserialize;
use serde_common::{each, expected, fixture};
use serde_pickle_vm::{from_slice, Encoding, ErrorKind, Options};
use std::collections::{BTreeSet, HashMap, HashSet};

#[test]
fn scalars() {
    type Scalars = (bool, bool, (), i8, i32, u8, u32, i64, i64, f64, f64, f32);
    for (p, data) in each("scalars") {
        let v: Scalars = from_slice(&data).unwrap_or_else(|e| panic!("p{p}: {e}"));
        assert_eq!(
            v,
            (
                true,
                false,
                (),
                0,
                -1,
                255,
                1 << 31,
                i64::MIN,
                i64::MAX,
                1.5,
                -0.0,
                f32::INFINITY
            ),
            "p{p}"
        );
        // The option form of None.
        let (_, _, none): (bool, bool, Option<i32>) = from_slice::<(
            bool,
            bool,
            Option<i32>,
            serde::de::IgnoredAny,
            serde::de::IgnoredAny,
            serde::de::IgnoredAny,
            serde::de::IgnoredAny,
            serde::de::IgnoredAny,
            serde::de::IgnoredAny,
            serde::de::IgnoredAny,
            serde::de::IgnoredAny,
            serde::de::IgnoredAny,
        )>(&data)
        .map(|t| (t.0, t.1, t.2))
        .unwrap();
        assert_eq!(none, None);
    }
}

#[test]
fn big_ints_fit_128_bits_or_error_naming_the_value() {
    for (p, data) in each("big_ints") {
        let (a, b, c, d): (u64, i128, i128, u128) =
            from_slice::<(u64, i128, i128, u128, serde::de::IgnoredAny)>(&data)
                .map(|t| (t.0, t.1, t.2, t.3))
                .unwrap_or_else(|e| panic!("p{p}: {e}"));
        assert_eq!(
            (a, b, c, d),
            (u64::MAX, 1 << 100, -(1 << 100), i128::MAX as u128)
        );
        let err = from_slice::<(u64, i128, i128, u128, u128)>(&data).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Type);
        assert_eq!(err.path(), Some("[4]"));
        assert!(
            err.message()
                .starts_with("invalid value: int 16069380442589902755…")
                && err.message().ends_with("(61 digits) does not fit in u128"),
            "{err}"
        );
        let err = from_slice::<(i64, i128, i128, u128, serde::de::IgnoredAny)>(&data).unwrap_err();
        assert_eq!(
            err.to_string().split(" (at byte").next().unwrap(),
            "[0]: invalid value: int 18446744073709551615 does not fit in i64"
        );
    }
}

#[test]
fn every_int_width_is_range_checked() {
    for (p, data) in each("ints_widths") {
        let all: Vec<i64> = from_slice(&data).unwrap();
        assert_eq!(all.len(), 16, "p{p}");
        for (i, &n) in all.iter().enumerate() {
            let graph = serde_pickle_vm::load_slice(&data).unwrap();
            let v = graph.root().get(i).unwrap();
            macro_rules! check {
                ($($t:ty),*) => {$(
                    let got = serde_pickle_vm::from_value::<$t>(v);
                    match <$t>::try_from(n) {
                        Ok(x) => assert_eq!(got.unwrap(), x),
                        Err(_) => {
                            let e = got.unwrap_err();
                            assert_eq!(e.message(), format!("invalid value: int {n} does not fit in {}", stringify!($t)));
                        }
                    }
                )*};
            }
            check!(i8, i16, i32, i64, i128, u8, u16, u32, u64, u128);
        }
    }
}

#[test]
fn floats_accept_ints() {
    for (p, data) in each("int_as_float") {
        let v: Vec<f64> = from_slice(&data).unwrap();
        assert_eq!(
            serde_json::to_value(&v).unwrap(),
            expected("int_as_float"),
            "p{p}"
        );
        let v: Vec<f32> = from_slice(&data).unwrap();
        assert_eq!(v, [1.0, 2.5, -3.0]);
    }
}

#[test]
fn text_borrows_from_the_input() {
    let want = ["", "abc", "héllo wörld", "日本", "😀", "a\nb\\c'\""];
    for (p, data) in each("text") {
        let owned: Vec<String> = from_slice(&data).unwrap();
        assert_eq!(owned, want, "p{p}");
        if p >= 1 {
            // Binary protocols store UTF-8 as is: every &str points into `data`.
            let borrowed: Vec<&str> = from_slice(&data).unwrap_or_else(|e| panic!("p{p}: {e}"));
            assert_eq!(borrowed, want);
            let range = data.as_ptr_range();
            for s in borrowed.iter().filter(|s| !s.is_empty()) {
                assert!(range.contains(&s.as_ptr()), "p{p}: {s:?} was copied");
            }
        }
        let cow: Vec<std::borrow::Cow<str>> = from_slice(&data).unwrap();
        assert_eq!(cow, want);
    }
}

#[test]
fn bytes_and_bytearray() {
    #[derive(Deserialize, Debug, PartialEq)]
    struct Binary<'a>(
        #[serde(with = "serde_bytes")] Vec<u8>,
        #[serde(borrow, with = "serde_bytes")] &'a [u8],
        Vec<u8>,
    );
    for (p, data) in each("binary") {
        if p < 3 {
            // Protocols 0-2 write bytes as _codecs.encode(...) calls: owned, not borrowable.
            let v: (
                serde_bytes::ByteBuf,
                serde_bytes::ByteBuf,
                serde_bytes::ByteBuf,
            ) = from_slice(&data).unwrap_or_else(|e| panic!("p{p}: {e}"));
            assert_eq!(
                (&v.0[..], &v.1[..], &v.2[..]),
                (&b""[..], &b"\x00\xffab"[..], &b"xyz"[..])
            );
            continue;
        }
        let v: Binary = from_slice(&data).unwrap_or_else(|e| panic!("p{p}: {e}"));
        assert_eq!(v, Binary(vec![], b"\x00\xffab", b"xyz".to_vec()));
        assert!(data.as_ptr_range().contains(&v.1.as_ptr()));
    }
}

#[test]
fn python2_str_is_bytes_only_with_encoding_bytes() {
    // A Python 2 pickle of the str 'caf\xe9' (SHORT_BINSTRING), protocol 2.
    let data = b"\x80\x02U\x04caf\xe9q\x00.";
    let raw = Options {
        encoding: Encoding::Bytes,
        ..Options::default()
    };
    let b: serde_bytes::ByteBuf = serde_pickle_vm::from_slice_with_options(data, &raw).unwrap();
    assert_eq!(&b[..], b"caf\xe9");
    let latin1 = Options {
        encoding: Encoding::Latin1,
        ..Options::default()
    };
    let s: String = serde_pickle_vm::from_slice_with_options(data, &latin1).unwrap();
    assert_eq!(s, "café");
    let err = serde_pickle_vm::from_slice_with_options::<serde_bytes::ByteBuf>(data, &latin1)
        .unwrap_err();
    assert_eq!(
        err.message(),
        "invalid type: str \"café\", expected byte array"
    );
    // Borrowed straight from the input.
    let b: &[u8] = serde_pickle_vm::from_slice_with_options::<&serde_bytes::Bytes>(data, &raw)
        .unwrap()
        .as_ref();
    assert!(data.as_ptr_range().contains(&b.as_ptr()));
}

#[test]
fn chars() {
    for (p, data) in each("char") {
        let (a, b): (char, char) = from_slice::<(char, char, String)>(&data)
            .map(|t| (t.0, t.1))
            .unwrap();
        assert_eq!((a, b), ('x', 'é'), "p{p}");
        let err = from_slice::<(char, char, char)>(&data).unwrap_err();
        assert_eq!(err.path(), Some("[2]"));
        assert_eq!(
            err.message(),
            "invalid type: str \"ab\", expected a character"
        );
    }
}

#[test]
fn sequences_of_every_kind() {
    for (p, data) in each("sequences") {
        let (l, t, s, f): (Vec<i32>, (i32, i32), BTreeSet<i32>, HashSet<i32>) =
            from_slice(&data).unwrap_or_else(|e| panic!("p{p}: {e}"));
        assert_eq!(l, [1, 2]);
        assert_eq!(t, (3, 4));
        assert_eq!(s.into_iter().collect::<Vec<_>>(), [5, 6]);
        assert_eq!(f.into_iter().collect::<Vec<_>>(), [7]);
        // Fixed-size arrays and Vec from any of them.
        let (a, b, c, d): ([i32; 2], Vec<i32>, Vec<i32>, [i32; 1]) = from_slice(&data).unwrap();
        assert_eq!((a, b.len(), c.len(), d), ([1, 2], 2, 2, [7]));
        // A tuple of the wrong length is an error.
        let err = from_slice::<((i32,), (i32, i32), Vec<i32>, Vec<i32>)>(&data).unwrap_err();
        assert_eq!(err.path(), Some("[0]"));
        assert_eq!(err.message(), "invalid length: 2 elements, expected 1");
    }
    for (p, data) in each("nested_lists") {
        let v: Vec<Vec<u8>> = from_slice(&data).unwrap();
        assert_eq!(
            serde_json::to_value(v).unwrap(),
            expected("nested_lists"),
            "p{p}"
        );
    }
}

#[test]
fn maps_with_any_keys() {
    for (p, data) in each("dict_str") {
        let m: HashMap<String, i32> = from_slice(&data).unwrap();
        assert_eq!(m.len(), 3, "p{p}");
        assert_eq!(m["b"], 2);
        // Order is kept for order-preserving targets.
        let j: serde_json::Value = from_slice(&data).unwrap();
        assert_eq!(j, expected("dict_str"));
        let keys: Vec<&str> = serde_json::to_value(&j)
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .map(|_| "")
            .collect();
        assert_eq!(keys.len(), 3);
    }
    for (p, data) in each("dict_tuple_keys") {
        let m: HashMap<(i32, i32), String> =
            from_slice(&data).unwrap_or_else(|e| panic!("p{p}: {e}"));
        assert_eq!(m[&(1, 2)], "x");
        assert_eq!(m[&(3, 4)], "y");
    }
    for (p, data) in each("dict_int_keys") {
        let m: HashMap<u8, String> = from_slice(&data).unwrap();
        assert_eq!(m[&2], "two", "p{p}");
        // JSON-like targets get ints as string keys.
        let j: serde_json::Value = from_slice(&data).unwrap();
        assert_eq!(j, expected("dict_int_keys"));
    }
}

#[test]
fn dict_subclasses_are_maps() {
    for (p, data) in each("dict_classes") {
        type T = (
            Vec<(String, i32)>,
            HashMap<String, Vec<i32>>,
            HashMap<String, u32>,
        );
        let j: serde_json::Value = from_slice(&data).unwrap_or_else(|e| panic!("p{p}: {e}"));
        assert_eq!(j, expected("dict_classes"), "p{p}");
        let (od, dd, counter): (
            indexmap_like::Ordered,
            HashMap<String, Vec<i32>>,
            HashMap<String, u32>,
        ) = from_slice(&data).unwrap();
        assert_eq!(od.0, [("z".to_string(), 1), ("y".to_string(), 2)]);
        assert_eq!(dd["k"], [1]);
        assert_eq!(counter["a"], 2);
        let _unused: Option<T> = None;
    }
}

/// A map target that keeps the order it is given.
mod indexmap_like {
    use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
    pub struct Ordered(pub Vec<(String, i32)>);
    impl<'de> Deserialize<'de> for Ordered {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Ordered;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a map")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Ordered, A::Error> {
                    let mut v = Vec::new();
                    while let Some(kv) = m.next_entry()? {
                        v.push(kv);
                    }
                    Ok(Ordered(v))
                }
            }
            d.deserialize_map(V)
        }
    }
}

#[test]
fn options() {
    for (p, data) in each("options") {
        let v: Vec<Option<u16>> = from_slice(&data).unwrap();
        assert_eq!(v, [None, Some(1), None, Some(3)], "p{p}");
    }
}

#[derive(Deserialize, Debug, PartialEq, serde::Serialize)]
struct Record {
    id: u32,
    name: String,
    score: f64,
    tags: Vec<String>,
    active: bool,
}

#[test]
fn records_from_dicts() {
    for (p, data) in each("records") {
        let v: Vec<Record> = from_slice(&data).unwrap_or_else(|e| panic!("p{p}: {e}"));
        assert_eq!(
            serde_json::to_value(&v).unwrap(),
            expected("records"),
            "p{p}"
        );
        let r: Vec<serde_json::Value> = serde_pickle_vm::from_reader(&data[..]).unwrap();
        assert_eq!(serde_json::Value::Array(r), expected("records"));
    }
}

#[test]
fn serde_attributes_work() {
    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Strict {
        #[serde(rename = "id")]
        ident: u32,
        name: String,
        score: f64,
        tags: Vec<String>,
        active: bool,
        #[serde(default)]
        missing: Option<String>,
    }
    #[derive(Deserialize, Debug)]
    struct Flat {
        id: u32,
        #[serde(flatten)]
        rest: HashMap<String, serde_json::Value>,
    }
    #[derive(Deserialize, Debug)]
    struct Partial {
        name: String,
    }
    for (p, data) in each("records") {
        let v: Vec<Strict> = from_slice(&data).unwrap_or_else(|e| panic!("p{p}: {e}"));
        assert_eq!((v[3].ident, v[3].missing.as_deref()), (3, None));
        assert_eq!(v[3].name, "user3");
        assert!(v[2].active && v[2].score == 1.0 && v[2].tags == ["a", "b"]);
        let v: Vec<Flat> = from_slice(&data).unwrap();
        assert_eq!(v[4].id, 4);
        assert_eq!(v[4].rest["name"], "user4");
        assert_eq!(v[4].rest.len(), 4);
        let v: Vec<Partial> = from_slice(&data).unwrap();
        assert_eq!(v[1].name, "user1");
    }
    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)] // never built: the test is that it is refused
    struct TooStrict {
        id: u32,
    }
    let err = from_slice::<Vec<TooStrict>>(&fixture("records", 4)).unwrap_err();
    assert_eq!(err.path(), Some("[0].name"));
    assert_eq!(err.message(), "unknown field `name`, expected `id`");
}

#[test]
fn stdlib_values_through_deserialize_any() {
    for (p, data) in each("stdlib") {
        let j: serde_json::Value = from_slice(&data).unwrap_or_else(|e| panic!("p{p}: {e}"));
        assert_eq!(j, expected("stdlib"), "p{p}");
        // Typed: text forms, complex as a pair, uuid as u128.
        type T = (
            String,
            String,
            String,
            String,
            f64,
            String,
            (f64, f64),
            u128,
        );
        let t: T = from_slice(&data).unwrap();
        assert_eq!(t.6, (1.5, -2.0));
        assert_eq!(t.7, 0x12345678_1234_5678_1234_567812345678);
        assert_eq!(t.5, "3.14159");
    }
}

#[test]
fn ignored_any_skips_anything() {
    for case in ["stdlib", "config", "shapes", "cycle", "laughs"] {
        for (p, data) in each(case) {
            from_slice::<serde::de::IgnoredAny>(&data)
                .unwrap_or_else(|e| panic!("{case} p{p}: {e}"));
        }
    }
}

#[test]
fn shared_references_are_copied() {
    for (p, data) in each("shared") {
        let j: serde_json::Value = from_slice(&data).unwrap();
        assert_eq!(j, expected("shared"), "p{p}");
    }
}

#[test]
fn from_graph_and_from_value() {
    let data = fixture("records", 5);
    let graph = serde_pickle_vm::load_slice(&data).unwrap();
    let all: Vec<Record> = serde_pickle_vm::from_graph(&graph).unwrap();
    let third: Record = serde_pickle_vm::from_value(graph.root().get(2).unwrap()).unwrap();
    assert_eq!(all[2], third);
    let name: &str =
        serde_pickle_vm::from_value(graph.root().get(2).unwrap().get("name").unwrap()).unwrap();
    assert_eq!(name, "user2");
}
