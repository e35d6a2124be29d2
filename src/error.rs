//! The crate's one error type.
//!
//! [`Error`] is a small `Copy` enum in the style of faer's `SvdError`: every variant carries enough
//! static context (which argument, which shapes, which index) for its [`Display`](core::fmt::Display)
//! output to say what was wrong without a heap allocation, so it works the same in `no_std` builds.

use core::fmt;

/// A tensor shape of up to four dimensions, stored inline so that [`Error`] stays `Copy`.
///
/// ```
/// use mlkern::Shape;
/// assert_eq!(Shape::d2(3, 4).to_string(), "3×4");
/// assert_eq!(Shape::d3(2, 3, 4).dims(), &[2, 3, 4]);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shape {
    dims: [usize; 4],
    ndim: u8,
}

impl Shape {
    /// A one-dimensional shape (a vector of length `n`).
    pub const fn d1(n: usize) -> Self {
        Self {
            dims: [n, 0, 0, 0],
            ndim: 1,
        }
    }
    /// A two-dimensional shape (`rows × cols`).
    pub const fn d2(rows: usize, cols: usize) -> Self {
        Self {
            dims: [rows, cols, 0, 0],
            ndim: 2,
        }
    }
    /// A three-dimensional shape (`batch × rows × cols`).
    pub const fn d3(batch: usize, rows: usize, cols: usize) -> Self {
        Self {
            dims: [batch, rows, cols, 0],
            ndim: 3,
        }
    }
    /// A shape from a slice of at most four dimensions; `None` for more.
    pub fn from_dims(dims: &[usize]) -> Option<Self> {
        if dims.len() > 4 {
            return None;
        }
        let mut out = [0usize; 4];
        out[..dims.len()].copy_from_slice(dims);
        Some(Self {
            dims: out,
            ndim: dims.len() as u8,
        })
    }
    /// The dimensions.
    pub fn dims(&self) -> &[usize] {
        &self.dims[..self.ndim as usize]
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Shape({self})")
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ndim == 0 {
            return f.write_str("scalar");
        }
        for (i, d) in self.dims().iter().enumerate() {
            if i > 0 {
                f.write_str("×")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// Everything a caller of mlkern can get wrong, and the few things that can fail at run time.
///
/// Kernels never panic on user input: they return one of these. The [`Display`](core::fmt::Display)
/// text is one line that names the argument and the problem.
///
/// ```
/// use mlkern::{Error, Shape};
/// let e = Error::ShapeMismatch { what: "dot: y", expected: Shape::d1(3), found: Shape::d1(4) };
/// assert_eq!(e.to_string(), "shape mismatch in dot: y: expected 3, found 4");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// An argument's shape does not fit the others.
    ShapeMismatch {
        /// Which function and argument.
        what: &'static str,
        /// The shape that was required.
        expected: Shape,
        /// The shape that was given.
        found: Shape,
    },
    /// An input holds NaN or ±Inf where finite values are required.
    NonFinite {
        /// Which function and argument.
        what: &'static str,
        /// Flat index of the first offending element.
        index: usize,
    },
    /// An input is empty where at least one element is required.
    Empty {
        /// Which function and argument.
        what: &'static str,
    },
    /// A parameter is out of its valid range.
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// What is required of it.
        reason: &'static str,
    },
    /// A caller-controlled size or count is over its documented limit (see [`crate::limits`]):
    /// rejected before anything is allocated or computed for it.
    TooLarge {
        /// The parameter's name (with the function where that helps).
        name: &'static str,
        /// The value given.
        value: usize,
        /// The largest value accepted.
        limit: usize,
    },
    /// A buffer whose size follows from the arguments cannot be allocated: the allocator refused
    /// it, or its byte size does not fit the address space.
    OutOfMemory {
        /// The argument or buffer that made it that large.
        name: &'static str,
        /// The bytes requested (`usize::MAX` where the size overflows).
        bytes: usize,
    },
    /// An iterative algorithm did not converge.
    NoConvergence {
        /// Which algorithm.
        algorithm: &'static str,
        /// Iterations run before giving up (0 where the backend does not say).
        iterations: usize,
    },
    /// A requested backend (GPU, feature-gated path) is not available in this build or on this machine.
    BackendUnavailable {
        /// The backend's name.
        backend: &'static str,
        /// Why it is unavailable.
        reason: &'static str,
    },
    /// A backend call (GPU driver or library) failed at run time.
    Backend {
        /// The backend's name.
        backend: &'static str,
        /// The call that failed.
        call: &'static str,
        /// The status the backend returned (e.g. `cublasStatus_t`, `CUresult`).
        code: i32,
    },
    /// Input that is well-formed but degenerate for the computation (a constant variable, a
    /// code out of range, a singular block), with the index of the offending item.
    Degenerate {
        /// What is degenerate, and why it matters.
        what: &'static str,
        /// Index of the offending item (variable, block, or flat element index).
        index: usize,
    },
    /// Bytes that do not form a valid file of the expected format (`.npy`, `.csv`).
    InvalidFormat {
        /// The format.
        format: &'static str,
        /// What is wrong.
        reason: &'static str,
        /// Byte offset (npy) or 1-based line number (csv) where the problem was found.
        position: usize,
    },
    /// A distributed call failed on another rank (its input was rejected there): this rank's
    /// buffers are untouched, as that rank's are. The failing rank returns its own error.
    PeerFailed {
        /// Which distributed call.
        what: &'static str,
        /// The lowest rank that failed.
        rank: usize,
    },
    /// The process group itself failed: a rank left, or the ranks disagreed on a collective
    /// (see [`dist::Comm`](crate::dist::Comm)).
    Communication {
        /// Which group or call.
        what: &'static str,
        /// What went wrong.
        reason: &'static str,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::ShapeMismatch {
                what,
                expected,
                found,
            } => {
                write!(
                    f,
                    "shape mismatch in {what}: expected {expected}, found {found}"
                )
            }
            Error::NonFinite { what, index } => {
                write!(
                    f,
                    "non-finite value (NaN or Inf) in {what} at index {index}"
                )
            }
            Error::Empty { what } => write!(f, "empty input: {what} must not be empty"),
            Error::InvalidParameter { name, reason } => {
                write!(f, "invalid parameter {name}: {reason}")
            }
            Error::TooLarge { name, value, limit } => {
                write!(f, "{name} = {value} is over its limit of {limit}")
            }
            Error::OutOfMemory { name, bytes } => {
                if bytes == usize::MAX {
                    write!(
                        f,
                        "cannot allocate for {name}: its size overflows the address space"
                    )
                } else {
                    write!(f, "cannot allocate {bytes} bytes for {name}")
                }
            }
            Error::NoConvergence {
                algorithm,
                iterations,
            } => {
                write!(
                    f,
                    "{algorithm} did not converge after {iterations} iterations"
                )
            }
            Error::BackendUnavailable { backend, reason } => {
                write!(f, "backend {backend} unavailable: {reason}")
            }
            Error::Backend {
                backend,
                call,
                code,
            } => write!(f, "backend {backend}: {call} failed with status {code}"),
            Error::Degenerate { what, index } => write!(f, "{what} (at index {index})"),
            Error::InvalidFormat {
                format,
                reason,
                position,
            } => {
                let unit = if format == "csv" { "line" } else { "byte" };
                write!(f, "invalid {format} input at {unit} {position}: {reason}")
            }
            Error::PeerFailed { what, rank } => {
                write!(f, "{what} failed on rank {rank}; nothing was changed here")
            }
            Error::Communication { what, reason } => {
                write!(f, "communication failed in {what}: {reason}")
            }
        }
    }
}

impl core::error::Error for Error {}

/// Shorthand for `Result<T, mlkern::Error>`.
pub type Result<T, E = Error> = core::result::Result<T, E>;
