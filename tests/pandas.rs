//! pandas frames written by pandas 3.1, 2.2 and 1.5 (`fixtures/pandas/v3`, `v2`, `v1`,
//! by `fixtures/generate_pandas.py`): every file of each manifest is rebuilt and compared
//! with what pandas said of it — shape, index (kind, names, dtypes, values), column
//! labels, dtypes, null counts and every value (as `serde_json::Value` through rows and
//! through columns, datetimes also as nanoseconds) — and the malformed frames of
//! `fixtures/pandas/hostile` are errors that say what is wrong.
#![cfg(feature = "pandas")]

use serde::Deserialize;
use serde_json::Value as Json;
use serde_pickle_vm::pandas::{read_pickle, DataFrame, Index, Label, Pandas};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn dir(v: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/pandas")
        .join(v)
}

fn read_json(p: &Path) -> Json {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn label_json(l: &Label) -> Json {
    match l {
        Label::None => Json::Null,
        Label::Str(s) | Label::Other(s) => Json::from(s.as_str()),
        Label::Int(i) => Json::from(*i),
        Label::Float(f) => Json::from(*f),
        Label::Bool(b) => Json::from(*b),
        Label::Tuple(parts) => Json::Array(parts.iter().map(label_json).collect()),
    }
}

/// Two JSON values equal, floats compared by value (`1` and `1.0` alike).
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(p), Some(q)) => p == q,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(p), Some(q)) => p == q,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        _ => a == b,
    }
}

fn check_index(ix: &Index, exp: &Json, what: &str) {
    let names: Vec<Json> = ix.levels.iter().map(|l| label_json(&l.name)).collect();
    assert_eq!(Json::Array(names), exp["names"], "{what}: index names");
    let dtypes: Vec<String> = ix.levels.iter().map(|l| l.data.dtype_name()).collect();
    let exp_dtypes: Vec<String> = serde_json::from_value(exp["dtypes"].clone()).unwrap();
    assert_eq!(dtypes, exp_dtypes, "{what}: index dtypes");
    let kind = format!("{:?}", ix.kind).to_lowercase();
    let exp_kind = exp["kind"].as_str().unwrap();
    assert!(
        kind.starts_with(exp_kind),
        "{what}: index kind {kind} vs {exp_kind}"
    );
    if let Some(r) = exp.get("range") {
        match ix.kind {
            serde_pickle_vm::pandas::IndexKind::Range { start, stop, step } => {
                assert_eq!(Json::from(vec![start, stop, step]), *r, "{what}: range")
            }
            ref k => panic!("{what}: expected a RangeIndex, got {k:?}"),
        }
    }
    for (i, (level, exp_values)) in ix
        .levels
        .iter()
        .zip(exp["levels"].as_array().unwrap())
        .enumerate()
    {
        let got: Vec<Json> = level.data.len().eq(&0).then(Vec::new).unwrap_or_else(|| {
            let df = DataFrame::clone(&frame_of_level(level));
            df.column_as::<Json>("v").unwrap()
        });
        assert!(
            same(&Json::Array(got.clone()), exp_values),
            "{what}: index level {i}: {got:?} vs {exp_values}"
        );
    }
}

/// A one-column frame of an index level (so that its values go through the same serde).
fn frame_of_level(level: &serde_pickle_vm::pandas::Column) -> DataFrame {
    let mut c = level.clone();
    c.name = Label::Str("v".into());
    serde_pickle_vm::pandas::DataFrame::from_columns(vec![c]).unwrap()
}

#[derive(Deserialize)]
struct Manifest {
    pandas: String,
    files: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    file: String,
    codec: Option<String>,
    expected: String,
}

