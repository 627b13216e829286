//! numpy arrays and scalars through serde: every dtype × memory order of the fixtures
//! written by numpy (`fixtures/numpy/`, `fixtures/generate_numpy.py`) into `Vec`, nested
//! `Vec`, fixed arrays, tuples, `Tensor` / `TensorOf`, `serde_json::Value`, structs for
//! records and `ndarray::ArrayD` (feature `ndarray`), compared with the values numpy
//! reported in `manifest.json`; numpy scalars into plain types; error messages and paths;
//! the bound on zero-size items. The older `fixtures/torch/numpy_*.pkl` (always present)
//! are checked against numpy's digests.
#![cfg(feature = "numpy")]

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_bytes::ByteBuf;
use serde_json::Value as Json;
use serde_pickle_vm::array::{Element, Tensor, TensorOf};
use serde_pickle_vm::{
    from_slice, from_slice_with_options, from_value, ErrorKind, Graph, Limits, Options, Unpickler,
    Value,
};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;

const NP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/numpy");
const TORCH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/torch");

// ---- the manifest of fixtures/numpy

/// `fixtures/numpy/manifest.json`, or `None` (with a message) until the fixtures exist.
fn manifest() -> Option<Json> {
    let path = format!("{NP}/manifest.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(serde_json::from_str(&text).unwrap()),
        Err(_) => {
            eprintln!("skipping: {path} is absent (written by fixtures/generate_numpy.py)");
            None
        }
    }
}

fn load(file: &str, buffers: &[Json]) -> Graph<'static> {
    let data = std::fs::read(format!("{NP}/{file}")).unwrap();
    let bufs: Vec<Vec<u8>> = buffers
        .iter()
        .map(|b| std::fs::read(format!("{NP}/{}", b.as_str().unwrap())).unwrap())
        .collect();
    let mut up = Unpickler::new();
    if !bufs.is_empty() {
        up = up.buffers(bufs);
    }
    up.load_slice(&data)
        .unwrap_or_else(|e| panic!("{file}: {e}"))
        .into_owned()
}

