//! Battery cases for `mlkern::linalg` (see `main.rs`), and the slice-only `mlkern::simd`
//! kernels: views whose shape overflows or does not fit the slice (every layout, absurd rows,
//! columns and strides), products with inconsistent absurd dimensions, and empty views with a
//! 2⁴⁰-scale other dimension that must finish at once.

use std::sync::atomic::{AtomicUsize, Ordering};

use mlkern::Par;
use mlkern::linalg::{
    self, Accum, GemmBackend, Layout, Mat, matmul, matmul_portable, matmul_with, sym_product,
    sym_product_with, view, view_mut,
};
use mlkern::simd::{self, Isa};

use crate::{ABSURD, rejects, rejects_naming};

/// Cases run by this file.
static CASES: AtomicUsize = AtomicUsize::new(0);

fn case() {
    CASES.fetch_add(1, Ordering::Relaxed);
}

fn layouts(stride: usize) -> [Layout; 4] {
    [
        Layout::RowMajor,
        Layout::ColMajor,
        Layout::RowMajorStrided { row_stride: stride },
        Layout::ColMajorStrided { col_stride: stride },
    ]
}

const BACKENDS: [GemmBackend; 3] = [GemmBackend::Auto, GemmBackend::Faer, GemmBackend::Portable];

#[test]
fn linalg_views_with_absurd_shapes_are_errors() {
    let data = [1.0f64; 6];
    let mut buf = [0.0f64; 6];
    let mut sizes = vec![2usize, 3, 7];
    sizes.extend(ABSURD);
    for &r in &sizes {
        for &c in &sizes {
            if r.checked_mul(c).is_some_and(|rc| rc <= 6) || (r <= 3 && c <= 3) {
                continue; // fits (or nearly fits) the 6-element slice: not an absurd case
            }
            for stride in [c, c.saturating_add(1), usize::MAX] {
                for layout in layouts(stride) {
                    rejects("view", || view(&data, r, c, layout));
                    rejects("view_mut", || view_mut(&mut buf, r, c, layout));
                    rejects("view (empty)", || view(&[] as &[f64], r, c, layout));
                    case();
                    case();
                    case();
                }
            }
        }
    }
    // Overflowing shapes name the shape; strides below the inner dimension name the stride.
    for &a in &ABSURD {
        for &b in &ABSURD {
            rejects_naming("view overflowing", "matrix shape", || {
                view(&data, a, b, Layout::RowMajorStrided { row_stride: b })
            });
            case();
        }
        rejects_naming("row stride < cols", "stride", || {
            view(&data, 1, a, Layout::RowMajorStrided { row_stride: 1 })
        });
        rejects_naming("col stride < rows", "stride", || {
            view_mut(&mut buf, a, 1, Layout::ColMajorStrided { col_stride: 0 })
        });
        // Zero rows pass with an empty slice, but a stride below the huge other dimension
        // does not.
        rejects_naming("0×huge, stride 0", "stride", || {
            view(
                &[] as &[f64],
                0,
                a,
                Layout::RowMajorStrided { row_stride: 0 },
            )
        });
        case();
        case();
        case();
    }
    // Sanity: a valid view still works.
    assert_eq!(view(&data, 2, 3, Layout::RowMajor).unwrap()[(1, 2)], 1.0);
    case();
    eprintln!(
        "linalg battery: {} cases so far",
        CASES.load(Ordering::Relaxed)
    );
}

#[test]
fn linalg_products_with_inconsistent_absurd_shapes_are_errors() {
    let e: [f64; 0] = [];
    let mut d: [f64; 0] = [];
    let mut c4 = [0.0f64; 4];
    let a4 = [1.0f64; 4];
    for &a in &ABSURD {
        for &b in &ABSURD {
            // lhs 0×a and rhs inner×0 over empty slices: the inner dimensions disagree.
            let lhs = view(&e, 0, a, Layout::RowMajor).unwrap();
            let inner = if b != a { b } else { a.wrapping_add(1) };
            let rhs = view(&e, inner, 0, Layout::RowMajor).unwrap();
            for be in BACKENDS {
                rejects("matmul_with, inner mismatch", || {
                    matmul_with(
                        be,
                        view_mut(&mut d, 0, 0, Layout::RowMajor).unwrap(),
                        Accum::Replace,
                        lhs,
                        rhs,
                        1.0,
                        Par::Seq,
                    )
                });
                case();
            }
            rejects("matmul_portable, inner mismatch", || {
                matmul_portable(
                    Isa::scalar(),
                    view_mut(&mut d, 0, 0, Layout::RowMajor).unwrap(),
                    Accum::Add,
                    lhs,
                    rhs,
                    1.0,
                )
            });
            // The destination does not have the product's shape: 0×b instead of 0×0.
            let ok_rhs = view(&e, a, 0, Layout::RowMajor).unwrap();
            rejects("matmul, destination shape", || {
                matmul(
                    view_mut(&mut d, 0, b, Layout::RowMajor).unwrap(),
                    Accum::Replace,
                    lhs,
                    ok_rhs,
                    1.0,
                    Par::Seq,
                )
            });
            case();
            case();
        }
        // A 2×2 destination against an a×0 Gram factor.
        let tall = view(&e, a, 0, Layout::RowMajor).unwrap();
        for be in BACKENDS {
            rejects("sym_product_with, destination shape", || {
                sym_product_with(
                    be,
                    view_mut(&mut c4, 2, 2, Layout::RowMajor).unwrap(),
                    0.0,
                    tall,
                    1.0,
                    Par::Seq,
                )
            });
            case();
        }
        rejects("sym_product, destination shape", || {
            sym_product(
                view_mut(&mut d, 0, 0, Layout::RowMajor).unwrap(),
                1.0,
                tall,
                1.0,
                Par::Seq,
            )
        });
        rejects("matmul, 2×2 times a×0", || {
            matmul(
                view_mut(&mut c4, 2, 2, Layout::RowMajor).unwrap(),
                Accum::Replace,
                view(&a4, 2, 2, Layout::RowMajor).unwrap(),
                tall,
                1.0,
                Par::Seq,
            )
        });
        case();
        case();
    }
    eprintln!(
        "linalg battery: {} cases so far",
        CASES.load(Ordering::Relaxed)
    );
}

