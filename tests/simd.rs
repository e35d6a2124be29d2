//! Integration tests of `mlkern::simd` through its public API only.
//!
//! Every primitive is compared with a plain scalar reference computed in `f64` (for `f32` inputs)
//! or in double-double arithmetic (for `f64` inputs), for every length `0..=130` and at every
//! level in `Isa::supported()`, for `f32` and `f64`, on fixed-seed data. Each tolerance is stated
//! next to its check with its justification. Notation: `u = ε/2` (unit roundoff of the tested
//! type), `γ_k = k·u/(1 − k·u)`, `d = ⌈log₂ n⌉ + 24` (the summation depth bound documented in
//! `mlkern::simd`).

use mlkern::simd::{self, Isa};
use mlkern::{Error, Real, Shape};

// ---------------------------------------------------------------------------------------------
// Deterministic data

/// SplitMix64 (Steele, Lea & Flood 2014): tiny, seedable, good enough for test data.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed)
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// Uniform in `[lo, hi)`.
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Mixed-sign values spread over a few binades: `±[0,1)·2^k`, `k ∈ [−4, 4]`.
fn data<T: Real>(rng: &mut Rng, n: usize) -> Vec<T> {
    (0..n)
        .map(|_| {
            let k = rng.below(9) as i32 - 4;
            T::from_f64(rng.range(-1.0, 1.0) * 2f64.powi(k))
        })
        .collect()
}

fn uniform<T: Real>(rng: &mut Rng, n: usize, lo: f64, hi: f64) -> Vec<T> {
    (0..n).map(|_| T::from_f64(rng.range(lo, hi))).collect()
}

const MAX_LEN: usize = 130;

fn isas() -> Vec<Isa> {
    Isa::supported().collect()
}

// ---------------------------------------------------------------------------------------------
// Double-double arithmetic (Dekker / Knuth error-free transformations) for f64 references

#[derive(Clone, Copy, Debug)]
struct Dd(f64, f64);

fn two_sum(a: f64, b: f64) -> Dd {
    let s = a + b;
    let bb = s - a;
    Dd(s, (a - (s - bb)) + (b - bb))
}

fn two_prod(a: f64, b: f64) -> Dd {
    let p = a * b;
    Dd(p, a.mul_add(b, -p))
}

impl Dd {
    fn from(a: f64) -> Dd {
        Dd(a, 0.0)
    }
    fn add(self, o: Dd) -> Dd {
        let s = two_sum(self.0, o.0);
        let t = two_sum(self.1, o.1);
        let s = two_sum(s.0, s.1 + t.0);
        two_sum(s.0, s.1 + t.1)
    }
    fn neg(self) -> Dd {
        Dd(-self.0, -self.1)
    }
    fn mul(self, o: Dd) -> Dd {
        let p = two_prod(self.0, o.0);
        two_sum(p.0, p.1 + (self.0 * o.1 + self.1 * o.0))
    }
    fn div_f64(self, b: f64) -> Dd {
        let q1 = self.0 / b;
        let r = self.add(two_prod(q1, b).neg());
        let q2 = r.0 / b;
        two_sum(q1, q2)
    }
    fn to_f64(self) -> f64 {
        self.0 + self.1
    }
}

/// `Σ xᵢ` in double-double (error ~2^−104·Σ|xᵢ|, negligible against every tolerance below).
fn ref_sum(x: &[f64]) -> f64 {
    x.iter()
        .fold(Dd::from(0.0), |acc, &v| acc.add(Dd::from(v)))
        .to_f64()
}

/// `Σ xᵢ·yᵢ` in double-double with exact products.
fn ref_dot(x: &[f64], y: &[f64]) -> f64 {
    x.iter()
        .zip(y)
        .fold(Dd::from(0.0), |acc, (&a, &b)| acc.add(two_prod(a, b)))
        .to_f64()
}

/// `e^x = 2^k·(hi + lo)` in double-double, relative error ≲ 2^−100 for `x ∈ [−746, 710]`
/// (Cody–Waite reduction with a three-part ln 2, 27-term Taylor series). Returned unscaled, so
/// that results near or below `f64::MIN_POSITIVE` keep their full precision.
fn dd_exp(x: f64) -> (Dd, i32) {
    const LN2_A: f64 = std::f64::consts::LN_2;
    const LN2_B: f64 = 2.319_046_813_846_299_6e-17;
    const LN2_C: f64 = 5.707_708_438_416_212e-34;
    let k = (x / LN2_A).round();
    let r = Dd::from(x)
        .add(two_prod(k, LN2_A).neg())
        .add(two_prod(k, LN2_B).neg())
        .add(Dd::from(-k * LN2_C));
    let mut term = Dd::from(1.0);
    let mut sum = Dd::from(1.0);
    for j in 1..=27 {
        term = term.mul(r).div_f64(j as f64);
        sum = sum.add(term);
    }
    (sum, k as i32)
}

/// `y·2^k` exactly for `|k| ≤ 2100` when the result is representable (three exact steps).
fn ldexp(y: f64, k: i32) -> f64 {
    let k1 = k / 3;
    let k2 = (k - k1) / 2;
    y * pow2(k1) * pow2(k2) * pow2(k - k1 - k2)
}

