//! Input normalization `X₀ = G / d` with an overflow- and underflow-free Frobenius norm.
//!
//! The norm is computed as `‖G‖_F = r·2ᵉ` where `2ᵉ ≤ max|gᵢⱼ| < 2ᵉ⁺¹` and
//! `r = √Σ (gᵢⱼ·2⁻ᵉ)²` is accumulated in f64 from values in `[0, 2)`: nothing overflows or
//! underflows for any finite input (f32 or f64), and scaling `G` by a power of two changes `e`
//! only, so the normalized matrix is bit-for-bit scale invariant under powers of two (and up to
//! rounding otherwise) — except for the `eps` term, which is the point of `eps`.

use faer::{MatMut, MatRef};
use num_traits::Float;

use crate::base::{apply_parts, exponent, mul_pow2, norm_exponent, pow2, pow2_parts};
use crate::{Error, Real, Result};

/// How the divisor `d` is formed from `‖G‖_F`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NormMode {
    /// `d = scale·‖G‖_F + eps` (Keller Jordan, Polar Express, optax, Moonlight, Dion).
    PlusEps,
    /// `d = max(scale·‖G‖_F, eps)` (`torch.optim.Muon`, burn, NVIDIA Emerging-Optimizers).
    MaxEps,
}

/// The normalization `X₀ = G / d` before the first Newton–Schulz step.
///
/// ```
/// use mlkern::ortho::Normalize;
/// assert_eq!(Normalize::KELLER_JORDAN.divisor(5.0), 5.0 + 1e-7);
/// assert_eq!(Normalize::PYTORCH.divisor(0.0), 1e-7);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Normalize {
    /// How `scale·‖G‖_F` and `eps` combine.
    pub mode: NormMode,
    /// Multiplier of the Frobenius norm (`> 0`; 1.01/1.02 in Polar Express keep σ slightly below 1).
    pub scale: f64,
    /// Floor that keeps tiny inputs from being blown up (`≥ 0`).
    pub eps: f64,
}

impl Normalize {
    /// `G / (‖G‖_F + 1e-7)` — Keller Jordan's Muon.
    pub const KELLER_JORDAN: Normalize = Normalize::plus_eps(1.0, 1e-7);
    /// `G / max(‖G‖_F, 1e-7)` — `torch.optim.Muon` (`clamp(min=eps)`) and burn.
    pub const PYTORCH: Normalize = Normalize {
        mode: NormMode::MaxEps,
        scale: 1.0,
        eps: 1e-7,
    };

    /// `d = scale·‖G‖_F + eps`.
    pub const fn plus_eps(scale: f64, eps: f64) -> Self {
        Normalize {
            mode: NormMode::PlusEps,
            scale,
            eps,
        }
    }

    /// `d = max(scale·‖G‖_F, eps)`.
    pub const fn max_eps(scale: f64, eps: f64) -> Self {
        Normalize {
            mode: NormMode::MaxEps,
            scale,
            eps,
        }
    }

    /// The divisor `d` for a given `‖G‖_F` (in f64; may overflow to `+∞` for norms near
    /// `f64::MAX` — the kernels never form it unscaled).
    pub fn divisor(self, fro: f64) -> f64 {
        self.scaled_divisor(fro, 0)
    }

    /// `d·2⁻ᵉ` for `‖G‖_F = r·2ᵉ`, computed without forming `‖G‖_F`.
    fn scaled_divisor(self, r: f64, e: i32) -> f64 {
        let eps = mul_pow2(self.eps, -e);
        match self.mode {
            NormMode::PlusEps => self.scale * r + eps,
            NormMode::MaxEps => (self.scale * r).max(eps),
        }
    }

    pub(crate) fn validate(self) -> Result<()> {
        if !(self.scale.is_finite() && self.scale > 0.0) {
            return Err(Error::InvalidParameter {
                name: "normalize.scale",
                reason: "must be finite and > 0",
            });
        }
        if !(self.eps.is_finite() && self.eps >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "normalize.eps",
                reason: "must be finite and >= 0",
            });
        }
        Ok(())
    }
}

/// `‖G‖_F` split as `r·2ᵉ` (see the module docs); `r = 0` for a zero matrix.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct FroNorm {
    pub r: f64,
    pub e: i32,
}

impl FroNorm {
    pub(crate) fn from_f64(norm: f64) -> Self {
        if norm == 0.0 || !norm.is_finite() {
            return FroNorm { r: norm, e: 0 };
        }
        let e = exponent(norm);
        FroNorm {
            r: mul_pow2(norm, -e),
            e,
        }
    }

    pub(crate) fn value(self) -> f64 {
        mul_pow2(self.r, self.e)
    }

    pub(crate) fn is_zero(self) -> bool {
        self.r == 0.0
    }
}

