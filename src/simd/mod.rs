//! TEMPORARY stub, replaced by the SIMD layer.
#![allow(missing_docs)]
pub trait Kernels {}
impl Kernels for f32 {}
impl Kernels for f64 {}
