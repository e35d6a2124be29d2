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
//! * [`parse`] never panics. Malformed input gives [`Error::InvalidFormat`] whose `position` is
//!   the byte offset in the input where the problem was found.
//! * Sizes are checked before allocating: the element count and byte size implied by `shape`
//!   are computed with overflow checks and must equal the number of data bytes actually present
//!   (too few and trailing bytes are both errors), so a header claiming 10¹⁵ elements is rejected
//!   at once and the allocation never exceeds a small multiple of the input's length.
//! * [`NpyArray::data`] is always in C (row-major) order: Fortran-order files are transposed on
//!   read.
//! * [`to_bytes`] writes exactly what NumPy's `np.save` writes for the same little-endian C-order
//!   array (same header text, same padding), so files round-trip byte for byte.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write as _;

use crate::error::{Error, Result};

/// The first six bytes of every `.npy` file.
const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// NumPy pads the preamble (magic, version, header length, header) to a multiple of this.
const ALIGN: usize = 64;
/// NumPy leaves room in the header for the growth axis to reach this many digits.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;

fn bad(reason: &'static str, position: usize) -> Error {
    Error::InvalidFormat {
        format: "npy",
        reason,
        position,
    }
}

/// The elements of an [`NpyArray`], one variant per supported NumPy dtype.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum NpyData {
    /// `bool` (`|b1`); each element is one byte, 0 or 1.
    Bool(Vec<bool>),
    /// `uint8` (`|u1`).
    U8(Vec<u8>),
    /// `int8` (`|i1`).
    I8(Vec<i8>),
    /// `int16` (`<i2`, `>i2`).
    I16(Vec<i16>),
    /// `int32` (`<i4`, `>i4`).
    I32(Vec<i32>),
    /// `int64` (`<i8`, `>i8`).
    I64(Vec<i64>),
    /// `uint16` (`<u2`, `>u2`).
    U16(Vec<u16>),
    /// `uint32` (`<u4`, `>u4`).
    U32(Vec<u32>),
    /// `uint64` (`<u8`, `>u8`).
    U64(Vec<u64>),
    /// `float32` (`<f4`, `>f4`).
    F32(Vec<f32>),
    /// `float64` (`<f8`, `>f8`).
    F64(Vec<f64>),
    /// `complex64` (`<c8`, `>c8`): `[real, imaginary]` pairs of `f32`.
    C64(Vec<[f32; 2]>),
    /// `complex128` (`<c16`, `>c16`): `[real, imaginary]` pairs of `f64`.
    C128(Vec<[f64; 2]>),
}

/// Runs `$body` with `$v` bound to the vector inside any [`NpyData`] variant.
macro_rules! with_vec {
    ($data:expr, $v:ident => $body:expr) => {
        match $data {
            NpyData::Bool($v) => $body,
            NpyData::U8($v) => $body,
            NpyData::I8($v) => $body,
            NpyData::I16($v) => $body,
            NpyData::I32($v) => $body,
            NpyData::I64($v) => $body,
            NpyData::U16($v) => $body,
            NpyData::U32($v) => $body,
            NpyData::U64($v) => $body,
            NpyData::F32($v) => $body,
            NpyData::F64($v) => $body,
            NpyData::C64($v) => $body,
            NpyData::C128($v) => $body,
        }
    };
}

/// Maps the vector inside any [`NpyData`] variant to a new vector of the same variant.
macro_rules! map_vec {
    ($data:expr, $v:ident => $body:expr) => {
        match $data {
            NpyData::Bool($v) => NpyData::Bool($body),
            NpyData::U8($v) => NpyData::U8($body),
            NpyData::I8($v) => NpyData::I8($body),
            NpyData::I16($v) => NpyData::I16($body),
            NpyData::I32($v) => NpyData::I32($body),
            NpyData::I64($v) => NpyData::I64($body),
            NpyData::U16($v) => NpyData::U16($body),
            NpyData::U32($v) => NpyData::U32($body),
            NpyData::U64($v) => NpyData::U64($body),
            NpyData::F32($v) => NpyData::F32($body),
            NpyData::F64($v) => NpyData::F64($body),
            NpyData::C64($v) => NpyData::C64($body),
            NpyData::C128($v) => NpyData::C128($body),
        }
    };
}

/// The dtype of an array, without its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Bool,
    U8,
    I8,
    I16,
    I32,
    I64,
    U16,
    U32,
    U64,
    F32,
    F64,
    C64,
    C128,
}

impl Kind {
    /// Bytes per element.
    fn size(self) -> usize {
        match self {
            Kind::Bool | Kind::U8 | Kind::I8 => 1,
            Kind::I16 | Kind::U16 => 2,
            Kind::I32 | Kind::U32 | Kind::F32 => 4,
            Kind::I64 | Kind::U64 | Kind::F64 | Kind::C64 => 8,
            Kind::C128 => 16,
        }
    }

    /// The `descr` string NumPy writes for this dtype in little-endian order.
    fn descr(self) -> &'static str {
        match self {
            Kind::Bool => "|b1",
            Kind::U8 => "|u1",
            Kind::I8 => "|i1",
            Kind::I16 => "<i2",
            Kind::I32 => "<i4",
            Kind::I64 => "<i8",
            Kind::U16 => "<u2",
            Kind::U32 => "<u4",
            Kind::U64 => "<u8",
            Kind::F32 => "<f4",
            Kind::F64 => "<f8",
            Kind::C64 => "<c8",
            Kind::C128 => "<c16",
        }
    }

    /// NumPy's name for the dtype.
    fn name(self) -> &'static str {
        match self {
            Kind::Bool => "bool",
            Kind::U8 => "uint8",
            Kind::I8 => "int8",
            Kind::I16 => "int16",
            Kind::I32 => "int32",
            Kind::I64 => "int64",
            Kind::U16 => "uint16",
            Kind::U32 => "uint32",
            Kind::U64 => "uint64",
            Kind::F32 => "float32",
            Kind::F64 => "float64",
            Kind::C64 => "complex64",
            Kind::C128 => "complex128",
        }
    }
}

impl NpyData {
    fn kind(&self) -> Kind {
        match self {
            NpyData::Bool(_) => Kind::Bool,
            NpyData::U8(_) => Kind::U8,
            NpyData::I8(_) => Kind::I8,
            NpyData::I16(_) => Kind::I16,
            NpyData::I32(_) => Kind::I32,
            NpyData::I64(_) => Kind::I64,
            NpyData::U16(_) => Kind::U16,
            NpyData::U32(_) => Kind::U32,
            NpyData::U64(_) => Kind::U64,
            NpyData::F32(_) => Kind::F32,
            NpyData::F64(_) => Kind::F64,
            NpyData::C64(_) => Kind::C64,
            NpyData::C128(_) => Kind::C128,
        }
    }

    fn len(&self) -> usize {
        with_vec!(self, v => v.len())
    }
}

/// An n-dimensional array read from, or to be written to, an `.npy` file.
///
/// `data` holds `shape.iter().product()` elements in C (row-major) order; a 0-d array has
/// `shape == []` and one element. The fields are public; [`NpyArray::new`] checks that they agree.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// The dimensions, outermost first (`[rows, cols]` for a matrix, `[]` for a 0-d array).
    pub shape: Vec<usize>,
    /// The elements in C (row-major) order.
    pub data: NpyData,
}

impl NpyArray {
    /// An array from a shape and data in C order, checking that the shape's element count equals
    /// the data's length.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] if the shape's element count overflows `usize`;
    /// [`Error::ShapeMismatch`] if it differs from the data's length.
    ///
    /// ```
    /// use mlkern::io::npy::{NpyArray, NpyData};
    /// let a = NpyArray::new(vec![2, 2], NpyData::I32(vec![1, 2, 3, 4])).unwrap();
    /// assert_eq!(a.len(), 4);
    /// assert!(NpyArray::new(vec![2, 3], NpyData::I32(vec![1, 2, 3, 4])).is_err());
    /// ```
    pub fn new(shape: Vec<usize>, data: NpyData) -> Result<Self> {
        let count = element_count(&shape).ok_or(Error::InvalidParameter {
            name: "shape",
            reason: "element count overflows usize",
        })?;
        if count != data.len() {
            return Err(Error::ShapeMismatch {
                what: "NpyArray::new: data length vs shape",
                expected: crate::error::Shape::d1(count),
                found: crate::error::Shape::d1(data.len()),
            });
        }
        Ok(Self { shape, data })
    }

    /// NumPy's name for the element type: `"bool"`, `"uint8"`, `"int8"`, `"int16"`, `"int32"`,
    /// `"int64"`, `"uint16"`, `"uint32"`, `"uint64"`, `"float32"`, `"float64"`, `"complex64"` or
    /// `"complex128"`.
    pub fn dtype_name(&self) -> &'static str {
        self.data.kind().name()
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the array has no elements (some dimension is 0; a 0-d array has one element).
    pub fn is_empty(&self) -> bool {
        self.data.len() == 0
    }

