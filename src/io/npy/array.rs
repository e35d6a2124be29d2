//! The array type: [`NpyArray`], its element storage [`NpyData`], the dtype `Kind` and the
//! conversions to plain vectors.

use alloc::vec::Vec;

use crate::error::{Error, Result};

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
pub(super) use map_vec;

/// The dtype of an array, without its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
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
    pub(super) fn size(self) -> usize {
        match self {
            Kind::Bool | Kind::U8 | Kind::I8 => 1,
            Kind::I16 | Kind::U16 => 2,
            Kind::I32 | Kind::U32 | Kind::F32 => 4,
            Kind::I64 | Kind::U64 | Kind::F64 | Kind::C64 => 8,
            Kind::C128 => 16,
        }
    }

    /// The `descr` string NumPy writes for this dtype in little-endian order.
    pub(super) fn descr(self) -> &'static str {
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
    pub(super) fn name(self) -> &'static str {
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
    pub(super) fn kind(&self) -> Kind {
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

    pub(super) fn len(&self) -> usize {
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
    /// [`Error::InvalidParameter`] for complex data, which has no real value;
    /// [`Error::OutOfMemory`] (naming `data`) when the result cannot be allocated.
    pub fn to_f64_vec(&self) -> Result<Vec<f64>> {
        Ok(match &self.data {
            NpyData::Bool(v) => convert(v, |b| f64::from(u8::from(b)))?,
            NpyData::U8(v) => convert(v, f64::from)?,
            NpyData::I8(v) => convert(v, f64::from)?,
            NpyData::I16(v) => convert(v, f64::from)?,
            NpyData::I32(v) => convert(v, f64::from)?,
            NpyData::I64(v) => convert(v, |x| x as f64)?,
            NpyData::U16(v) => convert(v, f64::from)?,
            NpyData::U32(v) => convert(v, f64::from)?,
            NpyData::U64(v) => convert(v, |x| x as f64)?,
            NpyData::F32(v) => convert(v, f64::from)?,
            NpyData::F64(v) => convert(v, core::convert::identity)?,
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
    /// [`Error::InvalidParameter`] for complex data, which has no real value;
    /// [`Error::OutOfMemory`] (naming `data`) when the result cannot be allocated.
    pub fn to_f32_vec(&self) -> Result<Vec<f32>> {
        Ok(match &self.data {
            NpyData::Bool(v) => convert(v, |b| f32::from(u8::from(b)))?,
            NpyData::U8(v) => convert(v, f32::from)?,
            NpyData::I8(v) => convert(v, f32::from)?,
            NpyData::I16(v) => convert(v, f32::from)?,
            NpyData::I32(v) => convert(v, |x| x as f32)?,
            NpyData::I64(v) => convert(v, |x| x as f32)?,
            NpyData::U16(v) => convert(v, f32::from)?,
            NpyData::U32(v) => convert(v, |x| x as f32)?,
            NpyData::U64(v) => convert(v, |x| x as f32)?,
            NpyData::F32(v) => convert(v, core::convert::identity)?,
            NpyData::F64(v) => convert(v, |x| x as f32)?,
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
    /// * [`Error::NonFinite`] for a NaN or infinite float, with its flat index;
    /// * [`Error::OutOfMemory`] (naming `data`) when the result cannot be allocated.
    pub fn to_i64_vec(&self) -> Result<Vec<i64>> {
        Ok(match &self.data {
            NpyData::Bool(v) => convert(v, i64::from)?,
            NpyData::U8(v) => convert(v, i64::from)?,
            NpyData::I8(v) => convert(v, i64::from)?,
            NpyData::I16(v) => convert(v, i64::from)?,
            NpyData::I32(v) => convert(v, i64::from)?,
            NpyData::I64(v) => convert(v, core::convert::identity)?,
            NpyData::U16(v) => convert(v, i64::from)?,
            NpyData::U32(v) => convert(v, i64::from)?,
            NpyData::U64(v) => try_convert(v, |x, _| {
                i64::try_from(x).map_err(|_| Error::InvalidParameter {
                    name: "data",
                    reason: "uint64 value exceeds i64::MAX",
                })
            })?,
            NpyData::F32(v) => try_convert(v, |x, i| float_to_i64(f64::from(x), i))?,
            NpyData::F64(v) => try_convert(v, float_to_i64)?,
            NpyData::C64(_) | NpyData::C128(_) => return Err(complex_to_real()),
        })
    }
}

/// `f` on every element, into a buffer reserved fallibly: the result can be 8 times the size of
/// the data (`u8` to `f64`), so a large array is an
/// [`Error::OutOfMemory`](crate::Error::OutOfMemory) naming `data`, never an abort.
fn convert<S: Copy, T>(v: &[S], f: impl FnMut(S) -> T) -> Result<Vec<T>> {
    crate::base::collect(v.iter().copied().map(f), "data")
}

/// [`convert`] with a conversion that can fail (given the flat index).
fn try_convert<S: Copy, T>(v: &[S], mut f: impl FnMut(S, usize) -> Result<T>) -> Result<Vec<T>> {
    let mut out = crate::base::try_vec(v.len(), "data")?;
    for (i, &x) in v.iter().enumerate() {
        out.push(f(x, i)?);
    }
    Ok(out)
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
pub(super) fn element_count(shape: &[usize]) -> Option<usize> {
    if shape.contains(&0) {
        return Some(0);
    }
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}
