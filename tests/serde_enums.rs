//! Rust enums from pickles: Python `enum.Enum` members (by value, by name), a family of
//! classes onto one enum, and serde's externally tagged form.

mod serde_common;

use serde::Deserialize;
use serde_common::{each, expected};
use serde_pickle_vm::{from_slice, pickle, ErrorKind};

#[pickle(module = "__main__", class = "Color")]
#[derive(Deserialize, Debug, PartialEq, serde::Serialize)]
enum Color {
    #[pickle(value = 1)]
    Red,
    #[pickle(value = 2)]
    Green,
    #[pickle(value = 3)]
    Blue,
}

#[pickle(module = "__main__", class = "Level")]
#[derive(Deserialize, Debug, PartialEq)]
enum Level {
    #[pickle(value = 10)]
    Low,
    #[pickle(value = 20)]
    High,
}

#[pickle(module = "__main__", class = "Mood")]
#[derive(Deserialize, Debug, PartialEq)]
enum Mood {
    #[pickle(value = "happy")]
    Happy,
    #[pickle(value = "sad")]
    Sad,
}

/// Matched by name: the member values are their lower-case names.
#[pickle(module = "__main__", class = "Mood")]
#[derive(Deserialize, Debug, PartialEq)]
#[allow(non_camel_case_types)]
enum MoodByName {
    happy,
    sad,
}

#[test]
fn enum_members_by_value() {
    for (p, data) in each("enums") {
        let v: (Color, Color, Level, Mood) =
            from_slice(&data).unwrap_or_else(|e| panic!("p{p}: {e}"));
        assert_eq!(v, (Color::Red, Color::Blue, Level::High, Mood::Sad), "p{p}");
        let (_, _, _, m): (Color, Color, Level, MoodByName) = from_slice(&data).unwrap();
        assert_eq!(m, MoodByName::sad);
        // The members' raw values, through deserialize_any.
        let j: serde_json::Value = from_slice(&data).unwrap();
        assert_eq!(j, serde_json::json!([[1], [3], [20], ["sad"]]));
    }
    for (p, data) in each("colors") {
        let v: Vec<Color> = from_slice(&data).unwrap();
        assert_eq!(
            serde_json::to_value(&v).unwrap(),
            expected("colors"),
            "p{p}"
        );
    }
}

#[test]
fn enum_member_errors() {
    for (p, data) in each("enums") {
        // Level.HIGH (20) is not a Color: the class is checked.
        let err = from_slice::<(Color, Color, Color, Mood)>(&data).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Type);
        assert_eq!(err.path(), Some("[2]"), "p{p}");
        assert_eq!(
            err.message(),
            "expected an instance of __main__.Color, found object __main__.Level"
        );
        // Color.BLUE (3) has no variant.
        #[pickle(module = "__main__", class = "Color")]
        #[derive(Deserialize, Debug)]
        enum TwoColors {
            #[pickle(value = 1)]
            Red,
            #[pickle(value = 2)]
            Green,
        }
        let err = from_slice::<(TwoColors, TwoColors, Level, Mood)>(&data).unwrap_err();
        assert_eq!(err.path(), Some("[1]"));
        assert_eq!(
            err.message(),
            "unknown enum member of __main__.Color: int 3; expected one of Red = 1, Green = 2"
        );
    }
}

#[test]
fn enum_member_by_global_name() {
    // A member pickled by name (enum.global_enum / pickle_by_global_name):
    // GLOBAL '__main__ Color.GREEN'.
    let data = b"\x80\x04\x95\x1a\x00\x00\x00\x00\x00\x00\x00\x8c\x08__main__\x94\x8c\x0bColor.GREEN\x94\x93\x94.";
    let c: Color = from_slice(data).unwrap();
    assert_eq!(c, Color::Green);
}

#[pickle(module = "shapes")]
#[derive(Deserialize, Debug, PartialEq)]
enum Shape {
    #[pickle(class = "Circle")]
    Circle { r: f64 },
    #[pickle(class = "Square")]
    Square { side: f64 },
    #[pickle(class = "Segment", args)]
    Segment((i32, i32), (i32, i32)),
}

#[test]
fn a_family_of_classes() {
    for (p, data) in each("shapes") {
        let v: Vec<Shape> = from_slice(&data).unwrap_or_else(|e| panic!("p{p}: {e}"));
        assert_eq!(
            v,
            [
                Shape::Circle { r: 1.0 },
                Shape::Square { side: 2.0 },
                Shape::Segment((0, 0), (1, 1)),
                Shape::Circle { r: 0.5 },
            ],
            "p{p}"
        );
        #[pickle(module = "shapes")]
        #[derive(Deserialize, Debug)]
        enum Round {
            #[pickle(class = "Circle")]
            #[allow(dead_code)]
            Circle { r: f64 },
        }
        let err = from_slice::<Vec<Round>>(&data).unwrap_err();
        assert_eq!(err.path(), Some("[1]"));
        assert_eq!(
            err.message(),
            "expected an instance of shapes.Circle, found object shapes.Square"
        );
    }
}

#[test]
fn variants_named_like_classes_without_the_macro() {
    #[derive(Deserialize, Debug, PartialEq)]
    enum Shape {
        Circle { r: f64 },
        Square { side: f64 },
        Segment((i32, i32), (i32, i32)),
    }
    for (p, data) in each("shapes") {
        let v: Vec<Shape> = from_slice(&data).unwrap_or_else(|e| panic!("p{p}: {e}"));
        assert_eq!(v[2], Shape::Segment((0, 0), (1, 1)));
        assert_eq!(v[3], Shape::Circle { r: 0.5 });
    }
}

#[test]
fn externally_tagged() {
    #[derive(Deserialize, Debug, PartialEq)]
    enum Tagged {
        Unit,
        Newtype(i32),
        Tuple(u8, String),
        Struct { a: bool },
    }
    for (p, data) in each("tagged") {
        let v: Vec<Tagged> = from_slice(&data).unwrap_or_else(|e| panic!("p{p}: {e}"));
        assert_eq!(
            v,
            [
                Tagged::Unit,
                Tagged::Newtype(5),
                Tagged::Tuple(1, "x".into()),
                Tagged::Struct { a: true }
            ],
            "p{p}"
        );
        #[derive(Deserialize, Debug)]
        enum Fewer {
            Unit,
        }
        let err = from_slice::<Vec<Fewer>>(&data).unwrap_err();
        assert_eq!(err.path(), Some("[1]"));
        assert_eq!(err.message(), "unknown variant `Newtype`, expected `Unit`");
    }
}
