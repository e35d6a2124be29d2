//! The GPU backend (feature `cublas`).
//!
//! The cuBLAS hot path for Newton–Schulz and the spectral Gram products lands with the GPU issue.
//! Until then — and in every build without the `cublas` feature, or on a machine without a CUDA
//! driver — [`Device::open`] returns [`Error::BackendUnavailable`], so user code can probe for a
//! GPU without any `cfg`.

use crate::Error;

/// A handle to a GPU device with a cuBLAS context.
#[derive(Debug)]
pub struct Device {
    _private: (),
}

impl Device {
    /// Opens GPU `ordinal`.
    ///
    /// # Errors
    /// [`Error::BackendUnavailable`] when this build has no GPU backend or no device is present.
    ///
    /// ```
    /// // Without a GPU backend, probing is an error, never a panic.
    /// assert!(mlkern::gpu::Device::open(0).is_err());
    /// ```
    pub fn open(ordinal: usize) -> Result<Device, Error> {
        let _ = ordinal;
        Err(Error::BackendUnavailable {
            backend: "cublas",
            reason: if cfg!(feature = "cublas") {
                "the cuBLAS backend is not implemented in this version yet"
            } else {
                "mlkern was built without the `cublas` feature"
            },
        })
    }
}
