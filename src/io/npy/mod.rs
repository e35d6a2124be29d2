//! NumPy `.npy` files, parsed from and written to bytes.
//!
//! # The format
//!
//! An `.npy` file is a short preamble followed by the raw array data:
//!
//! | offset           | content                                                          |
//! |------------------|------------------------------------------------------------------|
//! | 0                | the magic string `\x93NUMPY`                                     |
//! | 6, 7             | the format version, major and minor: 1.0, 2.0 or 3.0             |
//! | 8                | header length `n`: little-endian `u16` (1.0) or `u32` (2.0, 3.0) |
//! | 10 or 12         | the header: `n` bytes of Latin-1 (1.0, 2.0) or UTF-8 (3.0) text  |
//! | 10 + n or 12 + n | the elements: `product(shape) × item size` bytes                 |
//!
//! The header is a Python dict literal, padded with spaces and ended by `\n`; NumPy pads it so
//! that the data starts at a multiple of 64 bytes (this reader does not rely on that).
//!
//! The dict has exactly three keys, in any order:
//! `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`.
//! `descr` is a byte order (`<` little, `>` big, `|` not applicable, `=` or none: native, which
//! this module reads as little-endian) followed by a type code; `shape` is a tuple of
//! non-negative integers (`()` is a 0-d array holding one element, `(3,)` a vector);
//! `fortran_order: True` means the elements are stored column-major.
//!
//! Supported type codes: `b1` (bool), `i1`, `i2`, `i4`, `i8`, `u1`, `u2`, `u4`, `u8`, `f4`, `f8`,
//! `c8` (complex64) and `c16` (complex128). Everything else NumPy can write (strings, objects,
//! `f2`, datetimes, structured and sub-array dtypes) is rejected with a clear error.
//!
//! # Guarantees
//!
//! * [`parse`] never panics. Malformed input gives [`Error::InvalidFormat`](crate::Error::InvalidFormat) whose `position` is
//!   the byte offset in the input where the problem was found.
//! * Sizes are checked before allocating: the element count and byte size implied by `shape`
//!   are computed with overflow checks and must equal the number of data bytes actually present
//!   (too few and trailing bytes are both errors), so a header claiming 10¹⁵ elements is rejected
//!   at once and the allocation never exceeds a small multiple of the input's length.
//! * [`NpyArray::data`] is always in C (row-major) order: Fortran-order files are transposed on
//!   read.
//! * [`to_bytes`] writes exactly what NumPy's `np.save` writes for the same little-endian C-order
//!   array (same header text, same padding), so files round-trip byte for byte.

mod array;
mod codec;
mod header;
mod partial;
mod read;
mod write;

pub use array::{NpyArray, NpyData};
pub use partial::{NpyHeader, header};
pub use read::parse;
pub use write::{to_bytes, to_bytes_fortran};
