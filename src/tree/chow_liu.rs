//! Chow–Liu trees (Chow & Liu 1968): the maximum-weight spanning tree under pairwise mutual
//! information, for discrete data (plug-in MI) and for Gaussian data (`−½ ln(1 − ρ²)`, plain or
//! robust correlations). The data kind is always the caller's explicit choice.

use super::certified::chow_liu_gaussian_fast;
use super::discrete::{Codes, PairCounts};
use super::gaussian::{correlation_matrix, gaussian_mi_matrix};
use super::info::Correction;
use super::mst::{Objective, spanning_tree};
use super::robust::{Center, robust_correlation};
use super::{Samples, Tree};
use crate::{Par, Real, Result};

/// Configuration of the Chow–Liu learners: the pairwise statistics.
///
/// ```
/// use mlkern::tree::{Center, ChowLiuConfig, Correction};
/// let cfg = ChowLiuConfig::new().robust_trim(20).center(Center::Median);
/// assert_eq!(cfg.robust_trim, 20);
/// assert_eq!(ChowLiuConfig::default().correction, Correction::None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChowLiuConfig {
    /// Bias correction of the discrete MI (ignored for Gaussian data).
    pub correction: Correction,
    /// Gaussian data: `n_trim > 0` replaces the sample correlations by the robust ones of
    /// [`robust_correlation`] with this many products trimmed per pair.
    pub robust_trim: usize,
    /// Centring for the robust correlations.
    pub center: Center,
}

impl ChowLiuConfig {
    /// Plug-in MI, no trimming, median centring.
    pub fn new() -> Self {
        ChowLiuConfig {
            correction: Correction::None,
            robust_trim: 0,
            center: Center::Median,
        }
    }

    /// Sets [`correction`](Self::correction).
    pub fn correction(mut self, correction: Correction) -> Self {
        self.correction = correction;
        self
    }

    /// Sets [`robust_trim`](Self::robust_trim).
    pub fn robust_trim(mut self, n_trim: usize) -> Self {
        self.robust_trim = n_trim;
        self
    }

    /// Sets [`center`](Self::center).
    pub fn center(mut self, center: Center) -> Self {
        self.center = center;
        self
    }
}

impl Default for ChowLiuConfig {
    /// [`ChowLiuConfig::new`].
    fn default() -> Self {
        Self::new()
    }
}

/// The Chow–Liu tree of discrete data: maximum spanning tree of the plug-in mutual
/// information (nats) from one popcount Gram ([`PairCounts`], threads of `par`), Prim's
/// tie-break. Edge weights are the MI values. The same tree for every [`Par`] and layout.
///
/// # Errors
/// As [`PairCounts::new`]; [`Error::InvalidParameter`](crate::Error::InvalidParameter) for fewer
/// than 2 samples.
///
/// ```
/// use mlkern::Par;
/// use mlkern::tree::{chow_liu_discrete, ChowLiuConfig, Codes, Samples};
/// // x1 is x0 with one flip, x2 is x1 with another: the chain 0 — 1 — 2.
/// let data = [0u8, 1, 0, 1, 1, 0, 1, 0,   1, 1, 0, 1, 1, 0, 1, 0,   1, 1, 0, 1, 1, 1, 1, 0];
/// let codes = Codes::new(Samples::variable_major(&data, 3, 8)?, &[2, 2, 2])?;
/// let t = chow_liu_discrete(&codes, &ChowLiuConfig::new(), Par::Seq)?;
/// let pairs: Vec<(usize, usize)> = t.edges().iter().map(|e| (e.a, e.b)).collect();
/// assert_eq!(pairs, [(0, 1), (1, 2)]);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn chow_liu_discrete(codes: &Codes<'_>, cfg: &ChowLiuConfig, par: Par) -> Result<Tree> {
    if codes.n_samples() < 2 && codes.n_vars() > 1 {
        return Err(too_few_samples());
    }
    tree_of_counts(&PairCounts::new(codes, par)?, cfg)
}

fn too_few_samples() -> crate::Error {
    crate::Error::InvalidParameter {
        name: "chow_liu_discrete: codes",
        reason: "at least 2 samples are needed (with fewer, every mutual information is 0)",
    }
}

/// The Chow–Liu tree of pair counts (of one process's samples, or reduced over ranks).
///
/// # Errors
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) for fewer than 2 samples.
pub(crate) fn tree_of_counts(counts: &PairCounts, cfg: &ChowLiuConfig) -> Result<Tree> {
    if counts.n_samples() < 2 && counts.n_vars() > 1 {
        return Err(too_few_samples());
    }
    let mi = counts.mutual_information(cfg.correction)?;
    spanning_tree(&mi, counts.n_vars(), Objective::Maximum)
}

/// The Chow–Liu tree of a `p×p` correlation matrix: the maximum spanning tree of the Gaussian MI.
pub(crate) fn tree_of_correlations(corr: &[f64], p: usize) -> Result<Tree> {
    spanning_tree(&gaussian_mi_matrix(corr, p)?, p, Objective::Maximum)
}

/// The Chow–Liu tree of Gaussian data (either [`Samples`] layout): maximum spanning tree of
/// `−½ ln(1 − ρ²)` over the sample (or, with [`ChowLiuConfig::robust_trim`], robust)
/// correlations, computed with the threads of `par`. Edge weights are the Gaussian MI.
///
/// From 256 variables on (plain correlations, at most ~167 000 samples) the correlation
/// product — nearly all the work — runs in f32 at twice the f64 rate, and the tree is
/// certified: every f32 correlation carries a rigorous error radius, the cycle property of the
/// spanning tree is checked on those intervals, the pairs too close to call are recomputed in
/// f64 until it holds, and the tree's weights come from f64 correlations of its edges. A
/// certified tree is the f64 tree, edge for edge; f64-level near-ties, or more than 8·p
/// uncertain pairs, fall back to the f64 product (the f32 pass is then paid on top). The result
/// is the same for every `Par` and both layouts.
///
/// # Errors
/// As [`correlation_matrix`] / [`robust_correlation`].
///
/// ```
/// use mlkern::Par;
/// use mlkern::tree::{chow_liu_gaussian, ChowLiuConfig, Samples};
/// let x = [1.0f64, 2.0, 3.0, 4.0, 5.0,   1.1, 2.3, 2.9, 4.2, 4.8,   1.0, 2.9, 2.5, 4.9, 4.0];
/// let t = chow_liu_gaussian(Samples::variable_major(&x, 3, 5)?, &ChowLiuConfig::new(), Par::Seq)?;
/// assert_eq!(t.edges().len(), 2);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn chow_liu_gaussian<T: Real>(
    x: Samples<'_, T>,
    cfg: &ChowLiuConfig,
    par: Par,
) -> Result<Tree> {
    if cfg.robust_trim == 0
        && let Some(tree) = chow_liu_gaussian_fast(&x, par)?
    {
        return Ok(tree);
    }
    let corr = gaussian_correlations(x, cfg.robust_trim, cfg.center, par)?;
    tree_of_correlations(&corr, x.n_vars())
}

/// Plain (`robust_trim = 0`) or robust correlations.
pub(crate) fn gaussian_correlations<T: Real>(
    x: Samples<'_, T>,
    robust_trim: usize,
    center: Center,
    par: Par,
) -> Result<alloc::vec::Vec<f64>> {
    if robust_trim > 0 {
        robust_correlation(x, robust_trim, center, par)
    } else {
        correlation_matrix(x, par)
    }
}
