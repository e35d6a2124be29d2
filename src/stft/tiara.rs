//! TiARA: STFT-driven reweighting of temporal-attention matrices (Li, Zhang, Pan, et al.,
//! arXiv 2412.17254), reconstructed as in `shared/reference/tiara_stft.md` §1.7.

use num_traits::Float;

use super::tiara_rho::{self, Kernel, invalid, scratch_need};
use super::window::WindowKind;
use crate::error::{Error, Result};
use crate::limits::MAX_TIARA_N;
use crate::{Par, Real};

/// The motion band `[φ1, φ2)` of ρ (assumption A6).
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Band {
    /// Integer bins of the `N`-point DFT, `0 ≤ φ1 < φ2 ≤ N/2 + 1`.
    Bins {
        /// First motion bin.
        phi1: usize,
        /// First "abnormal" bin (excluded from both sums).
        phi2: usize,
    },
    /// Normalized frequencies in cycles per frame, `0 ≤ f1 < f2 ≤ 0.5`, converted per matrix size
    /// by `φ = ⌊f·N + 1/2⌋` (the result must still satisfy the bin rule).
    Freq {
        /// Lower edge.
        f1: f64,
        /// Upper edge.
        f2: f64,
    },
}

/// What the input matrices hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TiaraInput {
    /// Attention probabilities (rows ≥ 0, finite, positive sum; a sum other than 1 is fine: the
    /// edit renormalizes).
    #[default]
    Probs,
    /// Pre-softmax (scaled) scores; `−∞` masks a key; ρ is computed from their softmax (A1).
    Logits,
}

/// The window ψ of the per-row DSTFT.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum TiaraWindow<'w> {
    /// A built-in shape, periodic or symmetric.
    Kind {
        /// The shape.
        kind: WindowKind,
        /// Periodic (torch) instead of symmetric (scipy, the default here: A4).
        periodic: bool,
    },
    /// `window_len` user-supplied taps (finite).
    Custom(&'w [f64]),
}

/// The optional far-frame ("corner") bias `Λᵢⱼ = −β` for `|i − j| ≥ distance` (assumption A9;
/// speculative, off by default).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FarBias {
    /// Smallest `|i − j|` that is biased (≥ 1).
    pub distance: usize,
    /// The bias magnitude β ≥ 0.
    pub beta: f64,
}

/// TiARA's parameters (see the [module docs](super) for the algorithm and assumptions).
///
/// The struct is `#[non_exhaustive]`: build it with [`TiaraConfig::new`] and the `with_…`
/// methods (or assign the public fields of a value).
///
/// ```
/// use mlkern::stft::{Band, FarBias, TiaraConfig, TiaraInput};
/// let cfg = TiaraConfig::new(6.0, 7, Band::Freq { f1: 0.1, f2: 0.4 })
///     .with_input(TiaraInput::Logits)
///     .with_far(Some(FarBias { distance: 4, beta: 1.0 }));
/// assert!(cfg.adaptive && cfg.far.is_some());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct TiaraConfig<'w> {
    /// Strength α ≥ 0 (the paper's 5–7); `Λᵢᵢ = −α(1 − ρᵢ)`.
    pub alpha: f64,
    /// Window length L, `1 ≤ L ≤ N` (the paper's 7–9; `N` is at most
    /// [`MAX_TIARA_N`](crate::limits::MAX_TIARA_N)).
    pub window_len: usize,
    /// Window shape (symmetric Blackman by default).
    pub window: TiaraWindow<'w>,
    /// Motion band.
    pub band: Band,
    /// `false`: the fixed variant `Λ = −αI` (ρ is not computed).
    pub adaptive: bool,
    /// Optional far-frame bias.
    pub far: Option<FarBias>,
    /// Probabilities or logits in; probabilities always come out.
    pub input: TiaraInput,
}

