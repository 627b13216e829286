//! pandas frames from any pickle: the rebuild (`Pandas::from_graph`), `info()`, and
//! serde into rows (`serde_json::Value`, a typed row struct, tuples), columns and a
//! Series' map. Seeded from `fixtures/pandas/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use serde_pickle_vm::pandas::Pandas;
use std::collections::HashMap;

#[derive(Deserialize)]
#[allow(dead_code)]
struct Row {
    id: Option<i64>,
    name: Option<String>,
    score: Option<f64>,
    index: Option<serde_json::Value>,
}

fuzz_target!(|data: &[u8]| {
    let Ok(graph) = serde_pickle_vm::load_slice(data) else {
        return;
    };
    if let Ok(p) = Pandas::from_graph(&graph) {
        let _ = p.info();
        if let Pandas::DataFrame(df) = &p {
            let _ = df.column_names();
            for c in df.columns() {
                let _ = c.data.dtype_name();
                let _ = c.data.null_count();
                for i in 0..c.data.len().min(64) {
                    let _ = c.data.text(i);
                }
            }
        }
    }
    let _ = serde_pickle_vm::from_slice::<Vec<serde_json::Value>>(data);
    let _ = serde_pickle_vm::from_slice::<Vec<Row>>(data);
    let _ = serde_pickle_vm::from_slice::<Vec<(Option<i64>, Option<String>)>>(data);
    let _ = serde_pickle_vm::from_slice::<HashMap<String, Vec<serde_json::Value>>>(data);
    let _ = serde_pickle_vm::from_slice::<HashMap<String, Option<f64>>>(data);
});
