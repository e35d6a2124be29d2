//! [`Learner`]: one entry point for every tree learner of the family, over discrete codes,
//! Gaussian samples or an information-distance matrix.

use alloc::vec::Vec;

use super::chow_liu::{ChowLiuConfig, chow_liu_discrete, chow_liu_gaussian, gaussian_correlations};
use super::discrete::{Codes, PairCounts};
use super::gaussian::gaussian_distance_matrix;
use super::info::Correction;
use super::latent::{
    NjConfig, RgConfig, SnjConfig, clrg, neighbor_joining, recursive_grouping, spectral_nj,
};
use super::mst::{Objective, spanning_tree};
use super::robust::Center;
use super::{Samples, Tree};
use crate::{Par, Real, Result};

/// What a [`Learner`] learns from. The kind of data is always explicit: nothing guesses it.
///
/// ```
/// use mlkern::tree::{Center, Samples, TreeData};
/// let x = [1.0, 2.0, 3.0,   2.0, 1.0, 4.0];
/// let plain = TreeData::gaussian(Samples::variable_major(&x, 2, 3)?);
/// let robust = TreeData::Gaussian { x: Samples::variable_major(&x, 2, 3)?, robust_trim: 1, center: Center::Median };
/// assert_eq!(plain.n_vars(), robust.n_vars());
/// # Ok::<(), mlkern::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum TreeData<'a, T> {
    /// Discrete codes: Chow–Liu on the plug-in MI; latent learners on the determinant-form
    /// distances, every variable padded to the largest state count (a state a variable never
    /// shows is an empty row, whose distance is [`MAX_DISTANCE`](super::MAX_DISTANCE)).
    Discrete(Codes<'a>),
    /// Gaussian samples: correlations (robust ones when `robust_trim > 0`, see
    /// [`robust_correlation`](super::robust_correlation)); Chow–Liu on `−½ ln(1 − ρ²)`, latent
    /// learners on `−ln|ρ|`.
    Gaussian {
        /// The samples.
        x: Samples<'a, T>,
        /// Products trimmed per pair (0: sample correlations).
        robust_trim: usize,
        /// Centring of the robust correlations.
        center: Center,
    },
    /// An `m×m` information-distance matrix of the observed nodes (row-major): latent learners
    /// use it as is, Chow–Liu is its minimum spanning tree.
    Distances {
        /// The distances.
        d: &'a [f64],
        /// Number of observed nodes.
        m: usize,
    },
}

impl<'a> TreeData<'a, f64> {
    /// Discrete codes ([`TreeData::Discrete`]; the sample type is irrelevant and fixed to f64).
    pub fn discrete(codes: Codes<'a>) -> Self {
        TreeData::Discrete(codes)
    }

    /// An `m×m` distance matrix ([`TreeData::Distances`]).
    pub fn distances(d: &'a [f64], m: usize) -> Self {
        TreeData::Distances { d, m }
    }
}

impl<'a, T: Copy> TreeData<'a, T> {
    /// Gaussian samples with sample correlations (no trimming).
    pub fn gaussian(x: Samples<'a, T>) -> Self {
        TreeData::Gaussian {
            x,
            robust_trim: 0,
            center: Center::Median,
        }
    }

    /// Number of observed variables.
    pub fn n_vars(&self) -> usize {
        match self {
            TreeData::Discrete(c) => c.n_vars(),
            TreeData::Gaussian { x, .. } => x.n_vars(),
            TreeData::Distances { m, .. } => *m,
        }
    }
}

