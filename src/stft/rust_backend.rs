//! The rustfft backend (std): plans per concrete float type behind a sealed trait, so that the
//! crate's `Real` does not inherit rustfft's `FftNum` supertraits (whose `FromPrimitive` would
//! shadow `Real::from_f64`).

use std::sync::Arc;

use num_complex::Complex;

use super::fft::Direction;

/// A rustfft plan of either precision.
#[derive(Clone)]
pub enum RustPlan {
    /// `f32`.
    F32(Arc<dyn rustfft::Fft<f32>>),
    /// `f64`.
    F64(Arc<dyn rustfft::Fft<f64>>),
}

impl RustPlan {
    /// rustfft's in-place scratch requirement.
    pub fn scratch_len(&self) -> usize {
        match self {
            RustPlan::F32(p) => p.get_inplace_scratch_len(),
            RustPlan::F64(p) => p.get_inplace_scratch_len(),
        }
    }
}

/// The complex values a rustfft plan of `n` points may take at most, an estimate from its
/// algorithms: mixed-radix twiddles below `2n`, and for a prime factor `p` above 31 a Rader or
/// Bluestein sub-plan (an inner transform of `m < 4p` points with about `m` twiddles, the
/// `m`-point chirp multiplier and `p` more twiddles: below `9p`) counted as `10p`.
/// `n ≤ MAX_FFT_LEN`, so nothing overflows.
fn plan_values(n: usize) -> usize {
    let mut rest = n;
    let mut largest = 1;
    let mut p = 2;
    while p * p <= rest {
        while rest.is_multiple_of(p) {
            largest = p;
            rest /= p;
        }
        p += 1;
    }
    if rest > 1 {
        largest = largest.max(rest);
    }
    let sub = if largest > 31 { 10 * largest } else { 0 };
    2 * n + sub
}

/// rustfft allocates its plans infallibly, so before planning `n` points the bytes the plan may
/// take ([`plan_values`]) are reserved once, fallibly, and released: a machine that cannot give
/// them gets [`Error::OutOfMemory`](crate::Error::OutOfMemory) naming `name` instead of an
/// abort inside rustfft (and the single largest request rustfft then makes is smaller).
pub(crate) fn probe<T>(n: usize, name: &'static str) -> crate::Result<()> {
    let probe: alloc::vec::Vec<Complex<T>> = crate::base::try_vec(plan_values(n), name)?;
    drop(probe);
    Ok(())
}

/// Planning and running rustfft for one float type (implemented for `f32` and `f64`).
pub trait RustFftScalar: Sized {
    /// Plans a transform of length `n`.
    fn plan(n: usize, direction: Direction) -> RustPlan;
    /// Runs `plan` on `buf` (a multiple of its length) with enough scratch.
    fn run(plan: &RustPlan, buf: &mut [Complex<Self>], scratch: &mut [Complex<Self>]);
}

macro_rules! rust_fft_scalar {
    ($t:ty, $variant:ident) => {
        impl RustFftScalar for $t {
            fn plan(n: usize, direction: Direction) -> RustPlan {
                let mut planner = rustfft::FftPlanner::<$t>::new();
                RustPlan::$variant(match direction {
                    Direction::Forward => planner.plan_fft_forward(n),
                    Direction::Inverse => planner.plan_fft_inverse(n),
                })
            }
            fn run(plan: &RustPlan, buf: &mut [Complex<Self>], scratch: &mut [Complex<Self>]) {
                if let RustPlan::$variant(p) = plan {
                    let need = p.get_inplace_scratch_len();
                    p.process_with_scratch(buf, &mut scratch[..need]);
                }
            }
        }
    };
}

rust_fft_scalar!(f32, F32);
rust_fft_scalar!(f64, F64);
