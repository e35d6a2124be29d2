//! Information measures of one pair: plug-in mutual information from a contingency table,
//! Gaussian mutual information and information distances (core tier).

use num_traits::Float;

use crate::{Error, Result, Shape};

/// Bias correction of the plug-in mutual information.
///
/// ```
/// assert_eq!(mlkern::tree::Correction::default(), mlkern::tree::Correction::None);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Correction {
    /// The plug-in estimate.
    #[default]
    None,
    /// Miller–Madow: each plug-in entropy gets `(m − 1)/(2n)` with `m` its number of non-empty
    /// cells, so `I_MM = I + ((m_i − 1) + (m_j − 1) − (m_ij − 1))/(2n)`.
    MillerMadow,
}

/// The cap on information distances: `−ln(1e−300)`, which stands for "independent" (`ρ = 0`,
/// `det J = 0`) so that distance matrices stay finite.
pub const MAX_DISTANCE: f64 = 690.775527898213_7;

/// `x·ln x` for integer counts, tabulated up to `n` when `n` is small enough.
pub(crate) struct XLogX {
    #[cfg(feature = "alloc")]
    table: alloc::vec::Vec<f64>,
}

impl XLogX {
    pub(crate) fn new(n: usize) -> Self {
        #[cfg(feature = "alloc")]
        {
            // A table the allocator refuses is no error: every count is then computed.
            let table = if n <= 1 << 22 {
                crate::base::from_fn(n + 1, "xlogx", |c| xlogx(c as f64)).unwrap_or_default()
            } else {
                alloc::vec::Vec::new()
            };
            XLogX { table }
        }
        #[cfg(not(feature = "alloc"))]
        {
            let _ = n;
            XLogX {}
        }
    }

    #[inline]
    fn get(&self, c: u32) -> f64 {
        #[cfg(feature = "alloc")]
        if let Some(&v) = self.table.get(c as usize) {
            return v;
        }
        xlogx(c as f64)
    }
}

fn xlogx(x: f64) -> f64 {
    if x > 0.0 { x * x.ln() } else { 0.0 }
}

/// `I = (1/n)·(Σ n_ab ln n_ab − Σ n_a ln n_a − Σ n_b ln n_b + n ln n)`, plus the correction.
pub(crate) fn mi_from_counts(
    table: &[u32],
    row: &[u32],
    col: &[u32],
    n: usize,
    correction: Correction,
    xlx: &XLogX,
) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let joint: f64 = table.iter().map(|&c| xlx.get(c)).sum();
    let a: f64 = row.iter().map(|&c| xlx.get(c)).sum();
    let b: f64 = col.iter().map(|&c| xlx.get(c)).sum();
    let nf = n as f64;
    let mut mi = (joint - a - b + xlogx(nf)) / nf;
    if correction == Correction::MillerMadow {
        let nz = |s: &[u32]| s.iter().filter(|&&c| c > 0).count() as f64;
        mi += ((nz(row) - 1.0) + (nz(col) - 1.0) - (nz(table) - 1.0)) / (2.0 * nf);
    }
    // The plug-in value is ≥ 0 exactly; rounding can leave −1e−17.
    if correction == Correction::None {
        mi.max(0.0)
    } else {
        mi
    }
}

/// Plug-in mutual information in nats of a `ki×kj` table of counts (row-major):
/// `Î = Σ (n_ab/n)·ln(n_ab·n/(n_a·n_b))` with `0·ln 0 = 0`, optionally Miller–Madow corrected.
/// An all-zero table gives 0.
///
/// # Errors
/// [`Error::ShapeMismatch`] when `table.len() ≠ ki·kj`.
///
/// ```
/// use mlkern::tree::{mutual_information, Correction};
/// let mi = mutual_information(&[40, 10, 10, 40], 2, 2, Correction::None)?;
/// // ln 2 − H_b(0.2)
/// assert!((mi - 0.19274475702175753).abs() < 1e-15);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn mutual_information(
    table: &[u32],
    ki: usize,
    kj: usize,
    correction: Correction,
) -> Result<f64> {
    if ki.checked_mul(kj) != Some(table.len()) {
        return Err(Error::ShapeMismatch {
            what: "mutual_information: table",
            expected: Shape::d2(ki, kj),
            found: Shape::d1(table.len()),
        });
    }
    // Marginals on the stack for up to 256 states (u8 codes); larger tables fold them
    // row by row.
    let mut row = [0u64; 256];
    let mut col = [0u64; 256];
    if ki > 256 || kj > 256 {
        return Err(Error::InvalidParameter {
            name: "mutual_information: ki, kj",
            reason: "at most 256 states per variable",
        });
    }
    let mut n = 0u64;
    for a in 0..ki {
        for b in 0..kj {
            let c = table[a * kj + b];
            row[a] += u64::from(c);
            col[b] += u64::from(c);
            n += u64::from(c);
        }
    }
    if n > u32::MAX as u64 {
        return Err(Error::InvalidParameter {
            name: "mutual_information: table",
            reason: "the counts must total at most 2³² − 1",
        });
    }
    let xlx = XLogX::new(0);
    // n ≤ u32::MAX, so every marginal fits in u32.
    let row: [u32; 256] = core::array::from_fn(|a| row[a] as u32);
    let col: [u32; 256] = core::array::from_fn(|b| col[b] as u32);
    Ok(mi_from_counts(
        table,
        &row[..ki],
        &col[..kj],
        n as usize,
        correction,
        &xlx,
    ))
}