    /// The elements as `f64`, in C order.
    ///
    /// Booleans become 0.0 and 1.0; integers are converted with rounding to nearest where they
    /// exceed 2⁵³ in magnitude; `f32` widens exactly.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] for complex data, which has no real value.
    pub fn to_f64_vec(&self) -> Result<Vec<f64>> {
        Ok(match &self.data {
            NpyData::Bool(v) => v.iter().map(|&b| f64::from(u8::from(b))).collect(),
            NpyData::U8(v) => v.iter().map(|&x| f64::from(x)).collect(),
            NpyData::I8(v) => v.iter().map(|&x| f64::from(x)).collect(),
            NpyData::I16(v) => v.iter().map(|&x| f64::from(x)).collect(),
            NpyData::I32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            NpyData::I64(v) => v.iter().map(|&x| x as f64).collect(),
            NpyData::U16(v) => v.iter().map(|&x| f64::from(x)).collect(),
            NpyData::U32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            NpyData::U64(v) => v.iter().map(|&x| x as f64).collect(),
            NpyData::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            NpyData::F64(v) => v.clone(),
            NpyData::C64(_) | NpyData::C128(_) => return Err(complex_to_real()),
        })
    }

    /// The elements as `f32`, in C order.
    ///
    /// Booleans become 0.0 and 1.0; integers and `f64` are rounded to the nearest `f32` (an `f64`
    /// beyond `f32`'s range becomes ±∞).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] for complex data, which has no real value.
    pub fn to_f32_vec(&self) -> Result<Vec<f32>> {
        Ok(match &self.data {
            NpyData::Bool(v) => v.iter().map(|&b| f32::from(u8::from(b))).collect(),
            NpyData::U8(v) => v.iter().map(|&x| f32::from(x)).collect(),
            NpyData::I8(v) => v.iter().map(|&x| f32::from(x)).collect(),
            NpyData::I16(v) => v.iter().map(|&x| f32::from(x)).collect(),
            NpyData::I32(v) => v.iter().map(|&x| x as f32).collect(),
            NpyData::I64(v) => v.iter().map(|&x| x as f32).collect(),
            NpyData::U16(v) => v.iter().map(|&x| f32::from(x)).collect(),
            NpyData::U32(v) => v.iter().map(|&x| x as f32).collect(),
            NpyData::U64(v) => v.iter().map(|&x| x as f32).collect(),
            NpyData::F32(v) => v.clone(),
            NpyData::F64(v) => v.iter().map(|&x| x as f32).collect(),
            NpyData::C64(_) | NpyData::C128(_) => return Err(complex_to_real()),
        })
    }

    /// The elements as `i64`, in C order, converted exactly.
    ///
    /// Booleans become 0 and 1; integers convert when they fit; floats convert only when they
    /// are whole numbers in `i64`'s range.
    ///
    /// # Errors
    ///
    /// * [`Error::InvalidParameter`] for complex data, a `uint64` above `i64::MAX`, or a float
    ///   that is not a whole number or lies outside `i64`'s range;
    /// * [`Error::NonFinite`] for a NaN or infinite float, with its flat index.
    pub fn to_i64_vec(&self) -> Result<Vec<i64>> {
        Ok(match &self.data {
            NpyData::Bool(v) => v.iter().map(|&b| i64::from(b)).collect(),
            NpyData::U8(v) => v.iter().map(|&x| i64::from(x)).collect(),
            NpyData::I8(v) => v.iter().map(|&x| i64::from(x)).collect(),
            NpyData::I16(v) => v.iter().map(|&x| i64::from(x)).collect(),
            NpyData::I32(v) => v.iter().map(|&x| i64::from(x)).collect(),
            NpyData::I64(v) => v.clone(),
            NpyData::U16(v) => v.iter().map(|&x| i64::from(x)).collect(),
            NpyData::U32(v) => v.iter().map(|&x| i64::from(x)).collect(),
            NpyData::U64(v) => v
                .iter()
                .map(|&x| {
                    i64::try_from(x).map_err(|_| Error::InvalidParameter {
                        name: "data",
                        reason: "uint64 value exceeds i64::MAX",
                    })
                })
                .collect::<Result<_>>()?,
            NpyData::F32(v) => v
                .iter()
                .enumerate()
                .map(|(i, &x)| float_to_i64(f64::from(x), i))
                .collect::<Result<_>>()?,
            NpyData::F64(v) => v
                .iter()
                .enumerate()
                .map(|(i, &x)| float_to_i64(x, i))
                .collect::<Result<_>>()?,
            NpyData::C64(_) | NpyData::C128(_) => return Err(complex_to_real()),
        })
    }
}

fn complex_to_real() -> Error {
    Error::InvalidParameter {
        name: "dtype",
        reason: "complex values cannot be converted to real numbers",
    }
}

/// `x` as an `i64` if it is a whole number in range.
fn float_to_i64(x: f64, index: usize) -> Result<i64> {
    if !x.is_finite() {
        return Err(Error::NonFinite {
            what: "NpyArray::to_i64_vec",
            index,
        });
    }
    // -2⁶³ is exactly representable; 2⁶³ is the first value above i64::MAX.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if !(-LIMIT..LIMIT).contains(&x) {
        return Err(Error::InvalidParameter {
            name: "data",
            reason: "float value lies outside the i64 range",
        });
    }
    let i = x as i64;
    if i as f64 != x {
        return Err(Error::InvalidParameter {
            name: "data",
            reason: "float value is not a whole number",
        });
    }
    Ok(i)
}

/// The number of elements of `shape`, or `None` if it overflows `usize`. Any zero dimension makes
/// the count zero, however large the others are.
fn element_count(shape: &[usize]) -> Option<usize> {
    if shape.contains(&0) {
        return Some(0);
    }
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/// Parses the bytes of an `.npy` file.
///
/// Accepts format versions 1.0, 2.0 and 3.0, either byte order, C or Fortran order, and the
/// dtypes listed in the [module documentation](crate::io::npy). The returned array is in C order.
///
/// # Errors
///
/// [`Error::InvalidFormat`] (with `format: "npy"` and the byte offset of the problem) for a bad
/// magic string or version, a truncated or malformed header, an unsupported dtype, a shape whose
/// size overflows, data shorter or longer than the shape requires, or a bool byte other than 0
/// or 1. Never panics.
///
/// # Example
///
/// ```
/// use mlkern::io::npy::{self, NpyData};
///
/// // A 2×2 float64 matrix [[1, 2], [3, 4]] stored in Fortran order, as NumPy would write it.
/// let header = "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }";
/// let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
/// bytes.extend((header.len() as u16 + 1).to_le_bytes());
/// bytes.extend(header.as_bytes());
/// bytes.push(b'\n');
/// for x in [1.0f64, 3.0, 2.0, 4.0] {
///     bytes.extend(x.to_le_bytes());
/// }
///
/// let a = npy::parse(&bytes)?;
/// assert_eq!(a.shape, [2, 2]);
/// assert_eq!(a.data, NpyData::F64(vec![1.0, 2.0, 3.0, 4.0])); // row-major
/// assert_eq!(a.dtype_name(), "float64");
///
/// assert!(npy::parse(b"not an npy file").is_err());
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn parse(bytes: &[u8]) -> Result<NpyArray> {
    let (header, header_start, data_start, version) = split_preamble(bytes)?;
    if version == 3
        && let Err(e) = core::str::from_utf8(header)
    {
        let position = header_start + e.valid_up_to();
        return Err(bad("version 3.0 header is not valid UTF-8", position));
    }
    let h = parse_header(header, header_start)?;

    let count =
        element_count(&h.shape).ok_or(bad("shape's element count overflows usize", h.shape_pos))?;
    let size = count
        .checked_mul(h.kind.size())
        .ok_or(bad("shape's size in bytes overflows usize", h.shape_pos))?;
    let data = bytes.get(data_start..).unwrap_or(&[]);
    if data.len() < size {
        return Err(bad(
            "array data too short: fewer bytes than shape × item size",
            bytes.len(),
        ));
    }
    if data.len() > size {
        return Err(bad(
            "trailing bytes after the array data (more bytes than shape × item size)",
            data_start + size,
        ));
    }

    let stored = decode(h.kind, h.big_endian, data, data_start)?;
    let data = if h.fortran_order && h.shape.len() > 1 {
        let strides = fortran_strides(&h.shape);
        map_vec!(&stored, v => gather(v, &h.shape, &strides))
    } else {
        stored
    };
    Ok(NpyArray {
        shape: h.shape,
        data,
    })
}

/// Splits off the magic string, version and header length; returns the header bytes, the offset
/// of the header, the offset of the data and the major version.
fn split_preamble(bytes: &[u8]) -> Result<(&[u8], usize, usize, u8)> {
    if !bytes.starts_with(MAGIC) {
        return Err(if MAGIC.starts_with(bytes) {
            bad("input ends inside the magic string", bytes.len())
        } else {
            bad(
                "not an .npy file: the magic string \\x93NUMPY is missing",
                0,
            )
        });
    }
    let (Some(&major), Some(&minor)) = (bytes.get(6), bytes.get(7)) else {
        return Err(bad("input ends before the format version", bytes.len()));
    };
    let len_size = match major {
        1 => 2,
        2 | 3 => 4,
        _ => {
            return Err(bad(
                "unsupported format version (expected 1.0, 2.0 or 3.0)",
                6,
            ));
        }
    };
    if minor != 0 {
        return Err(bad(
            "unsupported format version (expected 1.0, 2.0 or 3.0)",
            7,
        ));
    }
    let header_start = 8 + len_size;
    let Some(len_bytes) = bytes.get(8..header_start) else {
        return Err(bad("input ends inside the header length", bytes.len()));
    };
    let header_len = len_bytes
        .iter()
        .rev()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    let data_start = header_start
        .checked_add(header_len)
        .filter(|&end| end <= bytes.len())
        .ok_or(bad("truncated header: header length exceeds the input", 8))?;
    Ok((
        &bytes[header_start..data_start],
        header_start,
        data_start,
        major,
    ))
}

/// The three values of the header dict.
struct Header {
    kind: Kind,
    big_endian: bool,
    fortran_order: bool,
    shape: Vec<usize>,
    /// Byte offset of the shape tuple, for size errors.
    shape_pos: usize,
}

/// A cursor over the header text; positions it reports are offsets in the whole input.
struct Cursor<'a> {
    text: &'a [u8],
    at: usize,
    base: usize,
}