/// Products whose destination is empty, or whose inner dimension is 0, with a 2⁴⁰-scale other
/// dimension over empty slices: Ok at once (an empty inner dimension with `Replace` zeroes the
/// destination).
#[test]
fn linalg_empty_products_with_huge_dimensions_return_at_once() {
    let start = std::time::Instant::now();
    let e: [f64; 0] = [];
    let mut d: [f64; 0] = [];
    for &big in &ABSURD {
        for be in BACKENDS {
            // dst 0×big = (0×0)·(0×big)
            matmul_with(
                be,
                view_mut(&mut d, 0, big, Layout::RowMajor).unwrap(),
                Accum::Replace,
                view(&e, 0, 0, Layout::RowMajor).unwrap(),
                view(&e, 0, big, Layout::RowMajor).unwrap(),
                1.0,
                Par::Seq,
            )
            .unwrap();
            // dst big×0 = (big×0)·(0×0)
            matmul_with(
                be,
                view_mut(&mut d, big, 0, Layout::ColMajor).unwrap(),
                Accum::Add,
                view(&e, big, 0, Layout::ColMajor).unwrap(),
                view(&e, 0, 0, Layout::RowMajor).unwrap(),
                1.0,
                Par::Seq,
            )
            .unwrap();
            // dst 0×0 = (0×big)·(big×0): an empty product over a huge inner dimension.
            matmul_with(
                be,
                view_mut(&mut d, 0, 0, Layout::RowMajor).unwrap(),
                Accum::Replace,
                view(&e, 0, big, Layout::RowMajor).unwrap(),
                view(&e, big, 0, Layout::RowMajor).unwrap(),
                1.0,
                Par::Seq,
            )
            .unwrap();
            // Gram of a 0×big matrix.
            sym_product_with(
                be,
                view_mut(&mut d, 0, 0, Layout::RowMajor).unwrap(),
                0.5,
                view(&e, 0, big, Layout::RowMajor).unwrap(),
                1.0,
                Par::Seq,
            )
            .unwrap();
            for _ in 0..4 {
                case();
            }
        }
    }
    // An empty inner dimension with Replace zeroes a real destination.
    let mut c = [7.0f64; 4];
    for be in BACKENDS {
        c.fill(7.0);
        matmul_with(
            be,
            view_mut(&mut c, 2, 2, Layout::RowMajor).unwrap(),
            Accum::Replace,
            view(&e, 2, 0, Layout::RowMajor).unwrap(),
            view(&e, 0, 2, Layout::RowMajor).unwrap(),
            1.0,
            Par::Seq,
        )
        .unwrap();
        assert_eq!(c, [0.0; 4], "{be:?}");
        case();
    }
    // Sanity: a real product still works through every backend.
    let a = Mat::<f64>::from_fn(3, 4, |i, j| (i * 4 + j) as f64);
    let mut r = Mat::<f64>::zeros(3, 3);
    linalg::sym_product(r.as_mut(), 0.0, a.as_ref(), 1.0, Par::Seq).unwrap();
    assert_eq!(r[(2, 1)], 4.0 * 8.0 + 5.0 * 9.0 + 6.0 * 10.0 + 7.0 * 11.0);
    case();
    assert!(
        start.elapsed().as_secs() < 60,
        "empty products took {:?}",
        start.elapsed()
    );
    eprintln!(
        "linalg battery: {} cases so far",
        CASES.load(Ordering::Relaxed)
    );
}

/// The SIMD kernels take slices only (no size parameter of their own): mismatched lengths and
/// empty inputs are errors, never panics.
#[test]
fn simd_mismatched_and_empty_slices_are_errors() {
    let x = [1.0f32; 5];
    let mut y = [0.0f32; 3];
    let mut out = [0.0f32; 4];
    for isa in Isa::supported() {
        rejects("dot, lengths differ", || isa.dot(&x, &y));
        rejects("axpy, lengths differ", || isa.axpy(2.0, &x, &mut y));
        rejects("exp_into, lengths differ", || isa.exp_into(&x, &mut out));
        rejects("max, empty", || isa.max::<f32>(&[]));
        rejects("argmax, empty", || isa.argmax::<f64>(&[]));
        rejects("log_sum_exp, empty", || isa.log_sum_exp::<f32>(&[]));
        rejects("softmax_in_place, empty", || {
            isa.softmax_in_place::<f64>(&mut [])
        });
        rejects("check_finite, NaN", || {
            isa.check_finite(&[1.0, f32::NAN], "x")
        });
        for _ in 0..8 {
            case();
        }
    }
    rejects("simd::dot, lengths differ", || simd::dot(&x, &[]));
    rejects("simd::max, empty", || simd::max::<f64>(&[]));
    case();
    case();
    assert_eq!(simd::sum(&x), 5.0);
    case();
    eprintln!(
        "linalg battery: {} cases so far",
        CASES.load(Ordering::Relaxed)
    );
}
