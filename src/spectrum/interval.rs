//! Small statistics for confidence intervals: the normal and Student-t quantiles and the
//! leave-one-out (jackknife) standard error.

use num_traits::Float;

/// The standard normal quantile `Φ⁻¹(p)` for `0 < p < 1` (Acklam's rational approximation,
/// relative error below 1.2e-9; P. J. Acklam, "An algorithm for computing the inverse normal
/// cumulative distribution function", 2003).
pub(crate) fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        let q = Float::sqrt(-2.0 * Float::ln(q));
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    const LOW: f64 = 0.024_25;
    if p < LOW {
        tail(p)
    } else if p > 1.0 - LOW {
        -tail(1.0 - p)
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// The Student-t quantile with `nu ≥ 1` degrees of freedom: exact closed forms for 1 and 2, the
/// Cornish–Fisher expansion in the normal quantile (four correction terms; Abramowitz & Stegun
/// 26.7.5) otherwise — within 1e-3 relative for `nu ≥ 3` at the usual levels (tested against
/// SciPy's values).
pub(crate) fn t_quantile(p: f64, nu: usize) -> f64 {
    let nu_f = nu as f64;
    match nu {
        0 => f64::INFINITY,
        1 => Float::tan(core::f64::consts::PI * (p - 0.5)),
        2 => {
            let a = 4.0 * p * (1.0 - p);
            (2.0 * p - 1.0) * Float::sqrt(2.0 / a)
        }
        _ => {
            let z = normal_quantile(p);
            let (z2, z3) = (z * z, z * z * z);
            let (z5, z7, z9) = (z3 * z2, z3 * z2 * z2, z3 * z3 * z3);
            z + (z3 + z) / (4.0 * nu_f)
                + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * nu_f * nu_f)
                + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * nu_f * nu_f * nu_f)
                + (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z)
                    / (92160.0 * nu_f * nu_f * nu_f * nu_f)
        }
    }
}

/// The jackknife standard error from the leave-one-out values `loo` (one per sample).
pub(crate) fn jackknife_se(loo: &[f64]) -> f64 {
    let n = loo.len();
    if n < 2 {
        return 0.0;
    }
    let mean = loo.iter().sum::<f64>() / n as f64;
    let ss: f64 = loo.iter().map(|v| (v - mean) * (v - mean)).sum();
    Float::sqrt((n - 1) as f64 / n as f64 * ss)
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::{jackknife_se, normal_quantile, t_quantile};

    /// Reference values: scipy.stats.norm.ppf / scipy.stats.t.ppf (SciPy 1.x), quoted to 6
    /// significant digits.
    #[test]
    fn quantiles_match_scipy() {
        assert!((normal_quantile(0.975) - 1.959_964).abs() < 1e-6);
        assert!((normal_quantile(0.01) + 2.326_348).abs() < 1e-6);
        for (nu, want) in [
            (1, 12.706_2),
            (2, 4.302_65),
            (3, 3.182_45),
            (6, 2.446_91),
            (14, 2.144_79),
            (30, 2.042_27),
            (126, 1.979_04),
        ] {
            let got = t_quantile(0.975, nu);
            assert!(
                (got / want - 1.0).abs() < 2e-3,
                "nu = {nu}: {got} vs {want}"
            );
        }
        assert!((t_quantile(0.95, 10) - 1.812_46).abs() < 2e-3);
    }

    #[test]
    fn jackknife_of_a_mean_is_the_standard_error() {
        // Leave-one-out means of x: se = sd(x)/√n exactly.
        let x = [1.0, 2.0, 4.0, 7.0];
        let n = x.len() as f64;
        let sum: f64 = x.iter().sum();
        let loo: Vec<f64> = x.iter().map(|v| (sum - v) / (n - 1.0)).collect();
        let mean = sum / n;
        let sd = (x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)).sqrt();
        assert!((jackknife_se(&loo) - sd / n.sqrt()).abs() < 1e-12);
    }
}