fn check_frame(df: &DataFrame, path: &Path, exp: &Json, what: &str) {
    let shape = exp["shape"].as_array().unwrap();
    assert_eq!(
        (df.len(), df.columns().len()),
        (
            shape[0].as_u64().unwrap() as usize,
            shape[1].as_u64().unwrap() as usize
        ),
        "{what}: shape"
    );
    check_index(df.index(), &exp["index"], what);
    let cols = exp["columns"].as_array().unwrap();
    for (c, e) in df.columns().iter().zip(cols) {
        let name = &e["name"];
        let w = format!("{what}: column {name}");
        assert_eq!(label_json(&c.name), *name, "{w}: label");
        assert_eq!(
            c.data.dtype_name(),
            e["dtype"].as_str().unwrap(),
            "{w}: dtype"
        );
        assert_eq!(
            c.data.null_count() as u64,
            e["nulls"].as_u64().unwrap(),
            "{w}: nulls"
        );
    }
    // Every value, through rows: `Vec<serde_json::Value>` of row objects.
    let unique = {
        let mut keys: Vec<String> = df
            .columns()
            .iter()
            .map(|c| c.name.key().unwrap_or_default())
            .collect();
        keys.sort();
        keys.dedup();
        keys.len() == df.columns().len()
    };
    let rows: Vec<HashMap<String, Json>> = serde_pickle_vm::from_file(path).unwrap();
    assert_eq!(rows.len(), df.len(), "{what}: rows");
    // And through columns: a map of column → Vec.
    let columns: HashMap<String, Vec<Json>> = serde_pickle_vm::from_file(path).unwrap();
    for (c, e) in df.columns().iter().zip(cols) {
        let key = c.name.key().unwrap();
        let w = format!("{what}: column {key}");
        let exp_values = e["values"].as_array().unwrap();
        if unique {
            let got: Vec<Json> = rows.iter().map(|r| r[&key].clone()).collect();
            assert!(
                same(&Json::Array(got.clone()), &e["values"]),
                "{w}: rows {got:?} vs {exp_values:?}"
            );
            assert!(
                same(&Json::Array(columns[&key].clone()), &e["values"]),
                "{w}: columns"
            );
        }
        let got: Vec<Json> = df.column_as(&key).unwrap();
        assert!(
            same(&Json::Array(got.clone()), &e["values"]),
            "{w}: column_as {got:?} vs {exp_values:?}"
        );
        if let Some(ns) = e.get("ns") {
            let got: Vec<Option<i64>> = df.column_as(&key).unwrap();
            let exp_ns: Vec<Option<i64>> = serde_json::from_value(ns.clone()).unwrap();
            assert_eq!(got, exp_ns, "{w}: nanoseconds");
        }
    }
}

fn check_series(p: &Pandas, exp: &Json, what: &str) {
    let Pandas::Series(s) = p else {
        panic!("{what}: expected a Series, got a frame");
    };
    assert_eq!(label_json(s.name()), exp["name"], "{what}: name");
    assert_eq!(
        s.data().dtype_name(),
        exp["dtype"].as_str().unwrap(),
        "{what}: dtype"
    );
    assert_eq!(
        s.data().null_count() as u64,
        exp["nulls"].as_u64().unwrap(),
        "{what}: nulls"
    );
    check_index(s.index(), &exp["index"], what);
    let got: Vec<Json> = s.values_as().unwrap();
    assert!(
        same(&Json::Array(got.clone()), &exp["values"]),
        "{what}: values {got:?}"
    );
    if let Some(ns) = exp.get("ns") {
        let got: Vec<Option<i64>> = s.values_as().unwrap();
        let exp_ns: Vec<Option<i64>> = serde_json::from_value(ns.clone()).unwrap();
        assert_eq!(got, exp_ns, "{what}: nanoseconds");
    }
}

fn check_version(v: &str) -> usize {
    let d = dir(v);
    let m: Manifest = serde_json::from_value(read_json(&d.join("manifest.json"))).unwrap();
    let mut n = 0;
    let mut failed = Vec::new();
    for e in &m.files {
        let path = d.join(&e.file);
        let what = format!("pandas {} {} ({:?})", m.pandas, e.file, e.codec);
        let exp = read_json(&d.join(&e.expected));
        let r = std::panic::catch_unwind(|| {
            let p = read_pickle(&path).unwrap_or_else(|err| panic!("{what}: {err}"));
            match exp["kind"].as_str().unwrap() {
                "DataFrame" => {
                    let Pandas::DataFrame(df) = &p else {
                        panic!("{what}: expected a frame")
                    };
                    check_frame(df, &path, &exp, &what);
                }
                _ => check_series(&p, &exp, &what),
            }
        });
        if r.is_err() {
            failed.push(e.file.clone());
        }
        n += 1;
    }
    assert!(failed.is_empty(), "pandas {}: failed: {failed:?}", m.pandas);
    n
}