impl<'a> Cursor<'a> {
    fn pos(&self) -> usize {
        self.base + self.at
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(
            self.peek(),
            Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
        ) {
            self.at += 1;
        }
    }

    /// Skips whitespace, then consumes `c` if it comes next.
    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn err(&self, reason: &'static str) -> Error {
        bad(reason, self.pos())
    }

    /// A quoted string (single or double quotes, no escapes); returns its contents.
    fn string(&mut self, reason: &'static str) -> Result<&'a [u8]> {
        self.skip_ws();
        let quote = match self.peek() {
            Some(q @ (b'\'' | b'"')) => q,
            _ => return Err(self.err(reason)),
        };
        let start = self.at + 1;
        let mut end = start;
        loop {
            match self.text.get(end) {
                Some(&c) if c == quote => break,
                Some(b'\\') => {
                    self.at = end;
                    return Err(self.err("escape sequences in header strings are not supported"));
                }
                Some(b'\n') | None => {
                    self.at = end;
                    return Err(self.err("unterminated string in header"));
                }
                Some(_) => end += 1,
            }
        }
        self.at = end + 1;
        Ok(&self.text[start..end])
    }

    /// A run of ASCII letters (an identifier such as `True`).
    fn word(&mut self) -> &'a [u8] {
        self.skip_ws();
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.at += 1;
        }
        &self.text[start..self.at]
    }

    /// A non-negative decimal integer, optionally with Python 2's `L` suffix.
    fn uint(&mut self) -> Result<usize> {
        self.skip_ws();
        let start = self.at;
        let mut value = 0usize;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(usize::from(c - b'0')))
                .ok_or(self.err("shape dimension overflows usize"))?;
            self.at += 1;
        }
        if self.at == start {
            return Err(self.err("shape entries must be non-negative integers"));
        }
        if matches!(self.peek(), Some(b'L' | b'l')) {
            self.at += 1;
        }
        Ok(value)
    }
}

fn parse_header(text: &[u8], base: usize) -> Result<Header> {
    let mut c = Cursor { text, at: 0, base };
    if !c.eat(b'{') {
        return Err(c.err("header is not a dict: expected '{'"));
    }
    let mut dtype = None;
    let mut fortran_order = None;
    let mut shape = None;
    loop {
        if c.eat(b'}') {
            break;
        }
        c.skip_ws();
        let key_pos = c.pos();
        let key = c.string("expected a quoted key or '}' in the header dict")?;
        if !c.eat(b':') {
            return Err(c.err("expected ':' after a key in the header dict"));
        }
        match key {
            b"descr" => {
                if dtype.is_some() {
                    return Err(bad("duplicate key 'descr' in header", key_pos));
                }
                dtype = Some(parse_descr(&mut c)?);
            }
            b"fortran_order" => {
                if fortran_order.is_some() {
                    return Err(bad("duplicate key 'fortran_order' in header", key_pos));
                }
                c.skip_ws();
                let at = c.pos();
                fortran_order = Some(match c.word() {
                    b"True" => true,
                    b"False" => false,
                    _ => return Err(bad("fortran_order must be True or False", at)),
                });
            }
            b"shape" => {
                if shape.is_some() {
                    return Err(bad("duplicate key 'shape' in header", key_pos));
                }
                c.skip_ws();
                let at = c.pos();
                shape = Some((parse_shape(&mut c)?, at));
            }
            _ => {
                return Err(bad(
                    "unexpected key in header (allowed: 'descr', 'fortran_order', 'shape')",
                    key_pos,
                ));
            }
        }
        if c.eat(b',') {
            continue;
        }
        if c.eat(b'}') {
            break;
        }
        return Err(c.err("expected ',' or '}' after a value in the header dict"));
    }
    c.skip_ws();
    if c.at != text.len() {
        return Err(c.err("unexpected characters after the header dict"));
    }
    let (kind, big_endian) = dtype.ok_or(bad("header lacks the 'descr' key", base))?;
    let fortran_order = fortran_order.ok_or(bad("header lacks the 'fortran_order' key", base))?;
    let (shape, shape_pos) = shape.ok_or(bad("header lacks the 'shape' key", base))?;
    Ok(Header {
        kind,
        big_endian,
        fortran_order,
        shape,
        shape_pos,
    })
}

/// The `descr` value: a dtype string such as `'<f8'`. Returns the dtype and whether it is
/// big-endian.
fn parse_descr(c: &mut Cursor<'_>) -> Result<(Kind, bool)> {
    c.skip_ws();
    match c.peek() {
        Some(b'[') => return Err(c.err("structured dtypes (a list descr) are not supported")),
        Some(b'(') => return Err(c.err("sub-array dtypes (a tuple descr) are not supported")),
        _ => {}
    }
    let at = c.pos();
    let descr = c.string("descr must be a quoted dtype string such as '<f8'")?;
    let (big_endian, code) = match descr.split_first() {
        Some((b'>', rest)) => (true, rest),
        Some((b'<' | b'|' | b'=', rest)) => (false, rest),
        _ => (false, descr),
    };
    let kind = match code {
        b"b1" => Kind::Bool,
        b"u1" => Kind::U8,
        b"i1" => Kind::I8,
        b"i2" => Kind::I16,
        b"i4" => Kind::I32,
        b"i8" => Kind::I64,
        b"u2" => Kind::U16,
        b"u4" => Kind::U32,
        b"u8" => Kind::U64,
        b"f4" => Kind::F32,
        b"f8" => Kind::F64,
        b"c8" => Kind::C64,
        b"c16" => Kind::C128,
        _ => return Err(bad(unsupported_dtype(code), at)),
    };
    Ok((kind, big_endian))
}

fn unsupported_dtype(code: &[u8]) -> &'static str {
    match code.first() {
        Some(b'U' | b'S' | b'a') => "unsupported dtype: strings (U, S) are not supported",
        Some(b'O') => "unsupported dtype: object arrays (pickled Python objects) are not supported",
        Some(b'f') => "unsupported dtype: only f4 and f8 floats are supported (not f2, f16)",
        Some(b'c') => "unsupported dtype: only c8 and c16 complex numbers are supported",
        Some(b'M' | b'm') => "unsupported dtype: datetime and timedelta are not supported",
        Some(b'V') => "unsupported dtype: void (raw bytes) is not supported",
        _ => "unsupported dtype (supported: b1, i1, i2, i4, i8, u1, u2, u4, u8, f4, f8, c8, c16)",
    }
}

/// The `shape` value: a tuple of non-negative integers, `()` or `(n,)` or `(n, m, ...)`.
fn parse_shape(c: &mut Cursor<'_>) -> Result<Vec<usize>> {
    if !c.eat(b'(') {
        return Err(c.err("shape must be a tuple such as (2, 3)"));
    }
    let mut dims = Vec::new();
    let mut trailing_comma = false;
    loop {
        if c.eat(b')') {
            if dims.len() == 1 && !trailing_comma {
                return Err(c.err("shape must be a tuple: one dimension needs a comma, as in (3,)"));
            }
            return Ok(dims);
        }
        dims.push(c.uint()?);
        trailing_comma = c.eat(b',');
        if !trailing_comma {
            c.skip_ws();
            if c.peek() != Some(b')') {
                return Err(c.err("expected ',' or ')' in the shape tuple"));
            }
        }
    }
}

