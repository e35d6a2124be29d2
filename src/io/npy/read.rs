//! Reading: bytes of an `.npy` file to an [`NpyArray`].

use super::array::{NpyArray, NpyData, map_vec};
use super::codec::{decode, fortran_strides, try_gather};
use super::header::bad;
use super::partial::{NpyHeader, header};
use crate::error::Result;

/// Parses the bytes of an `.npy` file.
///
/// Accepts format versions 1.0, 2.0 and 3.0, either byte order, C or Fortran order, and the
/// dtypes listed in the [module documentation](crate::io::npy). The returned array is in C order.
///
/// # Errors
///
/// [`Error::InvalidFormat`](crate::Error::InvalidFormat) (with `format: "npy"` and the byte offset of the problem) for a bad
/// magic string or version, a truncated or malformed header, an unsupported dtype, a shape whose
/// size overflows, data shorter or longer than the shape requires, or a bool byte other than 0
/// or 1; [`Error::OutOfMemory`](crate::Error::OutOfMemory) (naming `npy data`) when the decoded
/// elements cannot be allocated beside the input. Never panics.
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
    let NpyHeader {
        data_start,
        inner: h,
        bytes: size,
        ..
    } = header(bytes)?;
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
        map_vec!(&stored, v => try_gather(v, &h.shape, &strides)?)
    } else {
        stored
    };
    Ok(NpyArray {
        shape: h.shape,
        data,
    })
}
