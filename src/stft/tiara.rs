//! TiARA: STFT-driven reweighting of temporal-attention matrices (Li, Zhang, Pan, et al.,
//! arXiv 2412.17254), reconstructed as in `shared/reference/tiara_stft.md` §1.7.

use num_traits::Float;

use super::window::{WindowKind, window};
use crate::Real;
use crate::error::{Error, Result};

/// The motion band `[φ1, φ2)` of ρ (assumption A6).
#[derive(Clone, Copy, Debug, PartialEq)]
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
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TiaraConfig<'w> {
    /// Strength α ≥ 0 (the paper's 5–7); `Λᵢᵢ = −α(1 − ρᵢ)`.
    pub alpha: f64,
    /// Window length L, `1 ≤ L ≤ N` (the paper's 7–9).
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
}

fn invalid(name: &'static str, reason: &'static str) -> Error {
    Error::InvalidParameter { name, reason }
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
/// the window and the `φ2 × L` cosine/sine table, `L·(1 + 2φ2)` in all.
///
/// # Errors
/// As [`tiara`] for the configuration.
pub fn tiara_scratch_len(cfg: &TiaraConfig<'_>, n: usize) -> Result<usize> {
    let (_, p2) = check(cfg, n)?;
    Ok(cfg.window_len * (1 + 2 * p2))
}

fn check(cfg: &TiaraConfig<'_>, n: usize) -> Result<(usize, usize)> {
    if n == 0 {
        return Err(invalid("n", "matrices must be at least 1 x 1"));
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

/// The validated plan on a borrowed table.
struct Kernel<'s, T> {
    n: usize,
    alpha: T,
    adaptive: bool,
    far: Option<(usize, T)>,
    logits: bool,
    l: usize,
    /// ⌊L/2⌋.
    half: usize,
    phi1: usize,
    phi2: usize,
    taps: &'s [T],
    /// `[r][2k + {0, 1}] = (cos, sin)(2π·k·r/N)` for `r < L`, `k < φ2`.
    table: &'s [T],
}

impl<'s, T: Real> Kernel<'s, T> {
    fn new(cfg: &TiaraConfig<'_>, n: usize, scratch: &'s mut [T]) -> Result<Self> {
        let (phi1, phi2) = check(cfg, n)?;
        let l = cfg.window_len;
        let need = l * (1 + 2 * phi2);
        if scratch.len() < need {
            return Err(invalid(
                "scratch",
                "scratch is shorter than tiara_scratch_len()",
            ));
        }
        let (taps, rest) = scratch.split_at_mut(l);
        let table = &mut rest[..2 * phi2 * l];
        match cfg.window {
            TiaraWindow::Kind { kind, periodic } => window(kind, periodic, taps),
            TiaraWindow::Custom(w) => {
                for (t, &v) in taps.iter_mut().zip(w) {
                    *t = T::from_f64(v);
                }
            }
        }
        for r in 0..l {
            for k in 0..phi2 {
                let a = 2.0 * core::f64::consts::PI * ((k * r) % n) as f64 / n as f64;
                table[r * 2 * phi2 + 2 * k] = T::from_f64(Float::cos(a));
                table[r * 2 * phi2 + 2 * k + 1] = T::from_f64(Float::sin(a));
            }
        }
        Ok(Kernel {
            n,
            alpha: T::from_f64(cfg.alpha),
            adaptive: cfg.adaptive,
            far: cfg
                .far
                .map(|f| (f.distance, T::from_f64(Float::exp(-f.beta)))),
            logits: cfg.input == TiaraInput::Logits,
            l,
            half: l / 2,
            phi1,
            phi2,
            taps,
            table,
        })
    }

    /// ρ of row `i` holding non-negative weights `p` (any positive scale).
    #[inline(always)]
    fn rho(&self, p: &[T], i: usize) -> T {
        const MAX_ACC: usize = 2 * 33;
        let c2 = 2 * self.phi2;
        let n = self.n;
        let mut acc = [T::zero(); MAX_ACC];
        if c2 <= MAX_ACC {
            let acc = &mut acc[..c2];
            let mut j = (i + n - self.half % n) % n;
            for r in 0..self.l {
                let y = self.taps[r] * p[j];
                let row = &self.table[r * c2..(r + 1) * c2];
                for (a, &c) in acc.iter_mut().zip(row) {
                    *a = *a + y * c;
                }
                j += 1;
                if j == n {
                    j = 0;
                }
            }
            return band_ratio(acc, self.phi1);
        }
        // Wide bands (φ2 > 33): one bin at a time, with the squares scaled by the largest
        // |y| (|X_k| ≤ L·max|y|), for the same reason as in `band_ratio`.
        let mut j = (i + n - self.half % n) % n;
        let mut top = T::zero();
        for r in 0..self.l {
            top = top.max((self.taps[r] * p[j]).abs());
            j += 1;
            if j == n {
                j = 0;
            }
        }
        if top == T::zero() {
            return T::zero();
        }
        let inv = T::one() / top;
        let (mut lo, mut all) = (T::zero(), T::zero());
        for k in 0..self.phi2 {
            let (mut re, mut im) = (T::zero(), T::zero());
            let mut j = (i + n - self.half % n) % n;
            for r in 0..self.l {
                let y = self.taps[r] * p[j] * inv;
                re = re + y * self.table[r * c2 + 2 * k];
                im = im + y * self.table[r * c2 + 2 * k + 1];
                j += 1;
                if j == n {
                    j = 0;
                }
            }
            let e = re * re + im * im;
            all = all + e;
            if k < self.phi1 {
                lo = lo + e;
            }
        }
        ratio(all - lo, all)
    }

    /// Edits one row in place. `row` holds probabilities (or, for logits input, is replaced by
    /// `e^(l − max)` first). `base` is the row's flat index for error messages.
    #[inline(always)]
    fn row(&self, row: &mut [T], i: usize, base: usize) -> Result<()> {
        if self.logits {
            let mut m = T::neg_infinity();
            for (j, &v) in row.iter().enumerate() {
                if v.is_nan() || v == T::infinity() {
                    return Err(Error::NonFinite {
                        what: "tiara: logits (NaN or +Inf)",
                        index: base + j,
                    });
                }
                m = m.max(v);
            }
            if m == T::neg_infinity() {
                return Err(invalid(
                    "input",
                    "tiara: a logit row is entirely -inf (no key to attend to)",
                ));
            }
            for v in row.iter_mut() {
                *v = (*v - m).exp();
            }
        } else {
            for (j, &v) in row.iter().enumerate() {
                if !v.is_finite() {
                    return Err(Error::NonFinite {
                        what: "tiara: probabilities",
                        index: base + j,
                    });
                }
                if v < T::zero() {
                    return Err(invalid("input", "tiara: probabilities must be >= 0"));
                }
            }
        }
        let rho = if self.adaptive && self.alpha != T::zero() {
            self.rho(row, i)
        } else {
            T::zero()
        };
        let g = (-self.alpha * (T::one() - rho)).exp();
        let d = row[i];
        let off = match self.far {
            None => sum(&row[..i]) + sum(&row[i + 1..]),
            Some((dist, eb)) => {
                let mut s = T::zero();
                for (j, v) in row.iter_mut().enumerate() {
                    if j != i && i.abs_diff(j) >= dist {
                        *v = *v * eb;
                    }
                    if j != i {
                        s = s + *v;
                    }
                }
                s
            }
        };
        let dg = d * g;
        let total = off + dg;
        if off == T::zero() {
            if d == T::zero() {
                return Err(invalid("input", "tiara: a probability row sums to 0"));
            }
            // Only the diagonal has mass: softmax keeps it at 1 whatever the bias.
            row.fill(T::zero());
            row[i] = T::one();
            return Ok(());
        }
        let inv = T::one() / total;
        for v in row.iter_mut() {
            *v = *v * inv;
        }
        row[i] = dg * inv;
        Ok(())
    }

    fn matrix(&self, m: &mut [T], base: usize) -> Result<()> {
        for (i, row) in m.chunks_exact_mut(self.n).enumerate() {
            self.row(row, i, base + i * self.n)?;
        }
        Ok(())
    }

    fn check_len(&self, len: usize) -> Result<()> {
        if len % (self.n * self.n) != 0 {
            return Err(invalid(
                "input",
                "tiara: the data length must be a multiple of N*N ([..., N, N] matrices)",
            ));
        }
        Ok(())
    }
}

#[inline(always)]
fn sum<T: Real>(x: &[T]) -> T {
    x.iter().fold(T::zero(), |a, &b| a + b)
}

/// `Σ_{φ1≤k} |X_k|² / Σ_k |X_k|²` from interleaved `(re, im)` accumulators, scaled by their
/// largest magnitude first so that the squares neither underflow (rows of tiny probabilities)
/// nor overflow.
#[inline(always)]
fn band_ratio<T: Real>(acc: &[T], phi1: usize) -> T {
    let top = acc.iter().fold(T::zero(), |m, &v| m.max(v.abs()));
    if top == T::zero() {
        return T::zero();
    }
    let inv = T::one() / top;
    let (mut lo, mut all) = (T::zero(), T::zero());
    for (k, z) in acc.chunks_exact(2).enumerate() {
        let (re, im) = (z[0] * inv, z[1] * inv);
        let e = re * re + im * im;
        all = all + e;
        if k < phi1 {
            lo = lo + e;
        }
    }
    ratio(all - lo, all)
}

/// `hi / all`, 0 when `all` is 0 (A7), clamped to `[0, 1]` against rounding.
#[inline(always)]
fn ratio<T: Real>(hi: T, all: T) -> T {
    if all > T::zero() {
        (hi / all).max(T::zero()).min(T::one())
    } else {
        T::zero()
    }
}

/// TiARA on a batch of `N × N` matrices (`[..., N, N]`, row-major) from `input` into `output`
/// (probabilities), allocation-free; `scratch` holds [`tiara_scratch_len`] elements.
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
/// Cost `O(N·L·φ2)` per matrix; no allocation; no FFT.
///
/// # Errors
/// [`Error::InvalidParameter`] for a bad configuration (see [`TiaraConfig`]), a data length
/// that is not a multiple of `N²`, mismatched `input`/`output` lengths, a short scratch,
/// negative probabilities, a row without mass, or an all-`−∞` logit row; [`Error::NonFinite`]
/// (flat index) for NaN/±Inf probabilities or NaN/+∞ logits. On error, `output` may be partly
/// written.
///
/// ```
/// use mlkern::stft::{tiara, tiara_scratch_len, Band, TiaraConfig};
/// let n = 4;
/// let p = [0.7f64, 0.1, 0.1, 0.1].repeat(1); // one row …
/// let mut m = Vec::new();
/// for i in 0..n { let mut r = vec![0.1; n]; r[i] = 0.7; m.extend(r); } // … a 4×4 matrix
/// let cfg = TiaraConfig::new(5.0, 3, Band::Bins { phi1: 1, phi2: 3 });
/// let mut scratch = vec![0.0; tiara_scratch_len(&cfg, n)?];
/// let mut out = vec![0.0; m.len()];
/// tiara(&cfg, &m, &mut out, n, &mut scratch)?;
/// assert!(out[0] < 0.7 && (out[..4].iter().sum::<f64>() - 1.0).abs() < 1e-12);
/// assert!((out[1] / out[2] - 1.0).abs() < 1e-12); // off-diagonal ratios kept
/// # let _ = p;
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn tiara<T: Real>(
    cfg: &TiaraConfig<'_>,
    input: &[T],
    output: &mut [T],
    n: usize,
    scratch: &mut [T],
) -> Result<()> {
    let k = Kernel::new(cfg, n, scratch)?;
    k.check_len(input.len())?;
    if output.len() != input.len() {
        return Err(invalid(
            "output",
            "tiara: output must have the input's length",
        ));
    }
    let nn = n * n;
    for (c, (src, dst)) in input
        .chunks_exact(nn)
        .zip(output.chunks_exact_mut(nn))
        .enumerate()
    {
        dst.copy_from_slice(src);
        k.matrix(dst, c * nn)?;
    }
    Ok(())
}

/// ρᵢ for every row of a batch of `N × N` probability matrices (`[..., N, N]`) into `rho`
/// (`[..., N]`): the motion intensity step of [`tiara`] alone, for diagnostics and tuning of
/// the band. `cfg.alpha` and `cfg.adaptive` are ignored; `cfg.input` must be
/// [`TiaraInput::Probs`] (softmax logits first).
///
/// # Errors
/// As [`tiara`]; [`Error::InvalidParameter`] for logits input or a wrong `rho` length.
///
/// ```
/// use mlkern::stft::{motion_intensity, tiara_scratch_len, Band, TiaraConfig};
/// let n = 8;
/// let mut eye = vec![0.0f64; n * n];
/// for i in 0..n { eye[i * n + i] = 1.0; }
/// let cfg = TiaraConfig::new(5.0, 5, Band::Bins { phi1: 1, phi2: 4 });
/// let mut rho = vec![0.0; n];
/// motion_intensity(&cfg, &eye, n, &mut rho, &mut vec![0.0; tiara_scratch_len(&cfg, n)?])?;
/// assert!(rho.iter().all(|r| (r - 0.75).abs() < 1e-12)); // a delta row: (φ2 − φ1)/φ2
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn motion_intensity<T: Real>(
    cfg: &TiaraConfig<'_>,
    input: &[T],
    n: usize,
    rho: &mut [T],
    scratch: &mut [T],
) -> Result<()> {
    if cfg.input != TiaraInput::Probs {
        return Err(invalid(
            "input",
            "motion_intensity takes probabilities (softmax the logits first)",
        ));
    }
    let k = Kernel::new(cfg, n, scratch)?;
    k.check_len(input.len())?;
    if rho.len() * n != input.len() {
        return Err(invalid("rho", "rho needs one value per row ([..., N])"));
    }
    for (r, (row, out)) in input.chunks_exact(n).zip(rho.iter_mut()).enumerate() {
        let base = r * n;
        for (j, &v) in row.iter().enumerate() {
            if !v.is_finite() {
                return Err(Error::NonFinite {
                    what: "tiara: probabilities",
                    index: base + j,
                });
            }
            if v < T::zero() {
                return Err(invalid("input", "tiara: probabilities must be >= 0"));
            }
        }
        *out = k.rho(row, r % n);
    }
    Ok(())
}

/// [`tiara`] in place.
///
/// # Errors
/// As [`tiara`]; on error, `data` may be partly edited.
pub fn tiara_in_place<T: Real>(
    cfg: &TiaraConfig<'_>,
    data: &mut [T],
    n: usize,
    scratch: &mut [T],
) -> Result<()> {
    let k = Kernel::new(cfg, n, scratch)?;
    k.check_len(data.len())?;
    for (c, m) in data.chunks_exact_mut(n * n).enumerate() {
        k.matrix(m, c * n * n)?;
    }
    Ok(())
}

/// [`tiara`] with the matrices split over `threads` threads (std); allocates the small table
/// once per job. Results are bit-identical to [`tiara`]'s. On error, the first failing
/// matrix in input order is reported.
///
/// # Errors
/// As [`tiara`] (without the scratch).
#[cfg(feature = "std")]
pub fn tiara_par<T: Real>(
    cfg: &TiaraConfig<'_>,
    input: &[T],
    output: &mut [T],
    n: usize,
    threads: usize,
) -> Result<()> {
    let need = tiara_scratch_len(cfg, n)?;
    let nn = n * n;
    if input.len() % nn != 0 {
        return Err(invalid(
            "input",
            "tiara: the data length must be a multiple of N*N ([..., N, N] matrices)",
        ));
    }
    if output.len() != input.len() {
        return Err(invalid(
            "output",
            "tiara: output must have the input's length",
        ));
    }
    let mats = input.len() / nn;
    if mats == 0 {
        return Ok(());
    }
    let groups = crate::par::job_count(mats, threads);
    let chunk = mats.div_ceil(groups) * nn;
    let mut results: alloc::vec::Vec<Result<()>> = alloc::vec![Ok(()); mats.div_ceil(chunk / nn)];
    let jobs: alloc::vec::Vec<_> = input
        .chunks(chunk)
        .zip(output.chunks_mut(chunk))
        .zip(results.iter_mut())
        .enumerate()
        .collect();
    crate::par::run_jobs(jobs, |(c, ((src, dst), res))| {
        let mut scratch = alloc::vec![T::zero(); need];
        *res = Kernel::new(cfg, n, &mut scratch).and_then(|k| {
            for (m, (s, d)) in src
                .chunks_exact(nn)
                .zip(dst.chunks_exact_mut(nn))
                .enumerate()
            {
                d.copy_from_slice(s);
                k.matrix(d, c * chunk + m * nn)?;
            }
            Ok(())
        });
    });
    results.into_iter().collect()
}
