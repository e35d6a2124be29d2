//! linalg: views, GEMM (both backends) and the symmetric product against a naive f64 oracle.
//!
//! Tolerance: for a dot product of length k computed in precision u, |ĉ − c| ≤ γ_k·(|A|·|B|)_ij
//! with γ_k = k·u/(1 − k·u) (Higham, Accuracy and Stability, Thm 3.5; blocked summation only
//! tightens it). We assert |ĉ − c| ≤ 2·k·u·(|A|·|B|)_ij + tiny, which any correct summation order meets.
#![cfg(feature = "alloc")]

use mlkern::Par;
use mlkern::linalg::{
    self, Accum, GemmBackend, Layout, matmul_with, sym_product_with, view, view_mut,
};
use mlkern::{Error, Real};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

const BACKENDS: [GemmBackend; 3] = [GemmBackend::Auto, GemmBackend::Faer, GemmBackend::Portable];

fn random<T: Real>(rng: &mut SmallRng, n: usize) -> Vec<T> {
    (0..n)
        .map(|_| T::from_f64(rng.random_range(-1.0..1.0)))
        .collect()
}

/// Naive f64 `α·A·B (+ C0)` and `(|A|·|B|)` for row-major inputs.
fn oracle<T: Real>(
    a: &[T],
    b: &[T],
    c0: Option<&[T]>,
    (m, k, n): (usize, usize, usize),
    alpha: f64,
) -> (Vec<f64>, Vec<f64>) {
    let mut c = vec![0.0; m * n];
    let mut bound = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            let (mut s, mut t) = (0.0, 0.0);
            for p in 0..k {
                let x = a[i * k + p].as_f64() * b[p * n + j].as_f64();
                s += x;
                t += x.abs();
            }
            c[i * n + j] = alpha * s + c0.map_or(0.0, |c0| c0[i * n + j].as_f64());
            bound[i * n + j] = alpha.abs() * t + c0.map_or(0.0, |c0| c0[i * n + j].as_f64().abs());
        }
    }
    (c, bound)
}

fn assert_close<T: Real>(got: &[T], want: &[f64], bound: &[f64], k: usize, ctx: &str) {
    let u = T::EPS.as_f64() / 2.0;
    for (idx, ((g, w), b)) in got.iter().zip(want).zip(bound).enumerate() {
        let tol = 2.0 * (k as f64 + 2.0) * u * b + 1e-300;
        let err = (g.as_f64() - w).abs();
        assert!(
            err <= tol,
            "{ctx}: index {idx}: got {g}, want {w}, err {err:e} > tol {tol:e}"
        );
    }
}

fn check_gemm<T: Real>(m: usize, k: usize, n: usize, seed: u64) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let a = random::<T>(&mut rng, m * k);
    let b = random::<T>(&mut rng, k * n);
    let c0 = random::<T>(&mut rng, m * n);
    let alpha = 0.75;
    for backend in BACKENDS {
        for accum in [Accum::Replace, Accum::Add] {
            // Destination starts as NaN for Replace: it must never be read.
            let mut c: Vec<T> = match accum {
                Accum::Replace => vec![T::nan(); m * n],
                Accum::Add => c0.clone(),
            };
            matmul_with(
                backend,
                view_mut(&mut c, m, n, Layout::RowMajor).unwrap(),
                accum,
                view(&a, m, k, Layout::RowMajor).unwrap(),
                view(&b, k, n, Layout::RowMajor).unwrap(),
                T::from_f64(alpha),
                Par::Seq,
            )
            .unwrap();
            let (want, bound) = oracle(
                &a,
                &b,
                (accum == Accum::Add).then_some(&c0[..]),
                (m, k, n),
                alpha,
            );
            assert_close(
                &c,
                &want,
                &bound,
                k,
                &format!("{backend:?} {accum:?} {}x{k}x{n} {}", m, T::NAME),
            );
        }
    }
}

#[test]
fn portable_gemm_at_every_isa_level() {
    let (m, k, n) = (45, 300, 29);
    let mut rng = SmallRng::seed_from_u64(99);
    let a = random::<f32>(&mut rng, m * k);
    let b = random::<f32>(&mut rng, k * n);
    let (want, bound) = oracle(&a, &b, None, (m, k, n), 1.0);
    let mut levels = 0;
    for isa in mlkern::simd::Isa::supported() {
        let mut c = vec![f32::NAN; m * n];
        mlkern::linalg::matmul_portable(
            isa,
            view_mut(&mut c, m, n, Layout::RowMajor).unwrap(),
            Accum::Replace,
            view(&a, m, k, Layout::RowMajor).unwrap(),
            view(&b, k, n, Layout::RowMajor).unwrap(),
            1.0,
        )
        .unwrap();
        assert_close(&c, &want, &bound, k, isa.name());
        levels += 1;
    }
    assert!(levels >= 1);
}