#[test]
fn pandas_3() {
    assert!(check_version("v3") >= 30);
}

#[test]
fn pandas_2() {
    assert!(check_version("v2") >= 30);
}

#[test]
fn pandas_1() {
    assert!(check_version("v1") >= 30);
}

#[derive(Deserialize, Debug)]
struct Hostile {
    file: String,
    what: String,
    error_contains: String,
}

#[test]
fn malformed_frames_are_errors() {
    let d = dir("hostile");
    let m = read_json(&d.join("manifest.json"));
    let files: Vec<Hostile> = serde_json::from_value(m["files"].clone()).unwrap();
    assert!(files.len() >= 5);
    for h in files {
        let path = d.join(&h.file);
        let err = match read_pickle(&path) {
            Ok(_) => panic!("{}: {} loaded", h.file, h.what),
            Err(e) => e,
        };
        let text = err.to_string();
        assert!(
            text.to_lowercase().contains(&h.error_contains),
            "{}: {text:?} lacks {:?}",
            h.file,
            h.error_contains
        );
        assert!(err.offset().is_some(), "{}: {text} has no offset", h.file);
        // serde says the same.
        let e = serde_pickle_vm::from_file::<Vec<Json>, _>(&path).unwrap_err();
        assert!(
            e.to_string().to_lowercase().contains(&h.error_contains),
            "{}: {e}",
            h.file
        );
    }
}

// ---------------------------------------------------------------------------------------
// Typed reads: the serde mapping of the module docs, on the files pandas wrote.
// ---------------------------------------------------------------------------------------

