//! Polar Express coefficient generator: a composition of minimax odd quintics.
//!
//! Polar Express (Amsel, Persson, Musco, Gower, *The Polar Express: Optimal Matrix Sign Methods and
//! Their Application to the Muon Algorithm*, arXiv:2505.16932; reference code
//! `NoahAmsel/PolarExpress`, `polar_express/_core.py::optimal_composition`) chooses, greedily and
//! step by step, the odd quintic `p(x) = a·x + b·x³ + c·x⁵` that best maps the current
//! singular-value interval `[l, u]` towards 1:
//!
//! 1. Start from `[l₀, 1]` (singular values of the normalized input).
//! 2. With a cushion `κ > 0`, optimize on `[max(l, κ·u), u]`, so that early polynomials are not tuned
//!    for singular values that low precision cannot resolve anyway.
//! 3. Find the odd quintic minimizing `max |1 − p(x)|` on that interval by the simplified Remez
//!    algorithm: `p − 1` equioscillates at four points `l < q < r < u` with values `−E, +E, −E, +E`,
//!    where `q` and `r` are the positive roots of `p′(x) = a + 3b·x² + 5c·x⁴`. Solve the 4×4 linear
//!    system for `(a, b, c, E)`, move `q, r` to the new critical points, repeat until they settle.
//!    When `l/u ≥ 1 − 5·10⁻⁶` the answer is numerically the classical quintic
//!    `(15/8, −10/8, 3/8)` rescaled to `u` (coefficients divided by `u, u³, u⁵`).
//! 4. If the cushion was active (`κ·u > l`), rescale `p ← p · 2/(p(l) + p(u))` so that `p(l)` and
//!    `p(u)` lie symmetrically about 1.
//! 5. On every step but the last, apply the safety factor `s`: `p(x) ← p(x/s)`, i.e.
//!    `(a, b, c) ← (a/s, b/s³, c/s⁵)`, so that singular values pushed slightly above `u` by
//!    round-off cannot be amplified.
//! 6. Advance the interval with the polynomial *as emitted* (safety included):
//!    `l ← p(l)`, `u ← 2 − l`, `l ← min(l, u)`.
//!
//! The near-converged steps are badly conditioned in the monomial basis (all four nodes crowd
//! around 1), so each Remez linear solve is refined with residuals evaluated in double-double
//! arithmetic; the coefficients then agree with a 60-digit reference to a few ulps even where a
//! plain `f64` solve loses about five digits.

use alloc::vec::Vec;

use num_traits::Float;

use super::Quintic;
use crate::base::try_vec;
use crate::limits::{MAX_NS_STEPS, check};
use crate::{Error, Result};

/// Name reported in [`Error::NoConvergence`].
const ALGORITHM: &str = "polar express remez";
/// Cap on Remez iterations per polynomial (typical: 1–4; the initial nodes are already close).
const MAX_REMEZ_ITERATIONS: usize = 100;
/// Cap on iterative-refinement passes per linear solve (typically a few).
const MAX_REFINEMENTS: usize = 8;
/// At or above this ratio `l/u` the minimax quintic equals the classical one to working precision.
const LIMIT_RATIO: f64 = 1.0 - 5e-6;
/// Remez stops once the interior nodes move by at most this fraction of `u − l`; one more solve at
/// the new nodes follows. (A test on the levelled error `E` alone, as in the reference code, stops
/// too early for tiny `l`, where `E = 1 − p(l)` rounds to 1 whatever the nodes; near the limit
/// ratio, round-off in `a, b, c` moves the nodes by up to about 10⁻⁵ of the width.)
const NODE_TOLERANCE: f64 = 1e-4;
/// Signs of `E` in the equations `p(xᵢ) + SIGNS[i]·E = 1`, i.e. `p − 1 = −E, +E, −E, +E` at
/// `l, q, r, u`.
const SIGNS: [f64; 4] = [1.0, -1.0, 1.0, -1.0];

