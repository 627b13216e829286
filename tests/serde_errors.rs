//! Every class of serde error, with its message, path and byte offset: type mismatches
//! deep in a value, shared references past the expansion budget, cycles, nesting depth.

mod serde_common;

use serde::Deserialize;
use serde_common::{each, fixture};
use serde_pickle_vm::{from_slice, from_slice_with_options, ErrorKind, Limits, Options};

#[derive(Deserialize, Debug)]
#[allow(dead_code)]
struct Record {
    id: u32,
    name: String,
    score: f64,
    tags: Vec<String>,
    active: bool,
}

#[derive(Deserialize, Debug)]
#[allow(dead_code)]
struct Doc {
    records: Vec<Record>,
}

#[test]
fn type_errors_name_the_path_and_offset() {
    for (p, data) in each("bad_records") {
        let err = from_slice::<Vec<Record>>(&data).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Type);
        assert_eq!(err.path(), Some("[1].tags[1]"), "p{p}");
        assert_eq!(err.message(), "invalid type: int 7, expected a string");
        // The int is inline: the offset is that of the nearest node, the tags list.
        let graph = serde_pickle_vm::load_slice(&data).unwrap();
        let tags = graph.root().get(1).unwrap().get("tags").unwrap();
        assert_eq!(err.offset(), tags.offset());
        let text = err.to_string();
        assert!(
            text.starts_with("[1].tags[1]: invalid type: int 7, expected a string (at byte "),
            "{text}"
        );
    }
    // Under a field: records[1].tags[1].
    // pickle.dumps({'records': [{..., 'tags': ['a', 7], ...}]}, protocol=2)
    let data = b"\x80\x02}q\x00X\x07\x00\x00\x00recordsq\x01]q\x02}q\x03(X\x02\x00\x00\x00idq\x04K\x01X\x04\x00\x00\x00nameq\x05X\x01\x00\x00\x00nq\x06X\x05\x00\x00\x00scoreq\x07G?\xf0\x00\x00\x00\x00\x00\x00X\x04\x00\x00\x00tagsq\x08]q\x09(X\x01\x00\x00\x00aq\x0aK\x07eX\x06\x00\x00\x00activeq\x0b\x88uas.";
    let err = from_slice::<Doc>(data).unwrap_err();
    assert_eq!(
        err.to_string().split(" (at").next().unwrap(),
        "records[0].tags[1]: invalid type: int 7, expected a string"
    );
}

#[test]
fn wrong_container_types() {
    let data = fixture("records", 4);
    let err = from_slice::<std::collections::HashMap<String, i32>>(&data).unwrap_err();
    assert_eq!(
        err.message(),
        "invalid type: list of length 5, expected a map"
    );
    assert_eq!(err.offset(), Some(11));
    let err = from_slice::<Vec<(u32, String)>>(&data).unwrap_err();
    assert_eq!(err.path(), Some("[0]"));
    assert_eq!(
        err.message(),
        "invalid type: dict of length 5, expected a tuple of size 2"
    );
    let err = from_slice::<Vec<Record>>(&fixture("greeters", 4)).unwrap_err();
    assert_eq!(err.path(), Some("[0]"));
    assert_eq!(err.message(), "missing field `id`");
    let err = from_slice::<bool>(&fixture("text", 4)).unwrap_err();
    assert_eq!(
        err.message(),
        "invalid type: tuple of length 6, expected a boolean"
    );
}