#[test]
fn gemm_matches_oracle_on_edge_and_blocking_shapes() {
    // 0 and 1 sizes, odd sizes not a multiple of any SIMD width, and sizes that cross the portable
    // kernel's blocks (kc = 256, mc = 192, NR = 12).
    let shapes = [
        (0, 3, 4),
        (3, 0, 4),
        (3, 4, 0),
        (1, 1, 1),
        (1, 7, 1),
        (17, 1, 13),
        (33, 65, 31),
        (65, 130, 47),
        (200, 300, 27),
        (37, 513, 401),
    ];
    for (s, &(m, k, n)) in shapes.iter().enumerate() {
        check_gemm::<f32>(m, k, n, s as u64);
        check_gemm::<f64>(m, k, n, 100 + s as u64);
    }
}

#[test]
fn gemm_strided_and_column_major_views() {
    let (m, k, n) = (23, 19, 29);
    let mut rng = SmallRng::seed_from_u64(7);
    let a = random::<f64>(&mut rng, m * k);
    let b = random::<f64>(&mut rng, k * n);
    // A stored column-major inside a buffer with leading dimension m + 5.
    let lda = m + 5;
    let mut a_cm = vec![f64::NAN; lda * k];
    for i in 0..m {
        for p in 0..k {
            a_cm[i + p * lda] = a[i * k + p];
        }
    }
    // C row-major with row stride n + 3; padding must stay untouched.
    let ldc = n + 3;
    for backend in BACKENDS {
        let mut c = vec![-1.0; ldc * m];
        matmul_with(
            backend,
            view_mut(&mut c, m, n, Layout::RowMajorStrided { row_stride: ldc }).unwrap(),
            Accum::Replace,
            view(&a_cm, m, k, Layout::ColMajorStrided { col_stride: lda }).unwrap(),
            view(&b, k, n, Layout::RowMajor).unwrap(),
            1.0,
            Par::Seq,
        )
        .unwrap();
        let (want, bound) = oracle(&a, &b, None, (m, k, n), 1.0);
        let packed: Vec<f64> = (0..m)
            .flat_map(|i| c[i * ldc..i * ldc + n].to_vec())
            .collect();
        assert_close(&packed, &want, &bound, k, &format!("{backend:?} strided"));
        for i in 0..m {
            assert!(
                c[i * ldc + n..(i + 1) * ldc].iter().all(|&x| x == -1.0),
                "padding written"
            );
        }
    }
}

#[test]
fn gemm_shape_errors() {
    let a = [0.0f32; 6];
    let mut c = [0.0f32; 4];
    let err = linalg::matmul(
        view_mut(&mut c, 2, 2, Layout::RowMajor).unwrap(),
        Accum::Replace,
        view(&a, 2, 3, Layout::RowMajor).unwrap(),
        view(&a, 2, 3, Layout::RowMajor).unwrap(),
        1.0,
        Par::Seq,
    )
    .unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
    assert!(err.to_string().contains("matmul"));
}

#[test]
fn view_checks() {
    let d = [0.0f64; 12];
    assert!(view(&d, 3, 4, Layout::RowMajor).is_ok());
    assert!(view(&d, 3, 3, Layout::RowMajor).is_err());
    assert!(view(&d, 2, 4, Layout::RowMajorStrided { row_stride: 8 }).is_ok());
    assert!(view(&d, 3, 4, Layout::RowMajorStrided { row_stride: 5 }).is_err());
    assert!(view(&d, 2, 5, Layout::RowMajorStrided { row_stride: 4 }).is_err());
    assert!(view(&d, 0, 4, Layout::ColMajorStrided { col_stride: 0 }).is_ok());
    assert!(view(&d, 2, 4, Layout::ColMajorStrided { col_stride: 1 }).is_err());
    assert!(view(&d, 0, 0, Layout::ColMajorStrided { col_stride: 0 }).is_ok());
    assert!(view(&d, usize::MAX, 2, Layout::RowMajorStrided { row_stride: 2 }).is_err());
    // Regression: faer 0.24.4's own row-major strided MatMut constructor swaps the strides.
    let mut buf = [0.0f64; 12];
    let mut mv = view_mut(&mut buf, 2, 3, Layout::RowMajorStrided { row_stride: 5 }).unwrap();
    mv[(1, 0)] = 1.0;
    mv[(0, 2)] = 2.0;
    assert_eq!((buf[5], buf[2]), (1.0, 2.0));
    let m = view(&d, 4, 3, Layout::ColMajorStrided { col_stride: 4 }).unwrap();
    assert_eq!((m.nrows(), m.ncols()), (4, 3));
}