impl<'w> TiaraConfig<'w> {
    /// Adaptive TiARA with a symmetric Blackman window of `window_len` taps, probabilities in,
    /// no far-frame bias.
    ///
    /// ```
    /// use mlkern::stft::{Band, TiaraConfig};
    /// let cfg = TiaraConfig::new(5.0, 7, Band::Bins { phi1: 1, phi2: 3 });
    /// assert!(cfg.adaptive && cfg.far.is_none());
    /// ```
    pub fn new(alpha: f64, window_len: usize, band: Band) -> Self {
        TiaraConfig {
            alpha,
            window_len,
            window: TiaraWindow::Kind {
                kind: WindowKind::Blackman,
                periodic: false,
            },
            band,
            adaptive: true,
            far: None,
            input: TiaraInput::Probs,
        }
    }

    /// Sets the strength α ([`TiaraConfig::alpha`]).
    pub fn with_alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// Sets the window length L ([`TiaraConfig::window_len`]).
    pub fn with_window_len(mut self, window_len: usize) -> Self {
        self.window_len = window_len;
        self
    }

    /// Sets the motion band ([`TiaraConfig::band`]).
    pub fn with_band(mut self, band: Band) -> Self {
        self.band = band;
        self
    }

    /// Sets the window ψ ([`TiaraConfig::window`]).
    pub fn with_window(mut self, window: TiaraWindow<'w>) -> Self {
        self.window = window;
        self
    }

    /// Adaptive (ρ-driven) or the fixed variant `Λ = −αI` ([`TiaraConfig::adaptive`]).
    pub fn with_adaptive(mut self, adaptive: bool) -> Self {
        self.adaptive = adaptive;
        self
    }

    /// Sets or clears the far-frame bias ([`TiaraConfig::far`]).
    pub fn with_far(mut self, far: Option<FarBias>) -> Self {
        self.far = far;
        self
    }

    /// Probabilities or logits in ([`TiaraConfig::input`]).
    pub fn with_input(mut self, input: TiaraInput) -> Self {
        self.input = input;
        self
    }
}

/// Resolves the band for `n` frames.
fn bins(band: Band, n: usize) -> Result<(usize, usize)> {
    let (p1, p2) = match band {
        Band::Bins { phi1, phi2 } => (phi1, phi2),
        Band::Freq { f1, f2 } => {
            if !(f1.is_finite() && f2.is_finite() && 0.0 <= f1 && f1 < f2 && f2 <= 0.5) {
                return Err(invalid("band", "frequencies need 0 <= f1 < f2 <= 0.5"));
            }
            let conv = |f: f64| Float::floor(f * n as f64 + 0.5) as usize;
            (conv(f1), conv(f2))
        }
    };
    if p1 >= p2 || p2 > n / 2 + 1 {
        return Err(invalid(
            "band",
            "the band needs 0 <= phi1 < phi2 <= N/2 + 1 (normalized frequencies round to bins phi = floor(f*N + 1/2))",
        ));
    }
    Ok((p1, p2))
}

/// Scratch elements (of the matrix type) the core-tier functions need for `n × n` matrices:
/// the window and an `L × C` cosine/sine table, `L·(1 + C)` in all, where `C` is 16, 32 or 64
/// (the smallest ≥ 2φ2) or `2φ2` beyond 64.
///
/// # Errors
/// As [`tiara_into`] for the configuration (`N` at most [`MAX_TIARA_N`]);
/// [`Error::InvalidParameter`] if the size overflows.
///
/// ```
/// use mlkern::stft::{tiara_scratch_len, Band, TiaraConfig};
/// let cfg = TiaraConfig::new(5.0, 3, Band::Bins { phi1: 1, phi2: 3 });
/// assert_eq!(tiara_scratch_len(&cfg, 16)?, 3 * (1 + 2 * 3));
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn tiara_scratch_len(cfg: &TiaraConfig<'_>, n: usize) -> Result<usize> {
    let (_, p2) = check(cfg, n)?;
    scratch_need(cfg.window_len, p2)
}