#[test]
fn billion_laughs_hits_the_expansion_limit() {
    for (p, data) in each("laughs") {
        assert!(data.len() < 2000, "p{p}: the pickle is small");
        let err = from_slice::<serde_json::Value>(&data).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Limit, "p{p}");
        assert!(
            err.message()
                .starts_with("serde expansion limit reached: the walk visited 1000")
                && err.message().contains("raise Limits::max_expansion"),
            "{err}"
        );
        assert!(err.path().unwrap().starts_with("[0][0][0]"));
        // A tighter budget fails sooner.
        let tight = Options {
            limits: Limits {
                max_expansion: Some(10),
                ..Limits::default()
            },
            ..Options::default()
        };
        let err = from_slice_with_options::<serde_json::Value>(&data, &tight).unwrap_err();
        assert!(err.message().contains("visited 10 nodes"), "{err}");
    }
    // A shared value within budget is copied as often as it is reached.
    let (a, b, _): ((String, i32), (String, i32), serde::de::IgnoredAny) =
        from_slice(&fixture("shared", 4)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn cycles_are_errors_naming_the_path() {
    for (p, data) in each("cycle") {
        let err = from_slice::<serde_json::Value>(&data).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Type, "p{p}");
        assert_eq!(err.path(), Some("outer[0][1]"), "p{p}");
        assert!(
            err.message()
                .starts_with("cycle: this list contains itself"),
            "{err}"
        );
        // Skipping the cyclic part is fine.
        #[derive(Deserialize)]
        struct Skip {
            #[allow(dead_code)]
            outer: serde::de::IgnoredAny,
        }
        from_slice::<Skip>(&data).unwrap();
    }
}

/// A recursive type: each level is real recursion through serde.
#[derive(Deserialize, Debug)]
#[serde(untagged)]
enum Tree {
    Leaf(i64),
    Node(Vec<Tree>),
}

fn depth_of(t: &Tree) -> usize {
    let mut d = 0;
    let mut t = t;
    loop {
        match t {
            Tree::Node(v) => {
                d += 1;
                t = &v[0];
            }
            Tree::Leaf(leaf) => {
                // The innermost value is the int CPython wrote.
                assert_eq!(*leaf, 0);
                return d;
            }
        }
    }
}

#[test]
fn depth_1000_fits_in_a_test_thread() {
    let data = fixture("deep_1000", 4);
    // Test threads have a 2 MiB stack: 1000 levels of serde recursion must fit.
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let v: serde_json::Value = from_slice(&data).unwrap();
            let mut d = 0;
            let mut v = &v;
            while let Some(inner) = v.get(0) {
                d += 1;
                v = inner;
            }
            assert_eq!(d, 1000);
            let t: Tree = from_slice(&data).unwrap();
            assert_eq!(depth_of(&t), 1000);
            // serde_json::Value drops recursively; keep that out of the measurement.
            std::mem::forget(t);
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn depth_limit() {
    let data = fixture("deep_1001", 4);
    let err = from_slice::<serde::de::IgnoredAny>(&data).map(|_| ());
    assert!(err.is_ok(), "skipping is not walking");
    let err = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || from_slice::<serde_json::Value>(&data).unwrap_err())
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(err.kind(), ErrorKind::Limit);
    assert_eq!(
        err.message(),
        "maximum nesting depth exceeded: more than 1000 nested containers; raise Limits::max_depth to allow deeper values"
    );
    assert_eq!(err.path().unwrap().len(), 3 * 1000);
    let shallow = Options {
        limits: Limits {
            max_depth: 2,
            ..Limits::default()
        },
        ..Options::default()
    };
    let err = from_slice_with_options::<Vec<Record>>(&fixture("records", 4), &shallow).unwrap_err();
    assert_eq!(err.path(), Some("[0].tags"));
    assert_eq!(err.kind(), ErrorKind::Limit);
}

#[test]
fn vm_errors_pass_through() {
    let err = from_slice::<i32>(b"\x80\x04\x95").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Truncated);
    let err = serde_pickle_vm::from_reader::<_, i32>(&b"\x80\x04\x95"[..]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Truncated);
}

#[test]
fn custom_errors_keep_their_kind() {
    #[derive(Debug)]
    struct Even(#[allow(dead_code)] i64);
    impl<'de> Deserialize<'de> for Even {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let n = i64::deserialize(d)?;
            if n % 2 == 0 {
                Ok(Even(n))
            } else {
                Err(serde::de::Error::custom(format!("{n} is odd")))
            }
        }
    }
    let err = from_slice::<Vec<Even>>(&fixture("options", 4)).unwrap_err();
    assert_eq!(err.path(), Some("[0]"));
    assert_eq!(err.message(), "invalid type: None, expected i64");
    let err = from_slice::<Vec<Option<Even>>>(&fixture("options", 4)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Custom);
    assert_eq!(err.path(), Some("[1]"));
    assert_eq!(err.message(), "1 is odd");
}
