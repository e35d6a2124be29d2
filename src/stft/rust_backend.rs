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
