fn main() {
    let p = std::env::args().nth(1).unwrap();
    let t = std::time::Instant::now();
    for _ in 0..500 {
        std::hint::black_box(serde_pickle_vm::torch::Checkpoint::open(&p).unwrap());
    }
    eprintln!("{:?}/open", t.elapsed() / 500);
}
