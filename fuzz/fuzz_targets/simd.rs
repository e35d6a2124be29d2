//! Fuzz the SIMD primitives with arbitrary f32/f64 bit patterns (NaN, Inf, subnormals, huge, tiny)
//! at every ISA level. Acceptable outcomes: `Ok` with results that respect each primitive's
//! invariants, or a clean `Err`. The SIMD kernels take slices only: no caller-controlled size
//! reaches an allocation or a loop bound here (issue 23), so mismatched lengths are the size
//! cases checked.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlkern::simd::{self, Isa};

fn check_f32(x: &[f32]) {
    for isa in Isa::supported() {
        // argmax: NaN is reported, otherwise the value is a maximum and the index is the first one.
        match isa.argmax(x) {
            Ok((i, v)) => {
                assert_eq!(x[i].to_bits(), v.to_bits());
                assert!(x.iter().all(|&y| y <= v));
                assert!(x[..i].iter().all(|&y| y < v));
            }
            Err(mlkern::Error::NonFinite { index, .. }) => assert!(x[index].is_nan()),
            Err(mlkern::Error::Empty { .. }) => assert!(x.is_empty()),
            Err(e) => panic!("unexpected error {e}"),
        }
        // softmax: on success a probability vector; on error x is untouched.
        let mut p = x.to_vec();
        match isa.softmax_in_place(&mut p) {
            Ok(()) => {
                assert!(p.iter().all(|&v| (0.0..=1.0).contains(&v)));
                let total: f64 = p.iter().map(|&v| v as f64).sum();
                assert!((total - 1.0).abs() < 1e-3, "softmax sums to {total}");
            }
            Err(_) => assert!(p.iter().zip(x).all(|(a, b)| a.to_bits() == b.to_bits())),
        }
        // log-sum-exp is never below the maximum.
        if let (Ok(l), Ok((_, m))) = (isa.log_sum_exp(x), isa.argmax(x)) {
            assert!(l >= m || l.is_nan() && m.is_infinite(), "lse {l} < max {m}");
        }
        // exp: NaN iff NaN, never negative, identical at every ISA level.
        let mut e = x.to_vec();
        isa.exp_in_place(&mut e);
        let mut e0 = x.to_vec();
        Isa::scalar().exp_in_place(&mut e0);
        for ((a, b), &xi) in e.iter().zip(&e0).zip(x) {
            assert_eq!(a.is_nan(), xi.is_nan());
            assert!(a.is_nan() || *a >= 0.0);
            assert!(a.to_bits() == b.to_bits() || a.is_nan() && b.is_nan());
        }
        let half = x.len() / 2;
        let _ = isa.dot(&x[..half], &x[half..2 * half]);
        // Lengths that differ (the kernels take no size of their own): an error, never a read
        // past the shorter slice.
        if !x.is_empty() {
            assert!(isa.dot(&x[1..], x).is_err());
            assert!(isa.axpy(1.0, x, &mut x[1..].to_vec()).is_err());
            assert!(isa.exp_into(x, &mut []).is_err());
        }
        let _ = isa.sum(x);
        assert_eq!(
            isa.find_non_finite(x),
            x.iter().position(|v| !v.is_finite())
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&tag, rest)) = data.split_first() else {
        return;
    };
    if tag % 2 == 0 {
        let x: Vec<f32> = rest
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        check_f32(&x);
    } else {
        let x: Vec<f64> = rest
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect();
        for isa in Isa::supported() {
            let _ = isa.sum(&x);
            let _ = isa.log_sum_exp(&x);
            let mut p = x.clone();
            if isa.softmax_in_place(&mut p).is_ok() {
                let total: f64 = p.iter().sum();
                assert!((total - 1.0).abs() < 1e-9, "softmax sums to {total}");
            }
        }
        let _ = simd::argmax(&x);
    }
});