fn check(cfg: &TiaraConfig<'_>, n: usize) -> Result<(usize, usize)> {
    if n == 0 {
        return Err(invalid("n", "matrices must be at least 1 x 1"));
    }
    crate::limits::check(n, MAX_TIARA_N, "n")?;
    if n.checked_mul(n).is_none() {
        return Err(invalid("n", "N*N overflows usize on this target"));
    }
    if !(cfg.alpha.is_finite() && cfg.alpha >= 0.0) {
        return Err(invalid("alpha", "must be finite and >= 0"));
    }
    if cfg.window_len == 0 || cfg.window_len > n {
        return Err(invalid("window_len", "must be in 1..=N (the frame count)"));
    }
    if let TiaraWindow::Custom(w) = cfg.window {
        if w.len() != cfg.window_len {
            return Err(invalid("window", "a custom window needs window_len taps"));
        }
        if let Some(index) = crate::simd::find_non_finite(w) {
            return Err(Error::NonFinite {
                what: "tiara: window",
                index,
            });
        }
    }
    if let Some(f) = cfg.far
        && (f.distance == 0 || !(f.beta.is_finite() && f.beta >= 0.0))
    {
        return Err(invalid(
            "far",
            "the far-frame bias needs distance >= 1 and a finite beta >= 0",
        ));
    }
    bins(cfg.band, n)
}

/// TiARA on a batch of `N × N` matrices (`[..., N, N]`, row-major) from `input` into `out`
/// (probabilities), allocation-free with [`Par::Seq`]; `scratch` holds [`tiara_scratch_len`]
/// elements (the window and the DFT table, shared read-only by every thread).
///
/// For each row `i` of each matrix (rows are independent):
/// 1. `p` = the row (probabilities) or its softmax (logits; `−∞` → 0).
/// 2. ρᵢ (adaptive only): `y_r = ψ_r·p[(i − ⌊L/2⌋ + r) mod N]` for `r < L` (the window centred
///    on the diagonal with periodic padding, A3), `X_k = Σ_r y_r e^(−2πi·kr/N)` for `k < φ2`
///    (an `N`-point DFT of the windowed row; the phase reference does not change `|X_k|`), and
///    `ρᵢ = Σ_{φ1≤k<φ2} |X_k|² / Σ_{k<φ2} |X_k|²` (0 when the window sees no mass, A7).
/// 3. `λᵢ = −α(1 − ρᵢ)` (fixed variant: `λᵢ = −α`).
/// 4. `outᵢⱼ = pᵢⱼ·gᵢⱼ / Σⱼ pᵢⱼ·gᵢⱼ` with `gᵢᵢ = e^λᵢ`, `gᵢⱼ = e^(−β)` for far frames and 1
///    otherwise: exactly `softmax(logits + Λ)` (A2), computed in closed form so that fused
///    attention kernels that only expose probabilities can use it.
///
/// With α = 0 and no far bias the rows are only renormalized (identical up to rounding for rows
/// that sum to 1).
/// Cost `O(N·L·φ2)` per matrix; no FFT. With [`Par::threads`] (alloc + std) the matrices are
/// split over jobs (only the job list is allocated, plus a tap buffer per job for windows over
/// 64 taps); bit-identical for every `par`, and the first failing matrix in input order is
/// reported. Without `std` it runs sequentially.
///
/// # Errors
/// [`Error::TooLarge`] (`n`) for `N` above [`MAX_TIARA_N`] (2¹⁶);
/// [`Error::InvalidParameter`] for a bad configuration (see [`TiaraConfig`]), a data length
/// that is not a multiple of `N²`, mismatched `input`/`out` lengths,
/// negative probabilities, a row without mass, or an all-`−∞` logit row;
/// [`Error::ShapeMismatch`] (`"tiara: scratch"`) for a short scratch; [`Error::NonFinite`]
/// (flat index) for NaN/±Inf probabilities or NaN/+∞ logits. On error, `out` may be partly
/// written.
///
/// ```
/// use mlkern::Par;
/// use mlkern::stft::{tiara_into, tiara_scratch_len, Band, TiaraConfig};
/// let n = 4;
/// let mut m = Vec::new();
/// for i in 0..n { let mut r = vec![0.1; n]; r[i] = 0.7; m.extend(r); } // a 4×4 matrix
/// let cfg = TiaraConfig::new(5.0, 3, Band::Bins { phi1: 1, phi2: 3 });
/// let mut scratch = vec![0.0; tiara_scratch_len(&cfg, n)?];
/// let mut out = vec![0.0; m.len()];
/// tiara_into(&mut out, &m, n, &cfg, &mut scratch, Par::Seq)?;
/// assert!(out[0] < 0.7 && (out[..4].iter().sum::<f64>() - 1.0).abs() < 1e-12);
/// assert!((out[1] / out[2] - 1.0).abs() < 1e-12); // off-diagonal ratios kept
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn tiara_into<T: Real>(
    out: &mut [T],
    input: &[T],
    n: usize,
    cfg: &TiaraConfig<'_>,
    scratch: &mut [T],
    par: Par,
) -> Result<()> {
    let band = check(cfg, n)?;
    tiara_rho::check_len(n, input.len())?;
    let k = Kernel::new(cfg, n, band, scratch)?;
    if out.len() != input.len() {
        return Err(invalid(
            "output",
            "tiara: output must have the input's length",
        ));
    }
    run_split(&k, Some(input), out, par)
}

