//! Writing: an [`NpyArray`] to the bytes NumPy's `np.save` writes.

use alloc::vec::Vec;

use super::array::{NpyArray, NpyData, element_count, map_vec};
use super::codec::{c_strides, encode, gather};
use super::header::{ALIGN, MAGIC, header_text};

/// The bytes of an `.npy` file holding `array`: little-endian, C order, format version 1.0 (2.0
/// when the header exceeds 65535 bytes, which takes thousands of dimensions).
///
/// The header is exactly the one NumPy's `np.save` writes, padded with spaces and a final `\n`
/// so that the data starts at a multiple of 64 bytes; for the same array the output is identical
/// to NumPy's, byte for byte.
///
/// If `array.shape` does not match the data's length (the fields are public; see
/// [`NpyArray::new`]), the bytes are written anyway and [`parse`](super::parse) will reject them.
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
/// NumPy saves a Fortran-contiguous array. [`parse`](super::parse) gives back the same (C-order) array.
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
