//! Configuration and per-call report of the Newton–Schulz kernels.

use super::schedule::{KELLER_JORDAN, Schedule};
use crate::Result;
use crate::linalg::GemmBackend;

/// Which evaluation of the Newton–Schulz iteration runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Algo {
    /// Per step `A = XXᵀ`, `B = a·I + b·A + c·A²`, `X ← B·X` (three products, the two symmetric
    /// ones computed as one triangle): `3k²N + k³` flops per quintic step for a k×N input (k ≤ N).
    #[default]
    Standard,
    /// Gram Newton–Schulz (Zhang, Amsel, Chen, Dao 2026): iterate on the k×k Gram matrix and
    /// apply the accumulated polynomial to `X` only at restarts and at the end. Mathematically the
    /// same map, with fewer flops when the aspect ratio `N/k` exceeds ≈ 1.5, but a different
    /// accuracy class: round-off in the k×k Gram matrix is amplified by the later polynomials, so
    /// on ill-conditioned inputs the f32 result can be 10–1000× further from the exact one than
    /// the standard path's (reference note §4.5). Restarts bound the drift; our tests hold it
    /// within 5e-4 (relative Frobenius) of the standard path at condition number 1e4.
    Gram {
        /// Steps before which `X` is refreshed and the Gram matrix recomputed.
        restarts: Restarts,
    },
    /// [`Gram`](Algo::Gram) with [`Restarts::Auto`] when `N/k ≥ 2`, [`Standard`](Algo::Standard)
    /// otherwise.
    Auto,
}

impl Algo {
    /// Gram Newton–Schulz with the default restarts.
    pub const GRAM: Algo = Algo::Gram {
        restarts: Restarts::Auto,
    };

    /// The algorithm that runs for a k×N problem (k ≤ N): never `Auto`.
    pub fn resolve(self, k: usize, n: usize) -> Algo {
        match self {
            // `2k` may overflow for absurd shapes: then `n < 2k`.
            Algo::Auto if k > 0 && k.checked_mul(2).is_some_and(|k2| n >= k2) => Algo::GRAM,
            Algo::Auto => Algo::Standard,
            other => other,
        }
    }

    /// The CLI name: `standard`, `gram` or `auto`.
    pub fn name(self) -> &'static str {
        match self {
            Algo::Standard => "standard",
            Algo::Gram { .. } => "gram",
            Algo::Auto => "auto",
        }
    }
}

/// Where Gram Newton–Schulz restarts (`X ← Q·X`, `R ← XXᵀ`, `Q ← I`) before a step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Restarts {
    /// Before step 2 (0-based) for schedules of up to 5 steps — the Gram-NS and DeepSpeed default —
    /// and before every second step (2, 4, 6, …) for longer ones, whose later polynomials amplify
    /// round-off in `R` more.
    #[default]
    Auto,
    /// Bit `i` set: restart before step `i` (bit 0 is ignored; steps ≥ 64 never restart).
    Mask(u64),
}

impl Restarts {
    /// No restart.
    pub const NONE: Restarts = Restarts::Mask(0);

    /// Restart before each listed step.
    ///
    /// ```
    /// use mlkern::ortho::Restarts;
    /// assert_eq!(Restarts::at(&[2, 4]), Restarts::Mask(0b10100));
    /// ```
    pub const fn at(steps: &[usize]) -> Restarts {
        let mut mask = 0u64;
        let mut i = 0;
        while i < steps.len() {
            if steps[i] < 64 {
                mask |= 1 << steps[i];
            }
            i += 1;
        }
        Restarts::Mask(mask)
    }

    /// Whether the iteration restarts before step `i` of `total`.
    pub fn before(self, i: usize, total: usize) -> bool {
        if i == 0 || i >= total {
            return false;
        }
        match self {
            Restarts::Auto if total <= 5 => i == 2,
            Restarts::Auto => i.is_multiple_of(2),
            Restarts::Mask(m) => i < 64 && m & (1 << i) != 0,
        }
    }
}

/// Everything a Newton–Schulz call needs besides the data.
///
/// ```
/// use mlkern::ortho::{Algo, NsConfig, POLAR_EXPRESS};
/// let cfg = NsConfig::new(POLAR_EXPRESS).with_algo(Algo::Auto);
/// assert_eq!(cfg.schedule.steps, 8);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct NsConfig<'s> {
    /// Coefficients, step count and normalization.
    pub schedule: Schedule<'s>,
    /// Standard, Gram or automatic choice.
    pub algo: Algo,
    /// GEMM implementation for every product.
    pub backend: GemmBackend,
}

impl Default for NsConfig<'static> {
    /// Keller Jordan NS5, standard algorithm, default GEMM backend.
    fn default() -> Self {
        NsConfig::new(KELLER_JORDAN)
    }
}

impl<'s> NsConfig<'s> {
    /// `schedule` with the standard algorithm and the default GEMM backend.
    pub const fn new(schedule: Schedule<'s>) -> Self {
        NsConfig {
            schedule,
            algo: Algo::Standard,
            backend: GemmBackend::Auto,
        }
    }

    /// The same configuration with another algorithm.
    pub const fn with_algo(mut self, algo: Algo) -> Self {
        self.algo = algo;
        self
    }

    /// The same configuration with another GEMM backend.
    pub const fn with_backend(mut self, backend: GemmBackend) -> Self {
        self.backend = backend;
        self
    }

    /// Checks the schedule (see [`Schedule::validate`]).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter).
    pub fn validate(&self) -> Result<()> {
        self.schedule.validate()
    }
}

/// What one orthogonalization did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct NsReport {
    /// `‖G‖_F` of the input, in f64 (`+∞` only for f64 inputs whose norm exceeds `f64::MAX`;
    /// the kernel itself never forms it unscaled).
    pub input_norm: f64,
    /// The input was all zeros (or empty): the output is all zeros, no step ran.
    pub zero_input: bool,
    /// Newton–Schulz steps applied.
    pub steps: usize,
    /// The algorithm that ran ([`Algo::Standard`] or [`Algo::Gram`], never `Auto`).
    pub algo: Algo,
    /// Floating-point operations performed by the products (symmetric ones counted at half).
    pub flops: f64,
}