/// `‖G‖_F` as `r·2ᵉ`, checking finiteness first (indices refer to `m`).
pub(crate) fn fro_norm<T: Real>(what: &'static str, m: MatRef<'_, T>) -> Result<FroNorm> {
    if m.nrows() == 0 || m.ncols() == 0 {
        // Empty (possibly 0×2⁴⁰, from an empty slice): no element to visit, and no loop over
        // the other dimension.
        return Ok(FroNorm { r: 0.0, e: 0 });
    }
    Ok(scaled_norm(m, norm_exponent(m, what)?))
}

/// `‖G‖_F` as `r·2ᵉ` for a finite `G`, accumulated at the exponent `e` from [`norm_exponent`].
///
/// The summation order is fixed by the (i, j) indices of `m`, not by its memory layout: each
/// row has 4 accumulators (`j mod 4`) running over j in order, combined by a fixed
/// tree. So `m` and a transposed copy stored the other way round give bit-identical norms, which
/// `NS(Gᵀ) = NS(G)ᵀ` relies on.
pub(crate) fn scaled_norm<T: Real>(m: MatRef<'_, T>, e: i32) -> FroNorm {
    let total = if e == 0 {
        sum_squares(m, |x: T| {
            let v = x.as_f64();
            v * v
        })
    } else if (-1022..=1022).contains(&e) {
        let f = pow2(-e);
        sum_squares(m, |x: T| {
            let v = x.as_f64() * f;
            v * v
        })
    } else {
        let s = pow2_parts(-e);
        sum_squares(m, |x: T| {
            let v = apply_parts(x.as_f64(), s);
            v * v
        })
    };
    if total == 0.0 {
        return FroNorm { r: 0.0, e: 0 };
    }
    FroNorm {
        r: Float::sqrt(total),
        e,
    }
}

/// `Σ sq(gᵢⱼ)` in the canonical order described at [`scaled_norm`].
fn sum_squares<T: Copy>(m: MatRef<'_, T>, sq: impl Fn(T) -> f64) -> f64 {
    let (rows, cols) = (m.nrows(), m.ncols());
    // Per row: 4 accumulators (j mod 4); rows are added to the total in order. The block size
    // only changes the traversal, never the order of additions into an accumulator.
    const BLOCK: usize = 64;
    let mut total = 0.0f64;
    let mut acc = [[0.0f64; 4]; BLOCK];
    let mut i0 = 0;
    while i0 < rows {
        let h = (rows - i0).min(BLOCK);
        acc[..h].fill([0.0; 4]);
        if let Some(rm) = m.try_as_row_major() {
            for (r, a) in acc.iter_mut().enumerate().take(h) {
                let row = rm.row(i0 + r).as_slice();
                let mut chunks = row.chunks_exact(4);
                for c in &mut chunks {
                    for (l, &x) in c.iter().enumerate() {
                        a[l] += sq(x);
                    }
                }
                for (l, &x) in chunks.remainder().iter().enumerate() {
                    a[l] += sq(x);
                }
            }
        } else if let Some(cm) = m.try_as_col_major() {
            for j in 0..cols {
                let col = &cm.col(j).as_slice()[i0..i0 + h];
                for (a, &x) in acc.iter_mut().zip(col) {
                    a[j % 4] += sq(x);
                }
            }
        } else {
            for j in 0..cols {
                for (r, a) in acc.iter_mut().enumerate().take(h) {
                    a[j % 4] += sq(m[(i0 + r, j)]);
                }
            }
        }
        for a in &acc[..h] {
            total += (a[0] + a[2]) + (a[1] + a[3]);
        }
        i0 += h;
    }
    total
}

/// `dst = src / d` for `‖src‖_F = norm`, computed in f64 as `x·(2⁻ᵉ·ρ)` with
/// `ρ = 1/(d·2⁻ᵉ)` and rounded once to `T` (shapes must match). Multiplying by a power of two is
/// exact, so for f64 this is exactly `x·fl(1/d)`; the three-factor form is used only where `2⁻ᵉ`
/// itself is not representable (subnormal inputs).
pub(crate) fn scale_into<T: Real>(
    mut dst: MatMut<'_, T>,
    src: MatRef<'_, T>,
    norm: FroNorm,
    normalize: Normalize,
) {
    if dst.nrows() == 0 || dst.ncols() == 0 {
        return;
    }
    let d = normalize.scaled_divisor(norm.r, norm.e);
    if norm.is_zero() || d == 0.0 {
        dst.fill(T::zero());
        return;
    }
    let rho = 1.0 / d;
    if (-1022..=1022).contains(&norm.e) {
        let f = pow2(-norm.e) * rho;
        crate::linalg::zip_map(dst, src, |_, x: T| T::from_f64(x.as_f64() * f));
    } else {
        let s = pow2_parts(-norm.e);
        crate::linalg::zip_map(dst, src, |_, x: T| {
            T::from_f64(apply_parts(x.as_f64(), s) * rho)
        });
    }
}
