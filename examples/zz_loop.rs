fn main() {
    let mut a = std::env::args().skip(1);
    let path = a.next().unwrap();
    let n: usize = a.next().map(|s| s.parse().unwrap()).unwrap_or(10);
    let data = std::fs::read(&path).unwrap();
    let mut best = f64::MAX;
    for _ in 0..n {
        let t = std::time::Instant::now();
        let g = serde_pickle_vm::load_slice(&data).unwrap();
        drop(std::hint::black_box(g));
        best = best.min(t.elapsed().as_secs_f64() * 1e3);
    }
    println!("best {best:.1} ms");
}