/// Generates a Polar Express schedule of `steps` odd quintics `(a, b, c)`, applied in order as
/// `X ← a·X + b·X·XᵀX + c·X·(XᵀX)²`.
///
/// * `l0` — lower bound on the singular values of the normalized input (upper bound 1), in `(0, 1]`.
/// * `steps` — number of polynomials, `1..=`[`MAX_NS_STEPS`](crate::limits::MAX_NS_STEPS) (100:
///   no kernel runs a longer schedule, and it converges to the classical quintic long before).
/// * `safety` — safety factor `s ≥ 1` (1 = none): every polynomial but the last becomes `p(x/s)`.
///   The interval is advanced with the scaled polynomial.
/// * `cushion` — `κ ∈ [0, 1)` (0 = none): each polynomial is optimized on `[max(l, κ·u), u]`
///   and then rescaled so that `p(l)` and `p(u)` are symmetric about 1.
///
/// Published schedules: `polar_express_schedule(1e-3, 5, 1.02, 0.02)` is the modded-nanogpt /
/// Dion list (to 1.1e-14); `polar_express_schedule(1e-3, 8, 1.0, 0.024_073_274_241_827_61)` is the
/// recursion behind the paper's raw list (to which its users apply the 1.01 safety factor
/// afterwards): steps 1–6 agree with the published numbers to 3e-14, while the published step 7
/// (an ill-conditioned Remez solve) is 1.9e-11 away from the exact recursion and step 8 was
/// written by hand as the limit quintic (3.9e-9 away); this function matches a 60-digit
/// evaluation of the recursion to 2e-14.
///
/// # Errors
///
/// * [`Error::TooLarge`] naming `steps` above [`MAX_NS_STEPS`](crate::limits::MAX_NS_STEPS)
///   (checked before anything is allocated).
/// * [`Error::InvalidParameter`] for a NaN or out-of-range argument, and for a `safety` so large
///   (with `cushion` 0) that the lower bound underflows to zero.
/// * [`Error::NoConvergence`] if a Remez iteration fails (singular system, lost node ordering, no
///   settling within its iteration cap). Not observed for valid arguments; it bounds the work.
///
/// # Examples
///
/// ```
/// use mlkern::ortho::{polar_express_schedule, Quintic};
///
/// // The modded-nanogpt / Dion schedule.
/// let s = polar_express_schedule(1e-3, 5, 1.02, 0.02)?;
/// assert_eq!(s.len(), 5);
/// assert!((s[0].a - 8.156554524902461).abs() < 1e-12);
/// assert!((s[4].c - 0.42323551169305323).abs() < 1e-12);
///
/// // An already orthogonal input gets the classical Newton–Schulz quintic.
/// assert_eq!(polar_express_schedule(1.0, 1, 1.0, 0.0)?, vec![Quintic::new(1.875, -1.25, 0.375)]);
///
/// assert!(polar_express_schedule(0.0, 5, 1.0, 0.0).is_err());
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn polar_express_schedule(
    l0: f64,
    steps: usize,
    safety: f64,
    cushion: f64,
) -> Result<Vec<Quintic>> {
    if !(l0 > 0.0 && l0 <= 1.0) {
        return Err(Error::InvalidParameter {
            name: "l0",
            reason: "must be a number in (0, 1]",
        });
    }
    if steps == 0 {
        return Err(Error::InvalidParameter {
            name: "steps",
            reason: "must be at least 1",
        });
    }
    check(steps, MAX_NS_STEPS, "steps")?;
    if !(safety >= 1.0 && safety.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "safety",
            reason: "must be finite and at least 1 (1 means no safety factor)",
        });
    }
    if !(0.0..1.0).contains(&cushion) {
        return Err(Error::InvalidParameter {
            name: "cushion",
            reason: "must be in [0, 1) (0 means no cushion)",
        });
    }

    let safety3 = safety * safety * safety;
    let safety5 = safety3 * safety * safety;
    let mut out = try_vec(steps, "steps")?;
    let (mut l, mut u) = (l0, 1.0);
    for step in 0..steps {
        let floor = cushion * u;
        let cushioned = floor > l;
        let lower = if cushioned { floor } else { l };
        if lower <= 0.0 {
            // Only reachable without a cushion, once an extreme safety factor has driven `l` below
            // the smallest subnormal.
            return Err(Error::InvalidParameter {
                name: "safety",
                reason: "so large that the lower bound underflows to zero (a cushion > 0 avoids this)",
            });
        }
        let mut p = optimal_quintic(lower, u)?;
        if cushioned {
            let s = 2.0 / (eval(p, l) + eval(p, u));
            p = Quintic::new(p.a * s, p.b * s, p.c * s);
        }
        if step + 1 < steps && safety > 1.0 {
            p = Quintic::new(p.a / safety, p.b / safety3, p.c / safety5);
        }
        out.push(p);
        l = eval(p, l);
        u = 2.0 - l;
        l = l.min(u);
        if !(l >= 0.0 && p.a.is_finite() && p.b.is_finite() && p.c.is_finite()) {
            return Err(Error::NoConvergence {
                algorithm: ALGORITHM,
                iterations: step + 1,
            });
        }
    }
    Ok(out)
}

