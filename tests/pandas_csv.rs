//! `pandas::write_csv` against the text `to_csv()` wrote for the same frames
//! (fixtures/pandas/csv/, from fixtures/generate_pandas_csv.py), and the CLI's `convert`
//! and `pandas info`.
#![cfg(feature = "pandas")]

use serde_pickle_vm::pandas::{self, Pandas, WriteOptions};
use std::sync::{Arc, Mutex};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/pandas/csv");

fn cases() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(DIR)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".pkl").map(str::to_string)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 20, "{names:?}");
    names
}

fn frame(name: &str) -> pandas::DataFrame {
    match pandas::read_pickle(format!("{DIR}/{name}.pkl")).unwrap() {
        Pandas::DataFrame(df) => df,
        Pandas::Series(s) => s.into_frame(),
    }
}

fn csv(df: &pandas::DataFrame, opts: WriteOptions) -> String {
    let mut out = Vec::new();
    pandas::write_csv(df, &mut out, opts).unwrap();
    String::from_utf8(out).unwrap()
}

fn expected(name: &str) -> String {
    std::fs::read_to_string(format!("{DIR}/{name}.csv")).unwrap()
}

/// First differing line, for a readable failure.
fn first_diff(got: &str, want: &str) -> String {
    for (n, (g, w)) in got.split('\n').zip(want.split('\n')).enumerate() {
        if g != w {
            return format!("line {}: got {g:?}, want {w:?}", n + 1);
        }
    }
    format!(
        "lengths differ: {} vs {} lines",
        got.split('\n').count(),
        want.split('\n').count()
    )
}