/// TiARA on a batch of `N × N` matrices (`[..., N, N]`) as a new vector of the same shape (the
/// owned form of [`tiara_into`]; alloc).
///
/// # Errors
/// As [`tiara_into`] (the configuration and the data length are checked before anything is
/// allocated; an empty input gives an empty output); [`Error::OutOfMemory`] (`scratch`, `input`)
/// if the buffers cannot be allocated.
///
/// ```
/// use mlkern::Par;
/// use mlkern::stft::{tiara, Band, TiaraConfig, TiaraInput};
/// let n = 8;
/// let logits: Vec<f32> = (0..2 * n * n).map(|j| ((j * 7) % 5) as f32 * 0.3).collect();
/// let cfg = TiaraConfig::new(6.0, 5, Band::Bins { phi1: 1, phi2: 4 }).with_input(TiaraInput::Logits);
/// let p = tiara(&logits, n, &cfg, Par::threads(2))?; // two 8×8 matrices
/// assert_eq!(p.len(), 2 * n * n);
/// assert!(p.chunks(n).all(|row| (row.iter().sum::<f32>() - 1.0).abs() < 1e-5));
/// # Ok::<(), mlkern::Error>(())
/// ```
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub fn tiara<T: Real>(
    input: &[T],
    n: usize,
    cfg: &TiaraConfig<'_>,
    par: Par,
) -> Result<alloc::vec::Vec<T>> {
    let need = tiara_scratch_len(cfg, n)?;
    tiara_rho::check_len(n, input.len())?;
    if input.is_empty() {
        // No matrix: nothing to edit, and no table to build for a size no data backs.
        return Ok(alloc::vec::Vec::new());
    }
    let mut scratch = crate::base::zeros(need, "scratch")?;
    let k = Kernel::new(cfg, n, check(cfg, n)?, &mut scratch)?;
    let mut out = crate::base::zeros(input.len(), "input")?;
    run_split(&k, Some(input), &mut out, par)?;
    Ok(out)
}