/// Decodes the data bytes (whose length is already checked) in the order they are stored.
fn decode(kind: Kind, big_endian: bool, data: &[u8], offset: usize) -> Result<NpyData> {
    let be = big_endian;
    Ok(match kind {
        Kind::Bool => {
            if let Some(i) = data.iter().position(|&b| b > 1) {
                return Err(bad("bool element is neither 0 nor 1", offset + i));
            }
            NpyData::Bool(data.iter().map(|&b| b == 1).collect())
        }
        Kind::U8 => NpyData::U8(data.to_vec()),
        Kind::I8 => NpyData::I8(data.iter().map(|&b| i8::from_le_bytes([b])).collect()),
        Kind::I16 => NpyData::I16(scalars(data, be, i16::from_le_bytes)),
        Kind::I32 => NpyData::I32(scalars(data, be, i32::from_le_bytes)),
        Kind::I64 => NpyData::I64(scalars(data, be, i64::from_le_bytes)),
        Kind::U16 => NpyData::U16(scalars(data, be, u16::from_le_bytes)),
        Kind::U32 => NpyData::U32(scalars(data, be, u32::from_le_bytes)),
        Kind::U64 => NpyData::U64(scalars(data, be, u64::from_le_bytes)),
        Kind::F32 => NpyData::F32(scalars(data, be, f32::from_le_bytes)),
        Kind::F64 => NpyData::F64(scalars(data, be, f64::from_le_bytes)),
        Kind::C64 => NpyData::C64(complexes(data, be, f32::from_le_bytes)),
        Kind::C128 => NpyData::C128(complexes(data, be, f64::from_le_bytes)),
    })
}

/// One `N`-byte scalar from exactly `N` bytes stored in the given byte order.
fn scalar<T, const N: usize>(bytes: &[u8], big_endian: bool, from_le: fn([u8; N]) -> T) -> T {
    let mut a = [0u8; N];
    a.copy_from_slice(bytes);
    if big_endian {
        a.reverse();
    }
    from_le(a)
}

fn scalars<T, const N: usize>(data: &[u8], big_endian: bool, from_le: fn([u8; N]) -> T) -> Vec<T> {
    data.chunks_exact(N)
        .map(|c| scalar(c, big_endian, from_le))
        .collect()
}

/// Complex numbers: pairs of scalars, each component in the given byte order.
fn complexes<T, const N: usize>(
    data: &[u8],
    big_endian: bool,
    from_le: fn([u8; N]) -> T,
) -> Vec<[T; 2]> {
    data.chunks_exact(2 * N)
        .map(|c| {
            let (re, im) = c.split_at(N);
            [
                scalar(re, big_endian, from_le),
                scalar(im, big_endian, from_le),
            ]
        })
        .collect()
}

/// Element strides of a Fortran-order array: axis 0 is contiguous.
fn fortran_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1usize; shape.len()];
    for k in 1..shape.len() {
        strides[k] = strides[k - 1].saturating_mul(shape[k - 1]);
    }
    strides
}

/// Element strides of a C-order array: the last axis is contiguous.
fn c_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1usize; shape.len()];
    for k in (0..shape.len().saturating_sub(1)).rev() {
        strides[k] = strides[k + 1].saturating_mul(shape[k + 1]);
    }
    strides
}

/// Walks a multi-index over `counts` with the last axis fastest and collects
/// `src[Σ index[k] · strides[k]]`.
///
/// Callers guarantee that `counts` has `src.len()` elements in all and that every offset the walk
/// reaches is in bounds; should that ever fail, the result is cut short instead of panicking.
fn gather<T: Copy>(src: &[T], counts: &[usize], strides: &[usize]) -> Vec<T> {
    let n = src.len();
    let mut out = Vec::with_capacity(n);
    if n == 0 || counts.len() != strides.len() {
        return out;
    }
    let mut index = vec![0usize; counts.len()];
    let mut offset = 0usize;
    for _ in 0..n {
        let Some(&x) = src.get(offset) else { break };
        out.push(x);
        for k in (0..counts.len()).rev() {
            index[k] += 1;
            offset = offset.wrapping_add(strides[k]);
            if index[k] < counts[k] {
                break;
            }
            offset = offset.wrapping_sub(strides[k].wrapping_mul(counts[k]));
            index[k] = 0;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// The bytes of an `.npy` file holding `array`: little-endian, C order, format version 1.0 (2.0
/// when the header exceeds 65535 bytes, which takes thousands of dimensions).
///
/// The header is exactly the one NumPy's `np.save` writes, padded with spaces and a final `\n`
/// so that the data starts at a multiple of 64 bytes; for the same array the output is identical
/// to NumPy's, byte for byte.
///
/// If `array.shape` does not match the data's length (the fields are public; see
/// [`NpyArray::new`]), the bytes are written anyway and [`parse`] will reject them.
///
/// # Example
///
/// ```
/// use mlkern::io::npy::{self, NpyArray, NpyData};
///
/// let a = NpyArray::new(vec![2, 3], NpyData::F32(vec![0.0, 0.25, 0.5, 0.75, 1.0, 1.25]))?;
/// let bytes = npy::to_bytes(&a);
/// assert!(bytes.starts_with(b"\x93NUMPY\x01\x00"));
/// assert_eq!((bytes.len() - 6 * 4) % 64, 0); // the data is 64-byte aligned
/// assert_eq!(npy::parse(&bytes)?, a);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn to_bytes(array: &NpyArray) -> Vec<u8> {
    write_npy(array, false)
}

/// Like [`to_bytes`], but with `fortran_order: True` and the elements stored column-major, as
/// NumPy saves a Fortran-contiguous array. [`parse`] gives back the same (C-order) array.
///
/// ```
/// use mlkern::io::npy::{self, NpyArray, NpyData};
///
/// let a = NpyArray::new(vec![2, 2], NpyData::I16(vec![1, 2, 3, 4]))?;
/// let bytes = npy::to_bytes_fortran(&a);
/// assert!(bytes.ends_with(&[1, 0, 3, 0, 2, 0, 4, 0])); // column-major on disk
/// assert_eq!(npy::parse(&bytes)?, a);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn to_bytes_fortran(array: &NpyArray) -> Vec<u8> {
    write_npy(array, true)
}

fn write_npy(array: &NpyArray, fortran_order: bool) -> Vec<u8> {
    let kind = array.data.kind();
    let shape = &array.shape;
    let header = header_text(kind.descr(), fortran_order, shape);

    // NumPy's rule: the header plus its final '\n' is padded with spaces so that magic, version,
    // length field and header together fill a multiple of 64 bytes (at least one space).
    let text_len = header.len() + 1;
    let pad_v1 = ALIGN - (10 + text_len) % ALIGN;
    let (version, len_field, pad) = match u16::try_from(text_len + pad_v1) {
        Ok(len) => (1u8, len.to_le_bytes().to_vec(), pad_v1),
        Err(_) => {
            let pad = ALIGN - (12 + text_len) % ALIGN;
            let len = u32::try_from(text_len + pad).unwrap_or(u32::MAX);
            (2u8, len.to_le_bytes().to_vec(), pad)
        }
    };
    let data_bytes = array.data.len().saturating_mul(kind.size());
    let preamble = 8 + len_field.len() + text_len + pad;
    let mut out = Vec::with_capacity(preamble.saturating_add(data_bytes));
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[version, 0]);
    out.extend_from_slice(&len_field);
    out.extend_from_slice(header.as_bytes());
    out.resize(out.len() + pad, b' ');
    out.push(b'\n');

    let consistent = element_count(shape) == Some(array.data.len());
    if fortran_order && shape.len() > 1 && consistent {
        // Walk the C-order data with axis 0 fastest: reverse the axes of the C layout.
        let counts: Vec<usize> = shape.iter().rev().copied().collect();
        let strides: Vec<usize> = c_strides(shape).into_iter().rev().collect();
        let stored = map_vec!(&array.data, v => gather(v, &counts, &strides));
        encode(&stored, &mut out);
    } else {
        encode(&array.data, &mut out);
    }
    out
}

/// The header dict as NumPy formats it, including the spare spaces NumPy leaves so that the
/// growth axis (the first in C order, the last in Fortran order) can be rewritten in place.
fn header_text(descr: &str, fortran_order: bool, shape: &[usize]) -> String {
    let mut h = String::with_capacity(64 + 22 * shape.len());
    h.push_str("{'descr': '");
    h.push_str(descr);
    h.push_str("', 'fortran_order': ");
    h.push_str(if fortran_order { "True" } else { "False" });
    h.push_str(", 'shape': (");
    for (i, d) in shape.iter().enumerate() {
        if i > 0 {
            h.push_str(", ");
        }
        // Writing into a String cannot fail.
        let _ = write!(h, "{d}");
    }
    if shape.len() == 1 {
        h.push(',');
    }
    h.push_str("), }");
    let growth = if fortran_order {
        shape.last()
    } else {
        shape.first()
    };
    if let Some(&d) = growth {
        for _ in decimal_digits(d)..GROWTH_AXIS_MAX_DIGITS {
            h.push(' ');
        }
    }
    h
}