/// Every pickle of the manifest holding one array: (file, case).
fn array_files(m: &Json) -> Vec<(String, String)> {
    m["pickles"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "array")
        .map(|p| {
            (
                p["file"].as_str().unwrap().to_string(),
                p["case"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A float of the manifest (`"nan"`, `"inf"`, `"-inf"` as strings).
fn float(e: &Json) -> f64 {
    match e {
        Json::String(s) => match s.as_str() {
            "nan" => f64::NAN,
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            other => panic!("float {other}"),
        },
        e => e.as_f64().unwrap_or_else(|| panic!("float {e}")),
    }
}

fn same_float(got: f64, e: &Json) -> bool {
    let exp = float(e);
    if exp.is_nan() {
        got.is_nan()
    } else {
        got.to_bits() == exp.to_bits()
    }
}

/// An element type whose values can be compared with the manifest's.
trait Leaf: DeserializeOwned + Debug {
    fn same(&self, e: &Json) -> bool;
}

macro_rules! int_leaf {
    ($($t:ty)*) => {$(
        impl Leaf for $t {
            fn same(&self, e: &Json) -> bool {
                e.as_i64().map(|x| x as i128).or(e.as_u64().map(|x| x as i128)) == Some(*self as i128)
            }
        }
    )*};
}
int_leaf!(i8 i16 i32 i64 u8 u16 u32 u64);

impl Leaf for f64 {
    fn same(&self, e: &Json) -> bool {
        same_float(*self, e)
    }
}
impl Leaf for f32 {
    fn same(&self, e: &Json) -> bool {
        same_float(*self as f64, e)
    }
}
impl Leaf for half::f16 {
    fn same(&self, e: &Json) -> bool {
        same_float(self.to_f64(), e)
    }
}
impl Leaf for bool {
    fn same(&self, e: &Json) -> bool {
        e.as_bool() == Some(*self)
    }
}
impl Leaf for String {
    fn same(&self, e: &Json) -> bool {
        e.as_str() == Some(self.as_str())
    }
}
impl Leaf for ByteBuf {
    fn same(&self, e: &Json) -> bool {
        let exp: Vec<u8> = e
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_u64().unwrap() as u8)
            .collect();
        self.as_slice() == exp.as_slice()
    }
}
impl Leaf for (f64, f64) {
    fn same(&self, e: &Json) -> bool {
        same_float(self.0, &e[0]) && same_float(self.1, &e[1])
    }
}
impl Leaf for [f32; 2] {
    fn same(&self, e: &Json) -> bool {
        same_float(self[0] as f64, &e[0]) && same_float(self[1] as f64, &e[1])
    }
}
impl Leaf for [f64; 2] {
    fn same(&self, e: &Json) -> bool {
        same_float(self[0], &e[0]) && same_float(self[1], &e[1])
    }
}
/// A datetime64 / timedelta64: NaT is `None`.
impl Leaf for Option<i64> {
    fn same(&self, e: &Json) -> bool {
        let exp = e.as_i64().unwrap();
        *self == (exp != i64::MIN).then_some(exp)
    }
}
/// The elements of object arrays, and anything through `deserialize_any`.
impl Leaf for Json {
    fn same(&self, e: &Json) -> bool {
        same_json(self, e)
    }
}

/// `deserialize_any` against the manifest: serde_json has no NaN or infinities (they
/// become `null`).
fn same_json(got: &Json, e: &Json) -> bool {
    match (got, e) {
        (Json::Null, Json::String(s)) if ["nan", "inf", "-inf"].contains(&s.as_str()) => true,
        (Json::Number(g), Json::Number(x)) if x.is_f64() || g.is_f64() => {
            g.as_f64().unwrap().to_bits() == x.as_f64().unwrap().to_bits()
        }
        (Json::Array(g), Json::Array(x)) => {
            g.len() == x.len() && g.iter().zip(x).all(|(a, b)| same_json(a, b))
        }
        (Json::Object(g), Json::Object(x)) => {
            g.len() == x.len()
                && g.iter()
                    .all(|(k, v)| x.get(k).is_some_and(|b| same_json(v, b)))
        }
        (g, x) => g == x,
    }
}

// Records of the fixtures, as structs.

#[derive(Debug, Deserialize)]
struct Rec {
    x: f32,
    y: i64,
    name: String,
    flag: bool,
}
impl Leaf for Rec {
    fn same(&self, e: &Json) -> bool {
        self.x.same(&e["x"])
            && self.y.same(&e["y"])
            && self.name.same(&e["name"])
            && self.flag.same(&e["flag"])
    }
}

#[derive(Debug, Deserialize)]
struct Aligned {
    a: u8,
    b: i64,
    c: u16,
}
impl Leaf for Aligned {
    fn same(&self, e: &Json) -> bool {
        self.a.same(&e["a"]) && self.b.same(&e["b"]) && self.c.same(&e["c"])
    }
}

#[derive(Debug, Deserialize)]
struct Mixed {
    a: i32,
    b: f32,
    c: f64,
}
impl Leaf for Mixed {
    fn same(&self, e: &Json) -> bool {
        self.a.same(&e["a"]) && self.b.same(&e["b"]) && self.c.same(&e["c"])
    }
}

#[derive(Debug, Deserialize)]
struct Pos {
    x: f64,
    y: f64,
}
#[derive(Debug, Deserialize)]
struct NestedRec {
    id: i32,
    pos: Pos,
    v: [f32; 2],
}
impl Leaf for NestedRec {
    fn same(&self, e: &Json) -> bool {
        self.id.same(&e["id"])
            && self.pos.x.same(&e["pos"]["x"])
            && self.pos.y.same(&e["pos"]["y"])
            && self.v[0].same(&e["v"][0])
            && self.v[1].same(&e["v"][1])
    }
}

/// The same record as a tuple: fields in order, the sub-array as a `Vec`.
type NestedTuple = (i32, (f64, f64), Vec<f32>);
impl Leaf for NestedTuple {
    fn same(&self, e: &Json) -> bool {
        self.0.same(&e["id"])
            && self.1 .0.same(&e["pos"]["x"])
            && self.1 .1.same(&e["pos"]["y"])
            && self.2.len() == 2
            && self
                .2
                .iter()
                .zip(e["v"].as_array().unwrap())
                .all(|(a, b)| a.same(b))
    }
}

/// The manifest's nested values, flat in C order, checked against `shape`.
fn flat<'j>(e: &'j Json, shape: &[usize]) -> Vec<&'j Json> {
    match shape.split_first() {
        None => vec![e],
        Some((&n, rest)) => {
            let items = e.as_array().unwrap();
            assert_eq!(items.len(), n);
            items.iter().flat_map(|x| flat(x, rest)).collect()
        }
    }
}

fn shape_of(info: &Json) -> Vec<usize> {
    info["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap() as usize)
        .collect()
}

/// `v` into `T` (0-d), `Vec<T>`, `Vec<Vec<T>>` or `Vec<Vec<Vec<T>>>` by rank, flattened.
fn nested<T: Leaf>(v: Value<'_, '_>, shape: &[usize]) -> Vec<T> {
    match shape.len() {
        0 => vec![from_value::<T>(v).unwrap()],
        1 => from_value::<Vec<T>>(v).unwrap(),
        2 => {
            let x: Vec<Vec<T>> = from_value(v).unwrap();
            assert_eq!(x.len(), shape[0]);
            assert!(x.iter().all(|r| r.len() == shape[1]));
            x.into_iter().flatten().collect()
        }
        3 => {
            let x: Vec<Vec<Vec<T>>> = from_value(v).unwrap();
            assert_eq!(x.len(), shape[0]);
            assert!(x.iter().all(|r| r.len() == shape[1]));
            assert!(x.iter().flatten().all(|r| r.len() == shape[2]));
            x.into_iter().flatten().flatten().collect()
        }
        n => panic!("rank {n}"),
    }
}

fn check_leaves<T: Leaf>(what: &str, got: &[T], exp: &[&Json]) {
    assert_eq!(got.len(), exp.len(), "{what}");
    for (i, (g, e)) in got.iter().zip(exp).enumerate() {
        assert!(g.same(e), "{what} [{i}]: {g:?} != {e}");
    }
}

/// Nested `Vec`s and (feature `ndarray`) `ArrayD<T>`.
fn check_as<T: Leaf>(what: &str, v: Value<'_, '_>, info: &Json) {
    let shape = shape_of(info);
    let exp = flat(&info["values"], &shape);
    let what = format!("{what} as {}", std::any::type_name::<T>());
    check_leaves(&what, &nested::<T>(v, &shape), &exp);
    #[cfg(feature = "ndarray")]
    {
        let a: ndarray::ArrayD<T> = from_value(v).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(a.shape(), shape.as_slice(), "{what}");
        let got: Vec<T> = a.into_iter().collect();
        check_leaves(&format!("{what} (ArrayD)"), &got, &exp);
    }
}

/// `Tensor` and `TensorOf<T>`: a numeric array is a tensor, in logical order.
fn check_tensor<T: Element + Leaf>(what: &str, v: Value<'_, '_>, info: &Json) {
    let shape = shape_of(info);
    let exp = flat(&info["values"], &shape);
    let t: Tensor = from_value(v).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(t.shape(), shape.as_slice(), "{what}");
    check_leaves(what, &t.to_vec::<T>().unwrap(), &exp);
    let typed: TensorOf<T> = from_value(v).unwrap_or_else(|e| panic!("{what}: {e}"));
    check_leaves(what, &typed.to_vec().unwrap(), &exp);
}

/// Every typed read that suits the case's dtype.
fn check_case(what: &str, case: &str, v: Value<'_, '_>, info: &Json) {
    let dtype = info["dtype"].as_str().unwrap();
    let code = dtype.trim_start_matches(['<', '>', '|', '=']);
    match case {
        "struct" | "struct_2d_c" | "struct_2d_f" => return check_as::<Rec>(what, v, info),
        "struct_aligned" => return check_as::<Aligned>(what, v, info),
        "struct_mixed_endian" => return check_as::<Mixed>(what, v, info),
        "struct_nested" => {
            check_as::<NestedRec>(what, v, info);
            return check_as::<NestedTuple>(what, v, info);
        }
        _ => {}
    }
    macro_rules! numeric {
        ($t:ty) => {{
            check_as::<$t>(what, v, info);
            check_tensor::<$t>(what, v, info);
        }};
    }
    match code {
        "i1" => numeric!(i8),
        "i2" => numeric!(i16),
        "i4" => numeric!(i32),
        "i8" => numeric!(i64),
        "u1" => numeric!(u8),
        "u2" => numeric!(u16),
        "u4" => numeric!(u32),
        "u8" => numeric!(u64),
        "f2" => {
            check_as::<half::f16>(what, v, info);
            check_as::<f32>(what, v, info);
            check_as::<f64>(what, v, info);
            check_tensor::<half::f16>(what, v, info);
        }
        "f4" => {
            check_as::<f32>(what, v, info);
            check_as::<f64>(what, v, info);
            check_tensor::<f32>(what, v, info);
        }
        "f8" => {
            check_as::<f64>(what, v, info);
            check_tensor::<f64>(what, v, info);
        }
        "c8" => {
            check_as::<[f32; 2]>(what, v, info);
            check_as::<(f64, f64)>(what, v, info);
            check_tensor::<[f32; 2]>(what, v, info);
        }
        "c16" => {
            check_as::<(f64, f64)>(what, v, info);
            check_as::<[f64; 2]>(what, v, info);
            check_tensor::<[f64; 2]>(what, v, info);
        }
        "b1" => numeric!(bool),
        "O" => check_as::<Json>(what, v, info),
        c if c.starts_with('U') => check_as::<String>(what, v, info),
        c if c.starts_with('S') => check_as::<ByteBuf>(what, v, info),
        c if c.starts_with("M8") || c.starts_with("m8") => {
            check_as::<i64>(what, v, info);
            check_as::<Option<i64>>(what, v, info);
        }
        other => panic!("{what}: no typed check for dtype {other}"),
    }
    // `deserialize_any`: nested sequences (bytes are bytes: serde_json has none).
    if !code.starts_with('S') {
        let j: Json = from_value(v).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            same_json(&j, &info["values"]),
            "{what}: {j} != {}",
            info["values"]
        );
    }
}

#[test]
fn every_dtype_and_order_of_every_protocol() {
    let Some(m) = manifest() else { return };
    let files = array_files(&m);
    assert!(files.len() >= 4 * 40, "{}", files.len());
    for (file, case) in &files {
        let info = &m["arrays"][case];
        let graph = load(file, &[]);
        check_case(&format!("{file} ({case})"), case, graph.root(), info);
    }
}

#[test]
fn dicts_of_arrays_in_band_and_out_of_band() {
    let Some(m) = manifest() else { return };
    for p in m["pickles"].as_array().unwrap() {
        if p["kind"] != "dict" {
            continue;
        }
        let file = p["file"].as_str().unwrap();
        let bufs = p["buffers"].as_array().cloned().unwrap_or_default();
        let graph = load(file, &bufs);
        let cases = p["cases"].as_object().unwrap();
        for (key, case) in cases {
            let v = graph.root().get(key.as_str()).unwrap();
            let info = &m["arrays"][case.as_str().unwrap()];
            check_case(&format!("{file}[{key}]"), key, v, info);
        }
        // The whole dict at once, typed.
        if cases.contains_key("f4_2d_f") && cases.contains_key("f8") {
            #[derive(Deserialize)]
            struct Two {
                f8: Vec<Vec<f64>>,
                f4_2d_f: [[f32; 4]; 3],
            }
            let t: Two = serde_pickle_vm::from_graph(&graph).unwrap();
            assert_eq!(t.f8.len(), 2);
            assert_eq!(t.f4_2d_f[1], [-0.375, -0.125, 0.125, 0.375]);
        }
    }
}

#[test]
fn fixed_arrays_and_tuples_have_exact_lengths() {
    let Some(m) = manifest() else { return };
    let graph = load("arrays/all.p5.pkl", &[]);
    let get = |k: &str| graph.root().get(k).unwrap();
    let exp = &m["arrays"];
    // Fortran order, logically row by row.
    let f: [[f32; 4]; 3] = from_value(get("f4_2d_f")).unwrap();
    let rows: Vec<Vec<f32>> = serde_json::from_value(exp["f4_2d_f"]["values"].clone()).unwrap();
    for (r, e) in f.iter().zip(&rows) {
        assert_eq!(r.as_slice(), e.as_slice());
    }
    let t: (u16, u16, u16, u16) = from_value(get("u2_be")).unwrap();
    assert_eq!(t, (0, 1, 256, 65535));
    let i: [[i64; 4]; 3] = from_value(get("i8_2d_f")).unwrap();
    assert_eq!(i[2][3], exp["i8_2d_f"]["values"][2][3].as_i64().unwrap());

    let short = from_value::<[f32; 3]>(get("f8_be")).unwrap_err();
    assert_eq!(short.kind(), ErrorKind::Type);
    assert!(
        short
            .to_string()
            .contains("invalid length: 5 elements, expected 3"),
        "{short}"
    );
    let long = from_value::<(u16, u16, u16, u16, u16)>(get("u2_be")).unwrap_err();
    assert!(long.to_string().contains("invalid length 4"), "{long}");
    let inner = from_value::<[[f32; 3]; 3]>(get("f4_2d_c")).unwrap_err();
    assert!(
        inner
            .to_string()
            .starts_with("[0]: invalid length: 4 elements, expected 3"),
        "{inner}"
    );
}

#[test]
fn scalars_and_zero_d_arrays_are_plain_values() {
    let Some(m) = manifest() else { return };
    let exp = &m["scalars"];
    for file in ["arrays/scalars.p2.pkl", "arrays/scalars.p5.pkl"] {
        let graph = load(file, &[]);
        let get = |k: &str| graph.root().get(k).unwrap();
        let val = |k: &str| &exp[k]["value"];
        assert!(from_value::<f64>(get("float64"))
            .unwrap()
            .same(val("float64")));
        assert!(from_value::<f32>(get("float32"))
            .unwrap()
            .same(val("float32")));
        assert!(from_value::<half::f16>(get("float16"))
            .unwrap()
            .same(val("float16")));
        assert!(from_value::<f64>(get("float16"))
            .unwrap()
            .same(val("float16")));
        assert!(from_value::<f64>(get("float64_nan")).unwrap().is_nan());
        assert!(from_value::<i64>(get("int64")).unwrap().same(val("int64")));
        assert!(from_value::<i8>(get("int8")).unwrap().same(val("int8")));
        assert!(from_value::<i32>(get("int8")).unwrap().same(val("int8")));
        assert!(from_value::<u64>(get("uint64_max"))
            .unwrap()
            .same(val("uint64_max")));
        assert!(from_value::<bool>(get("bool")).unwrap().same(val("bool")));
        assert!(from_value::<(f64, f64)>(get("complex128"))
            .unwrap()
            .same(val("complex128")));
        assert!(from_value::<String>(get("str")).unwrap().same(val("str")));
        assert!(from_value::<ByteBuf>(get("bytes"))
            .unwrap()
            .same(val("bytes")));
        assert!(from_value::<i64>(get("datetime64_ns"))
            .unwrap()
            .same(val("datetime64_ns")));
        assert!(from_value::<i64>(get("timedelta64_s"))
            .unwrap()
            .same(val("timedelta64_s")));
        assert!(from_value::<Option<i64>>(get("timedelta64_s"))
            .unwrap()
            .same(val("timedelta64_s")));
        // Everything at once through `deserialize_any`, but the bytes.
        let all: BTreeMap<String, Json> = graph
            .root()
            .items()
            .unwrap()
            .filter(|(k, _)| k.as_str() != Some("bytes"))
            .map(|(k, v)| (k.as_str().unwrap().to_string(), from_value(v).unwrap()))
            .collect();
        for (k, j) in &all {
            assert!(same_json(j, val(k)), "{file} {k}: {j}");
        }
        // An `np.str_` names a unit variant as a `str` does.
        #[derive(Debug, Deserialize, PartialEq)]
        #[allow(non_camel_case_types)]
        enum Greeting {
            hi,
        }
        assert_eq!(from_value::<Greeting>(get("str")).unwrap(), Greeting::hi);
        // Out of range: named with the value.
        let err = from_value::<u32>(get("int8")).unwrap_err();
        assert_eq!(
            err.message(),
            "invalid value: numpy int8 scalar -7 does not fit in u32"
        );
        let err = from_value::<i64>(get("uint64_max")).unwrap_err();
        assert!(
            err.message()
                .contains("18446744073709551615 does not fit in i64"),
            "{err}"
        );
        let err = from_value::<String>(get("float64")).unwrap_err();
        assert_eq!(
            err.message(),
            "invalid type: numpy float64 scalar 0.9, expected a string"
        );
    }
    // 0-d arrays are their element.
    let graph = load("arrays/all.p5.pkl", &[]);
    let get = |k: &str| graph.root().get(k).unwrap();
    let arrays = &m["arrays"];
    assert!(from_value::<f64>(get("f8_0d"))
        .unwrap()
        .same(&arrays["f8_0d"]["values"]));
    assert!(from_value::<i64>(get("i8_0d"))
        .unwrap()
        .same(&arrays["i8_0d"]["values"]));
    assert!(from_value::<u8>(get("i8_0d")).is_err());
    assert!(from_value::<bool>(get("bool_0d"))
        .unwrap()
        .same(&arrays["bool_0d"]["values"]));
    assert!(from_value::<String>(get("U_0d"))
        .unwrap()
        .same(&arrays["U_0d"]["values"]));
    // Python floats into `half` types as well: pickle.dumps(1.5, protocol=2).
    let h: half::f16 = from_slice(b"\x80\x02G?\xf8\x00\x00\x00\x00\x00\x00.").unwrap();
    assert_eq!(h, half::f16::from_f32(1.5));
    let h: half::bf16 = from_slice(b"\x80\x02G?\xf8\x00\x00\x00\x00\x00\x00.").unwrap();
    assert_eq!(h, half::bf16::from_f32(1.5));
    // … and tensors of no dimension.
    let t: TensorOf<f64> = from_value(get("f8_0d")).unwrap();
    assert_eq!(t.shape(), &[] as &[usize]);
}

#[test]
fn datetimes_are_counts_of_their_unit_and_nat_is_none() {
    let Some(m) = manifest() else { return };
    let graph = load("arrays/all.p5.pkl", &[]);
    let get = |k: &str| graph.root().get(k).unwrap();
    let exp = &m["arrays"];
    let ns: Vec<i64> = from_value(get("M8_ns_nat")).unwrap();
    assert_eq!(ns[1], i64::MIN);
    assert!(ns[0].same(&exp["M8_ns_nat"]["values"][0]));
    let opt: Vec<Option<i64>> = from_value(get("M8_ns_nat")).unwrap();
    assert_eq!(opt[1], None);
    assert_eq!(opt[0], Some(ns[0]));
    // The unit is on the array type.
    let Some(serde_pickle_vm::Emulated::NdArray(a)) = get("M8_D").as_emulated() else {
        panic!()
    };
    assert_eq!(a.dtype().unit().unwrap().to_string(), "D");
    assert_eq!(a.descr(), exp["M8_D"]["dtype"].as_str().unwrap());
    let days: Vec<i32> = from_value(get("M8_D")).unwrap();
    assert!(days[2].same(&exp["M8_D"]["values"][2]));
}

#[test]
fn object_arrays_are_sequences_of_their_python_values() {
    let Some(m) = manifest() else { return };
    let graph = load("arrays/all.p5.pkl", &[]);
    let get = |k: &str| graph.root().get(k).unwrap();
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(untagged)]
    enum Py {
        Int(i64),
        Float(f64),
        Str(String),
        List(Vec<Py>),
        None(()),
    }
    let items: Vec<Py> = from_value(get("object")).unwrap();
    assert_eq!(items[1], Py::Str("two".into()));
    assert_eq!(items[2], Py::None(()));
    assert_eq!(
        items[3],
        Py::List(vec![Py::Int(1), Py::Float(2.5), Py::Str("x".into())])
    );
    // Fortran order, read in logical order; the same as numpy's `tolist()`.
    let j: Vec<Vec<Json>> = from_value(get("object_2d_f")).unwrap();
    assert!(same_json(
        &serde_json::to_value(&j).unwrap(),
        &m["arrays"]["object_2d_f"]["values"]
    ));
    // Typed elements fail at their path.
    let err = from_value::<Vec<i64>>(get("object")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("[1]: invalid type: str \"two\", expected i64"),
        "{err}"
    );
}

#[test]
fn errors_name_the_array_and_the_path() {
    if manifest().is_none() {
        return;
    }
    let data = std::fs::read(format!("{NP}/arrays/all.p5.pkl")).unwrap();

    #[derive(Debug, Deserialize)]
    struct Scalar {
        #[allow(dead_code)]
        f4_2d_c: f64,
    }
    let err = from_slice::<Scalar>(&data).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Type);
    assert_eq!(err.path(), Some("f4_2d_c"));
    assert_eq!(
        err.message(),
        "invalid type: numpy float32 array of shape [3, 4], expected f64"
    );
    assert!(
        err.to_string().starts_with(
            "f4_2d_c: invalid type: numpy float32 array of shape [3, 4], expected f64 (at byte "
        ),
        "{err}"
    );

    #[derive(Debug, Deserialize)]
    struct Unsigned {
        #[allow(dead_code)]
        i1: Vec<Vec<u8>>,
    }
    let err = from_slice::<Unsigned>(&data).unwrap_err();
    assert_eq!(err.path(), Some("i1[0][0]"));
    assert_eq!(
        err.message(),
        "invalid value: numpy int8 element -128 does not fit in u8"
    );

    #[derive(Debug, Deserialize)]
    struct Strings {
        #[allow(dead_code)]
        f4_2d_f: Vec<Vec<String>>,
    }
    let err = from_slice::<Strings>(&data).unwrap_err();
    assert_eq!(err.path(), Some("f4_2d_f[0][0]"));
    assert_eq!(
        err.message(),
        "invalid type: numpy float32 element -1.375, expected a string"
    );

    #[derive(Debug, Deserialize)]
    struct Rows {
        #[allow(dead_code)]
        f4_2d_c: Vec<f32>,
    }
    let err = from_slice::<Rows>(&data).unwrap_err();
    assert_eq!(err.path(), Some("f4_2d_c[0]"));
    assert_eq!(
        err.message(),
        "invalid type: numpy float32 array of shape [4], expected f32"
    );

    #[derive(Debug, Deserialize)]
    struct Typed {
        #[allow(dead_code)]
        f4_2d_c: TensorOf<f64>,
    }
    let err = from_slice::<Typed>(&data).unwrap_err();
    assert_eq!(err.path(), Some("f4_2d_c"));
    assert_eq!(
        err.message(),
        "expected a float64 tensor, found a numpy float32 array of shape [3, 4]"
    );

    #[derive(Debug, Deserialize)]
    struct NotNumeric {
        #[allow(dead_code)]
        #[serde(rename = "U5")]
        u5: Tensor,
    }
    let err = from_slice::<NotNumeric>(&data).unwrap_err();
    assert_eq!(
        err.message(),
        "invalid type: numpy str160 array of shape [5], expected a tensor (a torch tensor or a numeric numpy array)"
    );

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Borrowed<'a> {
        #[serde(borrow)]
        #[serde(rename = "U5")]
        u5: Vec<&'a str>,
    }
    let err = from_slice::<Borrowed>(&data).unwrap_err();
    assert_eq!(err.path(), Some("U5[0]"));
    assert!(
        err.message()
            .contains("cannot be borrowed; use String or Cow<str>"),
        "{err}"
    );

    #[derive(Debug, Deserialize)]
    struct Field {
        #[allow(dead_code)]
        struct_nested: Vec<(i32, (f64, u8), Vec<f32>)>,
    }
    let err = from_slice::<Field>(&data).unwrap_err();
    assert_eq!(err.path(), Some("struct_nested[0].pos.y"));
    assert_eq!(
        err.message(),
        "invalid type: numpy float64 element -0.5, expected u8"
    );

    #[derive(Debug, Deserialize)]
    struct Record {
        #[allow(dead_code)]
        struct_2d_f: Vec<Vec<Rec>>,
        #[allow(dead_code)]
        r#struct: Vec<f64>,
    }
    let err = from_slice::<Record>(&data).unwrap_err();
    assert_eq!(err.path(), Some("struct[0]"));
    assert_eq!(
        err.message(),
        "invalid type: numpy void200 record with fields (x, y, name, flag), expected f64"
    );
    // A record is also a tuple of its fields.
    #[derive(Debug, Deserialize)]
    struct AsTuples {
        #[allow(dead_code)]
        r#struct: Vec<Vec<f64>>,
    }
    let err = from_slice::<AsTuples>(&data).unwrap_err();
    assert_eq!(err.path(), Some("struct[0].name"));
    assert_eq!(
        err.message(),
        "invalid type: numpy str96 element \"ab\", expected f64"
    );

    // A dict of scalars: a numpy scalar is named with its value.
    let data = std::fs::read(format!("{NP}/arrays/scalars.p5.pkl")).unwrap();
    let err = from_slice::<HashMap<String, f64>>(&data).unwrap_err();
    assert!(err.message().starts_with("invalid type: numpy "), "{err}");
}

