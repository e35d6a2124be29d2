//! Demo rows of the SIMD layer and the linear-algebra layer.

use mlkern::linalg::{self, Accum, GemmBackend, Layout};

use super::row::{Row, Step, data, f32s, reference_sum, rel};
use crate::CliError;
use crate::timing::Timing;

pub(crate) fn simd_rows() -> Vec<Step> {
    const N: usize = 1 << 20;
    vec![
        Box::new(|repeat, _| {
            let x = data(N, 1);
            let x32 = f32s(&x);
            let (got, timing) =
                Timing::measure(repeat, || Ok::<_, CliError>(mlkern::simd::sum(&x32)))?;
            let (want, bound) = reference_sum(x32.iter().map(|&v| v as f64));
            Ok(Row {
                kernel: "simd::sum (f32)",
                shape: format!("{N}"),
                summary: format!("sum = {got:.6} (f64 ref {want:.6})"),
                ok: (got as f64 - want).abs() <= bound,
                timing,
            })
        }),
        Box::new(|repeat, _| {
            let (x, y) = (f32s(&data(N, 2)), f32s(&data(N, 3)));
            let (got, timing) = Timing::measure(repeat, || mlkern::simd::dot(&x, &y))?;
            let (want, bound) = reference_sum(x.iter().zip(&y).map(|(&a, &b)| a as f64 * b as f64));
            Ok(Row {
                kernel: "simd::dot (f32)",
                shape: format!("{N}"),
                summary: format!("dot = {got:.6} (f64 ref {want:.6})"),
                ok: (got as f64 - want).abs() <= bound,
                timing,
            })
        }),
        Box::new(|repeat, _| {
            let x = f32s(&data(N, 4));
            let ((idx, max), timing) = Timing::measure(repeat, || mlkern::simd::argmax(&x))?;
            let want = x
                .iter()
                .copied()
                .enumerate()
                .fold(
                    (0, f32::NEG_INFINITY),
                    |acc, (i, v)| if v > acc.1 { (i, v) } else { acc },
                );
            Ok(Row {
                kernel: "simd::argmax (f32)",
                shape: format!("{N}"),
                summary: format!("x[{idx}] = {max}"),
                ok: (idx, max) == want,
                timing,
            })
        }),
        Box::new(|repeat, _| {
            let logits: Vec<f32> = data(N, 5).iter().map(|&v| (8.0 * v) as f32).collect();
            let mut p = logits.clone();
            let ((), timing) = Timing::measure(repeat, || {
                p.copy_from_slice(&logits);
                mlkern::simd::softmax_in_place(&mut p)
            })?;
            let lse = mlkern::simd::log_sum_exp(&logits)?;
            let m = logits
                .iter()
                .fold(f64::NEG_INFINITY, |a, &b| a.max(b as f64));
            let want_lse = m + logits
                .iter()
                .map(|&v| (v as f64 - m).exp())
                .sum::<f64>()
                .ln();
            let total: f64 = p.iter().map(|&v| v as f64).sum();
            Ok(Row {
                kernel: "simd::softmax (f32)",
                shape: format!("{N}"),
                summary: format!("Σp = {total:.7}, logsumexp = {lse:.5} (f64 ref {want_lse:.5})"),
                ok: (total - 1.0).abs() < 1e-4 && rel(lse as f64, want_lse) < 1e-5,
                timing,
            })
        }),
    ]
}

pub(crate) fn gemm_row(backend: GemmBackend, n: usize) -> Step {
    Box::new(move |repeat, par| {
        let a = f32s(&data(n * n, 10));
        let b = f32s(&data(n * n, 11));
        let mut c = vec![0.0f32; n * n];
        let ((), timing) = Timing::measure(repeat, || {
            linalg::matmul_with(
                backend,
                linalg::view_mut(&mut c, n, n, Layout::RowMajor)?,
                Accum::Replace,
                linalg::view(&a, n, n, Layout::RowMajor)?,
                linalg::view(&b, n, n, Layout::RowMajor)?,
                1.0,
                par,
            )
        })?;
        // Check a few entries against f64 dot products.
        let mut worst: f64 = 0.0;
        for &(i, j) in &[(0, 0), (n / 2, n / 3), (n - 1, n - 1), (7 % n, (n - 1) / 2)] {
            let want: f64 = (0..n)
                .map(|p| a[i * n + p] as f64 * b[p * n + j] as f64)
                .sum();
            let scale: f64 = (0..n)
                .map(|p| (a[i * n + p] as f64 * b[p * n + j] as f64).abs())
                .sum();
            worst = worst.max((c[i * n + j] as f64 - want).abs() / scale);
        }
        let gflops = 2.0 * (n * n * n) as f64 / timing.median_s() / 1e9;
        Ok(Row {
            kernel: if backend == GemmBackend::Portable {
                "linalg::matmul portable (f32)"
            } else {
                "linalg::matmul (f32)"
            },
            shape: format!("{n}×{n}×{n}"),
            summary: format!("{gflops:.1} GFLOP/s, rel err {worst:.1e}"),
            ok: worst < 1e-5,
            timing,
        })
    })
}

pub(crate) fn sym_row(n: usize) -> Step {
    Box::new(move |repeat, par| {
        let a = f32s(&data(n * n, 12));
        let mut c = vec![0.0f32; n * n];
        let ((), timing) = Timing::measure(repeat, || {
            linalg::sym_product(
                linalg::view_mut(&mut c, n, n, Layout::RowMajor)?,
                0.0,
                linalg::view(&a, n, n, Layout::RowMajor)?,
                1.0,
                par,
            )
        })?;
        let symmetric = (0..n).all(|i| (0..i).all(|j| c[i * n + j] == c[j * n + i]));
        let want: f64 = (0..n).map(|p| (a[p] as f64).powi(2)).sum();
        Ok(Row {
            kernel: "linalg::sym_product A·Aᵀ (f32)",
            shape: format!("{n}×{n}"),
            summary: format!("exactly symmetric: {symmetric}, c₀₀ = {:.4}", c[0]),
            ok: symmetric && rel(c[0] as f64, want) < 1e-5,
            timing,
        })
    })
}
