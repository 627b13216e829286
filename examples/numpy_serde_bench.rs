//! How fast numpy arrays deserialize through serde: 10M-element arrays into `Vec<f64>`
//! and friends, against a plain copy of the same bytes (`Tensor::to_vec`).
//!
//! `cargo run --release --example numpy_serde_bench --features ndarray`

use serde_pickle_vm::array::{Bytes, NdArray, NpDtype, Order};
use serde_pickle_vm::{from_graph, Emulated, Graph, Node, Slot};
use std::time::Instant;

const N: usize = 10_000_000;

fn graph(descr: &str, shape: Vec<usize>, order: Order, bytes: Vec<u8>) -> Graph<'static> {
    let a = NdArray::new(
        NpDtype::parse(descr).unwrap(),
        shape,
        order,
        Bytes::new(bytes),
    )
    .unwrap();
    let mut g = Graph::empty();
    let id = g.add(Node::Emulated(Box::new(Emulated::NdArray(Box::new(a)))));
    g.set_root(Slot::Node(id));
    g
}

fn time<T>(label: &str, n: usize, f: impl Fn() -> T) -> T {
    let mut best = f64::MAX;
    let mut out = None;
    for _ in 0..5 {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(v);
    }
    println!("{label:<48} {:6.2} ns/element", best * 1e9 / n as f64);
    out.unwrap()
}

fn main() {
    let f64_le: Vec<u8> = (0..N).flat_map(|i| (i as f64).to_le_bytes()).collect();
    let f64_be: Vec<u8> = (0..N).flat_map(|i| (i as f64).to_be_bytes()).collect();
    let f32_le: Vec<u8> = (0..N).flat_map(|i| (i as f32).to_le_bytes()).collect();

    let g = graph("<f8", vec![N], Order::C, f64_le.clone());
    let v: Vec<f64> = time("<f8 [10M] into Vec<f64> (serde)", N, || {
        from_graph::<Vec<f64>>(&g).unwrap()
    });
    assert_eq!(v[N - 1], (N - 1) as f64);
    let Some(Emulated::NdArray(a)) = g.root().as_emulated() else {
        unreachable!()
    };
    time("<f8 [10M] Tensor::to_vec::<f64> (memcpy)", N, || {
        a.tensor().unwrap().to_vec::<f64>().unwrap()
    });

    // The floor any deserializer has: serde's own `Vec` visitor over a sequence of f64.
    let plain = a.tensor().unwrap().to_vec::<f64>().unwrap();
    time("Vec<f64> from serde's SeqDeserializer (floor)", N, || {
        use serde::de::{value::SeqDeserializer, Deserialize};
        let d = SeqDeserializer::<_, serde::de::value::Error>::new(plain.iter().copied());
        Vec::<f64>::deserialize(d).unwrap()
    });

    let g = graph(">f8", vec![N], Order::C, f64_be);
    time(">f8 [10M] into Vec<f64> (serde)", N, || {
        from_graph::<Vec<f64>>(&g).unwrap()
    });
    let g = graph("<f4", vec![N], Order::C, f32_le);
    time("<f4 [10M] into Vec<f32> (serde)", N, || {
        from_graph::<Vec<f32>>(&g).unwrap()
    });
    time("<f4 [10M] into Vec<f64> (serde)", N, || {
        from_graph::<Vec<f64>>(&g).unwrap()
    });

    let g = graph("<f8", vec![1000, N / 1000], Order::F, f64_le);
    time("<f8 [1000, 10000] F order into Vec<Vec<f64>>", N, || {
        from_graph::<Vec<Vec<f64>>>(&g).unwrap()
    });
    #[cfg(feature = "ndarray")]
    time("<f8 [1000, 10000] F order into ndarray::Array2", N, || {
        from_graph::<ndarray::Array2<f64>>(&g).unwrap()
    });
}