/// `a·x + b·x³ + c·x⁵`, evaluated in double-double and rounded once (the terms nearly cancel).
fn eval(p: Quintic, x: f64) -> f64 {
    eval_dd([p.a, p.b, p.c], x).to_f64()
}

/// `a·x + b·x³ + c·x⁵` in double-double, by Horner in `x²`.
fn eval_dd([a, b, c]: [f64; 3], x: f64) -> Dd {
    let y = two_prod(x, x);
    let h = y.mul(Dd::from(c)).add_f64(b);
    y.mul(h).add_f64(a).mul_f64(x)
}

/// The odd quintic minimizing `max_{x∈[l,u]} |1 − p(x)|`, for `0 < l ≤ u`.
fn optimal_quintic(l: f64, u: f64) -> Result<Quintic> {
    if l / u >= LIMIT_RATIO {
        let u3 = u * u * u;
        return Ok(Quintic::new(1.875 / u, -1.25 / u3, 0.375 / (u3 * u * u)));
    }
    let no_convergence = |iterations| Error::NoConvergence {
        algorithm: ALGORITHM,
        iterations,
    };
    let (mut q, mut r) = ((3.0 * l + u) / 4.0, (l + 3.0 * u) / 4.0);
    for iteration in 1..=MAX_REMEZ_ITERATIONS {
        let [a, b, c, _] = levelled_solve([l, q, r, u]).ok_or(no_convergence(iteration))?;
        // Positive roots y = x² of 5c·y² + 3b·y + a: the larger one without cancellation
        // (−3b > 0 here), the smaller one from the product of the roots, a/(5c).
        let disc = discriminant(a, b, c).max(0.0);
        let y_hi = (-3.0 * b + Float::sqrt(disc)) / (10.0 * c);
        let y_lo = a / (5.0 * c * y_hi);
        let (q_new, r_new) = (Float::sqrt(y_lo), Float::sqrt(y_hi));
        if !(l < q_new && q_new < r_new && r_new < u) {
            return Err(no_convergence(iteration));
        }
        let moved = Float::abs(q_new - q).max(Float::abs(r_new - r));
        (q, r) = (q_new, r_new);
        if moved <= NODE_TOLERANCE * (u - l) {
            // Remez converges quadratically, so the nodes just computed are accurate to about
            // NODE_TOLERANCE², and the coefficients are stationary in the interior nodes.
            let [a, b, c, _] = levelled_solve([l, q, r, u]).ok_or(no_convergence(iteration))?;
            return Ok(Quintic::new(a, b, c));
        }
    }
    Err(no_convergence(MAX_REMEZ_ITERATIONS))
}

/// `9b² − 20ac` with the products kept in double-double (the two terms nearly cancel as the
/// interval shrinks to a point).
fn discriminant(a: f64, b: f64, c: f64) -> f64 {
    let bb = two_prod(b, b).mul_f64(9.0);
    let ac = two_prod(a, c).mul_f64(20.0);
    bb.add(ac.neg()).to_f64()
}

/// Solves `a·xᵢ + b·xᵢ³ + c·xᵢ⁵ + SIGNS[i]·E = 1` for `(a, b, c, E)`; `None` if singular.
///
/// Gaussian elimination with partial pivoting, then iterative refinement with residuals in
/// double-double so the result is accurate even when the nodes crowd together.
fn levelled_solve(x: [f64; 4]) -> Option<[f64; 4]> {
    let mut m = [[0.0; 4]; 4];
    for (row, (&xi, &s)) in m.iter_mut().zip(x.iter().zip(SIGNS.iter())) {
        let x3 = xi * xi * xi;
        *row = [xi, x3, x3 * xi * xi, s];
    }
    let lu = Lu::factor(m)?;
    let mut theta = lu.solve([1.0; 4]);
    for _ in 0..MAX_REFINEMENTS {
        let mut residual = [0.0; 4];
        for (ri, (&xi, &s)) in residual.iter_mut().zip(x.iter().zip(SIGNS.iter())) {
            *ri = residual_dd(theta, xi, s);
        }
        let delta = lu.solve(residual);
        let mut negligible = true;
        for (t, d) in theta.iter_mut().zip(delta) {
            negligible &= Float::abs(d) <= f64::EPSILON * Float::abs(*t);
            *t += d;
        }
        if negligible {
            break;
        }
    }
    theta.iter().all(|t| t.is_finite()).then_some(theta)
}

