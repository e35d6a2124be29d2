use faer::linalg::matmul::triangular::{self, BlockStructure};
use mlkern::linalg::{Accum, Mat, Par};
use std::time::Instant;
fn main() {
    let (k, n) = (1024, 4096);
    let a = Mat::<f64>::from_fn(k, n, |i, j| {
        (((i * 7919 + j * 104729) % 1000) as f64) / 1000.0 - 0.5
    });
    let mut c = Mat::<f64>::zeros(k, k);
    let par = Par::rayon(2);
    for _ in 0..3 {
        let t = Instant::now();
        triangular::matmul(
            c.as_mut(),
            BlockStructure::TriangularLower,
            Accum::Replace,
            a.as_ref(),
            BlockStructure::Rectangular,
            a.transpose(),
            BlockStructure::Rectangular,
            1.0,
            par,
        );
        let t1 = t.elapsed();
        let t = Instant::now();
        triangular::matmul(
            c.as_mut(),
            BlockStructure::TriangularLower,
            Accum::Replace,
            a.as_ref(),
            BlockStructure::Rectangular,
            a.transpose(),
            BlockStructure::Rectangular,
            1.0,
            Par::Seq,
        );
        let t2 = t.elapsed();
        // inner-blocked sym_product: 8 chunks of 512
        let t = Instant::now();
        for b in 0..8 {
            let blk = a.as_ref().submatrix(0, b * 512, k, 512);
            mlkern::linalg::sym_product(c.as_mut(), if b == 0 { 0.0 } else { 1.0 }, blk, 1.0, par)
                .unwrap();
        }
        let t3 = t.elapsed();
        println!("tri par2 {:?} tri seq {:?} sym chunks512 {:?}", t1, t2, t3);
    }
}
