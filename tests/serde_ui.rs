//! Misuse of `#[pickle]`: each file under `tests/ui/` and the exact errors it produces.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