#[cfg(feature = "ndarray")]
#[test]
fn ndarray_types_of_every_rank() {
    let Some(m) = manifest() else { return };
    let graph = load("arrays/all.p5.pkl", &[]);
    let get = |k: &str| graph.root().get(k).unwrap();
    let exp = &m["arrays"];
    let a: ndarray::Array2<f32> = from_value(get("f4_2d_f")).unwrap();
    assert_eq!(a.shape(), &[3, 4]);
    assert!(a[[2, 1]].same(&exp["f4_2d_f"]["values"][2][1]));
    let a: ndarray::Array3<f32> = from_value(get("f4_3d_f")).unwrap();
    assert!(a[[1, 2, 3]].same(&exp["f4_3d_f"]["values"][1][2][3]));
    let a: ndarray::Array1<f64> = from_value(get("f8_be")).unwrap();
    assert!(a[3].is_nan());
    let a: ndarray::Array0<f64> = from_value(get("f8_0d")).unwrap();
    assert!(a.into_scalar().same(&exp["f8_0d"]["values"]));
    let a: ndarray::Array2<f64> = from_value(get("f8_empty")).unwrap();
    assert_eq!(a.shape(), &[0, 3]);
    let a: ndarray::Array2<Rec> = from_value(get("struct_2d_f")).unwrap();
    assert!(a[[1, 0]].same(&exp["struct_2d_f"]["values"][1][0]));
    let a: ndarray::Array2<Json> = from_value(get("object_2d_f")).unwrap();
    assert!(a[[1, 0]].same(&exp["object_2d_f"]["values"][1][0]));
    // Rows of a 2-d array are 1-d arrays.
    let rows: Vec<ndarray::Array1<i64>> = from_value(get("i8_2d_f")).unwrap();
    assert!(rows[2][3].same(&exp["i8_2d_f"]["values"][2][3]));
    // The rank is checked; element errors carry their n-d index.
    let err = from_value::<ndarray::Array2<f32>>(get("f4_3d_f")).unwrap_err();
    assert_eq!(
        err.message(),
        "invalid type: numpy float32 array of shape [2, 3, 4], expected a 2-d array"
    );
    let err = from_value::<ndarray::Array2<u8>>(get("i1")).unwrap_err();
    assert_eq!(err.path(), Some("[0][0]"), "{err}");
    assert_eq!(
        err.message(),
        "invalid value: numpy int8 element -128 does not fit in u8"
    );
    // The convenience methods.
    let Some(serde_pickle_vm::Emulated::NdArray(nd)) = get("i4_be").as_emulated() else {
        panic!()
    };
    let a = nd.to_ndarray::<i32>().unwrap();
    assert!(a[[1, 1]].same(&exp["i4_be"]["values"][1][1]));
    let a = nd.tensor().unwrap().to_ndarray::<i32>().unwrap();
    assert_eq!(a.shape(), &[2, 3]);
    let Some(serde_pickle_vm::Emulated::NdArray(s)) = get("U5").as_emulated() else {
        panic!()
    };
    assert!(s.to_ndarray::<u8>().is_err());
}