#[test]
fn every_fixture_is_what_to_csv_wrote() {
    let mut bad = Vec::new();
    for name in cases() {
        let got = csv(&frame(&name), WriteOptions::default());
        let want = expected(&name);
        if got != want {
            bad.push(format!("{name}: {}", first_diff(&got, &want)));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn batches_give_the_same_bytes_and_report_progress() {
    let df = frame("mixed");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let opts = WriteOptions {
        batch_rows: 7,
        progress: Some(Box::new(move |n| log.lock().unwrap().push(n))),
    };
    assert_eq!(csv(&df, opts), expected("mixed"));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), df.len().div_ceil(7));
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert_eq!(*seen.last().unwrap(), df.len() as u64);
    // A zero batch size is one row at a time, not a hang.
    let opts = WriteOptions {
        batch_rows: 0,
        progress: None,
    };
    assert_eq!(csv(&df, opts), expected("mixed"));
}

#[test]
fn an_empty_frame_is_one_quoted_empty_field() {
    assert_eq!(csv(&frame("empty"), WriteOptions::default()), "\"\"\n");
    assert_eq!(
        csv(&frame("index_only"), WriteOptions::default()),
        "\"\"\n1\n2\n"
    );
}

#[cfg(feature = "cli")]
mod cli {
    use super::*;
    use std::path::PathBuf;
    use std::process::{Command, Output};

    fn run(args: &[&std::ffi::OsStr]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_pickle-vm"))
            .args(args)
            .output()
            .unwrap()
    }

    fn tmp(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("spvm-pdcli-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(format!("{DIR}/{name}.pkl"))
    }

    fn stderr(o: &Output) -> String {
        String::from_utf8_lossy(&o.stderr).into_owned()
    }

    #[test]
    fn convert_to_csv_is_the_fixture_text() {
        let dir = tmp("csv");
        for name in ["mixed", "multi_columns", "series_named", "tz"] {
            let out = dir.join(format!("{name}.csv"));
            let o = run(&[
                "convert".as_ref(),
                fixture(name).as_os_str(),
                out.as_os_str(),
                "--force".as_ref(),
            ]);
            assert!(o.status.success(), "{name}: {}", stderr(&o));
            assert!(stderr(&o).contains("wrote"), "{}", stderr(&o));
            assert_eq!(
                std::fs::read_to_string(&out).unwrap(),
                expected(name),
                "{name}"
            );
            // --quiet: nothing on stderr.
            let o = run(&[
                "convert".as_ref(),
                fixture(name).as_os_str(),
                out.as_os_str(),
                "--force".as_ref(),
                "--quiet".as_ref(),
            ]);
            assert!(o.status.success());
            assert_eq!(stderr(&o), "");
        }
        // No temporary files are left beside the output.
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
        // An existing file needs --force.
        let out = dir.join("mixed.csv");
        let o = run(&[
            "convert".as_ref(),
            fixture("mixed").as_os_str(),
            out.as_os_str(),
        ]);
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn convert_rejects_unknown_extensions_and_non_pandas_input() {
        let dir = tmp("ext");
        let out = dir.join("frame.xlsx");
        let o = run(&[
            "convert".as_ref(),
            fixture("mixed").as_os_str(),
            out.as_os_str(),
        ]);
        assert_eq!(o.status.code(), Some(1));
        let err = stderr(&o);
        assert!(err.contains("unknown extension .xlsx"), "{err}");
        for ext in [".csv", ".parquet", ".arrow", ".feather", ".safetensors"] {
            assert!(err.contains(ext), "{err}");
        }
        assert!(!out.exists());
        // A pickle of a dict.
        let dict = PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/pickles/dict_0.p0.pkl"
        ));
        let out = dir.join("dict.csv");
        let o = run(&["convert".as_ref(), dict.as_os_str(), out.as_os_str()]);
        assert_eq!(o.status.code(), Some(1));
        assert!(
            stderr(&o).contains("holds a dict, not a pandas DataFrame or Series"),
            "{}",
            stderr(&o)
        );
        assert!(!out.exists());
        // Nor does a failed conversion leave a temporary file.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        let o = run(&["pandas".as_ref(), "info".as_ref(), dict.as_os_str()]);
        assert_eq!(o.status.code(), Some(1));
        assert!(
            stderr(&o).contains("holds a dict, not a pandas DataFrame or Series"),
            "{}",
            stderr(&o)
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn pandas_info_text_and_json() {
        let path = fixture("mixed");
        let o = run(&["pandas".as_ref(), "info".as_ref(), path.as_os_str()]);
        assert!(o.status.success(), "{}", stderr(&o));
        let text = String::from_utf8(o.stdout).unwrap();
        assert_eq!(text, pandas::read_pickle(&path).unwrap().info());
        assert!(text.contains("RangeIndex: 100 entries, 0 to 99"), "{text}");
        assert!(text.contains("datetime64[us, Europe/Paris]"), "{text}");

        let o = run(&[
            "pandas".as_ref(),
            "info".as_ref(),
            path.as_os_str(),
            "--json".as_ref(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(doc["kind"], "DataFrame");
        assert_eq!(doc["shape"], serde_json::json!([100, 7]));
        assert_eq!(doc["index"]["kind"], "RangeIndex");
        assert_eq!(doc["index"]["names"], serde_json::json!([null]));
        assert_eq!(doc["index"]["dtypes"], serde_json::json!(["int64"]));
        let cols = doc["columns"].as_array().unwrap();
        assert_eq!(cols.len(), 7);
        assert_eq!(
            cols[1],
            serde_json::json!({"name": "f", "dtype": "float64", "non_null": 85})
        );
        assert_eq!(cols[6]["dtype"], "Int64");
        assert_eq!(cols[6]["non_null"], 75);

        let o = run(&[
            "pandas".as_ref(),
            "info".as_ref(),
            fixture("series_named").as_os_str(),
            "--json".as_ref(),
        ]);
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(doc["kind"], "Series");
        assert_eq!(doc["shape"], serde_json::json!([2]));
        assert_eq!(doc["index"]["names"], serde_json::json!(["k"]));
        assert_eq!(doc["columns"][0]["name"], "s");
    }

    #[test]
    fn convert_writes_safetensors_from_a_checkpoint() {
        let dir = tmp("st");
        let ckpt = PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/torch/checkpoint.pt"
        ));
        let a = dir.join("a.safetensors");
        let b = dir.join("b.safetensors");
        let o = run(&["convert".as_ref(), ckpt.as_os_str(), a.as_os_str()]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stderr(&o).contains("tensors"), "{}", stderr(&o));
        // The alias writes the same file.
        let o = run(&[
            "torch".as_ref(),
            "convert".as_ref(),
            ckpt.as_os_str(),
            b.as_os_str(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let (a, b) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        assert_eq!(a, b);
        let st = safetensors::SafeTensors::deserialize(&a).unwrap();
        assert!(!st.names().is_empty());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[cfg(all(feature = "arrow", feature = "parquet"))]
    #[test]
    fn unwritable_columns_are_named_and_skipped_on_request() {
        let dir = tmp("skip");
        let src = PathBuf::from(format!(
            "{}/fixtures/pandas/v3/numeric.p5.pkl",
            env!("CARGO_MANIFEST_DIR")
        ));
        let out = dir.join("n.parquet");
        let o = run(&[
            "convert".as_ref(),
            src.as_os_str(),
            out.as_os_str(),
            "--force".as_ref(),
        ]);
        assert!(!o.status.success());
        let e = stderr(&o);
        assert!(e.contains("column \"c128\" holds complex128 values"), "{e}");
        assert!(e.contains("--skip-unsupported"), "{e}");
        assert!(!out.exists());
        let o = run(&[
            "convert".as_ref(),
            src.as_os_str(),
            out.as_os_str(),
            "--force".as_ref(),
            "--skip-unsupported".as_ref(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains("skipped: column \"c128\""), "{e}");
        assert!(e.contains("wrote 5 rows, 11 columns"), "{e}");
        let file = std::fs::File::open(&out).unwrap();
        let reader = parquet::file::reader::SerializedFileReader::new(file).unwrap();
        use parquet::file::reader::FileReader;
        let names: Vec<String> = reader
            .metadata()
            .file_metadata()
            .schema_descr()
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        assert!(!names.contains(&"c128".to_string()), "{names:?}");
        assert!(
            names.contains(&"f64".to_string()) || names.len() == 11,
            "{names:?}"
        );
    }
}
