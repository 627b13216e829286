//! Class instances into structs: fields from the BUILD state (dict, slots, both), from a
//! `__setstate__` state of another shape, from constructor arguments (REDUCE, NEWOBJ,
//! NEWOBJ_EX kwargs, namedtuple), with and without the `#[pickle]` class check.

mod serde_common;

use serde::Deserialize;
use serde_common::{each, expected, fixture};
use serde_pickle_vm::{from_slice, pickle, ErrorKind};

#[pickle(module = "__main__", class = "Greeter")]
#[derive(Deserialize, Debug, PartialEq, serde::Serialize)]
struct Greeter {
    name: String,
    excited: bool,
}

/// The same shape without the macro: any object whose state fits.
#[derive(Deserialize, Debug, PartialEq)]
struct AnyGreeter {
    name: String,
    excited: bool,
}

#[test]
fn greeter_in_every_protocol() {
    // Protocols 0-1 write copyreg._reconstructor(Greeter, object, None) + BUILD;
    // 2+ write NEWOBJ + BUILD. Both are instances of __main__.Greeter.
    for (p, data) in each("greeter") {
        let g: Greeter = from_slice(&data).unwrap_or_else(|e| panic!("p{p}: {e}"));
        assert_eq!(
            serde_json::to_value(&g).unwrap(),
            expected("greeter"),
            "p{p}"
        );
        let g: AnyGreeter = from_slice(&data).unwrap();
        assert_eq!(g.name, "World");
    }
    for (p, data) in each("greeters") {
        let g: Vec<Greeter> = from_slice(&data).unwrap_or_else(|e| panic!("p{p}: {e}"));
        assert_eq!(
            serde_json::to_value(&g).unwrap(),
            expected("greeters"),
            "p{p}"
        );
    }
}

#[test]
fn class_is_checked_only_with_the_macro() {
    for (p, data) in each("other") {
        let err = from_slice::<Greeter>(&data).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Type);
        assert_eq!(
            err.message(),
            "expected an instance of __main__.Greeter, found object __main__.Other",
            "p{p}"
        );
        assert!(err.offset().is_some());
        // Without the macro the state is all that matters.
        let g: AnyGreeter = from_slice(&data).unwrap();
        assert_eq!(g.name, "not a greeter");
    }
    // A dict is not an instance.
    let err = from_slice::<Greeter>(&fixture("dict_str", 4)).unwrap_err();
    assert_eq!(
        err.message(),
        "expected an instance of __main__.Greeter, found dict of length 3"
    );
}

#[test]
fn slots_and_dict_with_slots() {
    #[derive(Deserialize, Debug)]
    struct Slotted {
        x: i32,
        y: String,
    }
    #[pickle(module = "__main__", class = "Mixed")]
    #[derive(Deserialize, Debug)]
    struct Mixed {
        slot: i32,
        attr: String,
    }
    for (p, data) in each("slotted") {
        let s: Slotted = from_slice(&data).unwrap_or_else(|e| panic!("p{p}: {e}"));
        assert_eq!((s.x, s.y.as_str()), (1, "two"));
    }
    for (p, data) in each("mixed_slots") {
        let m: Mixed = from_slice(&data).unwrap_or_else(|e| panic!("p{p}: {e}"));
        assert_eq!((m.slot, m.attr.as_str()), (1, "a"));
        let j: serde_json::Value = from_slice(&data).unwrap();
        assert_eq!(j, expected("mixed_slots"));
    }
}

#[test]
fn constructor_args() {
    #[pickle(module = "__main__", class = "Temperature", args)]
    #[derive(Deserialize, Debug)]
    struct ByPosition(f64, String);

    #[pickle(module = "__main__", class = "Temperature")]
    #[derive(Deserialize, Debug)]
    struct ByField {
        #[pickle(arg = 1)]
        unit: char,
        #[pickle(arg = 0)]
        degrees: f32,
    }

    #[pickle(module = "__main__", class = "Temperature")]
    #[derive(Deserialize, Debug)]
    struct Missing {
        #[pickle(arg = 2)]
        _extra: f32,
    }

    #[pickle(module = "__main__", class = "Temperature")]
    #[derive(Deserialize, Debug)]
    struct Defaulted {
        #[pickle(arg = 2)]
        #[serde(default)]
        extra: Option<f32>,
        #[pickle(arg = 0)]
        degrees: f64,
    }

    for (p, data) in each("temperature") {
        let t: ByPosition = from_slice(&data).unwrap_or_else(|e| panic!("p{p}: {e}"));
        assert_eq!((t.0, t.1.as_str()), (21.5, "C"));
        let t: ByField = from_slice(&data).unwrap();
        assert_eq!((t.degrees, t.unit), (21.5, 'C'));
        let t: Defaulted = from_slice(&data).unwrap();
        assert_eq!((t.degrees, t.extra), (21.5, None));
        let err = from_slice::<Missing>(&data).unwrap_err();
        assert_eq!(
            err.message(),
            "missing field `_extra` (constructor argument 2)"
        );
        // Without the macro, an object with args and no state reads as a sequence.
        let t: (f64, String) = from_slice(&data).unwrap();
        assert_eq!(t.1, "C");
        let j: serde_json::Value = from_slice(&data).unwrap();
        assert_eq!(j, expected("temperature"));
    }
}

