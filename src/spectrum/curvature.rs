//! Normalized directional sharpness over a Hessian-vector-product oracle (core tier).
//!
//! For an update `Δ = θₜ₊₁ − θₜ` and the loss Hessian `H`, the second-order loss change is
//! `gᵀΔ + ½ΔᵀHΔ`; the curvature term normalized by the squared step is the **normalized
//! directional sharpness** `NDS(Δ) = ΔᵀHΔ/‖Δ‖²` (a Rayleigh quotient: `λ_min ≤ NDS ≤ λ_max`,
//! scale-free), and the **curvature penalty** is `½‖Δ‖²·NDS = ½ΔᵀHΔ` ("Why Muon Outperforms Adam:
//! A Curvature Perspective", arXiv 2606.04662; directional sharpness: Pan & Li, arXiv
//! 2306.00204). With the parameters split into blocks (layers or matrices)
//! `ΔᵀHΔ = Σₗ ΔₗᵀHₗₗΔₗ + Σ_{l≠l'} ΔₗᵀHₗₗ'Δₗ'`, so `NDS = NDS_within + NDS_cross`.
//!
//! mlkern never forms `H`: the caller supplies `v ↦ Hv` (double backprop, finite differences of
//! gradients, or an explicit matrix in tests). All functions write into caller buffers.

use core::ops::Range;

use rand_core::Rng;

use crate::{Error, Result, Shape};

/// An oracle for Hessian-vector products `out = H·v` over `dim()` parameters (flattened in a
/// fixed order; blocks are ranges of that order).
pub trait HessianVectorProduct {
    /// Number of parameters.
    fn dim(&self) -> usize;
    /// `out ← H·v`.
    ///
    /// # Errors
    /// Whatever the oracle's evaluation can fail with.
    fn hvp(&mut self, v: &[f64], out: &mut [f64]) -> Result<()>;
}

/// NDS split by blocks ([`nds_decomposition`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NdsParts {
    /// `ΔᵀHΔ/‖Δ‖²`.
    pub total: f64,
    /// `Σₗ ΔₗᵀHₗₗΔₗ/‖Δ‖²` (the ‖Δₗ‖²-weighted mean of the per-block NDS).
    pub within: f64,
    /// `total − within`.
    pub cross: f64,
    /// `‖Δ‖²`.
    pub norm_sq: f64,
}

/// A random-sign estimate of the within-block term ([`nds_within_estimate`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WithinEstimate {
    /// Mean of the `K` samples `Δ_sᵀHΔ_s/‖Δ‖²`.
    pub within: f64,
    /// Standard error of the mean (`0` for `K = 1`).
    pub std_error: f64,
    /// Samples taken.
    pub samples: usize,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Scratch length (f64 values) of [`nds`] over `dim` parameters: `dim`.
///
/// ```
/// use mlkern::spectrum::nds_scratch_len;
/// assert_eq!(nds_scratch_len(10)?, 10);
/// # Ok::<(), mlkern::Error>(())
/// ```
///
/// # Errors
/// Never for a representable `dim`; `Result` for the crate's one scratch-size signature.
pub fn nds_scratch_len(dim: usize) -> Result<usize> {
    Ok(dim)
}

/// Scratch length (f64 values) of [`nds_decomposition`] and [`nds_within_estimate`] over `dim`
/// parameters: `2·dim`.
///
/// ```
/// use mlkern::spectrum::nds_decomposition_scratch_len;
/// assert_eq!(nds_decomposition_scratch_len(10)?, 20);
/// # Ok::<(), mlkern::Error>(())
/// ```
///
/// # Errors
/// [`Error::OutOfMemory`] when `2·dim` overflows `usize`.
pub fn nds_decomposition_scratch_len(dim: usize) -> Result<usize> {
    dim.checked_mul(2).ok_or(Error::OutOfMemory {
        name: "nds: dim",
        bytes: usize::MAX,
    })
}

fn check(
    h: &impl HessianVectorProduct,
    delta: &[f64],
    scratch: &[f64],
    need: usize,
    what: &'static str,
) -> Result<()> {
    if delta.len() != h.dim() {
        return Err(Error::ShapeMismatch {
            what: "nds: delta",
            expected: Shape::d1(h.dim()),
            found: Shape::d1(delta.len()),
        });
    }
    if scratch.len() < need {
        return Err(Error::ShapeMismatch {
            what,
            expected: Shape::d1(need),
            found: Shape::d1(scratch.len()),
        });
    }
    crate::simd::check_finite(delta, "nds: delta")
}