/// Runs the kernel on every matrix of `out` (from `input`, or in place), split over the jobs of
/// `par` (sequential without `std`, or for one job).
fn run_split<T: Real>(
    k: &Kernel<'_, T>,
    input: Option<&[T]>,
    out: &mut [T],
    par: Par,
) -> Result<()> {
    #[cfg(feature = "alloc")]
    {
        let nn = k.n * k.n;
        let mats = out.len() / nn;
        let jobs = crate::jobs::job_count(mats, par);
        if jobs > 1 {
            let chunk = mats.div_ceil(jobs) * nn;
            let mut results: alloc::vec::Vec<Result<()>> =
                alloc::vec![Ok(()); out.len().div_ceil(chunk)];
            let work: alloc::vec::Vec<_> = out
                .chunks_mut(chunk)
                .zip(results.iter_mut())
                .enumerate()
                .collect();
            crate::jobs::run_jobs(work, |(c, (dst, res))| {
                let base = c * chunk;
                let src = input.map(|s| &s[base..base + dst.len()]);
                *res = k.run(src, dst, base);
            });
            return results.into_iter().collect();
        }
    }
    let _ = par;
    k.run(input, out, 0)
}

/// ρᵢ for every row of a batch of `N × N` probability matrices (`[..., N, N]`) into `rho`
/// (`[..., N]`): the motion intensity step of [`tiara_into`] alone, for diagnostics and tuning
/// of the band. `cfg.alpha` and `cfg.adaptive` are ignored; `cfg.input` must be
/// [`TiaraInput::Probs`] (softmax logits first).
///
/// # Errors
/// As [`tiara_into`]; [`Error::InvalidParameter`] for logits input or a wrong `rho` length.
///
/// ```
/// use mlkern::stft::{motion_intensity, tiara_scratch_len, Band, TiaraConfig};
/// let n = 8;
/// let mut eye = vec![0.0f64; n * n];
/// for i in 0..n { eye[i * n + i] = 1.0; }
/// let cfg = TiaraConfig::new(5.0, 5, Band::Bins { phi1: 1, phi2: 4 });
/// let mut rho = vec![0.0; n];
/// motion_intensity(&mut rho, &eye, n, &cfg, &mut vec![0.0; tiara_scratch_len(&cfg, n)?])?;
/// assert!(rho.iter().all(|r| (r - 0.75).abs() < 1e-12)); // a delta row: (φ2 − φ1)/φ2
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn motion_intensity<T: Real>(
    rho: &mut [T],
    input: &[T],
    n: usize,
    cfg: &TiaraConfig<'_>,
    scratch: &mut [T],
) -> Result<()> {
    if cfg.input != TiaraInput::Probs {
        return Err(invalid(
            "input",
            "motion_intensity takes probabilities (softmax the logits first)",
        ));
    }
    let band = check(cfg, n)?;
    tiara_rho::check_len(n, input.len())?;
    let k = Kernel::new(cfg, n, band, scratch)?;
    if rho.len() * n != input.len() {
        return Err(invalid("rho", "rho needs one value per row ([..., N])"));
    }
    k.rhos(input, rho)
}

/// [`tiara_into`] in place.
///
/// # Errors
/// As [`tiara_into`]; on error, `data` may be partly edited.
///
/// ```
/// use mlkern::Par;
/// use mlkern::stft::{tiara_in_place, tiara_scratch_len, Band, TiaraConfig};
/// let n = 3;
/// let mut m = vec![1.0 / 3.0; n * n];
/// let cfg = TiaraConfig::new(2.0, 3, Band::Bins { phi1: 1, phi2: 2 }).with_adaptive(false);
/// let mut scratch = vec![0.0; tiara_scratch_len(&cfg, n)?];
/// tiara_in_place(&mut m, n, &cfg, &mut scratch, Par::Seq)?;
/// let e = (-2.0f64).exp(); // fixed variant: the diagonal weighs e^(−α)
/// assert!((m[0] - e / (e + 2.0)).abs() < 1e-12);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn tiara_in_place<T: Real>(
    data: &mut [T],
    n: usize,
    cfg: &TiaraConfig<'_>,
    scratch: &mut [T],
    par: Par,
) -> Result<()> {
    let band = check(cfg, n)?;
    tiara_rho::check_len(n, data.len())?;
    let k = Kernel::new(cfg, n, band, scratch)?;
    run_split(&k, None, data, par)
}