/// A tree learner with its parameters.
///
/// ```
/// use mlkern::Par;
/// use mlkern::tree::{exact_recovery, path_lengths, Edge, Learner, RgConfig, Tree, TreeData};
/// let truth = Tree::new(4, 5, vec![
///     Edge { a: 0, b: 4, weight: 0.3 }, Edge { a: 1, b: 4, weight: 0.4 },
///     Edge { a: 2, b: 4, weight: 0.5 }, Edge { a: 2, b: 3, weight: 0.6 },
/// ])?;
/// let d = path_lengths(&truth)?;
/// let data = TreeData::distances(&d, 4);
/// let learned = Learner::Clrg(RgConfig::population()).learn(data, Par::Seq)?;
/// assert!(exact_recovery(&learned, &truth));
/// # Ok::<(), mlkern::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Learner {
    /// Chow–Liu ([`chow_liu_discrete`], [`chow_liu_gaussian`], or the minimum spanning tree of
    /// distances); the correction applies to discrete data.
    ChowLiu {
        /// Bias correction of the discrete mutual information.
        correction: Correction,
    },
    /// [`recursive_grouping`].
    RecursiveGrouping(RgConfig),
    /// [`clrg`].
    Clrg(RgConfig),
    /// [`neighbor_joining`].
    NeighborJoining(NjConfig),
    /// [`spectral_nj`].
    SpectralNj(SnjConfig),
}

impl Learner {
    /// Learns a tree from `data` with the threads of `par` for the pairwise statistics (the
    /// same tree for every [`Par`]). Observed nodes are `0..n_vars`, hidden ones follow.
    ///
    /// # Errors
    /// As the learner's function and the statistics it needs ([`chow_liu_discrete`],
    /// [`chow_liu_gaussian`], [`PairCounts::distances`], [`correlation_matrix`](super::correlation_matrix),
    /// [`robust_correlation`](super::robust_correlation), [`spanning_tree`](super::spanning_tree)).
    ///
    /// ```
    /// use mlkern::Par;
    /// use mlkern::tree::{Codes, Correction, Learner, Samples, TreeData};
    /// let rows = [0u8, 0, 1,   1, 1, 1,   0, 0, 0,   1, 1, 0,   0, 1, 1,   1, 1, 0]; // 6 × 3
    /// let codes = Codes::new(Samples::row_major(&rows, 6, 3)?, &[2, 2, 2])?;
    /// let t = Learner::ChowLiu { correction: Correction::None }
    ///     .learn(TreeData::discrete(codes), Par::Seq)?;
    /// assert_eq!(t.edges().len(), 2);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn learn<T: Real>(&self, data: TreeData<'_, T>, par: Par) -> Result<Tree> {
        let p = data.n_vars();
        if let Learner::ChowLiu { correction } = *self {
            let cfg = ChowLiuConfig::new().correction(correction);
            return match data {
                TreeData::Discrete(codes) => chow_liu_discrete(&codes, &cfg, par),
                TreeData::Gaussian {
                    x,
                    robust_trim,
                    center,
                } => chow_liu_gaussian(x, &cfg.robust_trim(robust_trim).center(center), par),
                TreeData::Distances { d, m } => spanning_tree(d, m, Objective::Minimum),
            };
        }
        let owned: Vec<f64>;
        let d: &[f64] = match data {
            TreeData::Distances { d, .. } => d,
            TreeData::Discrete(codes) => {
                let k = codes.states().iter().copied().max().unwrap_or(1);
                let mut same = crate::base::zeros::<u8>(p, "learn: n_vars")?;
                same.fill(k);
                owned = PairCounts::new(&Codes::new(codes.samples(), &same)?, par)?.distances()?;
                &owned
            }
            TreeData::Gaussian {
                x,
                robust_trim,
                center,
            } => {
                let corr = gaussian_correlations(x, robust_trim, center, par)?;
                owned = gaussian_distance_matrix(&corr, p)?;
                &owned
            }
        };
        match self {
            Learner::RecursiveGrouping(cfg) => recursive_grouping(d, p, cfg),
            Learner::Clrg(cfg) => clrg(d, p, cfg),
            Learner::NeighborJoining(cfg) => neighbor_joining(d, p, cfg),
            Learner::SpectralNj(cfg) => spectral_nj(d, p, cfg),
            Learner::ChowLiu { .. } => unreachable!("handled above"),
        }
    }
}
