//! Chow–Liu trees (Chow & Liu 1968): the maximum-weight spanning tree under pairwise mutual
//! information, for discrete data (plug-in MI) and for Gaussian data (`−½ ln(1 − ρ²)`, plain or
//! robust correlations). The data kind is always the caller's explicit choice.

use super::Tree;
use super::discrete::{Codes, PairCounts};
use super::gaussian::{correlation_matrix, gaussian_mi_matrix};
use super::info::Correction;
use super::mst::{Objective, spanning_tree};
use super::robust::{Center, robust_correlation};
use crate::{Real, Result};

/// Options of the Chow–Liu learners.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChowLiuOptions {
    /// Bias correction of the discrete MI (ignored for Gaussian data).
    pub correction: Correction,
    /// Gaussian data: `n_trim > 0` replaces the sample correlations by the robust ones of
    /// [`robust_correlation`] with this many products trimmed per pair.
    pub robust_trim: usize,
    /// Centring for the robust correlations.
    pub center: Center,
    /// Threads for the pairwise statistics (`0`/`1`: the calling thread).
    pub threads: usize,
}

impl Default for ChowLiuOptions {
    /// Plug-in MI, no trimming, median centring, one thread.
    fn default() -> Self {
        ChowLiuOptions {
            correction: Correction::None,
            robust_trim: 0,
            center: Center::Median,
            threads: 1,
        }
    }
}

/// The Chow–Liu tree of discrete data: maximum spanning tree of the plug-in mutual
/// information (nats) from one popcount Gram ([`PairCounts`]), Prim's tie-break. Edge weights
/// are the MI values.
///
/// # Errors
/// As [`PairCounts::new`]; [`Error::InvalidParameter`](crate::Error::InvalidParameter) for fewer
/// than 2 samples.
///
/// ```
/// use mlkern::tree::{chow_liu_discrete, ChowLiuOptions, Codes};
/// // x1 is x0 with one flip, x2 is x1 with another: the chain 0 — 1 — 2.
/// let data = [0u8, 1, 0, 1, 1, 0, 1, 0,   1, 1, 0, 1, 1, 0, 1, 0,   1, 1, 0, 1, 1, 1, 1, 0];
/// let t = chow_liu_discrete(&Codes::new(&data, 8, 3, &[2, 2, 2])?, &ChowLiuOptions::default())?;
/// let pairs: Vec<(usize, usize)> = t.edges().iter().map(|e| (e.a, e.b)).collect();
/// assert_eq!(pairs, [(0, 1), (1, 2)]);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn chow_liu_discrete(codes: &Codes<'_>, opts: &ChowLiuOptions) -> Result<Tree> {
    if codes.n_samples() < 2 && codes.n_vars() > 1 {
        return Err(crate::Error::InvalidParameter {
            name: "chow_liu_discrete: codes",
            reason: "at least 2 samples are needed (with fewer, every mutual information is 0)",
        });
    }
    let counts = PairCounts::new(codes, opts.threads)?;
    let p = codes.n_vars();
    let mi = counts.mutual_information(opts.correction);
    spanning_tree(&mi, p, Objective::Maximum)
}

/// The Chow–Liu tree of Gaussian data in variable-major layout (`x[v·n_samples + t]`):
/// maximum spanning tree of `−½ ln(1 − ρ²)` over the sample (or, with
/// [`ChowLiuOptions::robust_trim`], robust) correlations. Edge weights are the Gaussian MI.
///
/// # Errors
/// As [`correlation_matrix`] / [`robust_correlation`].
///
/// ```
/// use mlkern::tree::{chow_liu_gaussian, ChowLiuOptions};
/// let x = [1.0f64, 2.0, 3.0, 4.0, 5.0,   1.1, 2.3, 2.9, 4.2, 4.8,   1.0, 2.9, 2.5, 4.9, 4.0];
/// let t = chow_liu_gaussian(&x, 5, 3, &ChowLiuOptions::default())?;
/// assert_eq!(t.edges().len(), 2);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn chow_liu_gaussian<T: Real>(
    x: &[T],
    n_samples: usize,
    n_vars: usize,
    opts: &ChowLiuOptions,
) -> Result<Tree> {
    let corr = if opts.robust_trim > 0 {
        robust_correlation(
            x,
            n_samples,
            n_vars,
            opts.robust_trim,
            opts.center,
            opts.threads,
        )?
    } else {
        correlation_matrix(x, n_samples, n_vars, opts.threads)?
    };
    let mi = gaussian_mi_matrix(&corr, n_vars)?;
    spanning_tree(&mi, n_vars, Objective::Maximum)
}