#[test]
fn rows_of_arrays_are_tensors_too() {
    let Some(m) = manifest() else { return };
    let graph = load("arrays/all.p5.pkl", &[]);
    let rows: Vec<TensorOf<f32>> = from_value(graph.root().get("f4_2d_f").unwrap()).unwrap();
    assert_eq!(rows.len(), 3);
    let exp = &m["arrays"]["f4_2d_f"]["values"][2];
    let got = rows[2].to_vec().unwrap();
    assert!(got
        .iter()
        .zip(exp.as_array().unwrap())
        .all(|(g, e)| g.same(e)));
    // A column-major row is strided.
    assert_eq!(rows[2].strides(), &[3]);
}

// ---- zero-size items and cycles (pickles written by numpy 2.4)

/// `pickle.dumps(np.empty(10**12, dtype='V0'), protocol=2)`
const V0_HUGE: &[u8] = b"\x80\x02cnumpy._core.multiarray\n_reconstruct\nq\x00cnumpy\nndarray\nq\x01K\x00\x85q\x02c_codecs\nencode\nq\x03X\x01\x00\x00\x00bq\x04X\x06\x00\x00\x00latin1q\x05\x86q\x06Rq\x07\x87q\x08Rq\t(K\x01\x8a\x06\x00\x10\xa5\xd4\xe8\x00\x85q\ncnumpy\ndtype\nq\x0bX\x02\x00\x00\x00V0q\x0c\x89\x88\x87q\rRq\x0e(K\x03X\x01\x00\x00\x00|q\x0fNNNK\x00K\x01K\x00tq\x10b\x89c__builtin__\nbytes\nq\x11)Rq\x12tq\x13b.";
/// `pickle.dumps(np.empty(3, dtype='V0'), protocol=2)`
const V0_3: &[u8] = b"\x80\x02cnumpy._core.multiarray\n_reconstruct\nq\x00cnumpy\nndarray\nq\x01K\x00\x85q\x02c_codecs\nencode\nq\x03X\x01\x00\x00\x00bq\x04X\x06\x00\x00\x00latin1q\x05\x86q\x06Rq\x07\x87q\x08Rq\t(K\x01K\x03\x85q\ncnumpy\ndtype\nq\x0bX\x02\x00\x00\x00V0q\x0c\x89\x88\x87q\rRq\x0e(K\x03X\x01\x00\x00\x00|q\x0fNNNK\x00K\x01K\x00tq\x10b\x89c__builtin__\nbytes\nq\x11)Rq\x12tq\x13b.";
/// `pickle.dumps(np.empty((10**6, 10**6), dtype=np.dtype([])), protocol=2)`
const EMPTY_RECORDS_2D: &[u8] = b"\x80\x02cnumpy._core.multiarray\n_reconstruct\nq\x00cnumpy\nndarray\nq\x01K\x00\x85q\x02c_codecs\nencode\nq\x03X\x01\x00\x00\x00bq\x04X\x06\x00\x00\x00latin1q\x05\x86q\x06Rq\x07\x87q\x08Rq\t(K\x01J@B\x0f\x00J@B\x0f\x00\x86q\ncnumpy\ndtype\nq\x0bX\x02\x00\x00\x00V0q\x0c\x89\x88\x87q\rRq\x0e(K\x03X\x01\x00\x00\x00|q\x0fN)}q\x10K\x00K\x01K\x10tq\x11b\x89c__builtin__\nbytes\nq\x12)Rq\x13tq\x14b.";
/// `pickle.dumps(np.empty(10**12, dtype=[('a', 'V0')]), protocol=2)`
const V0_FIELD: &[u8] = b"\x80\x02cnumpy._core.multiarray\n_reconstruct\nq\x00cnumpy\nndarray\nq\x01K\x00\x85q\x02c_codecs\nencode\nq\x03X\x01\x00\x00\x00bq\x04X\x06\x00\x00\x00latin1q\x05\x86q\x06Rq\x07\x87q\x08Rq\t(K\x01\x8a\x06\x00\x10\xa5\xd4\xe8\x00\x85q\ncnumpy\ndtype\nq\x0bX\x02\x00\x00\x00V0q\x0c\x89\x88\x87q\rRq\x0e(K\x03X\x01\x00\x00\x00|q\x0fNX\x01\x00\x00\x00aq\x10\x85q\x11}q\x12h\x10h\x0bX\x02\x00\x00\x00V0q\x13\x89\x88\x87q\x14Rq\x15(K\x03h\x0fNNNK\x00K\x01K\x00tq\x16bK\x00\x86q\x17sK\x00K\x01K\x10tq\x18b\x89c__builtin__\nbytes\nq\x19)Rq\x1atq\x1bb.";
/// `pickle.dumps(np.empty(1000, dtype=[('a', np.dtype([]), (10**9,))]), protocol=2)`
const EMPTY_SUBARRAYS: &[u8] = b"\x80\x02cnumpy._core.multiarray\n_reconstruct\nq\x00cnumpy\nndarray\nq\x01K\x00\x85q\x02c_codecs\nencode\nq\x03X\x01\x00\x00\x00bq\x04X\x06\x00\x00\x00latin1q\x05\x86q\x06Rq\x07\x87q\x08Rq\t(K\x01M\xe8\x03\x85q\ncnumpy\ndtype\nq\x0bX\x02\x00\x00\x00V0q\x0c\x89\x88\x87q\rRq\x0e(K\x03X\x01\x00\x00\x00|q\x0fNX\x01\x00\x00\x00aq\x10\x85q\x11}q\x12h\x10h\x0bX\x02\x00\x00\x00V0q\x13\x89\x88\x87q\x14Rq\x15(K\x03h\x0fh\x0bX\x02\x00\x00\x00V0q\x16\x89\x88\x87q\x17Rq\x18(K\x03h\x0fN)}q\x19K\x00K\x01K\x10tq\x1abJ\x00\xca\x9a;\x85q\x1b\x86q\x1cNNK\x00K\x01K\x10tq\x1dbK\x00\x86q\x1esK\x00K\x01K\x10tq\x1fb\x89c__builtin__\nbytes\nq )Rq!tq\"b.";
/// `a = np.empty(2, dtype=object); a[0] = 1; a[1] = a`; `pickle.dumps(a, protocol=2)`
const SELF_HOLDING: &[u8] = b"\x80\x02cnumpy._core.multiarray\n_reconstruct\nq\x00cnumpy\nndarray\nq\x01K\x00\x85q\x02c_codecs\nencode\nq\x03X\x01\x00\x00\x00bq\x04X\x06\x00\x00\x00latin1q\x05\x86q\x06Rq\x07\x87q\x08Rq\t(K\x01K\x02\x85q\ncnumpy\ndtype\nq\x0bX\x02\x00\x00\x00O8q\x0c\x89\x88\x87q\rRq\x0e(K\x03X\x01\x00\x00\x00|q\x0fNNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?tq\x10b\x89]q\x11(K\x01h\tetq\x12b.";

