//! `examples/sklearn.rs` run as a test: fitted scikit-learn models saved by joblib
//! (`fixtures/numpy/sklearn/`) read into `#[pickle]` structs predict exactly what
//! scikit-learn predicted (`expected.json`, written by scikit-learn 1.9).
#![cfg(all(feature = "derive", feature = "numpy"))]

#[allow(dead_code)]
#[path = "../examples/sklearn.rs"]
mod example;

#[test]
fn sklearn_example_matches_scikit_learn() {
    example::main().unwrap();
}

#[test]
fn every_sklearn_model_renders_and_loads() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/numpy/sklearn");
    for name in ["logreg", "scaler", "forest", "pipeline"] {
        let loaded = serde_pickle_vm::load_file(format!("{dir}/{name}.joblib")).unwrap();
        let json = serde_pickle_vm::json::to_string(&loaded.graph, &Default::default()).unwrap();
        assert!(
            json.contains("\"ndarray\""),
            "{name}: no arrays in {json:.200}"
        );
        assert!(
            !json.contains("NumpyArrayWrapper"),
            "{name}: a joblib wrapper is left"
        );
        // The whole model also reads into a generic value.
        let v: serde_json::Value = loaded.deserialize().unwrap();
        assert!(v.is_object(), "{name}");
    }
}