fn decimal_digits(mut n: usize) -> usize {
    let mut digits = 1;
    while n >= 10 {
        n /= 10;
        digits += 1;
    }
    digits
}

/// Appends the elements little-endian.
fn encode(data: &NpyData, out: &mut Vec<u8>) {
    macro_rules! le {
        ($v:expr) => {
            for x in $v {
                out.extend_from_slice(&x.to_le_bytes());
            }
        };
    }
    match data {
        NpyData::Bool(v) => out.extend(v.iter().map(|&b| u8::from(b))),
        NpyData::U8(v) => out.extend_from_slice(v),
        NpyData::I8(v) => le!(v),
        NpyData::I16(v) => le!(v),
        NpyData::I32(v) => le!(v),
        NpyData::I64(v) => le!(v),
        NpyData::U16(v) => le!(v),
        NpyData::U32(v) => le!(v),
        NpyData::U64(v) => le!(v),
        NpyData::F32(v) => le!(v),
        NpyData::F64(v) => le!(v),
        NpyData::C64(v) => le!(v.iter().flatten()),
        NpyData::C128(v) => le!(v.iter().flatten()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    /// A raw `.npy` file with the given version, header text (no padding) and data bytes.
    fn npy_file(version: u8, header: &str, data: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[version, 0]);
        if version == 1 {
            out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        }
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    fn header(descr: &str, fortran: bool, shape: &str) -> String {
        let f = if fortran { "True" } else { "False" };
        format!("{{'descr': '{descr}', 'fortran_order': {f}, 'shape': {shape}, }}\n")
    }

    fn reason_of(bytes: &[u8]) -> (&'static str, usize) {
        match parse(bytes) {
            Err(Error::InvalidFormat {
                format: "npy",
                reason,
                position,
            }) => (reason, position),
            other => panic!("expected an npy format error, got {other:?}"),
        }
    }

    /// One 2×3 array of every dtype, with extreme values.
    fn samples() -> Vec<NpyArray> {
        let shape = vec![2, 3];
        let datas = vec![
            NpyData::Bool(vec![true, false, true, true, false, false]),
            NpyData::U8(vec![0, 1, 2, 127, 128, 255]),
            NpyData::I8(vec![i8::MIN, -1, 0, 1, 2, i8::MAX]),
            NpyData::I16(vec![i16::MIN, -300, 0, 1, 300, i16::MAX]),
            NpyData::I32(vec![i32::MIN, -70_000, 0, 1, 70_000, i32::MAX]),
            NpyData::I64(vec![i64::MIN, -(1 << 40), 0, 1, 1 << 40, i64::MAX]),
            NpyData::U16(vec![0, 1, 255, 256, 40_000, u16::MAX]),
            NpyData::U32(vec![0, 1, 65_536, 1 << 31, 3_000_000_000, u32::MAX]),
            NpyData::U64(vec![0, 1, 1 << 32, 1 << 63, u64::MAX - 1, u64::MAX]),
            NpyData::F32(vec![
                0.0,
                -0.0,
                1.5,
                f32::MIN_POSITIVE,
                f32::MAX,
                f32::NEG_INFINITY,
            ]),
            NpyData::F64(vec![0.25, -1e300, 5e-324, f64::MAX, f64::INFINITY, -2.0]),
            NpyData::C64(vec![
                [1.0, -2.0],
                [0.5, 0.25],
                [0.0, 0.0],
                [-1.0, 3.0],
                [7.0, 8.0],
                [f32::MAX, f32::MIN],
            ]),
            NpyData::C128(vec![
                [1.0, -2.0],
                [0.5, 0.25],
                [0.0, -0.0],
                [-1.0, 3.0],
                [1e300, 1e-300],
                [9.0, 10.0],
            ]),
        ];
        datas
            .into_iter()
            .map(|d| NpyArray::new(shape.clone(), d).unwrap())
            .collect()
    }

    /// The same array stored big-endian: the little-endian writer's bytes with each scalar
    /// reversed and the descr changed.
    fn to_big_endian(a: &NpyArray) -> Vec<u8> {
        let le = to_bytes(a);
        let kind = a.data.kind();
        let scalar = match kind {
            Kind::C64 => 4,
            Kind::C128 => 8,
            k => k.size(),
        };
        let descr_be = kind.descr().replace('<', ">");
        let mut data = le[le.len() - a.len() * kind.size()..].to_vec();
        for chunk in data.chunks_exact_mut(scalar) {
            chunk.reverse();
        }
        npy_file(1, &header(&descr_be, false, "(2, 3)"), &data)
    }

    #[test]
    fn every_dtype_round_trips_in_c_and_fortran_order() {
        for a in samples() {
            let c = to_bytes(&a);
            assert_eq!(parse(&c).unwrap(), a, "{}", a.dtype_name());
            let f = to_bytes_fortran(&a);
            assert_eq!(parse(&f).unwrap(), a, "{} fortran", a.dtype_name());
            assert_ne!(c, f);
            for bytes in [&c, &f] {
                let preamble = bytes.len() - a.len() * a.data.kind().size();
                assert_eq!(preamble % 64, 0);
                assert_eq!(bytes[preamble - 1], b'\n');
            }
        }
    }

    #[test]
    fn every_dtype_reads_big_endian() {
        for a in samples() {
            let be = to_big_endian(&a);
            assert_eq!(parse(&be).unwrap(), a, "{} big-endian", a.dtype_name());
        }
    }

    #[test]
    fn dtype_names_and_descrs() {
        let names: Vec<_> = samples().iter().map(|a| a.dtype_name()).collect();
        assert_eq!(
            names,
            [
                "bool",
                "uint8",
                "int8",
                "int16",
                "int32",
                "int64",
                "uint16",
                "uint32",
                "uint64",
                "float32",
                "float64",
                "complex64",
                "complex128"
            ]
        );
        let descrs: Vec<_> = samples().iter().map(|a| a.data.kind().descr()).collect();
        assert_eq!(
            descrs,
            [
                "|b1", "|u1", "|i1", "<i2", "<i4", "<i8", "<u2", "<u4", "<u8", "<f4", "<f8", "<c8",
                "<c16"
            ]
        );
    }

    #[test]
    fn writer_header_matches_numpy_layout() {
        let a = NpyArray::new(vec![2, 3], NpyData::F32(vec![0.0; 6])).unwrap();
        let bytes = to_bytes(&a);
        let mut expected = b"\x93NUMPY\x01\x00\x76\x00".to_vec();
        expected.extend_from_slice(b"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
        expected.resize(127, b' ');
        expected.push(b'\n');
        assert_eq!(&bytes[..128], &expected[..]);
        assert_eq!(bytes.len(), 128 + 24);

        let t = |shape: &[usize], fortran| header_text("|u1", fortran, shape);
        assert_eq!(
            t(&[], false),
            "{'descr': '|u1', 'fortran_order': False, 'shape': (), }"
        );
        assert_eq!(
            t(&[7], false).trim_end(),
            "{'descr': '|u1', 'fortran_order': False, 'shape': (7,), }"
        );
        assert_eq!(t(&[7], false).len() - t(&[7], false).trim_end().len(), 20);
        // The growth axis is the first in C order and the last in Fortran order.
        assert_eq!(
            t(&[100, 5], false).len() - t(&[100, 5], false).trim_end().len(),
            18
        );
        assert_eq!(
            t(&[100, 5], true).len() - t(&[100, 5], true).trim_end().len(),
            20
        );
        assert_eq!(
            t(&[usize::MAX], false).len() - t(&[usize::MAX], false).trim_end().len(),
            1
        );
    }

    #[test]
    fn writer_switches_to_version_2_for_huge_headers() {
        // 30 000 axes of length 1: the header needs about 90 000 bytes.
        let a = NpyArray::new(vec![1; 30_000], NpyData::I8(vec![-5])).unwrap();
        for bytes in [to_bytes(&a), to_bytes_fortran(&a)] {
            assert_eq!(&bytes[6..8], &[2, 0]);
            let len = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
            assert!(len > 65_535);
            assert_eq!((12 + len) % 64, 0);
            assert_eq!(bytes.len(), 12 + len + 1);
            assert_eq!(parse(&bytes).unwrap(), a);
        }
    }

    #[test]
    fn fortran_order_2d_is_transposed() {
        // [[0, 1, 2], [3, 4, 5]] stored column-major.
        let data: Vec<u8> = [0.0f32, 3.0, 1.0, 4.0, 2.0, 5.0]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let bytes = npy_file(1, &header("<f4", true, "(2, 3)"), &data);
        let a = parse(&bytes).unwrap();
        assert_eq!(a.shape, [2, 3]);
        assert_eq!(a.data, NpyData::F32(vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]));
        // And the writer puts it back the same way.
        assert!(to_bytes_fortran(&a).ends_with(&data));
    }

    #[test]
    fn fortran_order_3d_is_transposed() {
        let (d0, d1, d2) = (2usize, 3usize, 4usize);
        let value = |i: usize, j: usize, k: usize| (100 * i + 10 * j + k) as i32;
        // Fortran layout: element (i, j, k) at i + d0·j + d0·d1·k.
        let mut stored = vec![0i32; d0 * d1 * d2];
        for i in 0..d0 {
            for j in 0..d1 {
                for k in 0..d2 {
                    stored[i + d0 * j + d0 * d1 * k] = value(i, j, k);
                }
            }
        }
        let data: Vec<u8> = stored.iter().flat_map(|x| x.to_be_bytes()).collect();
        let bytes = npy_file(1, &header(">i4", true, "(2, 3, 4)"), &data);
        let a = parse(&bytes).unwrap();
        assert_eq!(a.shape, [2, 3, 4]);
        let NpyData::I32(c) = &a.data else {
            panic!("wrong dtype")
        };
        for i in 0..d0 {
            for j in 0..d1 {
                for k in 0..d2 {
                    assert_eq!(c[(i * d1 + j) * d2 + k], value(i, j, k));
                }
            }
        }
        let le: Vec<u8> = stored.iter().flat_map(|x| x.to_le_bytes()).collect();
        assert!(to_bytes_fortran(&a).ends_with(&le));
    }

    #[test]
    fn fortran_order_with_unit_and_4d_axes() {
        // 4-D with a unit axis: compare against a direct index computation.
        let shape = [3usize, 1, 2, 5];
        let n: usize = shape.iter().product();
        let c: Vec<u16> = (0..n as u16).collect();
        let a = NpyArray::new(shape.to_vec(), NpyData::U16(c.clone())).unwrap();
        let f = to_bytes_fortran(&a);
        let stored: Vec<u16> = f[f.len() - 2 * n..]
            .chunks_exact(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .collect();
        for (c_off, &value) in c.iter().enumerate() {
            // Multi-index of the C offset, then its Fortran offset.
            let mut rest = c_off;
            let mut index = [0usize; 4];
            for k in (0..4).rev() {
                index[k] = rest % shape[k];
                rest /= shape[k];
            }
            let mut f_off = 0;
            for k in (0..4).rev() {
                f_off = f_off * shape[k] + index[k];
            }
            assert_eq!(stored[f_off], value);
        }
        assert_eq!(parse(&f).unwrap(), a);
    }

    #[test]
    fn zero_dimensional_arrays() {
        for fortran in [false, true] {
            let bytes = npy_file(1, &header("<f8", fortran, "()"), &2.5f64.to_le_bytes());
            let a = parse(&bytes).unwrap();
            assert!(a.shape.is_empty());
            assert_eq!(a.data, NpyData::F64(vec![2.5]));
            assert_eq!((a.len(), a.is_empty()), (1, false));
            assert_eq!(parse(&to_bytes(&a)).unwrap(), a);
            assert_eq!(parse(&to_bytes_fortran(&a)).unwrap(), a);
        }
        // A 0-d array without its element is too short.
        assert_eq!(
            reason_of(&npy_file(1, &header("<f8", false, "()"), &[])).0,
            "array data too short: fewer bytes than shape × item size"
        );
    }

    #[test]
    fn empty_arrays() {
        for (shape_text, shape) in [
            ("(0,)", vec![0]),
            ("(3, 0)", vec![3, 0]),
            ("(0, 3)", vec![0, 3]),
            ("(2, 0, 4)", vec![2, 0, 4]),
        ] {
            for fortran in [false, true] {
                let bytes = npy_file(1, &header("<c16", fortran, shape_text), &[]);
                let a = parse(&bytes).unwrap();
                assert_eq!(a.shape, shape);
                assert_eq!(a.data, NpyData::C128(vec![]));
                assert!(a.is_empty());
                assert_eq!(parse(&to_bytes(&a)).unwrap(), a);
                assert_eq!(parse(&to_bytes_fortran(&a)).unwrap(), a);
                // Any data at all is trailing.
                let mut extra = bytes.clone();
                extra.push(0);
                assert_eq!(reason_of(&extra).1, bytes.len());
            }
        }
        // A zero axis makes the count zero even when the others would overflow.
        let bytes = npy_file(
            1,
            &header(
                "<f8",
                false,
                "(18446744073709551615, 18446744073709551615, 0)",
            ),
            &[],
        );
        assert_eq!(parse(&bytes).unwrap().len(), 0);
    }

    #[test]
    fn versions_2_and_3() {
        let data: Vec<u8> = [1i64, -2].iter().flat_map(|x| x.to_le_bytes()).collect();
        for version in [2, 3] {
            let bytes = npy_file(version, &header("<i8", false, "(2,)"), &data);
            assert_eq!(parse(&bytes).unwrap().data, NpyData::I64(vec![1, -2]));
        }
        // Version 3 headers must be UTF-8; UTF-8 in a key is just an unknown key.
        let mut bad_utf8 = npy_file(3, &header("<i8", false, "(2,)"), &data);
        bad_utf8[12 + 3] = 0xff;
        assert_eq!(
            reason_of(&bad_utf8),
            ("version 3.0 header is not valid UTF-8", 15)
        );
        let odd_key = "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), 'ünï': 1}";
        assert_eq!(
            reason_of(&npy_file(3, odd_key, &data)).0,
            "unexpected key in header (allowed: 'descr', 'fortran_order', 'shape')"
        );
        // Latin-1 bytes in a version 1 header are rejected, not misread.
        let mut latin1 = npy_file(1, &header("<i8", false, "(2,)"), &data);
        latin1[10 + 2] = 0xe9;
        assert!(parse(&latin1).is_err());
    }

    #[test]
    fn header_syntax_variants() {
        let data: Vec<u8> = [1u16, 2, 3].iter().flat_map(|x| x.to_le_bytes()).collect();
        let variants = [
            "{'shape': (3,), 'fortran_order': False, 'descr': '<u2'}",
            "{\"descr\": \"<u2\", \"fortran_order\": False, \"shape\": (3,)}",
            "{ 'fortran_order' : False ,\n 'shape' : ( 3 , ) ,\t'descr':'<u2' , }   \n",
            "{'descr': '<u2', 'fortran_order': False, 'shape': (3L,), }",
            "{'descr': '=u2', 'fortran_order': False, 'shape': (3,), }",
            "{'descr': '|u2', 'fortran_order': False, 'shape': (3,), }",
            "{'descr': 'u2', 'fortran_order': True, 'shape': (3,), }",
            "{'descr': '<u2', 'fortran_order': False, 'shape': (3,)}\n\n  \r\n",
        ];
        for h in variants {
            let a = parse(&npy_file(1, h, &data)).unwrap_or_else(|e| panic!("{h}: {e}"));
            assert_eq!(
                (a.shape.as_slice(), &a.data),
                (&[3][..], &NpyData::U16(vec![1, 2, 3])),
                "{h}"
            );
        }
        let a = parse(&npy_file(
            1,
            "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2, 3,)}",
            &[0; 6],
        ))
        .unwrap();
        assert_eq!(a.shape, [1, 2, 3]);
        let a = parse(&npy_file(
            1,
            "{'descr': '>u1', 'fortran_order': False, 'shape': (2,)}",
            &[7, 8],
        ))
        .unwrap();
        assert_eq!(a.data, NpyData::U8(vec![7, 8]));
    }

    #[test]
    fn malformed_inputs_are_errors() {
        let good_header = header("<f8", false, "(2,)");
        let good_data = [0u8; 16];
        let good = npy_file(1, &good_header, &good_data);
        assert!(parse(&good).is_ok());
        let with = |h: &str| npy_file(1, h, &good_data);
        let mut v4 = good.clone();
        v4[6] = 4;
        let mut v11 = good.clone();
        v11[7] = 1;
        let mut long_len = good.clone();
        long_len[8] = 0xff;
        let mut bool2 = npy_file(1, &header("|b1", false, "(3,)"), &[0, 1, 2]);
        let bool2_pos = bool2.len() - 1;
        let cases: Vec<(&str, Vec<u8>, &str, Option<usize>)> = vec![
            (
                "empty input",
                vec![],
                "input ends inside the magic string",
                Some(0),
            ),
            (
                "partial magic",
                MAGIC[..4].to_vec(),
                "input ends inside the magic string",
                Some(4),
            ),
            (
                "bad magic",
                b"\x93NUMPX\x01\x00".to_vec(),
                "not an .npy file: the magic string \\x93NUMPY is missing",
                Some(0),
            ),
            (
                "text",
                b"hello world, not numpy".to_vec(),
                "not an .npy file: the magic string \\x93NUMPY is missing",
                Some(0),
            ),
            (
                "no version",
                MAGIC.to_vec(),
                "input ends before the format version",
                Some(6),
            ),
            (
                "half version",
                b"\x93NUMPY\x01".to_vec(),
                "input ends before the format version",
                Some(7),
            ),
            (
                "version 4.0",
                v4,
                "unsupported format version (expected 1.0, 2.0 or 3.0)",
                Some(6),
            ),
            (
                "version 1.1",
                v11,
                "unsupported format version (expected 1.0, 2.0 or 3.0)",
                Some(7),
            ),
            (
                "no length",
                b"\x93NUMPY\x01\x00\x10".to_vec(),
                "input ends inside the header length",
                Some(9),
            ),
            (
                "v2 short length",
                b"\x93NUMPY\x02\x00\x10\x00\x00".to_vec(),
                "input ends inside the header length",
                Some(11),
            ),
            (
                "header past end",
                good[..40].to_vec(),
                "truncated header: header length exceeds the input",
                Some(8),
            ),
            (
                "huge header length",
                long_len,
                "truncated header: header length exceeds the input",
                Some(8),
            ),
            (
                "v2 huge header length",
                b"\x93NUMPY\x02\x00\xff\xff\xff\xff{}".to_vec(),
                "truncated header: header length exceeds the input",
                Some(8),
            ),
            (
                "not a dict",
                with("['descr', '<f8']"),
                "header is not a dict: expected '{'",
                Some(10),
            ),
            (
                "empty header",
                with(""),
                "header is not a dict: expected '{'",
                Some(10),
            ),
            (
                "empty dict",
                with("{}"),
                "header lacks the 'descr' key",
                Some(10),
            ),
            (
                "unclosed dict",
                with("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), "),
                "expected a quoted key or '}' in the header dict",
                None,
            ),
            (
                "missing descr",
                with("{'fortran_order': False, 'shape': (2,)}"),
                "header lacks the 'descr' key",
                Some(10),
            ),
            (
                "missing fortran_order",
                with("{'descr': '<f8', 'shape': (2,)}"),
                "header lacks the 'fortran_order' key",
                Some(10),
            ),
            (
                "missing shape",
                with("{'descr': '<f8', 'fortran_order': False}"),
                "header lacks the 'shape' key",
                Some(10),
            ),
            (
                "extra key",
                with("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 1}"),
                "unexpected key in header (allowed: 'descr', 'fortran_order', 'shape')",
                None,
            ),
            (
                "duplicate key",
                with("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (2,)}"),
                "duplicate key 'descr' in header",
                Some(27),
            ),
            (
                "unquoted key",
                with("{descr: '<f8', 'fortran_order': False, 'shape': (2,)}"),
                "expected a quoted key or '}' in the header dict",
                Some(11),
            ),
            (
                "missing colon",
                with("{'descr' '<f8', 'fortran_order': False, 'shape': (2,)}"),
                "expected ':' after a key in the header dict",
                None,
            ),
            (
                "missing comma",
                with("{'descr': '<f8' 'fortran_order': False, 'shape': (2,)}"),
                "expected ',' or '}' after a value in the header dict",
                None,
            ),
            (
                "unterminated string",
                with("{'descr: '<f8', 'fortran_order': False, 'shape': (2,)}"),
                "expected ':' after a key in the header dict",
                None,
            ),
            (
                "string runs off the end",
                with("{'descr': '<f8"),
                "unterminated string in header",
                None,
            ),
            (
                "escape in string",
                with("{'descr': '<\\x66' }"),
                "escape sequences in header strings are not supported",
                None,
            ),
            (
                "garbage after dict",
                with(&format!("{} x", good_header.trim_end())),
                "unexpected characters after the header dict",
                None,
            ),
            (
                "unicode string dtype",
                with("{'descr': '<U5', 'fortran_order': False, 'shape': (2,)}"),
                "unsupported dtype: strings (U, S) are not supported",
                Some(20),
            ),
            (
                "object dtype",
                with("{'descr': '|O', 'fortran_order': False, 'shape': (2,)}"),
                "unsupported dtype: object arrays (pickled Python objects) are not supported",
                Some(20),
            ),
            (
                "half float",
                with("{'descr': '<f2', 'fortran_order': False, 'shape': (2,)}"),
                "unsupported dtype: only f4 and f8 floats are supported (not f2, f16)",
                Some(20),
            ),
            (
                "long double",
                with("{'descr': '<f16', 'fortran_order': False, 'shape': (2,)}"),
                "unsupported dtype: only f4 and f8 floats are supported (not f2, f16)",
                None,
            ),
            (
                "complex256",
                with("{'descr': '<c32', 'fortran_order': False, 'shape': (2,)}"),
                "unsupported dtype: only c8 and c16 complex numbers are supported",
                None,
            ),
            (
                "datetime",
                with("{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (2,)}"),
                "unsupported dtype: datetime and timedelta are not supported",
                None,
            ),
            (
                "void",
                with("{'descr': '|V8', 'fortran_order': False, 'shape': (2,)}"),
                "unsupported dtype: void (raw bytes) is not supported",
                None,
            ),
            (
                "empty descr",
                with("{'descr': '', 'fortran_order': False, 'shape': (2,)}"),
                "unsupported dtype (supported: b1, i1, i2, i4, i8, u1, u2, u4, u8, f4, f8, c8, c16)",
                None,
            ),
            (
                "byte order only",
                with("{'descr': '<', 'fortran_order': False, 'shape': (2,)}"),
                "unsupported dtype (supported: b1, i1, i2, i4, i8, u1, u2, u4, u8, f4, f8, c8, c16)",
                None,
            ),
            (
                "numpy char code",
                with("{'descr': 'd', 'fortran_order': False, 'shape': (2,)}"),
                "unsupported dtype (supported: b1, i1, i2, i4, i8, u1, u2, u4, u8, f4, f8, c8, c16)",
                None,
            ),
            (
                "structured dtype",
                with("{'descr': [('x', '<f8')], 'fortran_order': False, 'shape': (2,)}"),
                "structured dtypes (a list descr) are not supported",
                Some(20),
            ),
            (
                "sub-array dtype",
                with("{'descr': ('<f8', (2,)), 'fortran_order': False, 'shape': (2,)}"),
                "sub-array dtypes (a tuple descr) are not supported",
                Some(20),
            ),
            (
                "descr not a string",
                with("{'descr': 8, 'fortran_order': False, 'shape': (2,)}"),
                "descr must be a quoted dtype string such as '<f8'",
                Some(20),
            ),
            (
                "fortran_order 1",
                with("{'descr': '<f8', 'fortran_order': 1, 'shape': (2,)}"),
                "fortran_order must be True or False",
                Some(44),
            ),
            (
                "fortran_order true",
                with("{'descr': '<f8', 'fortran_order': true, 'shape': (2,)}"),
                "fortran_order must be True or False",
                Some(44),
            ),
            (
                "shape not a tuple",
                with("{'descr': '<f8', 'fortran_order': False, 'shape': 2}"),
                "shape must be a tuple such as (2, 3)",
                None,
            ),
            (
                "shape a list",
                with("{'descr': '<f8', 'fortran_order': False, 'shape': [2]}"),
                "shape must be a tuple such as (2, 3)",
                None,
            ),
            (
                "shape (2) is an int",
                with("{'descr': '<f8', 'fortran_order': False, 'shape': (2)}"),
                "shape must be a tuple: one dimension needs a comma, as in (3,)",
                None,
            ),
            (
                "negative dimension",
                with("{'descr': '<f8', 'fortran_order': False, 'shape': (-2,)}"),
                "shape entries must be non-negative integers",
                None,
            ),
            (
                "float dimension",
                with("{'descr': '<f8', 'fortran_order': False, 'shape': (2.0,)}"),
                "expected ',' or ')' in the shape tuple",
                None,
            ),
            (
                "empty tuple slot",
                with("{'descr': '<f8', 'fortran_order': False, 'shape': (,)}"),
                "shape entries must be non-negative integers",
                None,
            ),
            (
                "double comma",
                with("{'descr': '<f8', 'fortran_order': False, 'shape': (2,,)}"),
                "shape entries must be non-negative integers",
                None,
            ),
            (
                "missing shape comma",
                with("{'descr': '<f8', 'fortran_order': False, 'shape': (2 1)}"),
                "expected ',' or ')' in the shape tuple",
                None,
            ),
            (
                "unclosed shape",
                with("{'descr': '<f8', 'fortran_order': False, 'shape': (2,"),
                "shape entries must be non-negative integers",
                None,
            ),
            (
                "dimension overflows",
                with(
                    "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,)}",
                ),
                "shape dimension overflows usize",
                None,
            ),
            (
                "count overflows",
                with("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}"),
                "shape's element count overflows usize",
                Some(60),
            ),
            (
                "bytes overflow",
                with("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,)}"),
                "shape's size in bytes overflows usize",
                Some(60),
            ),
            (
                "10^15 elements",
                with("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000000,)}"),
                "array data too short: fewer bytes than shape × item size",
                None,
            ),
            (
                "data too short",
                good[..good.len() - 1].to_vec(),
                "array data too short: fewer bytes than shape × item size",
                Some(good.len() - 1),
            ),
            (
                "trailing bytes",
                [&good[..], &[0]].concat(),
                "trailing bytes after the array data (more bytes than shape × item size)",
                Some(good.len()),
            ),
            (
                "bool byte 2",
                core::mem::take(&mut bool2),
                "bool element is neither 0 nor 1",
                Some(bool2_pos),
            ),
        ];
        for (name, bytes, reason, position) in cases {
            let (r, p) = match parse(&bytes) {
                Err(Error::InvalidFormat {
                    format: "npy",
                    reason,
                    position,
                }) => (reason, position),
                other => panic!("{name}: expected an npy error, got {other:?}"),
            };
            assert_eq!(r, reason, "{name}");
            if let Some(position) = position {
                assert_eq!(p, position, "{name}");
            }
            assert!(p <= bytes.len(), "{name}: position {p} beyond the input");
        }
    }

    #[test]
    fn every_prefix_and_byte_mutation_is_handled() {
        for a in samples().iter().take(3).chain(samples().iter().skip(9)) {
            for bytes in [to_bytes(a), to_bytes_fortran(a)] {
                for len in 0..bytes.len() {
                    assert!(parse(&bytes[..len]).is_err());
                }
                let mut m = bytes.clone();
                for i in 0..m.len().min(140) {
                    let original = m[i];
                    for b in 0..=255u8 {
                        m[i] = b;
                        if let Ok(p) = parse(&m) {
                            assert_eq!(p.len(), element_count(&p.shape).unwrap());
                        }
                    }
                    m[i] = original;
                }
            }
        }
    }

    #[test]
    fn nan_payloads_survive_a_round_trip() {
        let f32s = [
            f32::from_bits(0x7fc0_0001),
            f32::from_bits(0xffa0_0000),
            f32::NAN,
        ];
        let f64s = [
            f64::from_bits(0x7ff8_0000_dead_beef),
            f64::from_bits(0xfff0_0000_0000_0001),
        ];
        let a = NpyArray::new(vec![3], NpyData::F32(f32s.to_vec())).unwrap();
        let NpyData::F32(back) = parse(&to_bytes(&a)).unwrap().data else {
            panic!()
        };
        assert!(
            back.iter()
                .zip(&f32s)
                .all(|(x, y)| x.to_bits() == y.to_bits())
        );
        let a = NpyArray::new(vec![2], NpyData::F64(f64s.to_vec())).unwrap();
        let NpyData::F64(back) = parse(&to_bytes_fortran(&a)).unwrap().data else {
            panic!()
        };
        assert!(
            back.iter()
                .zip(&f64s)
                .all(|(x, y)| x.to_bits() == y.to_bits())
        );
    }

    #[test]
    fn new_checks_the_shape() {
        assert!(NpyArray::new(vec![], NpyData::U8(vec![1])).is_ok());
        assert!(matches!(
            NpyArray::new(vec![], NpyData::U8(vec![])),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            NpyArray::new(vec![2, 2], NpyData::U8(vec![1; 3])),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            NpyArray::new(vec![usize::MAX, 2], NpyData::U8(vec![])),
            Err(Error::InvalidParameter { name: "shape", .. })
        ));
        assert!(NpyArray::new(vec![usize::MAX, 0], NpyData::U8(vec![])).is_ok());
    }

    #[test]
    fn inconsistent_arrays_still_write_without_panicking() {
        let a = NpyArray {
            shape: vec![2, 3],
            data: NpyData::F64(vec![1.0; 4]),
        };
        assert!(parse(&to_bytes(&a)).is_err());
        assert!(parse(&to_bytes_fortran(&a)).is_err());
        let a = NpyArray {
            shape: vec![usize::MAX, usize::MAX],
            data: NpyData::F64(vec![1.0]),
        };
        assert!(parse(&to_bytes_fortran(&a)).is_err());
    }

    #[test]
    fn conversions_to_f64_and_f32() {
        let s = samples();
        let f64s: Vec<Vec<f64>> = s.iter().filter_map(|a| a.to_f64_vec().ok()).collect();
        assert_eq!(f64s.len(), 11);
        assert_eq!(f64s[0], [1.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
        assert_eq!(f64s[1], [0.0, 1.0, 2.0, 127.0, 128.0, 255.0]);
        assert_eq!(f64s[2], [-128.0, -1.0, 0.0, 1.0, 2.0, 127.0]);
        assert_eq!(f64s[4][0], -2_147_483_648.0);
        assert_eq!(f64s[5][5], 9_223_372_036_854_775_807.0); // rounds to 2^63
        assert_eq!(f64s[8][5], 18_446_744_073_709_551_615.0); // rounds to 2^64
        assert_eq!(f64s[9][3], f64::from(f32::MIN_POSITIVE));
        assert_eq!(f64s[10][1], -1e300);

        let f32s: Vec<Vec<f32>> = s.iter().filter_map(|a| a.to_f32_vec().ok()).collect();
        assert_eq!(f32s.len(), 11);
        assert_eq!(f32s[3], [-32768.0, -300.0, 0.0, 1.0, 300.0, 32767.0]);
        assert_eq!(f32s[7][4], 3_000_000_000.0);
        assert_eq!(f32s[10][..2], [0.25, f32::NEG_INFINITY]);
        assert_eq!(f32s[10][2], 0.0);

        for a in &s[11..] {
            assert_eq!(a.to_f64_vec().unwrap_err(), complex_to_real());
            assert_eq!(a.to_f32_vec().unwrap_err(), complex_to_real());
            assert_eq!(a.to_i64_vec().unwrap_err(), complex_to_real());
        }
    }

    #[test]
    fn conversions_to_i64() {
        let s = samples();
        assert_eq!(s[0].to_i64_vec().unwrap(), [1, 0, 1, 1, 0, 0]);
        assert_eq!(s[5].to_i64_vec().unwrap()[0], i64::MIN);
        assert_eq!(s[7].to_i64_vec().unwrap()[5], i64::from(u32::MAX));
        assert!(matches!(
            s[8].to_i64_vec(),
            Err(Error::InvalidParameter { name: "data", .. })
        ));
        let ok_u64 = NpyArray::new(vec![2], NpyData::U64(vec![0, i64::MAX as u64])).unwrap();
        assert_eq!(ok_u64.to_i64_vec().unwrap(), [0, i64::MAX]);

        let floats = NpyArray::new(
            vec![5],
            NpyData::F64(vec![
                -0.0,
                3.0,
                -9_223_372_036_854_775_808.0,
                4_503_599_627_370_497.0,
                1e18,
            ]),
        )
        .unwrap();
        assert_eq!(
            floats.to_i64_vec().unwrap(),
            [
                0,
                3,
                i64::MIN,
                4_503_599_627_370_497,
                1_000_000_000_000_000_000
            ]
        );
        let f32s = NpyArray::new(vec![2], NpyData::F32(vec![16_777_216.0, -7.0])).unwrap();
        assert_eq!(f32s.to_i64_vec().unwrap(), [16_777_216, -7]);

        let err = |v: f64| {
            NpyArray::new(vec![2], NpyData::F64(vec![1.0, v]))
                .unwrap()
                .to_i64_vec()
                .unwrap_err()
        };
        assert_eq!(
            err(f64::NAN),
            Error::NonFinite {
                what: "NpyArray::to_i64_vec",
                index: 1
            }
        );
        assert_eq!(
            err(f64::NEG_INFINITY),
            Error::NonFinite {
                what: "NpyArray::to_i64_vec",
                index: 1
            }
        );
        assert!(matches!(
            err(0.5),
            Error::InvalidParameter {
                reason: "float value is not a whole number",
                ..
            }
        ));
        assert!(matches!(
            err(9_223_372_036_854_775_808.0),
            Error::InvalidParameter {
                reason: "float value lies outside the i64 range",
                ..
            }
        ));
        assert!(matches!(
            err(-1e19),
            Error::InvalidParameter {
                reason: "float value lies outside the i64 range",
                ..
            }
        ));
        let f32_half = NpyArray::new(vec![1], NpyData::F32(vec![2.5])).unwrap();
        assert!(f32_half.to_i64_vec().is_err());
    }

    #[test]
    fn len_and_is_empty() {
        let a = NpyArray::new(vec![4, 0], NpyData::Bool(vec![])).unwrap();
        assert_eq!((a.len(), a.is_empty()), (0, true));
        let a = NpyArray::new(vec![2, 2], NpyData::C64(vec![[0.0; 2]; 4])).unwrap();
        assert_eq!((a.len(), a.is_empty()), (4, false));
    }
}
