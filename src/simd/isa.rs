//! [`Isa`]: which instruction set the kernels run on, detected or chosen explicitly.

use pulp::{Simd, WithSimd};

/// An instruction-set level the SIMD kernels can run on.
///
/// [`Isa::detect`] picks the widest level this CPU supports (on x86-64: AVX-512 "x86-v4", then
/// AVX2+FMA "x86-v3", then portable scalar code); [`Isa::scalar`], [`Isa::x86_v3`] and
/// [`Isa::x86_v4`] pin a level so that tests and benchmarks can compare them, and
/// [`Isa::supported`] lists every level that runs here. Detection needs no `std`: pulp reads CPUID
/// on x86 (compile-time target features elsewhere) and caches the answer, so `detect` is cheap
/// enough to call on every kernel invocation, which is what the free functions in
/// [`crate::simd`] do.
///
/// Every primitive is a method: `isa.sum(x)` runs [`crate::simd::sum`] at that level.
///
/// ```
/// use mlkern::simd::Isa;
/// for isa in Isa::supported() {
///     assert_eq!(isa.sum(&[1.0f32, 2.0, 3.0]), 6.0, "{}", isa.name());
/// }
/// assert_eq!(Isa::scalar().name(), "scalar");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Isa(Level);

#[derive(Clone, Copy, Debug)]
enum Level {
    /// Whatever `pulp::Arch::new()` found (non-x86 targets; on x86 `detect` resolves it to the
    /// variants below).
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
    Arch(pulp::Arch),
    /// Portable code, one element per "register".
    Scalar,
    /// AVX2 + FMA (x86-64-v3).
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    V3(pulp::x86::V3),
    /// AVX-512 F/BW/CD/DQ/VL (x86-64-v4).
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    V4(pulp::x86::V4),
}

impl Isa {
    /// The widest level this CPU supports (cheap: pulp caches the CPU feature query).
    ///
    /// ```
    /// let isa = mlkern::simd::Isa::detect();
    /// assert!(mlkern::simd::Isa::supported().any(|i| i.name() == isa.name()));
    /// ```
    #[inline]
    pub fn detect() -> Isa {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        {
            match pulp::Arch::new() {
                pulp::Arch::V4(v4) => Isa(Level::V4(v4)),
                pulp::Arch::V3(v3) => Isa(Level::V3(v3)),
                _ => Isa(Level::Scalar),
            }
        }
        #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
        {
            Isa(Level::Arch(pulp::Arch::new()))
        }
    }

    /// Portable scalar code: always available, one lane at a time, same results as the SIMD
    /// levels for the element-wise kernels (`exp`, `scale`, `axpy`, `softmax`'s exponentials).
    ///
    /// ```
    /// assert_eq!(mlkern::simd::Isa::scalar().name(), "scalar");
    /// ```
    #[inline]
    pub fn scalar() -> Isa {
        Isa(Level::Scalar)
    }

    /// AVX2 + FMA ("x86-64-v3"), if this CPU has it; always `None` on non-x86 targets.
    ///
    /// ```
    /// if let Some(isa) = mlkern::simd::Isa::x86_v3() {
    ///     assert_eq!(isa.name(), "x86-v3");
    /// }
    /// ```
    #[inline]
    pub fn x86_v3() -> Option<Isa> {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        {
            pulp::x86::V3::try_new().map(|v| Isa(Level::V3(v)))
        }
        #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
        {
            None
        }
    }

    /// AVX-512 ("x86-64-v4"), if this CPU has it; always `None` on non-x86 targets.
    ///
    /// ```
    /// if let Some(isa) = mlkern::simd::Isa::x86_v4() {
    ///     assert_eq!(isa.name(), "x86-v4");
    /// }
    /// ```
    #[inline]
    pub fn x86_v4() -> Option<Isa> {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        {
            pulp::x86::V4::try_new().map(|v| Isa(Level::V4(v)))
        }
        #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
        {
            None
        }
    }

    /// A short name: `"scalar"`, `"x86-v3"`, `"x86-v4"`, or on other targets `"aarch64-neon"`,
    /// `"wasm-simd128"`, `"simd"` for a detected SIMD level.
    ///
    /// ```
    /// assert_eq!(mlkern::simd::Isa::scalar().name(), "scalar");
    /// ```
    pub fn name(&self) -> &'static str {
        match self.0 {
            #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
            Level::Arch(arch) => {
                if matches!(arch, pulp::Arch::Scalar) {
                    "scalar"
                } else if cfg!(target_arch = "aarch64") {
                    "aarch64-neon"
                } else if cfg!(target_arch = "wasm32") {
                    "wasm-simd128"
                } else {
                    "simd"
                }
            }
            Level::Scalar => "scalar",
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            Level::V3(_) => "x86-v3",
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            Level::V4(_) => "x86-v4",
        }
    }

    /// Every level that runs on this CPU, narrowest first: `scalar`, then (x86) `x86-v3` and
    /// `x86-v4` where supported, or (other targets) the detected SIMD level if it is not scalar.
    ///
    /// ```
    /// let names: Vec<&str> = mlkern::simd::Isa::supported().map(|i| i.name()).collect();
    /// assert_eq!(names[0], "scalar");
    /// ```
    pub fn supported() -> impl Iterator<Item = Isa> {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        let levels = [Some(Isa::scalar()), Isa::x86_v3(), Isa::x86_v4()];
        #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
        let levels = {
            let arch = pulp::Arch::new();
            let simd = if matches!(arch, pulp::Arch::Scalar) {
                None
            } else {
                Some(Isa(Level::Arch(arch)))
            };
            [Some(Isa::scalar()), simd]
        };
        levels.into_iter().flatten()
    }

    /// Runs `op` at this level.
    #[inline(always)]
    pub(crate) fn dispatch<Op: WithSimd>(self, op: Op) -> Op::Output {
        match self.0 {
            #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
            Level::Arch(arch) => arch.dispatch(op),
            Level::Scalar => Simd::vectorize(pulp::Scalar::new(), op),
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            Level::V3(v3) => Simd::vectorize(v3, op),
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            Level::V4(v4) => Simd::vectorize(v4, op),
        }
    }
}

impl Default for Isa {
    /// [`Isa::detect`].
    fn default() -> Self {
        Isa::detect()
    }
}
