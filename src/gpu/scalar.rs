//! The element types the GPU kernels store: f32 and bf16 (f32 accumulation for both).

use half::bf16;

/// Storage type of a device buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    /// IEEE single precision.
    F32,
    /// bfloat16: f32's exponent range, 8 significant bits.
    Bf16,
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for half::bf16 {}
}

/// An element type the GPU kernels accept: `f32` or [`bf16`]. Sealed.
pub trait GpuScalar:
    sealed::Sealed + super::imp::Storage + Copy + Default + core::fmt::Debug + 'static
{
    /// The storage type.
    const DTYPE: Dtype;
    /// Rounds an f32 to this type (round to nearest even).
    fn from_f32(x: f32) -> Self;
    /// Widens to f32 (exact).
    fn to_f32(self) -> f32;
}

impl GpuScalar for f32 {
    const DTYPE: Dtype = Dtype::F32;
    fn from_f32(x: f32) -> Self {
        x
    }
    fn to_f32(self) -> f32 {
        self
    }
}

impl GpuScalar for bf16 {
    const DTYPE: Dtype = Dtype::Bf16;
    fn from_f32(x: f32) -> Self {
        bf16::from_f32(x)
    }
    fn to_f32(self) -> f32 {
        bf16::to_f32(self)
    }
}
