//! A fitted scikit-learn model, saved with `joblib.dump`, read into Rust structs and
//! used to predict — no Python.
//!
//! The models in `fixtures/numpy/sklearn/` were fitted and saved by scikit-learn 1.9 and
//! joblib 1.6 (`fixtures/generate_numpy.py`), in essence:
//!
//! ```python
//! logreg = LogisticRegression(max_iter=1000).fit(X, y)          # 3 classes, 4 features
//! joblib.dump(logreg, "logreg.joblib")
//! pipe = Pipeline([("scaler", StandardScaler()), ("logreg", LogisticRegression(max_iter=1000))]).fit(X, y)
//! joblib.dump(pipe, "pipeline.joblib")
//! ```
//!
//! `expected.json` beside them holds scikit-learn's own `predict` and `predict_proba` on
//! ten test rows; this example computes both in Rust and checks them.
//!
//! Run with `cargo run --example sklearn`.

use serde::Deserialize;
use serde_pickle_vm::pickle;

/// `sklearn.linear_model.LogisticRegression`: the fitted attributes we need (the others
/// in its `__dict__` are ignored).
#[pickle(
    module = "sklearn.linear_model._logistic",
    class = "LogisticRegression"
)]
#[derive(Deserialize, Debug)]
struct LogisticRegression {
    /// `(n_classes, n_features)`, a float64 numpy array.
    coef_: Vec<Vec<f64>>,
    intercept_: Vec<f64>,
    classes_: Vec<i64>,
    n_features_in_: usize,
}

/// `sklearn.preprocessing.StandardScaler`.
#[pickle(module = "sklearn.preprocessing._data", class = "StandardScaler")]
#[derive(Deserialize, Debug)]
struct StandardScaler {
    mean_: Vec<f64>,
    scale_: Vec<f64>,
    /// A numpy float64 scalar in the pickle: read as a plain `f64`.
    n_samples_seen_: f64,
}

/// The steps a `Pipeline` can hold here, one variant per class.
#[pickle]
#[derive(Deserialize, Debug)]
#[allow(clippy::large_enum_variant)]
enum Step {
    #[pickle(module = "sklearn.preprocessing._data", class = "StandardScaler")]
    Scaler(StandardScaler),
    #[pickle(
        module = "sklearn.linear_model._logistic",
        class = "LogisticRegression"
    )]
    LogReg(LogisticRegression),
}

/// `sklearn.pipeline.Pipeline`: `steps` is a list of `(name, estimator)` tuples.
#[pickle(module = "sklearn.pipeline", class = "Pipeline")]
#[derive(Deserialize, Debug)]
struct Pipeline {
    steps: Vec<(String, Step)>,
}

impl LogisticRegression {
    /// `decision_function` then softmax: `predict_proba` of a multinomial model.
    fn predict_proba(&self, x: &[f64]) -> Vec<f64> {
        let scores: Vec<f64> = self
            .coef_
            .iter()
            .zip(&self.intercept_)
            .map(|(w, b)| w.iter().zip(x).map(|(w, x)| w * x).sum::<f64>() + b)
            .collect();
        let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let exp: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
        let sum: f64 = exp.iter().sum();
        exp.iter().map(|e| e / sum).collect()
    }

    fn predict(&self, x: &[f64]) -> i64 {
        let p = self.predict_proba(x);
        let best = (0..p.len()).fold(0, |b, i| if p[i] > p[b] { i } else { b });
        self.classes_[best]
    }
}

impl StandardScaler {
    fn transform(&self, x: &[f64]) -> Vec<f64> {
        x.iter()
            .zip(self.mean_.iter().zip(&self.scale_))
            .map(|(x, (m, s))| (x - m) / s)
            .collect()
    }
}

impl Pipeline {
    fn predict(&self, x: &[f64]) -> Option<i64> {
        let mut x = x.to_vec();
        for (_, step) in &self.steps {
            match step {
                Step::Scaler(s) => x = s.transform(&x),
                Step::LogReg(m) => return Some(m.predict(&x)),
            }
        }
        None
    }
}

#[derive(Deserialize)]
struct Expected {
    #[serde(rename = "X_test")]
    x_test: Vec<Vec<f64>>,
    models: Models,
}

#[derive(Deserialize)]
struct Models {
    logreg: ExpectedModel,
    pipeline: ExpectedModel,
}

#[derive(Deserialize)]
struct ExpectedModel {
    predict: Vec<i64>,
    predict_proba: Vec<Vec<f64>>,
}

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/numpy/sklearn");
    let expected: Expected =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/expected.json"))?)?;

    // The format (a joblib dump with its arrays inline) is found from the content.
    let model: LogisticRegression = serde_pickle_vm::from_file(format!("{dir}/logreg.joblib"))?;
    println!(
        "LogisticRegression: {} classes {:?}, {} features",
        model.coef_.len(),
        model.classes_,
        model.n_features_in_
    );
    let mut worst = 0f64;
    for (i, x) in expected.x_test.iter().enumerate() {
        let proba = model.predict_proba(x);
        for (p, q) in proba.iter().zip(&expected.models.logreg.predict_proba[i]) {
            worst = worst.max((p - q).abs());
        }
        assert_eq!(
            model.predict(x),
            expected.models.logreg.predict[i],
            "row {i}"
        );
    }
    assert!(
        worst < 1e-9,
        "predict_proba differs from scikit-learn's by {worst}"
    );
    println!(
        "  predict matches scikit-learn on {} rows; predict_proba within {worst:.1e}",
        expected.x_test.len()
    );

    let pipe: Pipeline = serde_pickle_vm::from_file(format!("{dir}/pipeline.joblib"))?;
    let names: Vec<&str> = pipe.steps.iter().map(|(n, _)| n.as_str()).collect();
    println!("Pipeline {names:?}");
    for (i, x) in expected.x_test.iter().enumerate() {
        assert_eq!(
            pipe.predict(x),
            Some(expected.models.pipeline.predict[i]),
            "row {i}"
        );
    }
    if let Some((_, Step::Scaler(s))) = pipe.steps.first() {
        println!("  scaler fitted on {} samples", s.n_samples_seen_);
    }
    println!(
        "  predict matches scikit-learn on {} rows",
        expected.x_test.len()
    );
    Ok(())
}