/// `NDS(Δ) = ΔᵀHΔ/‖Δ‖²` from one HVP; `scratch` holds [`nds_scratch_len`] values. `None` for
/// `Δ = 0`. Never allocates.
///
/// ```
/// use mlkern::spectrum::{nds, HessianVectorProduct};
/// struct Diag(Vec<f64>);
/// impl HessianVectorProduct for Diag {
///     fn dim(&self) -> usize { self.0.len() }
///     fn hvp(&mut self, v: &[f64], out: &mut [f64]) -> mlkern::Result<()> {
///         for ((o, h), x) in out.iter_mut().zip(&self.0).zip(v) { *o = h * x; }
///         Ok(())
///     }
/// }
/// // H = diag(1, 4): NDS(Δ) = Σ hᵢΔᵢ²/ΣΔᵢ² = (1 + 4)/2.
/// let mut scratch = [0.0; 2];
/// assert_eq!(nds(&mut Diag(vec![1.0, 4.0]), &[1.0, -1.0], &mut scratch)?, Some(2.5));
/// # Ok::<(), mlkern::Error>(())
/// ```
///
/// # Errors
/// [`Error::ShapeMismatch`] for a wrong `delta` or short `scratch`, [`Error::NonFinite`] for
/// NaN/±∞ in `delta` or in `H·Δ`, and the oracle's own errors.
pub fn nds(
    h: &mut impl HessianVectorProduct,
    delta: &[f64],
    scratch: &mut [f64],
) -> Result<Option<f64>> {
    check(h, delta, scratch, delta.len(), "nds: scratch")?;
    let norm_sq = dot(delta, delta);
    if norm_sq == 0.0 {
        return Ok(None);
    }
    let hv = &mut scratch[..delta.len()];
    h.hvp(delta, hv)?;
    crate::simd::check_finite(hv, "nds: H·Δ")?;
    Ok(Some(dot(delta, hv) / norm_sq))
}

/// The curvature penalty `½‖Δ‖²·NDS(Δ) = ½ΔᵀHΔ`.
///
/// ```
/// use mlkern::spectrum::curvature_penalty;
/// // NDS 2.5 along a step of squared norm 2: ½·2·2.5.
/// assert_eq!(curvature_penalty(2.5, 2.0), 2.5);
/// ```
pub fn curvature_penalty(nds: f64, norm_sq: f64) -> f64 {
    0.5 * norm_sq * nds
}

/// Checks that `blocks` are ascending, non-empty and partition `0..dim`.
fn check_blocks(blocks: &[Range<usize>], dim: usize) -> Result<()> {
    let mut next = 0;
    for b in blocks {
        if b.start != next || b.end <= b.start {
            return Err(Error::InvalidParameter {
                name: "nds: blocks",
                reason: "must be non-empty ranges, in order, that partition 0..dim",
            });
        }
        next = b.end;
    }
    if next != dim {
        return Err(Error::InvalidParameter {
            name: "nds: blocks",
            reason: "must be non-empty ranges, in order, that partition 0..dim",
        });
    }
    Ok(())
}

/// Exact within/cross decomposition: one HVP for the total and one masked HVP per block
/// (`v = Δ` restricted to block `l`, read back on block `l`). `per_block[l]` receives the block's
/// own `NDS_l = ΔₗᵀHₗₗΔₗ/‖Δₗ‖²` (`NaN`-free: 0 for a zero block). `scratch` holds
/// [`nds_decomposition_scratch_len`] values. `None` for `Δ = 0`. Never allocates.
///
/// ```
/// use mlkern::spectrum::HessianVectorProduct;
/// struct Diag(Vec<f64>);
/// impl HessianVectorProduct for Diag {
///     fn dim(&self) -> usize { self.0.len() }
///     fn hvp(&mut self, v: &[f64], out: &mut [f64]) -> mlkern::Result<()> {
///         for ((o, h), x) in out.iter_mut().zip(&self.0).zip(v) { *o = h * x; }
///         Ok(())
///     }
/// }
/// use mlkern::spectrum::nds_decomposition;
/// // A diagonal H has no cross-block curvature: NDS = NDS_within.
/// let (mut per_block, mut scratch) = ([0.0; 2], [0.0; 8]); // nds_decomposition_scratch_len(4)
/// let parts = nds_decomposition(&mut Diag(vec![1.0, 1.0, 4.0, 4.0]), &[1.0, 1.0, 1.0, 1.0],
///                               &[0..2, 2..4], &mut per_block, &mut scratch)?.unwrap();
/// assert_eq!((parts.total, parts.within, parts.cross), (2.5, 2.5, 0.0));
/// assert_eq!(per_block, [1.0, 4.0]);
/// # Ok::<(), mlkern::Error>(())
/// ```
///
/// # Errors
/// As [`nds`]; [`Error::InvalidParameter`] when `blocks` do not partition `0..dim`;
/// [`Error::ShapeMismatch`] when `per_block.len() ≠ blocks.len()`.
pub fn nds_decomposition(
    h: &mut impl HessianVectorProduct,
    delta: &[f64],
    blocks: &[Range<usize>],
    per_block: &mut [f64],
    scratch: &mut [f64],
) -> Result<Option<NdsParts>> {
    let n = delta.len();
    check(h, delta, scratch, 2 * n, "nds_decomposition: scratch")?;
    check_blocks(blocks, n)?;
    if per_block.len() != blocks.len() {
        return Err(Error::ShapeMismatch {
            what: "nds_decomposition: per_block",
            expected: Shape::d1(blocks.len()),
            found: Shape::d1(per_block.len()),
        });
    }
    let norm_sq = dot(delta, delta);
    if norm_sq == 0.0 {
        return Ok(None);
    }
    let (v, hv) = scratch[..2 * n].split_at_mut(n);
    h.hvp(delta, hv)?;
    crate::simd::check_finite(hv, "nds: H·Δ")?;
    let total = dot(delta, hv);
    let mut within = 0.0;
    for (b, out) in blocks.iter().zip(per_block.iter_mut()) {
        let d = &delta[b.clone()];
        let block_sq = dot(d, d);
        if block_sq == 0.0 {
            *out = 0.0;
            continue;
        }
        v.fill(0.0);
        v[b.clone()].copy_from_slice(d);
        h.hvp(v, hv)?;
        crate::simd::check_finite(hv, "nds: H·Δ")?;
        let q = dot(d, &hv[b.clone()]);
        *out = q / block_sq;
        within += q;
    }
    Ok(Some(NdsParts {
        total: total / norm_sq,
        within: within / norm_sq,
        cross: (total - within) / norm_sq,
        norm_sq,
    }))
}

