fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = std::env::var("N")
        .ok()
        .map(|s| s.parse().unwrap())
        .unwrap_or(15);
    for path in &args {
        let data = std::fs::read(path).unwrap();
        let mut v = vec![];
        for _ in 0..n {
            let t = std::time::Instant::now();
            let g = serde_pickle_vm::load_slice(&data).unwrap();
            drop(std::hint::black_box(g));
            v.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let mut s = v.clone();
        s.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "{path}: first {:.1} min {:.1} median {:.1}",
            v[0],
            s[0],
            s[s.len() / 2]
        );
    }
}