/// `e^x` rounded to `f64` from the double-double reference (for printing).
fn ref_exp64(x: f64) -> f64 {
    let (s, k) = dd_exp(x);
    ldexp(s.0 + s.1, k)
}

/// Error of an `f64` result `g` for `e^x`, in ulps of the exact result (ulp = `2^−1074` in the
/// subnormal range). `g·2^−k` is exact, so the comparison happens at full precision.
fn exp_err_ulps64(g: f64, x: f64) -> f64 {
    let (s, k) = dd_exp(x);
    let e = ((s.0.to_bits() >> 52) & 0x7ff) as i32 - 1023 + k; // exponent of the exact result
    let ulp_scaled = pow2(e.max(-1022) - 52 - k);
    ((ldexp(g, -k) - s.0) - s.1).abs() / ulp_scaled
}

/// `2^e` exactly, for `e ∈ [−1074, 1023]` (`powi` goes through `1/2^−e`, which overflows).
fn pow2(e: i32) -> f64 {
    if e >= -1022 {
        f64::from_bits(((e + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (e + 1074))
    }
}

/// Unit in the last place of an `f32` result near `y > 0` (normal range), as an `f64`.
fn ulp32(y: f64) -> f64 {
    let e = ((y.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    pow2(e.max(-126) - 23)
}

fn gamma<T: Real>(k: usize) -> f64 {
    let u = T::EPS.as_f64() / 2.0;
    k as f64 * u / (1.0 - k as f64 * u)
}

/// `d = ⌈log₂ n⌉ + 24`, the documented bound on rounded additions per element.
fn depth(n: usize) -> usize {
    (n.max(1) as f64).log2().ceil() as usize + 24
}

fn to64<T: Real>(x: &[T]) -> Vec<f64> {
    x.iter().map(|v| v.as_f64()).collect()
}

// ---------------------------------------------------------------------------------------------
// Isa

#[test]
fn isa_levels() {
    let names: Vec<&str> = Isa::supported().map(|i| i.name()).collect();
    assert_eq!(names[0], "scalar");
    assert!(names.contains(&Isa::detect().name()));
    assert_eq!(Isa::x86_v3().is_some(), names.contains(&"x86-v3"));
    assert_eq!(Isa::x86_v4().is_some(), names.contains(&"x86-v4"));
    #[cfg(target_arch = "x86_64")]
    {
        let v3 = is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma");
        assert_eq!(Isa::x86_v3().is_some(), v3);
        if Isa::x86_v4().is_some() {
            assert!(is_x86_feature_detected!("avx512f"));
            assert_eq!(Isa::detect().name(), "x86-v4");
        }
    }
    println!(
        "supported levels: {names:?}, detected: {}",
        Isa::detect().name()
    );
}

// ---------------------------------------------------------------------------------------------
// sum / dot

fn check_sum<T: Real>(seed: u64) {
    let mut rng = Rng::new(seed);
    for n in 0..=MAX_LEN {
        let x: Vec<T> = data(&mut rng, n);
        let x64 = to64(&x);
        let exact = ref_sum(&x64);
        let abs: f64 = x64.iter().map(|v| v.abs()).sum();
        for isa in isas() {
            let got = isa.sum(&x).as_f64();
            // |ŝ − s| ≤ γ_d·Σ|xᵢ| (documented bound; blocked pairwise summation, Higham §4.2).
            let tol = gamma::<T>(depth(n)) * abs;
            assert!(
                (got - exact).abs() <= tol,
                "{} sum n={n} {}: got {got}, exact {exact}, tol {tol}",
                T::NAME,
                isa.name()
            );
            if n == 0 {
                assert_eq!(got, 0.0);
            }
        }
        assert_eq!(simd::sum(&x), Isa::detect().sum(&x));
    }
}

#[test]
fn sum_all_lengths_all_levels() {
    check_sum::<f32>(1);
    check_sum::<f64>(2);
}

#[test]
fn sum_long_and_cancelling() {
    for isa in isas() {
        // Long input: exercises many blocks and the cascade; same γ_d bound.
        let mut rng = Rng::new(3);
        for &n in &[1000usize, 4096, 65_537, 1 << 20] {
            let x: Vec<f32> = data(&mut rng, n);
            let x64 = to64(&x);
            let tol = gamma::<f32>(depth(n)) * x64.iter().map(|v| v.abs()).sum::<f64>();
            let got = isa.sum(&x) as f64;
            assert!((got - ref_sum(&x64)).abs() <= tol, "{} n={n}", isa.name());
        }
        // Huge/tiny magnitudes: 1e30 cancels exactly in every association order that adds
        // ±1e30 with the small terms (the small ones are absorbed); the bound γ_d·Σ|x| ≈ 1e25
        // still holds, and exact cancellation of equal magnitudes returns 0 exactly here
        // because 1e30 + 1e−30 rounds to 1e30.
        let x = [1e30f32, 1e-30, -1e30, 1e-30];
        let got = isa.sum(&x);
        assert!(
            got.abs() <= gamma::<f32>(depth(4)) as f32 * 2e30,
            "{}",
            isa.name()
        );
        let tiny = vec![1e-30f64; 77];
        let got = isa.sum(&tiny);
        // Same sign: relative error ≤ γ_d.
        assert!((got - 77e-30).abs() <= gamma::<f64>(depth(77)) * 77e-30);
        let all_equal = vec![0.1f32; 129];
        let exact = 129.0 * 0.1f32 as f64;
        assert!((isa.sum(&all_equal) as f64 - exact).abs() <= gamma::<f32>(depth(129)) * exact);
        // IEEE propagation.
        assert!(isa.sum(&[1.0f32, f32::NAN, 2.0]).is_nan());
        assert_eq!(isa.sum(&[1.0f64, f64::INFINITY]), f64::INFINITY);
    }
}

fn check_dot<T: Real>(seed: u64) {
    let mut rng = Rng::new(seed);
    for n in 0..=MAX_LEN {
        let x: Vec<T> = data(&mut rng, n);
        let y: Vec<T> = data(&mut rng, n);
        let (x64, y64) = (to64(&x), to64(&y));
        let exact = ref_dot(&x64, &y64);
        let abs: f64 = x64.iter().zip(&y64).map(|(a, b)| (a * b).abs()).sum();
        for isa in isas() {
            let got = isa.dot(&x, &y).unwrap().as_f64();
            // |d̂ − Σxy| ≤ γ_{d+1}·Σ|xᵢyᵢ|: one extra rounding per product (zero when fused).
            let tol = gamma::<T>(depth(n) + 1) * abs;
            assert!(
                (got - exact).abs() <= tol,
                "{} dot n={n} {}: got {got}, exact {exact}",
                T::NAME,
                isa.name()
            );
        }
        assert_eq!(
            simd::dot(&x, &y).unwrap(),
            Isa::detect().dot(&x, &y).unwrap()
        );
    }
}

#[test]
fn dot_all_lengths_all_levels() {
    check_dot::<f32>(4);
    check_dot::<f64>(5);
}

#[test]
fn dot_errors_and_magnitudes() {
    for isa in isas() {
        assert_eq!(
            isa.dot(&[1.0f32, 2.0], &[1.0]),
            Err(Error::ShapeMismatch {
                what: "dot: y",
                expected: Shape::d1(2),
                found: Shape::d1(1)
            })
        );
        assert_eq!(isa.dot::<f64>(&[], &[]), Ok(0.0));
        // 1e15·1e15 and 1e−15·1e−15 in f32: products 1e30 and 1e−30 are representable.
        let x = [1e15f32, 1e-15, 1e15];
        let y = [1e15f32, 1e-15, -1e15];
        let exact = ref_dot(&to64(&x), &to64(&y));
        let abs = 2e30;
        let got = isa.dot(&x, &y).unwrap() as f64;
        assert!((got - exact).abs() <= gamma::<f32>(depth(3) + 1) * abs);
    }
}

// ---------------------------------------------------------------------------------------------
// max / argmax

/// First index of the maximum by a plain `>` scan (NaN-free input); exact, so no tolerance.
fn ref_argmax<T: Real>(x: &[T]) -> (usize, T) {
    let mut best = (0, x[0]);
    for (i, &v) in x.iter().enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best
}

fn check_max<T: Real>(seed: u64) {
    let mut rng = Rng::new(seed);
    for n in 0..=MAX_LEN {
        // Few distinct values so that ties are frequent.
        let x: Vec<T> = (0..n)
            .map(|_| T::from_f64(rng.below(7) as f64 - 3.0))
            .collect::<Vec<_>>();
        let y: Vec<T> = data(&mut rng, n);
        for isa in isas() {
            for v in [&x, &y] {
                if n == 0 {
                    assert_eq!(isa.max(v), Err(Error::Empty { what: "max: x" }));
                    assert_eq!(isa.argmax(v), Err(Error::Empty { what: "argmax: x" }));
                    continue;
                }
                let (i, m) = ref_argmax(v);
                assert_eq!(isa.max(v), Ok(m), "{} n={n} {}", T::NAME, isa.name());
                assert_eq!(
                    isa.argmax(v),
                    Ok((i, m)),
                    "{} n={n} {}",
                    T::NAME,
                    isa.name()
                );
            }
        }
    }
}

#[test]
fn max_argmax_all_lengths_all_levels() {
    check_max::<f32>(6);
    check_max::<f64>(7);
}

fn check_max_edges<T: Real>() {
    let nan = T::nan();
    let inf = T::infinity();
    for isa in isas() {
        for n in 1..=MAX_LEN {
            let base: Vec<T> = (0..n).map(|i| T::from_f64((i % 5) as f64)).collect();
            // NaN at every position (and a second one later): the first NaN is reported.
            for p in 0..n {
                let mut x = base.clone();
                x[p] = nan;
                if p + 3 < n {
                    x[p + 3] = nan;
                }
                assert_eq!(
                    isa.max(&x),
                    Err(Error::NonFinite {
                        what: "max: x",
                        index: p
                    })
                );
                assert_eq!(
                    isa.argmax(&x),
                    Err(Error::NonFinite {
                        what: "argmax: x",
                        index: p
                    })
                );
            }
            // +Inf / −Inf are ordinary values.
            let p = n / 2;
            let mut x = base.clone();
            x[p] = inf;
            assert_eq!(isa.argmax(&x), Ok((p, inf)));
            let all_neg_inf = vec![-inf; n];
            assert_eq!(isa.argmax(&all_neg_inf), Ok((0, -inf)));
            assert_eq!(isa.max(&all_neg_inf), Ok(-inf));
            let mut x = all_neg_inf.clone();
            x[n - 1] = T::from_f64(-1e30);
            assert_eq!(isa.argmax(&x), Ok((n - 1, T::from_f64(-1e30))));
            // All equal: index 0.
            let eq = vec![T::from_f64(0.25); n];
            assert_eq!(isa.argmax(&eq), Ok((0, T::from_f64(0.25))));
            // Tie at the last two positions plus huge/tiny magnitudes.
            let mut x: Vec<T> = (0..n).map(|i| T::from_f64(1e-30 * i as f64)).collect();
            x[n - 1] = T::from_f64(1e30);
            if n >= 2 {
                x[n - 2] = T::from_f64(1e30);
                assert_eq!(isa.argmax(&x), Ok((n - 2, T::from_f64(1e30))));
            }
            // ±0 tie: the first zero wins, and its own sign is returned.
            let mut z = vec![-T::one(); n];
            z[n - 1] = T::zero();
            if n >= 2 {
                z[n / 2] = -T::zero();
                let (i, v) = isa.argmax(&z).unwrap();
                assert_eq!(i, n / 2);
                assert!(v == T::zero() && v.is_sign_negative());
            }
        }
    }
}

#[test]
fn max_argmax_edge_cases() {
    check_max_edges::<f32>();
    check_max_edges::<f64>();
}

// ---------------------------------------------------------------------------------------------
// scale / axpy (element-wise, one rounding: must equal the scalar expression exactly)

fn check_scale_axpy<T: Real>(seed: u64) {
    let mut rng = Rng::new(seed);
    for n in 0..=MAX_LEN {
        let x: Vec<T> = data(&mut rng, n);
        let y: Vec<T> = data(&mut rng, n);
        let alpha = T::from_f64(rng.range(-3.0, 3.0));
        for isa in isas() {
            let mut s = x.clone();
            isa.scale(alpha, &mut s);
            for i in 0..n {
                assert_eq!(
                    s[i],
                    alpha * x[i],
                    "{} scale n={n} i={i} {}",
                    T::NAME,
                    isa.name()
                );
            }
            let mut z = y.clone();
            isa.axpy(alpha, &x, &mut z).unwrap();
            for i in 0..n {
                // Exactly one fused rounding on every level.
                assert_eq!(
                    z[i],
                    alpha.mul_add(x[i], y[i]),
                    "{} axpy n={n} i={i}",
                    T::NAME
                );
            }
        }
    }
    for isa in isas() {
        let mut y = vec![T::one(); 3];
        assert_eq!(
            isa.axpy(T::one(), &[T::one(); 4], &mut y),
            Err(Error::ShapeMismatch {
                what: "axpy: y",
                expected: Shape::d1(4),
                found: Shape::d1(3)
            })
        );
        assert_eq!(y, vec![T::one(); 3]);
        let mut big = vec![T::from_f64(1e30); 5];
        isa.scale(T::from_f64(1e-30), &mut big);
        assert!(
            big.iter()
                .all(|&v| v == T::from_f64(1e30) * T::from_f64(1e-30))
        );
    }
}

#[test]
fn scale_axpy_all_lengths_all_levels() {
    check_scale_axpy::<f32>(8);
    check_scale_axpy::<f64>(9);
}

// ---------------------------------------------------------------------------------------------
// exp

/// Ulp distance between two non-negative finite `f32`s (bit patterns are monotone there).
fn ulps32(a: f32, b: f32) -> u32 {
    a.to_bits().abs_diff(b.to_bits())
}

/// Correctly rounded `f32` reference: `f64` exp (error < 1 ulp of f64 = 2^−29 ulp of f32) then
/// rounded to `f32`; it can differ from the true correctly rounded value only when `e^x` lies
/// within 2^−29 ulp of a rounding midpoint, which the fractional check below also covers.
fn ref_exp32(x: f32) -> f32 {
    (x as f64).exp() as f32
}

/// Evaluates `exp` at every level on `xs`, asserts bit-identical results across levels, and
/// returns the results.
fn exp_all_levels<T: Real>(xs: &[T]) -> Vec<T> {
    let mut first: Option<Vec<T>> = None;
    for isa in isas() {
        let mut y = xs.to_vec();
        isa.exp_in_place(&mut y);
        let mut z = vec![T::zero(); xs.len()];
        isa.exp_into(xs, &mut z).unwrap();
        for i in 0..xs.len() {
            assert!(
                same_bits(y[i], z[i]),
                "exp_into != exp_in_place at {:?}",
                xs[i]
            );
        }
        match &first {
            None => first = Some(y),
            Some(f) => {
                for i in 0..xs.len() {
                    assert!(
                        same_bits(f[i], y[i]),
                        "{} exp({:?}) differs between levels: {:?} vs {:?} ({})",
                        T::NAME,
                        xs[i],
                        f[i],
                        y[i],
                        isa.name()
                    );
                }
            }
        }
    }
    first.unwrap()
}

fn same_bits<T: Real>(a: T, b: T) -> bool {
    (a.is_nan() && b.is_nan()) || a.as_f64().to_bits() == b.as_f64().to_bits()
}

struct UlpStats {
    max_ulps: u32,
    max_frac: f64,
    count: usize,
}

/// Checks `exp` on `f32` inputs against the reference: ≤ 2 ulp from the correctly rounded value
/// (the requirement) and records the maximum integer and fractional (vs the f64 value) errors.
fn check_exp32(xs: &[f32], stats: &mut UlpStats) {
    let got = exp_all_levels(xs);
    for (&x, &g) in xs.iter().zip(&got) {
        let r = ref_exp32(x);
        let u = ulps32(g, r);
        let frac = ((g as f64) - (x as f64).exp()).abs() / ulp32((x as f64).exp());
        assert!(u <= 2, "exp({x:e}) = {g:e}, reference {r:e}: {u} ulp");
        stats.max_ulps = stats.max_ulps.max(u);
        stats.max_frac = stats.max_frac.max(frac);
        stats.count += 1;
    }
}

#[test]
fn exp_f32_sweep_every_97th_bit_pattern() {
    // Every 97th bit pattern in [−87, 88]: positive patterns 0..=bits(88), negative patterns
    // bits(−0)..=bits(−87). That is ≈ 2.3e7 inputs covering every binade.
    let mut stats = UlpStats {
        max_ulps: 0,
        max_frac: 0.0,
        count: 0,
    };
    let mut batch = Vec::with_capacity(1 << 16);
    let ranges = [(0u32, 88f32.to_bits()), (0x8000_0000, (-87f32).to_bits())];
    for (lo, hi) in ranges {
        let mut b = lo;
        while b <= hi {
            batch.push(f32::from_bits(b));
            if batch.len() == batch.capacity() {
                check_exp32(&batch, &mut stats);
                batch.clear();
            }
            b += 97;
        }
    }
    check_exp32(&batch, &mut stats);
    println!(
        "exp f32 sweep: {} inputs, max {} ulp from correctly rounded, max {:.3} ulp from exact",
        stats.count, stats.max_ulps, stats.max_frac
    );
    assert!(stats.max_ulps <= 1, "documented: ≤ 1 ulp observed");
}

#[test]
fn exp_f32_dense_and_random() {
    let mut stats = UlpStats {
        max_ulps: 0,
        max_frac: 0.0,
        count: 0,
    };
    // Dense windows: every bit pattern around 0, ±1, the reduction boundaries ±ln2/2 and
    // ±k·ln2/2 at large k, and near the range ends.
    let centers = [
        0.0f32,
        1e-7,
        -1e-7,
        0.5,
        -0.5,
        1.0,
        -1.0,
        0.346_573_6,
        -0.346_573_6,
        10.0,
        -10.0,
        44.014_59,
        87.0,
        88.0,
        -86.5,
        -87.0,
        60.0,
        -60.0,
    ];
    for &c in &centers {
        let b = c.to_bits();
        let xs: Vec<f32> = (0..20_000u32)
            .map(|k| f32::from_bits(b.wrapping_add(k).wrapping_sub(10_000)))
            .filter(|x| x.is_finite() && (-87.0..=88.0).contains(x))
            .collect();
        check_exp32(&xs, &mut stats);
    }
    // Uniform random values in [−87, 88].
    let mut rng = Rng::new(10);
    let xs: Vec<f32> = (0..2_000_000)
        .map(|_| rng.range(-87.0, 88.0) as f32)
        .collect();
    check_exp32(&xs, &mut stats);
    println!(
        "exp f32 dense+random: {} inputs, max {} ulp, max {:.3} ulp from exact",
        stats.count, stats.max_ulps, stats.max_frac
    );
}

#[test]
fn exp_f32_special_values_overflow_underflow() {
    let xs = [
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        0.0,
        -0.0,
        88.722_83,
        88.722_84,
        88.8,
        1e10,
        f32::MAX,
        -103.97,
        -103.98,
        -104.0,
        -1e10,
        f32::MIN,
    ];
    let got = exp_all_levels(&xs);
    assert!(got[0].is_nan());
    assert_eq!(got[1], f32::INFINITY);
    assert_eq!(got[2].to_bits(), 0);
    assert_eq!(got[3], 1.0);
    assert_eq!(got[4], 1.0);
    assert_eq!(got[5], ref_exp32(88.722_83));
    assert!(got[5].is_finite());
    assert_eq!(&got[6..10], &[f32::INFINITY; 4]);
    assert_eq!(got[10], ref_exp32(-103.97)); // 2^−149, the smallest subnormal
    assert_eq!(&got[11..15], &[0.0; 4]);
    // Subnormal results are computed, not flushed: absolute error ≤ 1 smallest subnormal
    // (2^−149), from the final rounding of an already rounded p·2^n₁ (double rounding).
    let xs: Vec<f32> = (0..200_000)
        .map(|k| -87.4 - 16.6 * k as f32 / 200_000.0)
        .collect();
    let got = exp_all_levels(&xs);
    let mut worst = 0u32;
    for (&x, &g) in xs.iter().zip(&got) {
        let u = ulps32(g, ref_exp32(x));
        worst = worst.max(u);
        assert!(u <= 1, "subnormal exp({x}) = {g:e} vs {:e}", ref_exp32(x));
    }
    println!("exp f32 subnormal range: max {worst} subnormal ulp");
}

#[test]
fn exp_f64_against_double_double() {
    // Sanity check of the reference itself against std's exp (< 1 ulp both).
    for &x in &[
        -700.0f64, -1.5, -1e-9, 0.3, 1.0, 2.5, 100.0, 709.0, -708.2, -720.0,
    ] {
        let e = exp_err_ulps64(x.exp(), x);
        assert!(
            e < 1.0,
            "reference broken at {x}: {:e} vs {:e}",
            ref_exp64(x),
            x.exp()
        );
    }
    let mut rng = Rng::new(11);
    let mut xs: Vec<f64> = (0..1_000_000).map(|_| rng.range(-708.0, 709.0)).collect();
    // Random bit patterns (all binades of small |x|) and dense runs near 0, ±1, ±ln2/2.
    xs.extend((0..200_000).map(|_| {
        let e = rng.range(-60.0, 9.0);
        let s = if rng.unit() < 0.5 { -1.0 } else { 1.0 };
        s * 2f64.powf(e)
    }));
    for c in [
        0.0f64,
        1.0,
        -1.0,
        0.346_573_590_279_972_6,
        -0.346_573_590_279_972_6,
        700.0,
    ] {
        let b = c.to_bits() as i64;
        xs.extend((-5000i64..5000).map(|k| f64::from_bits((b + k) as u64)));
    }
    xs.retain(|x| x.is_finite() && (-708.0..=709.0).contains(x));
    let got = exp_all_levels(&xs);
    let (mut worst, mut worst_x) = (0.0f64, 0.0f64);
    for (&x, &g) in xs.iter().zip(&got) {
        let e = exp_err_ulps64(g, x);
        // Requirement: ≤ 2 ulp; observed ≤ 1 (documented).
        assert!(e <= 1.0, "exp({x:e}) = {g:e}: {e} ulp");
        if e > worst {
            (worst, worst_x) = (e, x);
        }
    }
    println!(
        "exp f64: {} inputs, max {worst:.3} ulp from double-double reference (at x = {worst_x:e})",
        xs.len()
    );
}

#[test]
fn exp_f64_special_values_overflow_underflow() {
    let xs = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.0,
        -0.0,
        709.782,
        709.783,
        710.0,
        f64::MAX,
        -745.13,
        -745.14,
        -746.0,
        f64::MIN,
    ];
    let got = exp_all_levels(&xs);
    assert!(got[0].is_nan());
    assert_eq!(got[1], f64::INFINITY);
    assert_eq!(got[2].to_bits(), 0);
    assert_eq!((got[3], got[4]), (1.0, 1.0));
    assert!(got[5].is_finite() && exp_err_ulps64(got[5], 709.782) <= 1.0);
    assert_eq!(&got[6..9], &[f64::INFINITY; 3]);
    assert_eq!(got[9], f64::from_bits(1)); // 2^−1074
    assert_eq!(&got[10..13], &[0.0; 3]);
    // Subnormal range: absolute error ≤ 1 smallest subnormal (double rounding, see docs).
    let xs: Vec<f64> = (0..100_000)
        .map(|k| -708.4 - 36.7 * k as f64 / 100_000.0)
        .collect();
    let got = exp_all_levels(&xs);
    let mut worst: f64 = 0.0;
    for (&x, &g) in xs.iter().zip(&got) {
        let e = exp_err_ulps64(g, x);
        assert!(e <= 1.0, "subnormal exp({x}) = {g:e} vs {:e}", ref_exp64(x));
        worst = worst.max(e);
    }
    println!("exp f64 subnormal range: max {worst:.3} subnormal ulp");
}

#[test]
fn exp_all_lengths_all_levels() {
    // Tail handling: every length, results equal the element-wise values of a long call.
    let mut rng = Rng::new(12);
    let long32: Vec<f32> = uniform(&mut rng, MAX_LEN, -20.0, 20.0);
    let long64: Vec<f64> = uniform(&mut rng, MAX_LEN, -20.0, 20.0);
    let full32 = exp_all_levels(&long32);
    let full64 = exp_all_levels(&long64);
    // Against the references (≤ 1 ulp, as in the sweeps below).
    for (&x, &g) in long32.iter().zip(&full32) {
        assert!(ulps32(g, ref_exp32(x)) <= 1, "exp({x}) = {g}");
    }
    for (&x, &g) in long64.iter().zip(&full64) {
        assert!(exp_err_ulps64(g, x) <= 1.0, "exp({x}) = {g}");
    }
    for isa in isas() {
        for n in 0..=MAX_LEN {
            for start in [0, 1, 3] {
                if start > n {
                    continue;
                }
                let mut a = long32[start..n].to_vec();
                isa.exp_in_place(&mut a);
                assert_eq!(a, full32[start..n]);
                let mut b = vec![0.0; n - start];
                isa.exp_into(&long64[start..n], &mut b).unwrap();
                assert_eq!(b, full64[start..n]);
            }
        }
        let mut out = [0.0f32; 3];
        assert_eq!(
            isa.exp_into(&[1.0f32; 4], &mut out),
            Err(Error::ShapeMismatch {
                what: "exp_into: out",
                expected: Shape::d1(4),
                found: Shape::d1(3)
            })
        );
    }
}

// ---------------------------------------------------------------------------------------------
// log_sum_exp / softmax

fn ref_lse(x: &[f64]) -> f64 {
    let m = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let s = x
        .iter()
        .fold(Dd::from(0.0), |acc, &v| acc.add(Dd::from(ref_exp64(v - m))))
        .to_f64();
    m + s.ln()
}

fn check_lse_softmax<T: Real>(seed: u64) {
    let mut rng = Rng::new(seed);
    let eps = T::EPS.as_f64();
    for n in 0..=MAX_LEN {
        let x: Vec<T> = uniform(&mut rng, n, -10.0, 10.0);
        for isa in isas() {
            if n == 0 {
                assert_eq!(
                    isa.log_sum_exp(&x),
                    Err(Error::Empty {
                        what: "log_sum_exp: x"
                    })
                );
                let mut e: Vec<T> = vec![];
                assert_eq!(
                    isa.softmax_in_place(&mut e),
                    Err(Error::Empty { what: "softmax: x" })
                );
                continue;
            }
            let x64 = to64(&x);
            let m = x64.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let range = x64.iter().map(|v| m - v).fold(0.0, f64::max);
            let d = depth(n);

            let exact = ref_lse(&x64);
            let got = isa.log_sum_exp(&x).unwrap().as_f64();
            // Documented: |err| ≤ ε·(|lse| + d + 4 + R), R = max|xᵢ − m|: relative error of the
            // pairwise sum (γ_d ≤ d·ε/2), of each term (2 ulp + u·R from rounding xᵢ − m) become
            // absolute error through ln; plus the roundings of ln and of m + ln s.
            let tol = eps * (exact.abs() + d as f64 + 4.0 + range);
            assert!(
                (got - exact).abs() <= tol,
                "{} lse n={n} {}: {got} vs {exact}",
                T::NAME,
                isa.name()
            );

            let mut y = x.clone();
            isa.softmax_in_place(&mut y).unwrap();
            let y64 = to64(&y);
            // Σŷ: the normalization uses the computed sum of the same computed exponentials, so
            // only the sum (γ_d), the reciprocal and the product roundings remain: γ_{d+2}.
            let total = ref_sum(&y64);
            assert!(
                (total - 1.0).abs() <= gamma::<T>(d + 2),
                "{} softmax n={n} {}: Σ = {total}",
                T::NAME,
                isa.name()
            );
            // Each element: relative error ≤ (d + 4 + |xᵢ − m|)·ε (exp 2 ulp, rounding of xᵢ − m,
            // sum γ_d, reciprocal and product).
            let z = ref_sum(&x64.iter().map(|v| (v - m).exp()).collect::<Vec<_>>());
            for i in 0..n {
                let p = (x64[i] - m).exp() / z;
                let rel = (y64[i] - p).abs() / p;
                assert!(
                    rel <= (d as f64 + 4.0 + (m - x64[i])) * eps,
                    "{} softmax n={n} i={i}: {} vs {p}",
                    T::NAME,
                    y64[i]
                );
            }
        }
    }
}

#[test]
fn lse_softmax_all_lengths_all_levels() {
    check_lse_softmax::<f32>(13);
    check_lse_softmax::<f64>(14);
}

fn check_lse_softmax_edges<T: Real>() {
    let nan = T::nan();
    let inf = T::infinity();
    for isa in isas() {
        for n in 1..=MAX_LEN {
            let base: Vec<T> = (0..n).map(|i| T::from_f64(i as f64 * 0.1 - 3.0)).collect();
            for p in [0, n / 3, n - 1] {
                // NaN: NonFinite at the first NaN; x untouched.
                let mut x = base.clone();
                x[p] = nan;
                assert_eq!(
                    isa.log_sum_exp(&x),
                    Err(Error::NonFinite {
                        what: "log_sum_exp: x",
                        index: p
                    })
                );
                let before = x.clone();
                assert_eq!(
                    isa.softmax_in_place(&mut x),
                    Err(Error::NonFinite {
                        what: "softmax: x",
                        index: p
                    })
                );
                assert!(x.iter().zip(&before).all(|(a, b)| same_bits(*a, *b)));
                // +Inf: log-sum-exp is +Inf; softmax reports it (first of NaN/+Inf).
                let mut x = base.clone();
                x[p] = inf;
                assert_eq!(isa.log_sum_exp(&x), Ok(inf));
                let before = x.clone();
                assert_eq!(
                    isa.softmax_in_place(&mut x),
                    Err(Error::NonFinite {
                        what: "softmax: x",
                        index: p
                    })
                );
                assert_eq!(x, before);
                if p + 1 < n {
                    x[p + 1] = nan;
                    assert_eq!(
                        isa.softmax_in_place(&mut x),
                        Err(Error::NonFinite {
                            what: "softmax: x",
                            index: p
                        })
                    );
                }
            }
            // All −Inf: lse = −Inf, softmax undefined.
            let mut x = vec![-inf; n];
            assert_eq!(isa.log_sum_exp(&x), Ok(-inf));
            assert!(matches!(
                isa.softmax_in_place(&mut x),
                Err(Error::InvalidParameter {
                    name: "softmax: x",
                    ..
                })
            ));
            assert!(x.iter().all(|&v| v == -inf));
            // Masked logits: −Inf entries (every other one, keeping the last) give exactly 0.
            let mut x = base.clone();
            for i in (0..n - 1).step_by(2) {
                x[i] = -inf;
            }
            isa.softmax_in_place(&mut x).unwrap();
            for i in (0..n - 1).step_by(2) {
                assert_eq!(x[i], T::zero());
            }
            let tot = ref_sum(&to64(&x));
            assert!((tot - 1.0).abs() <= gamma::<T>(depth(n) + 2));
            // All equal (including huge magnitude): uniform 1/n, lse = c + ln n.
            for c in [0.0, 1e30, -1e30] {
                let c = T::from_f64(c);
                let mut x = vec![c; n];
                let l = isa.log_sum_exp(&x).unwrap().as_f64();
                let want = c.as_f64() + (n as f64).ln();
                assert!((l - want).abs() <= T::EPS.as_f64() * (want.abs() + depth(n) as f64 + 4.0));
                isa.softmax_in_place(&mut x).unwrap();
                let u = 1.0 / n as f64;
                // Every term is e^0 = 1 exactly, the sum n is exact, so only 1/n and the
                // product round: ≤ 2 half-ulps, i.e. relative ε.
                assert!(
                    x.iter()
                        .all(|v| (v.as_f64() - u).abs() <= u * T::EPS.as_f64())
                );
            }
        }
    }
}

#[test]
fn lse_softmax_edge_cases() {
    check_lse_softmax_edges::<f32>();
    check_lse_softmax_edges::<f64>();
}

// ---------------------------------------------------------------------------------------------
// find_non_finite / check_finite

fn check_finite_all<T: Real>(seed: u64) {
    let mut rng = Rng::new(seed);
    let specials = [T::nan(), T::infinity(), -T::infinity()];
    for n in 0..=MAX_LEN {
        let base: Vec<T> = data(&mut rng, n);
        for isa in isas() {
            assert_eq!(isa.find_non_finite(&base), None);
            assert_eq!(isa.check_finite(&base, "w"), Ok(()));
            for p in 0..n {
                let mut x = base.clone();
                x[p] = specials[p % 3];
                if p + 5 < n {
                    x[p + 5] = specials[(p + 1) % 3];
                }
                assert_eq!(isa.find_non_finite(&x), Some(p), "{} n={n} p={p}", T::NAME);
                assert_eq!(
                    isa.check_finite(&x, "w"),
                    Err(Error::NonFinite {
                        what: "w",
                        index: p
                    })
                );
            }
            // Largest finite values and subnormals are finite.
            let edge = vec![
                T::max_value(),
                T::min_value(),
                T::min_positive_value(),
                T::zero(),
            ];
            assert_eq!(isa.find_non_finite(&edge), None);
        }
    }
    let x = [T::one(), T::nan()];
    assert_eq!(simd::find_non_finite(&x), Some(1));
    assert_eq!(
        simd::check_finite(&x, "v"),
        Err(Error::NonFinite {
            what: "v",
            index: 1
        })
    );
}

#[test]
fn find_non_finite_all_lengths_all_levels() {
    check_finite_all::<f32>(15);
    check_finite_all::<f64>(16);
}

#[test]
fn free_functions_match_detected_level() {
    let mut rng = Rng::new(17);
    let x: Vec<f32> = uniform(&mut rng, 100, -5.0, 5.0);
    let isa = Isa::detect();
    assert_eq!(simd::max(&x), isa.max(&x));
    assert_eq!(simd::argmax(&x), isa.argmax(&x));
    assert_eq!(simd::log_sum_exp(&x), isa.log_sum_exp(&x));
    let (mut a, mut b) = (x.clone(), x.clone());
    simd::softmax_in_place(&mut a).unwrap();
    isa.softmax_in_place(&mut b).unwrap();
    assert_eq!(a, b);
    let (mut a, mut b) = (x.clone(), x.clone());
    simd::exp_in_place(&mut a);
    let mut c = vec![0.0; 100];
    simd::exp_into(&x, &mut c).unwrap();
    isa.exp_in_place(&mut b);
    assert_eq!(a, b);
    assert_eq!(a, c);
    let (mut a, mut b) = (x.clone(), x.clone());
    simd::scale(0.5, &mut a);
    isa.scale(0.5, &mut b);
    assert_eq!(a, b);
    simd::axpy(2.0, &x, &mut a).unwrap();
    isa.axpy(2.0, &x, &mut b).unwrap();
    assert_eq!(a, b);
}