/// Gaussian mutual information `−½ ln(1 − ρ²)` in nats; `|ρ|` is clamped to `1 − 1e−12`
/// (so `ρ = ±1` gives 13.46 instead of ∞); NaN stays NaN.
///
/// ```
/// let i = mlkern::tree::gaussian_mi(0.6);
/// assert!((i + 0.5 * 0.64f64.ln()).abs() < 1e-15);
/// ```
pub fn gaussian_mi(rho: f64) -> f64 {
    if rho.is_nan() {
        return f64::NAN;
    }
    let r = rho.abs().min(1.0 - 1e-12);
    -0.5 * (-(r * r)).ln_1p()
}

/// Gaussian information distance `−ln|ρ|`, capped at [`MAX_DISTANCE`] (`ρ = 0`) and ≥ 0; NaN
/// stays NaN.
///
/// ```
/// assert!((mlkern::tree::gaussian_distance(-0.5) - 2f64.ln()).abs() < 1e-15);
/// assert_eq!(mlkern::tree::gaussian_distance(0.0), mlkern::tree::MAX_DISTANCE);
/// ```
pub fn gaussian_distance(rho: f64) -> f64 {
    if rho.is_nan() {
        return f64::NAN;
    }
    let r = rho.abs().min(1.0);
    if r <= 1e-300 { MAX_DISTANCE } else { -r.ln() }
}

/// Determinant-form information distance of a `k×k` table of counts:
/// `d = −ln|det J| + ½ ln det M_i + ½ ln det M_j`, `J = table/n`, `M = diag(marginal)`
/// (Choi et al. 2011). For a symmetric binary pair with correlation ρ it is `−ln|ρ|`. A singular
/// `J` or an empty state gives [`MAX_DISTANCE`].
///
/// # Errors
/// [`Error::ShapeMismatch`] when `table.len() ≠ k²`; [`Error::InvalidParameter`] for `k > 16`
/// (the determinant is computed on the stack) or an empty table.
///
/// ```
/// // ρ = 0.6 between two symmetric ±1 variables: J = [[1+ρ, 1−ρ], [1−ρ, 1+ρ]]/4.
/// let d = mlkern::tree::discrete_distance(&[160, 40, 40, 160], 2)?;
/// assert!((d + 0.6f64.ln()).abs() < 1e-14);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn discrete_distance(table: &[u32], k: usize) -> Result<f64> {
    if table.len() > 256 {
        return Err(Error::InvalidParameter {
            name: "discrete_distance: k",
            reason: "at most 16 states",
        });
    }
    let mut j = [0.0f64; 256];
    for (o, &c) in j.iter_mut().zip(table) {
        *o = c as f64;
    }
    discrete_distance_probs(&j[..table.len()], k)
}

/// [`discrete_distance`] of a joint table of non-negative weights (probabilities or counts;
/// normalised internally), e.g. an exact population joint distribution.
///
/// # Errors
/// As [`discrete_distance`], plus [`Error::NonFinite`] and [`Error::InvalidParameter`] for
/// negative entries.
///
/// ```
/// let d = mlkern::tree::discrete_distance_probs(&[0.4, 0.1, 0.1, 0.4], 2)?;
/// assert!((d + 0.6f64.ln()).abs() < 1e-14);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn discrete_distance_probs(table: &[f64], k: usize) -> Result<f64> {
    if k.checked_mul(k) != Some(table.len()) {
        return Err(Error::ShapeMismatch {
            what: "discrete_distance: table",
            expected: Shape::d2(k, k),
            found: Shape::d1(table.len()),
        });
    }
    if k > 16 {
        return Err(Error::InvalidParameter {
            name: "discrete_distance: k",
            reason: "at most 16 states",
        });
    }
    crate::simd::check_finite(table, "discrete_distance: table")?;
    if table.iter().any(|&v| v < 0.0) {
        return Err(Error::InvalidParameter {
            name: "discrete_distance: table",
            reason: "entries must be non-negative",
        });
    }
    let n: f64 = table.iter().sum();
    if n <= 0.0 {
        return Err(Error::InvalidParameter {
            name: "discrete_distance: table",
            reason: "the table has no mass",
        });
    }
    let mut j = [0.0f64; 256];
    let mut log_marg = 0.0;
    for a in 0..k {
        let (mut r, mut c) = (0.0, 0.0);
        for b in 0..k {
            j[a * k + b] = table[a * k + b] / n;
            r += table[a * k + b];
            c += table[b * k + a];
        }
        if r == 0.0 || c == 0.0 {
            return Ok(MAX_DISTANCE);
        }
        log_marg += 0.5 * (Float::ln(r / n) + Float::ln(c / n));
    }
    let log_det = log_abs_det(&mut j[..k * k], k);
    if log_det == f64::NEG_INFINITY {
        return Ok(MAX_DISTANCE);
    }
    Ok((log_marg - log_det).clamp(0.0, MAX_DISTANCE))
}

/// `ln|det A|` of a row-major `k×k` matrix by LU with partial pivoting (overwrites `a`);
/// `−∞` for a singular matrix.
pub(crate) fn log_abs_det(a: &mut [f64], k: usize) -> f64 {
    let mut acc = 0.0;
    for col in 0..k {
        let mut piv = col;
        for r in col + 1..k {
            if a[r * k + col].abs() > a[piv * k + col].abs() {
                piv = r;
            }
        }
        let pv = a[piv * k + col];
        if pv == 0.0 {
            return f64::NEG_INFINITY;
        }
        if piv != col {
            for c in 0..k {
                a.swap(piv * k + c, col * k + c);
            }
        }
        acc += Float::ln(Float::abs(pv));
        for r in col + 1..k {
            let f = a[r * k + col] / pv;
            for c in col + 1..k {
                a[r * k + c] -= f * a[col * k + c];
            }
        }
    }
    acc
}
