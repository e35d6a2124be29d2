//! # mlkern
//!
//! Fast, verified numerical kernels for machine learning, usable from `no_std`.
//!
//! | module | what it holds | tier |
//! |---|---|---|
//! | [`simd`] | pulp-dispatched primitives: sum, dot, max/argmax, scale/axpy, exp, log-sum-exp, softmax, finite checks | core |
//! | `linalg` | matrix views over slices, GEMM with explicit parallelism, the symmetric product `α·A·Aᵀ + β·C`, a portable blocked GEMM for builds without `std` | alloc |
//! | [`spectrum`] | effective rank (both weightings), entropies, stable rank, participation ratio, numerical rank, RankMe, isotropy, WeightWatcher α; matrix → spectrum; streaming covariance; NDS; logit margins | core (metrics, NDS, margins), alloc (decompositions) |
//! | [`spec`] | speculative-decoding verification: exact and relaxed (LANTERN, LANTERN++, COOL-SD, mixture budget, typical) rules, batched, Philox uniforms, token trees, exact `f64` analysis | core (alloc: owned `verify`, neighbour-table builder) |
//! | [`stft`] | FFTs (rustfft with `std`, an in-crate mixed-radix/Bluestein transform without), windows, `torch.stft`/`torch.istft`-compatible STFT/ISTFT, TiARA attention reweighting | core (windows, TiARA), alloc (FFT, STFT) |
//! | [`tree`] | Chow–Liu (discrete via a popcount Gram, Gaussian via one symmetric product), information distances, truncated inner products and robust covariances, latent trees (RG, CLRG, NJ, spectral NJ), Newick/DOT, Robinson–Foulds and recovery checks | core (MI of a table, distances, truncated dot, Prim with caller buffers), alloc |
//! | [`dist`] | the process-group trait [`dist::Comm`] (deterministic all-reduce), its MPI (feature `mpi`) and in-process implementations; sharded Newton–Schulz and Muon, data-parallel covariance spectra and Chow–Liu statistics | core (`Comm`), alloc (kernels), std (`Local`) |
//! | `ortho` | Newton–Schulz orthogonalization (schedules, standard/Gram, batches, shards) and the Muon step | alloc |
//! | `io` | `.npy` and `.csv` parsing and `.npy` writing on byte buffers | alloc |
//! | `gpu` | the cuBLAS backend (feature `cublas`, std tier); without it a stub whose constructors return `BackendUnavailable` | alloc |
//!
//! Tiers: **core** needs no allocator, **alloc** (feature `alloc`) brings faer-backed linear algebra
//! and owned results, **std** (feature `std`, default) brings faer's runtime-dispatched fast GEMM and
//! `std::error::Error` interop (through `core::error::Error`).
//!
//! One set of conventions in every family (see `ARCHITECTURE.md`): [`Par`] is the last argument of
//! every entry point that can use threads (without `std` it runs sequentially, with the same
//! result); arguments come as outputs, inputs, config, scratch, `par`; every family has an owned
//! entry point and a caller-buffer `_into` one that never allocates, with scratch sized by a
//! `…_scratch_len` returning `Result<usize>`.
//!
//! Every fallible function returns [`Error`]; no kernel panics on user input.
//!
//! ```
//! let x = [1.0f32, 2.0, 3.0];
//! assert_eq!(mlkern::simd::sum(&x), 6.0);
//! ```
#![no_std]
#![deny(missing_docs)]
#![deny(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "alloc")]
mod base;
pub mod dist;
mod error;
mod par;
mod real;

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub mod gpu;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub mod io;
#[cfg(feature = "alloc")]
mod jobs;
pub mod limits;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub mod linalg;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub mod ortho;
pub mod simd;
pub mod spec;
pub mod spectrum;
pub mod stft;
pub mod tree;

pub use error::{Error, Result, Shape};
pub use par::Par;
pub use real::Real;

/// The README's examples, compiled and run as doctests.
#[cfg(all(doctest, feature = "std"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
