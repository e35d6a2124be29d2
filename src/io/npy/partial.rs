//! Reading part of an `.npy` file: its header alone, then any run of stored elements — so that
//! a process can read only its rows (or its slice of each row) of a file too large to load.

use alloc::vec::Vec;

use super::array::{NpyData, element_count};
use super::codec::decode;
use super::header::{Header, bad, parse_header, split_preamble};
use crate::error::Result;

/// An `.npy` header: the shape, the dtype and where the data starts, read from the start of a
/// file without its data ([`header`]). Decode any run of stored elements with
/// [`decode`](NpyHeader::decode).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NpyHeader {
    /// The array's shape.
    pub shape: Vec<usize>,
    /// Whether the data is stored in Fortran (column-major) order.
    pub fortran_order: bool,
    /// Byte offset of the first element in the file.
    pub data_start: usize,
    pub(super) inner: Header,
    /// Elements and bytes of the data, checked not to overflow.
    pub(super) count: usize,
    pub(super) bytes: usize,
}

impl NpyHeader {
    /// Bytes per stored element.
    pub fn item_size(&self) -> usize {
        self.inner.kind.size()
    }

    /// NumPy's name of the dtype (`"float32"`, …).
    pub fn dtype_name(&self) -> &'static str {
        self.inner.kind.name()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the array holds no element.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Decodes `bytes`, a whole number of stored elements taken from the file at byte `offset`
    /// (for error positions), in storage order.
    ///
    /// # Errors
    /// [`Error::InvalidFormat`](crate::Error::InvalidFormat) when `bytes` is not a whole number
    /// of elements, or for a bool byte other than 0 or 1; [`Error::OutOfMemory`](crate::Error::OutOfMemory).
    pub fn decode(&self, bytes: &[u8], offset: usize) -> Result<NpyData> {
        if !bytes.len().is_multiple_of(self.item_size()) {
            return Err(bad(
                "a partial read ends inside an element",
                offset + bytes.len(),
            ));
        }
        decode(self.inner.kind, self.inner.big_endian, bytes, offset)
    }
}

/// Parses the header at the start of an `.npy` file; `prefix` needs only the preamble and the
/// header (the first 64 KiB always suffice for versions 1.0; 2.0 and 3.0 headers say their
/// length in their first 12 bytes). The data is not read or checked.
///
/// # Errors
/// [`Error::InvalidFormat`](crate::Error::InvalidFormat) as [`parse`](super::parse) for the
/// preamble and header, and when the shape's element count or size in bytes overflows `usize`.
///
/// ```
/// use mlkern::io::npy::{self, NpyArray, NpyData};
/// let bytes = npy::to_bytes(&NpyArray::new(vec![3, 2], NpyData::F32(vec![1., 2., 3., 4., 5., 6.]))?);
/// let h = npy::header(&bytes[..128])?;
/// assert_eq!((h.shape.as_slice(), h.dtype_name(), h.fortran_order), (&[3, 2][..], "float32", false));
/// // Row 1 alone: elements 2..4.
/// let at = h.data_start + 2 * h.item_size();
/// assert_eq!(h.decode(&bytes[at..at + 2 * h.item_size()], at)?, NpyData::F32(vec![3., 4.]));
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn header(prefix: &[u8]) -> Result<NpyHeader> {
    let (text, header_start, data_start, version) = split_preamble(prefix)?;
    if version == 3
        && let Err(e) = core::str::from_utf8(text)
    {
        return Err(bad(
            "version 3.0 header is not valid UTF-8",
            header_start + e.valid_up_to(),
        ));
    }
    let inner = parse_header(text, header_start)?;
    let count = element_count(&inner.shape).ok_or(bad(
        "shape's element count overflows usize",
        inner.shape_pos,
    ))?;
    let bytes = count.checked_mul(inner.kind.size()).ok_or(bad(
        "shape's size in bytes overflows usize",
        inner.shape_pos,
    ))?;
    Ok(NpyHeader {
        shape: inner.shape.clone(),
        fortran_order: inner.fortran_order,
        data_start,
        inner,
        count,
        bytes,
    })
}