fn assert_limit<T: DeserializeOwned + Debug>(data: &[u8]) {
    let start = std::time::Instant::now();
    let err = from_slice::<T>(data).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit, "{err}");
    assert!(err.message().contains("Limits::max_expansion"), "{err}");
    assert!(start.elapsed().as_secs() < 30, "{:?}", start.elapsed());
}

#[test]
fn zero_size_items_are_charged_against_the_expansion_budget() {
    // 10^12 elements in no bytes: every visit counts.
    let graph = serde_pickle_vm::load_slice(V0_HUGE).unwrap();
    let Some(serde_pickle_vm::Emulated::NdArray(a)) = graph.root().as_emulated() else {
        panic!()
    };
    assert_eq!(
        (a.shape(), a.raw_bytes().len()),
        (&[1_000_000_000_000][..], 0)
    );
    assert_limit::<Vec<ByteBuf>>(V0_HUGE);
    assert_limit::<Vec<serde::de::IgnoredAny>>(V0_HUGE);
    assert_limit::<Vec<Vec<ByteBuf>>>(EMPTY_RECORDS_2D);
    assert_limit::<Vec<HashMap<String, ByteBuf>>>(V0_FIELD);
    assert_limit::<Vec<HashMap<String, Vec<ByteBuf>>>>(EMPTY_SUBARRAYS);
    #[cfg(feature = "ndarray")]
    assert_limit::<ndarray::ArrayD<ByteBuf>>(V0_HUGE);

    // Exactly: the array node, then one visit per element.
    let limits = |n| Options {
        limits: Limits {
            max_expansion: Some(n),
            ..Limits::default()
        },
        ..Options::default()
    };
    let v: Vec<ByteBuf> = from_slice_with_options(V0_3, &limits(4)).unwrap();
    assert_eq!(v, vec![ByteBuf::new(); 3]);
    let err = from_slice_with_options::<Vec<ByteBuf>>(V0_3, &limits(3)).unwrap_err();
    assert_eq!((err.kind(), err.path()), (ErrorKind::Limit, Some("[2]")));
    // Nothing visited, nothing charged.
    let _: serde::de::IgnoredAny = from_slice(V0_HUGE).unwrap();
}