fn check_sym<T: Real>(m: usize, k: usize, beta: f64, seed: u64) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let a = random::<T>(&mut rng, m * k);
    // Symmetric C0 so that β·C0 has a meaning for the full matrix.
    let mut c0 = random::<T>(&mut rng, m * m);
    for i in 0..m {
        for j in 0..i {
            c0[j * m + i] = c0[i * m + j];
        }
    }
    let at: Vec<T> = (0..k * m).map(|idx| a[(idx % m) * k + idx / m]).collect();
    let alpha = -1.25;
    for backend in BACKENDS {
        let mut c = if beta == 0.0 {
            vec![T::nan(); m * m]
        } else {
            c0.clone()
        };
        sym_product_with(
            backend,
            view_mut(&mut c, m, m, Layout::ColMajor).unwrap(),
            T::from_f64(beta),
            view(&a, m, k, Layout::RowMajor).unwrap(),
            T::from_f64(alpha),
            Par::Seq,
        )
        .unwrap();
        let scaled: Vec<T> = c0.iter().map(|&x| T::from_f64(beta * x.as_f64())).collect();
        let (want, bound) = oracle(
            &a,
            &at,
            (beta != 0.0).then_some(&scaled[..]),
            (m, k, m),
            alpha,
        );
        assert_close(
            &c,
            &want,
            &bound,
            k + 1,
            &format!("sym {backend:?} {m}x{k} beta {beta}"),
        );
        for i in 0..m {
            for j in 0..m {
                assert_eq!(
                    c[i * m + j],
                    c[j * m + i],
                    "not exactly symmetric at ({i},{j})"
                );
            }
        }
    }
}

#[test]
fn sym_product_matches_oracle_and_is_exactly_symmetric() {
    for (s, &(m, k)) in [
        (0, 3),
        (1, 1),
        (5, 0),
        (7, 13),
        (45, 33),
        (97, 300),
        (230, 70),
        (800, 37), // ≥ 768: the 96-row staircase blocks
    ]
    .iter()
    .enumerate()
    {
        for beta in [0.0, 1.0, 0.5] {
            check_sym::<f32>(m, k, beta, s as u64);
            check_sym::<f64>(m, k, beta, 50 + s as u64);
        }
    }
}

#[test]
fn sym_product_shape_error() {
    let a = [0.0f64; 6];
    let mut c = [0.0f64; 9];
    let err = linalg::sym_product(
        view_mut(&mut c, 3, 3, Layout::RowMajor).unwrap(),
        0.0,
        view(&a, 2, 3, Layout::RowMajor).unwrap(),
        1.0,
        Par::Seq,
    )
    .unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }));
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Both backends agree with the f64 oracle for arbitrary small shapes, α and accumulation.
        #[test]
        fn gemm_any_shape(m in 0usize..40, k in 0usize..40, n in 0usize..40, seed in any::<u64>(),
                          alpha in -2.0f64..2.0, add in any::<bool>()) {
            let mut rng = SmallRng::seed_from_u64(seed);
            let a = random::<f64>(&mut rng, m * k);
            let b = random::<f64>(&mut rng, k * n);
            let c0 = random::<f64>(&mut rng, m * n);
            let accum = if add { Accum::Add } else { Accum::Replace };
            let (want, bound) = oracle(&a, &b, add.then_some(&c0[..]), (m, k, n), alpha);
            for backend in BACKENDS {
                // c is column-major: lay c0 (row-major for the oracle) out by columns.
                let c0_cm: Vec<f64> = (0..m * n).map(|idx| c0[(idx % m) * n + idx / m]).collect();
                let mut c = if add { c0_cm } else { vec![f64::NAN; m * n] };
                matmul_with(backend, view_mut(&mut c, m, n, Layout::ColMajor).unwrap(), accum,
                    view(&a, m, k, Layout::RowMajor).unwrap(), view(&b, k, n, Layout::RowMajor).unwrap(),
                    alpha, Par::Seq).unwrap();
                let c_rm: Vec<f64> = (0..m * n).map(|idx| c[(idx % n) * m + idx / n]).collect();
                assert_close(&c_rm, &want, &bound, k, &format!("{backend:?}"));
            }
        }
    }
}

/// The parallel recursion of the symmetric product (diagonal halves on separate threads) gives
/// the sequential result.
#[cfg(feature = "rayon")]
#[test]
fn sym_product_parallel_matches_sequential() {
    let mut rng = SmallRng::seed_from_u64(77);
    let (m, k) = (300, 170);
    let a: Vec<f64> = random(&mut rng, m * k);
    let run = |par: Par| {
        let mut c = vec![0.0f64; m * m];
        linalg::sym_product(
            view_mut(&mut c, m, m, Layout::ColMajor).unwrap(),
            0.0,
            view(&a, m, k, Layout::RowMajor).unwrap(),
            1.0,
            par,
        )
        .unwrap();
        c
    };
    let (seq, par) = (run(Par::Seq), run(Par::threads(2)));
    let err = seq
        .iter()
        .zip(&par)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    assert!(err < 1e-12, "{err:e}");
}
