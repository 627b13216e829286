//! Allow-list loading (`Unpickler::allow_globals`, `LoadOptions::allow`): torch fixtures
//! load under `AllowList::torch()`, CPython's plain-data fixtures under
//! `AllowList::data()`, and every hostile pickle is rejected with its global named.

use serde_json::Value as Json;
use serde_pickle_vm::scan::{scan_bytes, Kind, Severity};
use serde_pickle_vm::{AllowList, ClassAction, ErrorKind, Unpickler};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &str) -> Vec<u8> {
    std::fs::read(format!("{ROOT}/{path}")).unwrap()
}

#[test]
fn data_accepts_the_stdlib_fixtures() {
    let list = AllowList::data();
    let (mut loaded, mut rejected) = (0, 0);
    for e in std::fs::read_dir(format!("{ROOT}/fixtures/pickles")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().and_then(|x| x.to_str()) != Some("pkl") {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // Only what loads at all (some need buffers or an encoding).
        if Unpickler::new().load_slice(&data).is_err() {
            continue;
        }
        let report = scan_bytes(&data);
        let outside: Vec<String> = report
            .findings()
            .filter(|(_, f)| f.kind == Kind::Global)
            .filter_map(|(_, f)| f.name.clone())
            .filter(|n| {
                let (m, c) = n.rsplit_once('.').unwrap();
                !list.allows(m, c)
            })
            .collect();
        let result = Unpickler::new()
            .allow_globals(list.clone())
            .load_slice(&data);
        if outside.is_empty() {
            assert!(result.is_ok(), "{name}: {:?}", result.err());
            loaded += 1;
        } else {
            let err = result.expect_err(&name);
            assert_eq!(err.kind(), ErrorKind::Rejected, "{name}");
            assert!(
                err.message().contains(&format!("'{}'", outside[0])),
                "{name}: {err}"
            );
            rejected += 1;
        }
    }
    assert!(loaded > 600 && rejected > 50, "{loaded} {rejected}");
}

#[test]
fn plain_data_needs_no_global() {
    for p in [
        "list_3.p2.pkl",
        "dict_4.p4.pkl",
        "str_bmp.p0.pkl",
        "tuple_2.p1.pkl",
    ] {
        let data = read(&format!("fixtures/pickles/{p}"));
        Unpickler::new()
            .allow_globals(AllowList::new())
            .load_slice(&data)
            .unwrap();
    }
}

#[test]
fn payloads_are_rejected_with_the_global_named() {
    let text = std::fs::read_to_string(format!("{ROOT}/fixtures/malicious/manifest.json")).unwrap();
    let cases: Vec<Json> = serde_json::from_str(&text).unwrap();
    let mut checked = 0;
    for case in &cases {
        let file = case["file"].as_str().unwrap();
        if case["format"] != "pickle" || file == "second_pickle.pkl" {
            continue;
        }
        // The first import the list refuses is where the load must stop.
        let Some(first) = case["globals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["severity"] != "safe")
        else {
            continue;
        };
        let Some(name) = first["name"].as_str() else {
            continue;
        };
        let data = read(&format!("fixtures/malicious/{file}"));
        for list in [AllowList::data(), AllowList::torch()] {
            let err = Unpickler::new()
                .allow_globals(list)
                .load_slice(&data)
                .expect_err(file);
            assert_eq!(err.kind(), ErrorKind::Rejected, "{file}: {err}");
            assert!(
                err.message().contains(&format!("'{name}'")),
                "{file}: {err}"
            );
            assert_eq!(err.offset(), first["offset"].as_u64(), "{file}: {err}");
            assert_eq!(err.opcode(), first["opcode"].as_str(), "{file}: {err}");
        }
        checked += 1;
    }
    assert!(checked >= 20, "{checked}");
}

#[test]
fn custom_entries_and_modules() {
    let greeter = b"c__main__\nGreeter\n)R.";
    let err = Unpickler::new()
        .allow_globals(AllowList::data())
        .load_slice(greeter)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "global '__main__.Greeter' is forbidden: not in the allow-list \
         (add \"__main__.Greeter\" to allow it) (at byte 0, opcode GLOBAL)"
    );
    Unpickler::new()
        .allow_globals(AllowList::data().with("__main__.Greeter"))
        .load_slice(greeter)
        .unwrap();
    Unpickler::new()
        .allow_globals(AllowList::new().with("__main__.*"))
        .load_slice(greeter)
        .unwrap();
    // A module entry covers submodules, not modules that merely share a prefix.
    let list = AllowList::new().with("mypkg.*");
    assert!(list.allows("mypkg", "A"));
    assert!(list.allows("mypkg.sub.deep", "A"));
    assert!(!list.allows("mypkgevil", "A"));
    assert!(!list.allows("os", "system"));
}

#[test]
fn python2_names_are_checked_after_the_rename() {
    // c__builtin__\nset\n — protocol 0's spelling of builtins.set.
    let data = b"c__builtin__\nset\n((lp0\nI1\natp1\nRp2\n.";
    Unpickler::new()
        .allow_globals(AllowList::data())
        .load_slice(data)
        .unwrap();
    let err = Unpickler::new()
        .allow_globals(AllowList::data())
        .load_slice(b"c__builtin__\neval\n(S'1'\ntR.")
        .unwrap_err();
    assert!(err.message().contains("'builtins.eval'"), "{err}");
}

#[test]
fn composes_with_find_class() {
    let data = b"c__main__\nGreeter\n)R.";
    let mut seen = Vec::new();
    // The user's hook, set before or after, runs for allowed globals only.
    for before in [true, false] {
        seen.clear();
        let hook = |m: &str, n: &str| {
            seen.push(format!("{m}.{n}"));
            Ok(ClassAction::Rename {
                module: "app".into(),
                name: n.into(),
            })
        };
        let list = AllowList::new().with("__main__.Greeter");
        let mut u = if before {
            Unpickler::new().find_class(hook).allow_globals(list)
        } else {
            Unpickler::new().allow_globals(list).find_class(hook)
        };
        let g = u.load_slice(data).unwrap();
        let obj = g.root().as_object().unwrap();
        assert_eq!(g.value(obj.callable).as_global().unwrap().module, "app");
        drop(u);
        assert_eq!(seen, ["__main__.Greeter"]);
    }
    // A global the list refuses never reaches the hook.
    let mut calls = 0;
    let err = Unpickler::new()
        .find_class(|_, _| {
            calls += 1;
            Ok(ClassAction::Keep)
        })
        .allow_globals(AllowList::data())
        .load_slice(data)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert_eq!(calls, 0);
    // Two lists: both must allow.
    let err = Unpickler::new()
        .allow_globals(AllowList::new().with("__main__.*"))
        .allow_globals(AllowList::data())
        .load_slice(data)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected);
}

