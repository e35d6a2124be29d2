//! Reading and writing arrays as bytes and text: NumPy `.npy` and numeric CSV.
//!
//! Both formats work on in-memory buffers (`&[u8]`, `&str`) and never touch the file system, so
//! they are available in `no_std` builds that have an allocator. Reading a file is the caller's
//! business (`std::fs::read`, a memory map, bytes received over the network).
//!
//! * [`npy`]: NumPy's binary `.npy` format (versions 1.0, 2.0 and 3.0), every fixed-size numeric
//!   dtype NumPy writes (`bool`, signed and unsigned integers of 1 to 8 bytes, `float32`,
//!   `float64`, `complex64`, `complex128`), either byte order, C or Fortran order. Arrays are
//!   always handed back in C (row-major) order.
//! * [`csv`]: comma-separated numeric tables with an optional header row, comments and blank
//!   lines; categorical tables (labels coded per column) for discrete data.
//!
//! # Guarantees
//!
//! The parsers treat their input as untrusted:
//!
//! * they never panic, whatever the bytes;
//! * every size read from the input (header length, shape, element count) is checked with
//!   overflow-checked arithmetic against the length of the input *before* anything is allocated,
//!   so the memory they allocate is proportional to the input's size (a header that claims
//!   10¹⁵ elements is rejected without allocating);
//! * malformed input gives [`Error::InvalidFormat`](crate::error::Error::InvalidFormat) with a
//!   short reason and a position: a byte offset for `.npy`, a 1-based line number for CSV.
//!
//! Both are fuzzed (`fuzz/fuzz_targets/npy_read.rs`, `fuzz/fuzz_targets/csv_read.rs`).

pub mod csv;
pub mod npy;