/// Unbiased random-sign estimate of `NDS_within` from `samples` HVPs: with independent block
/// signs `sₗ = ±1` and `Δ_s = (sₗΔₗ)`, `E[Δ_sᵀHΔ_s] = Σₗ ΔₗᵀHₗₗΔₗ` (the cross terms cancel in
/// expectation); the variance grows with the cross terms. Randomness comes from `rng` (one
/// bit per block per sample), so the estimate is reproducible from a seed. `scratch` holds
/// [`nds_decomposition_scratch_len`] values. `None` for `Δ = 0`. Never allocates.
///
/// ```
/// use mlkern::spectrum::HessianVectorProduct;
/// struct Diag(Vec<f64>);
/// impl HessianVectorProduct for Diag {
///     fn dim(&self) -> usize { self.0.len() }
///     fn hvp(&mut self, v: &[f64], out: &mut [f64]) -> mlkern::Result<()> {
///         for ((o, h), x) in out.iter_mut().zip(&self.0).zip(v) { *o = h * x; }
///         Ok(())
///     }
/// }
/// use mlkern::spectrum::nds_within_estimate;
/// use rand::{SeedableRng, rngs::SmallRng};
/// // Without cross-block curvature every sign pattern gives the exact within term.
/// let mut scratch = [0.0; 8]; // nds_decomposition_scratch_len(4)
/// let est = nds_within_estimate(&mut Diag(vec![1.0, 1.0, 4.0, 4.0]), &[1.0; 4], &[0..2, 2..4],
///                               8, &mut SmallRng::seed_from_u64(7), &mut scratch)?.unwrap();
/// assert_eq!((est.within, est.std_error, est.samples), (2.5, 0.0, 8));
/// # Ok::<(), mlkern::Error>(())
/// ```
///
/// # Errors
/// As [`nds_decomposition`]; [`Error::InvalidParameter`] for `samples = 0`;
/// [`Error::TooLarge`] for `samples` over [`MAX_NDS_SAMPLES`](crate::limits::MAX_NDS_SAMPLES)
/// (each sample is one HVP: a larger count only means "hang"), before any HVP.
pub fn nds_within_estimate(
    h: &mut impl HessianVectorProduct,
    delta: &[f64],
    blocks: &[Range<usize>],
    samples: usize,
    rng: &mut impl Rng,
    scratch: &mut [f64],
) -> Result<Option<WithinEstimate>> {
    let n = delta.len();
    check(h, delta, scratch, 2 * n, "nds_within_estimate: scratch")?;
    check_blocks(blocks, n)?;
    if samples == 0 {
        return Err(Error::InvalidParameter {
            name: "nds_within_estimate: samples",
            reason: "must be ≥ 1",
        });
    }
    crate::limits::check(
        samples,
        crate::limits::MAX_NDS_SAMPLES,
        "nds_within_estimate: samples",
    )?;
    let norm_sq = dot(delta, delta);
    if norm_sq == 0.0 {
        return Ok(None);
    }
    let (v, hv) = scratch[..2 * n].split_at_mut(n);
    let (mut mean, mut m2) = (0.0, 0.0);
    let mut bits = 0u64;
    let mut left = 0;
    for t in 0..samples {
        for b in blocks {
            if left == 0 {
                bits = rng.next_u64();
                left = 64;
            }
            let sign = if bits & 1 == 1 { -1.0 } else { 1.0 };
            bits >>= 1;
            left -= 1;
            for (o, &d) in v[b.clone()].iter_mut().zip(&delta[b.clone()]) {
                *o = sign * d;
            }
        }
        h.hvp(v, hv)?;
        crate::simd::check_finite(hv, "nds: H·Δ")?;
        let x = dot(v, hv) / norm_sq;
        // Welford.
        let k = (t + 1) as f64;
        let d = x - mean;
        mean += d / k;
        m2 += d * (x - mean);
    }
    let std_error = if samples > 1 {
        num_traits::Float::sqrt(m2 / (samples - 1) as f64 / samples as f64)
    } else {
        0.0
    };
    Ok(Some(WithinEstimate {
        within: mean,
        std_error,
        samples,
    }))
}