#[test]
fn scanner_safe_means_torch_allowed() {
    // Whatever the scanner calls safe loads under AllowList::torch().
    let list = AllowList::torch();
    for e in std::fs::read_dir(format!("{ROOT}/fixtures/pickles")).unwrap() {
        let path = e.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        if path.extension().and_then(|x| x.to_str()) != Some("pkl") {
            continue;
        }
        for (_, f) in scan_bytes(&data).findings() {
            if f.kind == Kind::Global && f.severity == Severity::Safe {
                let (m, n) = f.name.as_deref().unwrap().rsplit_once('.').unwrap();
                assert!(list.allows(m, n), "{m}.{n}");
            }
        }
    }
}

#[cfg(feature = "torch")]
mod torch {
    use super::*;
    use serde_pickle_vm::torch::{Checkpoint, LoadOptions};

    fn opts() -> LoadOptions {
        LoadOptions {
            allow: Some(AllowList::torch()),
            ..LoadOptions::default()
        }
    }

    #[test]
    fn torch_fixtures_load_under_the_torch_list() {
        for name in [
            "checkpoint",
            "params",
            "dtypes",
            "views",
            "legacy",
            "legacy_tar",
            "big_endian",
            "layer_state_dict",
        ] {
            let ckpt = Checkpoint::open_with(format!("{ROOT}/fixtures/torch/{name}.pt"), &opts())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!ckpt.tensors().is_empty(), "{name}");
        }
        for name in ["numpy_p2.pkl", "numpy1_p2.pkl", "numpy_p5.pkl"] {
            let data = read(&format!("fixtures/torch/{name}"));
            Unpickler::new()
                .allow_globals(AllowList::torch())
                .load_slice(&data)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn pickled_modules_are_rejected_like_weights_only() {
        let err =
            Checkpoint::open_with(format!("{ROOT}/fixtures/torch/module.pt"), &opts()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Rejected);
        assert!(err.message().contains("torch.nn.modules"), "{err}");
        // ... unless their classes are allowed.
        let opts = LoadOptions {
            allow: Some(AllowList::torch().with("torch.nn.modules.*")),
            ..LoadOptions::default()
        };
        Checkpoint::open_with(format!("{ROOT}/fixtures/torch/module.pt"), &opts).unwrap();
    }

    #[test]
    fn checkpoint_payloads_are_rejected() {
        for (file, name) in [
            ("torch_data_pkl.pt", "posix.system"),
            ("torch_legacy.pt", "posix.system"),
        ] {
            let err = Checkpoint::open_with(format!("{ROOT}/fixtures/malicious/{file}"), &opts())
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Rejected, "{file}: {err}");
            assert!(err.message().contains(name), "{file}: {err}");
        }
    }
}
