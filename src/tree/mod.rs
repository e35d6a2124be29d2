//! Tree-structured models: Chow–Liu trees, latent trees (recursive grouping, CLRG, neighbour
//! joining, spectral neighbour joining) and the robust statistics that make them tolerate gross
//! corruptions (Zhang & Tan 2021).
//!
//! | stage | functions | tier |
//! |---|---|---|
//! | pairwise statistics | [`Samples`], [`Codes`], [`PairCounts`] (all contingency tables from one popcount Gram), [`mutual_information`] (plug-in, optional Miller–Madow), [`correlation_matrix`] (one symmetric product), [`correlation_matrix_into`], [`truncated_dot`], [`robust_covariance`], [`robust_correlation`] | core ([`mutual_information`], [`truncated_dot`]), alloc |
//! | information distances | [`gaussian_distance`] `−ln|ρ|`, [`discrete_distance`] (determinant form), [`vector_distances`] (canonical correlations of column blocks), [`gaussian_mi`] | core, alloc ([`vector_distances`]) |
//! | spanning trees | [`spanning_tree_into`] (dense Prim, documented tie-break), [`spanning_tree`] | core, alloc |
//! | Chow–Liu | [`chow_liu_discrete`], [`chow_liu_gaussian`] (plain or robust) | alloc |
//! | one entry point | [`Learner::learn`] over [`TreeData`] (codes, samples or distances) | alloc |
//! | latent trees | [`recursive_grouping`], [`clrg`], [`neighbor_joining`], [`spectral_nj`] over a distance matrix | alloc |
//! | output and evaluation | [`Tree`] (observed `0..m`, hidden after; Newick, DOT), [`hop_distances`], [`path_lengths`], [`exact_recovery`], [`splits`], [`robinson_foulds`] | alloc |
//!
//! Tabular data are a [`Samples`] whose constructor names the layout:
//! [`Samples::row_major`] (NumPy `(n, p)` C order) or [`Samples::variable_major`] (each variable
//! one contiguous stream, the kernels' fast path); both give bit-identical results, so a
//! transposed array cannot pass silently. The kind of data (discrete or Gaussian) is always
//! explicit: nothing guesses it (pgmpy's Chow–Liu silently treats floats as categories).
//! [`Learner`] is one entry point for every learner. Every function that can use threads takes
//! a [`Par`](crate::Par) last; results are the same for every `Par`.
//!
//! Latent learners take information distances of the observed nodes, which are additive along
//! tree paths: from Gaussian data `−ln|ρ|` (from plain or robust correlations), from discrete
//! data the determinant form, from vector data [`vector_distances`]. With exact (population)
//! distances RG, CLRG and NJ recover any minimal latent tree, observed nodes anywhere; SNJ
//! recovers trees whose observed nodes are leaves.
//!
//! ```
//! use mlkern::tree::{clrg, exact_recovery, path_lengths, Edge, RgConfig, Tree};
//! // A hidden node 4 joins observed 0, 1 and observed 2; 2 also joins observed 3.
//! let truth = Tree::new(4, 5, vec![
//!     Edge { a: 0, b: 4, weight: 0.3 }, Edge { a: 1, b: 4, weight: 0.4 },
//!     Edge { a: 2, b: 4, weight: 0.5 }, Edge { a: 2, b: 3, weight: 0.6 },
//! ])?;
//! let d = path_lengths(&truth)?; // population information distances
//! let learned = clrg(&d, 4, &RgConfig::population())?;
//! assert!(exact_recovery(&learned, &truth));
//! # Ok::<(), mlkern::Error>(())
//! ```

mod info;
mod mst;
pub(crate) mod robust;
mod samples;

#[cfg(feature = "alloc")]
mod certified;
#[cfg(feature = "alloc")]
pub(crate) mod chow_liu;
#[cfg(feature = "alloc")]
pub(crate) mod discrete;
#[cfg(feature = "alloc")]
mod eval;
#[cfg(feature = "alloc")]
mod gaussian;
#[cfg(feature = "alloc")]
mod graph;
#[cfg(feature = "alloc")]
mod latent;
#[cfg(feature = "alloc")]
mod learner;
#[cfg(feature = "alloc")]
mod popcount;
#[cfg(feature = "alloc")]
mod vector;

pub use info::{
    Correction, MAX_DISTANCE, discrete_distance, discrete_distance_probs, gaussian_distance,
    gaussian_mi, mutual_information,
};
pub use mst::{Objective, spanning_tree_into};
pub use robust::{Center, truncated_dot};
pub use samples::Samples;

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use chow_liu::{ChowLiuConfig, chow_liu_discrete, chow_liu_gaussian};
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use discrete::{Codes, PairCounts};
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use eval::{Split, exact_recovery, hop_distances, path_lengths, robinson_foulds, splits};
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use gaussian::{
    correlation_matrix, correlation_matrix_into, correlation_scratch_len, gaussian_distance_matrix,
    gaussian_mi_matrix,
};
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use graph::{Edge, Tree};
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use latent::{
    NjConfig, RgConfig, SnjConfig, clrg, neighbor_joining, recursive_grouping, spectral_nj,
};
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use learner::{Learner, TreeData};
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use mst::spanning_tree;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use robust::{robust_correlation, robust_covariance};
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use vector::vector_distances;