#[test]
fn namedtuple() {
    #[pickle(module = "__main__", class = "Point", args)]
    #[derive(Deserialize, Debug)]
    struct Point(i64, i64);
    #[derive(Deserialize, Debug)]
    struct Named {
        x: i64,
        y: i64,
    }
    for (p, data) in each("point") {
        let pt: Point = from_slice(&data).unwrap_or_else(|e| panic!("p{p}: {e}"));
        assert_eq!((pt.0, pt.1), (1, 2));
        // Positional args also fill a plain struct in order, like a tuple.
        let n: Named = from_slice(&data).unwrap();
        assert_eq!((n.x, n.y), (1, 2));
        let t: (i64, i64) = from_slice(&data).unwrap();
        assert_eq!(t, (1, 2));
    }
}

#[test]
fn state_of_another_shape() {
    #[pickle(module = "__main__", class = "Pair")]
    #[derive(Deserialize, Debug)]
    struct WithState {
        #[pickle(state)]
        state: (i32, String),
    }
    #[pickle(module = "__main__", class = "Pair")]
    #[derive(Deserialize, Debug)]
    struct AsTuple(i32, String);
    #[derive(Deserialize, Debug)]
    struct Plain {
        _a: i32,
        _b: String,
    }
    for (p, data) in each("pair_state") {
        let w: WithState = from_slice(&data).unwrap_or_else(|e| panic!("p{p}: {e}"));
        assert_eq!(w.state, (1, "b".to_string()));
        let t: AsTuple = from_slice(&data).unwrap();
        assert_eq!((t.0, t.1.as_str()), (1, "b"));
        let j: serde_json::Value = from_slice(&data).unwrap();
        assert_eq!(j, expected("pair_state"));
        // A struct with named fields reads a sequence state positionally.
        let pl: Plain = from_slice(&data).unwrap();
        assert_eq!(pl._a, 1);
        let err = from_slice::<std::collections::HashMap<String, i32>>(&data).unwrap_err();
        assert_eq!(
            err.message(),
            "invalid type: the state of __main__.Pair is tuple of length 2, expected a map"
        );
    }
}

#[test]
fn keyword_arguments() {
    #[pickle(module = "__main__", class = "Keyed")]
    #[derive(Deserialize, Debug)]
    struct Keyed {
        #[pickle(arg = 0)]
        base: i32,
        #[pickle(kwarg = "scale")]
        scale: i32,
    }
    for (p, data) in each("keyed") {
        let k: Keyed = from_slice(&data).unwrap_or_else(|e| panic!("p{p}: {e}"));
        assert_eq!((k.base, k.scale), (5, 3), "p{p}");
    }
}

#[test]
fn dataclass_config() {
    #[pickle(module = "__main__", class = "Server")]
    #[derive(Deserialize, Debug, serde::Serialize)]
    struct Server {
        host: String,
        port: u16,
        tags: Vec<String>,
    }
    #[pickle(module = "__main__", class = "Config")]
    #[derive(Deserialize, Debug, serde::Serialize)]
    struct Config {
        name: String,
        debug: bool,
        servers: Vec<Server>,
        retries: u8,
        timeout: f64,
        owner: Option<std::collections::BTreeMap<String, String>>,
    }
    for (p, data) in each("config") {
        let c: Config = from_slice(&data).unwrap_or_else(|e| panic!("p{p}: {e}"));
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            expected("config"),
            "p{p}"
        );
        let j: serde_json::Value = from_slice(&data).unwrap();
        assert_eq!(j, expected("config"));
    }
}

#[test]
fn serialize_keeps_rust_names() {
    // The macro renames for deserializing only.
    let g = Greeter {
        name: "x".into(),
        excited: false,
    };
    assert_eq!(
        serde_json::to_string(&g).unwrap(),
        r#"{"name":"x","excited":false}"#
    );
}