#[test]
fn high_rank_arrays_meet_the_depth_limit() {
    use serde_pickle_vm::array::{Bytes, NdArray, NpDtype, Order};
    use serde_pickle_vm::{Emulated, Node, Slot};
    // A pickle may give any shape: 100,000 dimensions of 1 over one element.
    let a = NdArray::new(
        NpDtype::parse("<f8").unwrap(),
        vec![1; 100_000],
        Order::C,
        Bytes::new(1.5f64.to_le_bytes().to_vec()),
    )
    .unwrap();
    let mut g = Graph::empty();
    let id = g.add(Node::Emulated(Box::new(Emulated::NdArray(Box::new(a)))));
    g.set_root(Slot::Node(id));
    let start = std::time::Instant::now();
    let err = serde_pickle_vm::from_graph::<Json>(&g).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit, "{err}");
    assert!(err.message().contains("nesting depth"), "{err}");
    #[cfg(feature = "ndarray")]
    {
        let a: ndarray::ArrayD<f64> = serde_pickle_vm::from_graph(&g).unwrap();
        assert_eq!((a.ndim(), a.iter().next()), (100_000, Some(&1.5)));
    }
    assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
}

#[test]
fn an_object_array_holding_itself_is_a_cycle() {
    let err = from_slice::<Json>(SELF_HOLDING).unwrap_err();
    assert!(err.message().starts_with("cycle: "), "{err}");
    assert_eq!(err.path(), Some("[1]"));
}