/// `1 − (a·x + b·x³ + c·x⁵ + s·E)` evaluated in double-double, rounded once.
fn residual_dd([a, b, c, e]: [f64; 4], x: f64, s: f64) -> f64 {
    two_sum(1.0, -s * e)
        .add(eval_dd([a, b, c], x).neg())
        .to_f64()
}

/// LU factorization of a 4×4 matrix with partial pivoting.
struct Lu {
    m: [[f64; 4]; 4],
    perm: [usize; 4],
}

impl Lu {
    fn factor(mut m: [[f64; 4]; 4]) -> Option<Self> {
        let mut perm = [0, 1, 2, 3];
        for k in 0..4 {
            let mut p = k;
            for i in k + 1..4 {
                if Float::abs(m[i][k]) > Float::abs(m[p][k]) {
                    p = i;
                }
            }
            if !(Float::abs(m[p][k]) > 0.0 && m[p][k].is_finite()) {
                return None;
            }
            m.swap(k, p);
            perm.swap(k, p);
            let pivot = m[k];
            for row in &mut m[k + 1..] {
                let f = row[k] / pivot[k];
                row[k] = f;
                for (rj, &pj) in row[k + 1..].iter_mut().zip(&pivot[k + 1..]) {
                    *rj -= f * pj;
                }
            }
        }
        Some(Lu { m, perm })
    }

    fn solve(&self, b: [f64; 4]) -> [f64; 4] {
        let mut x = [0.0; 4];
        for i in 0..4 {
            x[i] = b[self.perm[i]];
            for j in 0..i {
                x[i] -= self.m[i][j] * x[j];
            }
        }
        for i in (0..4).rev() {
            for j in i + 1..4 {
                x[i] -= self.m[i][j] * x[j];
            }
            x[i] /= self.m[i][i];
        }
        x
    }
}

/// An unevaluated sum `hi + lo` with `|lo| ≤ ulp(hi)/2` (double-double arithmetic).
#[derive(Clone, Copy)]
struct Dd {
    hi: f64,
    lo: f64,
}

impl From<f64> for Dd {
    fn from(hi: f64) -> Self {
        Dd { hi, lo: 0.0 }
    }
}

/// `a + b` exactly, as a double-double (Knuth's `TwoSum`).
fn two_sum(a: f64, b: f64) -> Dd {
    let hi = a + b;
    let bb = hi - a;
    Dd {
        hi,
        lo: (a - (hi - bb)) + (b - bb),
    }
}

/// `a + b` exactly, assuming `|a| ≥ |b|` (Dekker's `FastTwoSum`).
fn fast_two_sum(a: f64, b: f64) -> Dd {
    let hi = a + b;
    Dd {
        hi,
        lo: b - (hi - a),
    }
}

/// `a · b` exactly, as a double-double (via a fused multiply-add).
fn two_prod(a: f64, b: f64) -> Dd {
    let hi = a * b;
    Dd {
        hi,
        lo: Float::mul_add(a, b, -hi),
    }
}

impl Dd {
    fn neg(self) -> Self {
        Dd {
            hi: -self.hi,
            lo: -self.lo,
        }
    }

    fn add(self, o: Dd) -> Self {
        let s = two_sum(self.hi, o.hi);
        let t = two_sum(self.lo, o.lo);
        let v = fast_two_sum(s.hi, s.lo + t.hi);
        fast_two_sum(v.hi, v.lo + t.lo)
    }

    fn add_f64(self, b: f64) -> Self {
        let s = two_sum(self.hi, b);
        fast_two_sum(s.hi, s.lo + self.lo)
    }

    fn mul(self, o: Dd) -> Self {
        let p = two_prod(self.hi, o.hi);
        fast_two_sum(p.hi, p.lo + (self.hi * o.lo + self.lo * o.hi))
    }

    fn mul_f64(self, b: f64) -> Self {
        let p = two_prod(self.hi, b);
        fast_two_sum(p.hi, p.lo + self.lo * b)
    }

    fn to_f64(self) -> f64 {
        self.hi + self.lo
    }
}
