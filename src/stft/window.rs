//! Analysis windows: rectangular, Hann, Hamming, Blackman; periodic (torch's default) or
//! symmetric (scipy's `sym=True`).

use num_traits::Float;

use crate::Real;

/// A window shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WindowKind {
    /// All ones.
    Rect,
    /// `0.5 − 0.5·cos(2πj/D)`.
    Hann,
    /// `0.54 − 0.46·cos(2πj/D)`.
    Hamming,
    /// `0.42 − 0.5·cos(2πj/D) + 0.08·cos(4πj/D)`.
    Blackman,
}

impl WindowKind {
    /// The lower-case name (`"hann"`, …).
    ///
    /// ```
    /// assert_eq!(mlkern::stft::WindowKind::Blackman.name(), "blackman");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            WindowKind::Rect => "rect",
            WindowKind::Hann => "hann",
            WindowKind::Hamming => "hamming",
            WindowKind::Blackman => "blackman",
        }
    }
}

/// Fills `out` with a window of length `out.len()`, evaluated in `f64` and rounded once.
///
/// The denominator `D` is `L` for a periodic window (torch's default: the first `L` points of
/// the symmetric window of length `L + 1`, the right choice for spectral analysis) and `L − 1`
/// for a symmetric one (scipy's `sym=True`). A window of length 1 is `[1]` either way, as in
/// torch; length 0 writes nothing.
///
/// ```
/// use mlkern::stft::{window, WindowKind};
/// let mut w = [0.0f64; 5];
/// window(WindowKind::Blackman, false, &mut w);
/// assert!(w[0].abs() < 1e-15 && (w[1] - 0.34).abs() < 1e-12 && (w[2] - 1.0).abs() < 1e-12);
/// let mut p = [0.0f64; 4];
/// window(WindowKind::Hann, true, &mut p); // periodic: [0, 0.5, 1, 0.5]
/// assert!(p.iter().zip([0.0, 0.5, 1.0, 0.5]).all(|(a, b)| (a - b).abs() < 1e-15));
/// ```
pub fn window<T: Real>(kind: WindowKind, periodic: bool, out: &mut [T]) {
    let l = out.len();
    if l <= 1 {
        out.fill(T::one());
        return;
    }
    let d = if periodic { l } else { l - 1 } as f64;
    let tau = 2.0 * core::f64::consts::PI;
    for (j, o) in out.iter_mut().enumerate() {
        let x = tau * j as f64 / d;
        let v = match kind {
            WindowKind::Rect => 1.0,
            WindowKind::Hann => 0.5 - 0.5 * Float::cos(x),
            WindowKind::Hamming => 0.54 - 0.46 * Float::cos(x),
            WindowKind::Blackman => 0.42 - 0.5 * Float::cos(x) + 0.08 * Float::cos(2.0 * x),
        };
        *o = T::from_f64(v);
    }
}
