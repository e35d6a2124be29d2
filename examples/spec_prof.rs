use mlkern::linalg::{Layout, Par, view};
use mlkern::spectrum::{Centering, Method, SpectrumConfig, singular_values};
use std::time::Instant;
fn main() {
    let par = Par::rayon(2);
    let (m, n) = (4096, 1024);
    let x: Vec<f32> = (0..m * n)
        .map(|i| ((i * 7919 % 1000) as f32) / 1000.0 - 0.5)
        .collect();
    let xv = view(&x, m, n, Layout::RowMajor).unwrap();
    for eo in [false, true, false, true] {
        let cfg = SpectrumConfig::new(Centering::ColumnMean, Method::Gram).with_energy_only(eo);
        let t = Instant::now();
        let s = singular_values(xv, &cfg, par).unwrap();
        println!("energy_only={eo} {:?} {}", t.elapsed(), s.sigma[0]);
    }
}