// ---- fixtures/torch/numpy_*.pkl: numpy 1.x and 2.x pickles, checked by digest

/// The SHA-256 of `values` as numpy's little-endian bytes.
fn digest<T: Copy>(values: &[T], le: impl Fn(T) -> Vec<u8>) -> String {
    let mut h = Sha256::new();
    for &v in values {
        h.update(le(v));
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn check_torch_fixture(file: &str, buffers: usize) {
    let exp: Json =
        serde_json::from_str(&std::fs::read_to_string(format!("{TORCH}/numpy.json")).unwrap())
            .unwrap();
    let data = std::fs::read(format!("{TORCH}/{file}")).unwrap();
    let bufs: Vec<Vec<u8>> = (0..buffers)
        .map(|i| std::fs::read(format!("{TORCH}/numpy_oob.buf{i}")).unwrap())
        .collect();
    let mut up = Unpickler::new();
    if buffers > 0 {
        up = up.buffers(bufs);
    }
    let graph = up.load_slice(&data).unwrap();
    let arrays = if buffers > 0 {
        graph.root()
    } else {
        graph.root().get("arrays").unwrap()
    };
    let sha = |k: &str| exp["arrays"][k]["sha256"].as_str().unwrap().to_string();
    let get = |k: &str| arrays.get(k);
    let mut seen = 0;
    if let Some(v) = get("f4") {
        let x: Vec<Vec<f32>> = from_value(v).unwrap();
        let flat: Vec<f32> = x.concat();
        assert_eq!(digest(&flat, |f| f.to_le_bytes().to_vec()), sha("f4"));
        seen += 1;
    }
    if let Some(v) = get("f8be") {
        let x: Vec<f64> = from_value(v).unwrap();
        assert_eq!(digest(&x, |f| f.to_le_bytes().to_vec()), sha("f8be"));
        seen += 1;
    }
    if let Some(v) = get("i2_fortran") {
        let x: [[i16; 3]; 2] = from_value(v).unwrap();
        assert_eq!(
            digest(x.as_flattened(), |f| f.to_le_bytes().to_vec()),
            sha("i2_fortran")
        );
        seen += 1;
    }
    if buffers > 0 {
        assert_eq!(seen, 3);
        return;
    }
    let u1: serde_bytes::ByteBuf = from_value(get("u1").unwrap()).unwrap();
    assert_eq!(digest(&u1, |b| vec![b]), sha("u1"));
    let b: Vec<bool> = from_value(get("bool").unwrap()).unwrap();
    assert_eq!(digest(&b, |b| vec![b as u8]), sha("bool"));
    let c: Vec<(f32, f32)> = from_value(get("c8").unwrap()).unwrap();
    assert_eq!(
        digest(&c, |(re, im)| [re.to_le_bytes(), im.to_le_bytes()].concat()),
        sha("c8")
    );
    let i: i64 = from_value(get("i8_0d").unwrap()).unwrap();
    assert_eq!(digest(&[i], |i| i.to_le_bytes().to_vec()), sha("i8_0d"));
    let h: Vec<half::f16> = from_value(get("f2").unwrap()).unwrap();
    assert_eq!(digest(&h, |h| h.to_le_bytes().to_vec()), sha("f2"));
    let u: Vec<u32> = from_value(get("u4be").unwrap()).unwrap();
    assert_eq!(digest(&u, |u| u.to_le_bytes().to_vec()), sha("u4be"));
    let t: Vec<Vec<i32>> = from_value(get("transposed").unwrap()).unwrap();
    assert_eq!(
        digest(&t.concat(), |u| u.to_le_bytes().to_vec()),
        sha("transposed")
    );
    let e: Vec<Vec<f32>> = from_value(get("empty").unwrap()).unwrap();
    assert!(e.is_empty());
    let o: (i32, String, Option<i32>) = from_value(get("obj").unwrap()).unwrap();
    assert_eq!(o, (1, "two".to_string(), None));

    // Scalars, typed by their expected values.
    let scalars = graph.root().get("scalars").unwrap();
    for (k, e) in exp["scalars"].as_object().unwrap() {
        let v = scalars.get(k.as_str()).unwrap();
        let e = &e["value"];
        match k.as_str() {
            "f8" | "f4" => assert!(from_value::<f64>(v).unwrap().same(e), "{k}"),
            "i4" => assert!(from_value::<i32>(v).unwrap().same(e), "{k}"),
            "u2" => assert!(from_value::<u16>(v).unwrap().same(e), "{k}"),
            "b" => assert!(from_value::<bool>(v).unwrap().same(e), "{k}"),
            "c16" => assert!(from_value::<(f64, f64)>(v).unwrap().same(e), "{k}"),
            other => panic!("scalar {other}"),
        }
    }
}

#[test]
fn torch_fixtures_numpy2_protocol2() {
    check_torch_fixture("numpy_p2.pkl", 0);
}

#[test]
fn torch_fixtures_numpy2_protocol5() {
    check_torch_fixture("numpy_p5.pkl", 0);
}

#[test]
fn torch_fixtures_numpy1_module_names() {
    check_torch_fixture("numpy1_p2.pkl", 0);
}

#[test]
fn torch_fixtures_out_of_band_buffers() {
    check_torch_fixture("numpy_oob.pkl", 3);
}

#[test]
fn torch_fixture_errors_name_what_was_found() {
    let data = std::fs::read(format!("{TORCH}/numpy_p2.pkl")).unwrap();
    #[derive(Debug, Deserialize)]
    struct Arrays {
        #[allow(dead_code)]
        f4: Vec<Vec<u8>>,
    }
    #[derive(Debug, Deserialize)]
    struct File {
        #[allow(dead_code)]
        arrays: Arrays,
    }
    let err = from_slice::<File>(&data).unwrap_err();
    assert_eq!(err.path(), Some("arrays.f4[0][0]"));
    assert_eq!(
        err.message(),
        "invalid type: numpy float32 element 0.0, expected u8"
    );
    #[derive(Debug, Deserialize)]
    struct Best {
        #[allow(dead_code)]
        f8: u32,
    }
    #[derive(Debug, Deserialize)]
    struct Checkpoint {
        #[allow(dead_code)]
        scalars: Best,
    }
    let err = from_slice::<Checkpoint>(&data).unwrap_err();
    assert_eq!(err.path(), Some("scalars.f8"));
    assert_eq!(
        err.message(),
        "invalid type: numpy float64 scalar 1.5, expected u32"
    );
}

// ---- torch tensors of a checkpoint read like arrays

#[cfg(feature = "torch")]
#[test]
fn tensors_of_a_checkpoint_read_as_nested_vecs() {
    use serde_pickle_vm::torch::Checkpoint;
    #[derive(Deserialize)]
    struct Head {
        weight: Vec<Vec<f32>>,
        bias: [f32; 2],
    }
    #[derive(Deserialize)]
    struct Model {
        head: Head,
    }
    #[derive(Deserialize)]
    struct Training {
        model: Model,
    }
    let ckpt = Checkpoint::open(format!("{TORCH}/checkpoint.pt")).unwrap();
    let t: Training = ckpt.deserialize().unwrap();
    let w = ckpt.tensor("model.head.weight").unwrap();
    assert_eq!(t.model.head.weight.len(), w.shape()[0]);
    assert_eq!(t.model.head.weight.concat(), w.to_vec::<f32>().unwrap());
    let b = ckpt.tensor("model.head.bias").unwrap();
    assert_eq!(t.model.head.bias.as_slice(), b.to_vec::<f32>().unwrap());
    #[cfg(feature = "ndarray")]
    {
        #[derive(Deserialize)]
        struct HeadNd {
            weight: ndarray::Array2<f32>,
        }
        #[derive(Deserialize)]
        struct ModelNd {
            head: HeadNd,
        }
        #[derive(Deserialize)]
        struct TrainingNd {
            model: ModelNd,
        }
        let t: TrainingNd = ckpt.deserialize().unwrap();
        assert_eq!(
            t.model.head.weight,
            w.to_ndarray::<f32>()
                .unwrap()
                .into_dimensionality()
                .unwrap()
        );
    }
}

#[test]
fn zero_size_items_are_bounded_in_json_data() {
    use serde_pickle_vm::json::{to_string, JsonOptions};
    let data = JsonOptions {
        data: true,
        ..JsonOptions::default()
    };
    for pickle in [V0_HUGE, EMPTY_RECORDS_2D, V0_FIELD, EMPTY_SUBARRAYS] {
        let graph = serde_pickle_vm::load_slice(pickle).unwrap();
        let start = std::time::Instant::now();
        let json = to_string(&graph, &data).unwrap();
        assert!(json.len() < 4096, "{} bytes", json.len());
        assert!(json.contains("--data prints at most"), "{json}");
        assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
        // The digest needs no elements.
        let digest = to_string(&graph, &JsonOptions::default()).unwrap();
        assert!(digest.contains("\"sha256\""), "{digest}");
    }
    // A few zero-size elements print.
    let graph = serde_pickle_vm::load_slice(V0_3).unwrap();
    let json = to_string(&graph, &data).unwrap();
    assert!(
        json.contains(r#""data":[{"bytes":""},{"bytes":""},{"bytes":""}]"#),
        "{json}"
    );
}