fn fixture(v: &str, name: &str) -> PathBuf {
    dir(v).join(name)
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Grade {
    A,
    B,
    C,
}

#[derive(Deserialize, Debug)]
struct Mixed {
    id: i64,
    name: Option<String>,
    score: f64,
    grade: Option<Grade>,
    ts: Option<String>,
    flag: bool,
    count: Option<i32>,
}

#[test]
fn rows_into_structs_every_version_and_protocol() {
    let mut files = vec![];
    for v in ["v1", "v2", "v3"] {
        for p in 2..=5 {
            files.push(fixture(v, &format!("mixed.p{p}.pkl")));
        }
        for c in ["gz", "bz2", "xz", "zst", "zip", "tar"] {
            files.push(fixture(v, &format!("mixed.p5.pkl.{c}")));
        }
    }
    for f in files {
        let rows: Vec<Mixed> =
            serde_pickle_vm::from_file(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_eq!(rows.len(), 6, "{}", f.display());
        assert_eq!(rows[0].id, 1);
        assert_eq!(rows[2].name.as_deref(), Some("cé"));
        assert_eq!(rows[4].name, None);
        // A NaN of a float64 column is a float.
        assert!(rows[1].score.is_nan());
        assert_eq!(rows[2].score, 7.25);
        assert_eq!(rows[0].grade, Some(Grade::A));
        assert_eq!(rows[3].grade, None);
        assert_eq!(rows[0].ts.as_deref(), Some("2021-01-15T12:00:00+00:00"));
        assert_eq!(rows[2].ts, None);
        assert!(rows[0].flag && !rows[1].flag);
        assert_eq!(rows[1].count, None);
        assert_eq!(rows[5].count, Some(6));
    }
}

#[test]
fn the_nan_rule_and_missing_values() {
    let f = fixture("v3", "mixed.p5.pkl");
    // NaN is None in Option<f64>.
    #[derive(Deserialize)]
    struct S {
        score: Option<f64>,
    }
    let rows: Vec<S> = serde_pickle_vm::from_file(&f).unwrap();
    assert_eq!(rows[1].score, None);
    assert_eq!(rows[0].score, Some(9.5));
    // A missing value into a plain field is an error naming column and row.
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Strict {
        count: i64,
    }
    let e = serde_pickle_vm::from_file::<Vec<Strict>, _>(&f).unwrap_err();
    assert_eq!(e.path(), Some("[\"count\"][1]"));
    assert_eq!(e.message(), "expected i64, found None");
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct StrictName {
        name: String,
    }
    let e = serde_pickle_vm::from_file::<Vec<StrictName>, _>(&f).unwrap_err();
    assert_eq!(
        e.to_string(),
        "[\"name\"][4]: expected a string, found None (at byte 35)"
    );
    // Datetimes as nanoseconds since the epoch.
    #[derive(Deserialize)]
    struct Ts {
        ts: Option<i64>,
    }
    let rows: Vec<Ts> = serde_pickle_vm::from_file(&f).unwrap();
    assert_eq!(rows[0].ts, Some(1_610_712_000_000_000_000));
    assert_eq!(rows[2].ts, None);
}

#[test]
fn rows_as_tuples_and_columns_as_struct() {
    let f = fixture("v3", "mixed.p5.pkl");
    type Row = (
        i64,
        Option<String>,
        f64,
        Option<String>,
        Option<String>,
        bool,
        Option<u8>,
    );
    let rows: Vec<Row> = serde_pickle_vm::from_file(&f).unwrap();
    assert_eq!(rows[2].1.as_deref(), Some("cé"));
    assert_eq!(rows[5].6, Some(6));
    #[derive(Deserialize)]
    struct Columns {
        id: Vec<u32>,
        score: Vec<Option<f64>>,
        grade: Vec<Option<String>>,
        index: Vec<i64>,
    }
    let c: Columns = serde_pickle_vm::from_file(&f).unwrap();
    assert_eq!(c.id, [1, 2, 3, 4, 5, 6]);
    assert_eq!(c.score[1], None);
    assert_eq!(c.grade[4].as_deref(), Some("c"));
    assert_eq!(c.index, [0, 1, 2, 3, 4, 5]);
}

#[test]
fn index_levels_are_fields_only_when_asked() {
    #[derive(Deserialize, Debug)]
    struct Row {
        city: String,
        year: u16,
        pop: f64,
    }
    for v in ["v1", "v2", "v3"] {
        let rows: Vec<Row> = serde_pickle_vm::from_file(fixture(v, "multiindex.p5.pkl")).unwrap();
        assert_eq!(rows.len(), 5);
        assert_eq!(
            (rows[2].city.as_str(), rows[2].year, rows[2].pop),
            ("Paris", 2020, 2.1)
        );
        // A map of the row has the columns only.
        let maps: Vec<HashMap<String, Json>> =
            serde_pickle_vm::from_file(fixture(v, "multiindex.p5.pkl")).unwrap();
        let mut keys: Vec<&String> = maps[0].keys().collect();
        keys.sort();
        assert_eq!(keys, ["n", "pop"]);
    }
}

#[test]
fn a_series_reads_as_values_or_a_map() {
    for v in ["v1", "v2", "v3"] {
        let f = fixture(v, "series_float.p5.pkl");
        let values: Vec<Option<f64>> = serde_pickle_vm::from_file(&f).unwrap();
        assert_eq!(values, [Some(1.5), None, Some(3.25), Some(-0.5)]);
        let map: std::collections::BTreeMap<String, f64> = serde_pickle_vm::from_file(&f).unwrap();
        assert_eq!(map["c"], 3.25);
        assert!(map["b"].is_nan());
    }
}

#[test]
fn an_empty_frame_is_an_empty_vec() {
    for v in ["v1", "v2", "v3"] {
        for f in ["empty.p5.pkl", "empty_nocols.p5.pkl"] {
            let rows: Vec<HashMap<String, Json>> =
                serde_pickle_vm::from_file(fixture(v, f)).unwrap();
            assert!(rows.is_empty(), "{v}/{f}");
        }
    }
}

#[test]
fn the_frame_api() {
    let data = std::fs::read(fixture("v3", "mixed.p5.pkl")).unwrap();
    let graph = serde_pickle_vm::load_slice(&data).unwrap();
    let df = DataFrame::from_value(graph.root()).unwrap();
    assert_eq!(df.shape(), (6, 7));
    assert_eq!(df.column_names()[3], "grade");
    let info = df.info();
    assert!(
        info.contains(" 6   count   4 non-null      Int64"),
        "{info}"
    );
}

#[test]
fn the_scanner_calls_every_pandas_fixture_safe() {
    use serde_pickle_vm::scan::{scan_bytes, Severity};
    let mut n = 0;
    for v in ["v1", "v2", "v3"] {
        for entry in std::fs::read_dir(dir(v)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                continue;
            }
            let report = scan_bytes(&std::fs::read(&path).unwrap());
            assert_eq!(report.severity(), Severity::Safe, "{}", path.display());
            n += 1;
        }
    }
    assert!(n > 100);
}

#[test]
fn the_pandas_allow_list_loads_every_fixture() {
    use serde_pickle_vm::{AllowList, Unpickler};
    for v in ["v1", "v2", "v3"] {
        for p in [
            "mixed.p2.pkl",
            "mixed.p5.pkl",
            "arrow.p5.pkl",
            "categorical.p5.pkl",
            "nullable.p5.pkl",
        ] {
            let data = std::fs::read(fixture(v, p)).unwrap();
            let graph = Unpickler::new()
                .allow_globals(AllowList::pandas())
                .load_slice(&data)
                .unwrap_or_else(|e| panic!("{v}/{p}: {e}"));
            Pandas::from_graph(&graph).unwrap();
        }
        // zoneinfo pickles a zone as `getattr(ZoneInfo, "_unpickle")(key, 1)`: allowing
        // it is the user's call (the scanner follows the call and calls it safe).
        let data = std::fs::read(fixture(v, "datetimes.p5.pkl")).unwrap();
        let err = Unpickler::new()
            .allow_globals(AllowList::pandas())
            .load_slice(&data)
            .unwrap_err();
        assert!(err.to_string().contains("builtins.getattr"), "{err}");
        let list = AllowList::pandas().with("builtins.getattr");
        let graph = Unpickler::new()
            .allow_globals(list)
            .load_slice(&data)
            .unwrap();
        Pandas::from_graph(&graph).unwrap();
    }
}

#[test]
fn frames_inside_other_values() {
    let f = dir("extra").join("nested.pkl");
    #[derive(Deserialize)]
    struct Meta {
        rows: usize,
    }
    #[derive(Deserialize)]
    struct Nested {
        train: Vec<Mixed>,
        test: Vec<HashMap<String, Json>>,
        meta: Meta,
        score: Vec<Option<f64>>,
    }
    let n: Nested = serde_pickle_vm::from_file(&f).unwrap();
    assert_eq!(n.train.len(), n.meta.rows);
    assert_eq!(n.test.len(), 2);
    assert_eq!(n.test[1]["name"], "bob");
    assert_eq!(n.score[1], None);
    // An error inside a nested frame: the path goes through the dict key.
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Strict {
        count: u8,
    }
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Outer {
        train: Vec<Strict>,
    }
    let e = serde_pickle_vm::from_file::<Outer, _>(&f).unwrap_err();
    assert_eq!(e.path(), Some("train[\"count\"][1]"), "{e}");
}

#[test]
fn unsupported_column_kinds_are_errors_naming_them() {
    let d = dir("extra");
    let m = read_json(&d.join("manifest.json"));
    let mut n = 0;
    for f in m["files"].as_array().unwrap() {
        let Some(want) = f["error_contains"].as_str() else {
            continue;
        };
        if f.get("bomb").is_some() {
            continue;
        }
        let path = d.join(f["file"].as_str().unwrap());
        let e = read_pickle(&path).unwrap_err();
        let text = e.to_string();
        assert!(
            text.to_lowercase().contains(want),
            "{}: {text}",
            path.display()
        );
        assert_eq!(e.kind(), serde_pickle_vm::ErrorKind::Unsupported, "{text}");
        n += 1;
    }
    assert_eq!(n, 4);
}

#[test]
fn bombs_are_refused_not_materialized() {
    let d = dir("extra");
    // 2000 blocks of one shared array: the rebuild would copy 250 MiB from 230 KiB.
    let e = read_pickle(d.join("bomb_shared_blocks.pkl")).unwrap_err();
    assert_eq!(e.kind(), serde_pickle_vm::ErrorKind::Limit, "{e}");
    assert!(e.to_string().contains("budget"), "{e}");
    // A category of 64 KiB in 65536 rows: the frame is small, the strings it would
    // deliver are 4 GiB; serde's byte budget stops the walk.
    let p = read_pickle(d.join("bomb_category.pkl")).unwrap();
    let Pandas::DataFrame(df) = &p else { panic!() };
    assert_eq!(df.len(), 1 << 16);
    let e =
        serde_pickle_vm::from_file::<Vec<HashMap<String, String>>, _>(d.join("bomb_category.pkl"))
            .unwrap_err();
    assert_eq!(e.kind(), serde_pickle_vm::ErrorKind::Limit, "{e}");
    assert!(e.to_string().contains("expansion limit"), "{e}");
    // Its codes alone are fine.
    #[derive(Deserialize)]
    struct Skip {
        #[allow(dead_code)]
        c: serde::de::IgnoredAny,
    }
    let rows: Vec<Skip> = serde_pickle_vm::from_file(d.join("bomb_category.pkl")).unwrap();
    assert_eq!(rows.len(), 1 << 16);
}

/// The `pandas` fuzz target's finds and their kin (`tests/regressions/pandas/`, by
/// `fixtures/generate_pandas_regressions.py`): each once panicked on an overflow, aborted
/// on an allocation or made a frame far past the budget; now an error that says why, or
/// (RangeIndexes whose bounds span all of i64) the frame pandas would make.
#[test]
fn fuzz_finds_are_errors() {
    use serde_pickle_vm::ErrorKind::{Format, Limit, Unsupported};
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions/pandas");
    let cases = [
        (
            "range-index-span-overflow",
            Limit,
            "RangeIndex of 18446744073709551615 rows",
        ),
        (
            "block-shape-huge-rows",
            Format,
            "block holds 1099511627776 columns",
        ),
        (
            "object-block-shape-huge-rows",
            Format,
            "block holds 1099511627776 columns",
        ),
        ("tz-fixed-offset-overflow", Unsupported, "less than a day"),
        ("tz-timedelta-overflow", Unsupported, "less than a day"),
        ("pyarrow-length-overflow", Limit, "budget"),
        (
            "pyarrow-dictionary-type-shared",
            Unsupported,
            "dictionary within a dictionary",
        ),
        ("pyarrow-chunks-shared", Limit, "budget"),
        ("shared-float16-blocks", Limit, "budget"),
    ];
    for (name, kind, needle) in cases {
        let e = read_pickle(d.join(format!("{name}.pkl"))).unwrap_err();
        assert_eq!(e.kind(), kind, "{name}: {e}");
        assert!(e.to_string().contains(needle), "{name}: {e}");
    }
    for (name, len, first, last) in [
        ("range-index-step-min", 1, 0, 0),
        ("range-index-value-overflow", 4, i64::MIN, 1i64 << 62),
    ] {
        let Pandas::DataFrame(df) = read_pickle(d.join(format!("{name}.pkl"))).unwrap() else {
            panic!("{name}: not a frame")
        };
        assert_eq!(df.len(), len, "{name}");
        let rows: Vec<HashMap<String, Json>> =
            serde_pickle_vm::from_file(d.join(format!("{name}.pkl"))).unwrap();
        assert_eq!(rows.len(), len, "{name}");
        let text = df.info();
        assert!(
            text.contains(&format!("{first} to {last}")),
            "{name}: {text}"
        );
    }
}

/// Every pandas fixture with bytes changed at random (fixed seed): the rebuild, `info`,
/// serde into rows and the CSV writer fail with errors or succeed — never panic. (The
/// `pandas` fuzz target goes further.)
#[test]
fn mutated_frames_never_panic() {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut files = Vec::new();
    for v in ["v1", "v2", "v3", "hostile"] {
        for entry in std::fs::read_dir(dir(v)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "pkl") {
                files.push(std::fs::read(&path).unwrap());
            }
        }
    }
    files.sort();
    assert!(files.len() > 80);
    let mut rebuilt = 0;
    for data in &files {
        for _ in 0..200 {
            let mut d = data.clone();
            for _ in 0..1 + next() % 3 {
                let i = (next() as usize) % d.len();
                d[i] = next() as u8;
            }
            let Ok(graph) = serde_pickle_vm::load_slice(&d) else {
                continue;
            };
            if let Ok(p) = Pandas::from_graph(&graph) {
                rebuilt += 1;
                let _ = p.info();
                let _ = p.deserialize::<Vec<HashMap<String, Json>>>();
                if let Pandas::DataFrame(df) = &p {
                    let mut out = Vec::new();
                    let _ = serde_pickle_vm::pandas::write_csv(df, &mut out, Default::default());
                }
            }
            let _ = serde_pickle_vm::from_slice::<Vec<Json>>(&d);
        }
    }
    assert!(rebuilt > 100, "{rebuilt}");
}
