//! The array data: elements decoded from and encoded to bytes, and the reordering between C and
//! Fortran layouts.

use alloc::vec;
use alloc::vec::Vec;

use super::array::{Kind, NpyData};
use super::header::bad;
use crate::base::{collect, try_vec};
use crate::error::Result;

/// The name the decoded and reordered element buffers carry in an
/// [`Error::OutOfMemory`](crate::Error::OutOfMemory).
pub(super) const DATA: &str = "npy data";

/// Decodes the data bytes (whose length is already checked) in the order they are stored.
///
/// The elements are reserved fallibly: their count is at most the data's length in bytes, so
/// an input that is held in memory can still be too large to decode beside it, and that is an
/// [`Error::OutOfMemory`](crate::Error::OutOfMemory), never an abort.
pub(super) fn decode(kind: Kind, big_endian: bool, data: &[u8], offset: usize) -> Result<NpyData> {
    let be = big_endian;
    Ok(match kind {
        Kind::Bool => {
            if let Some(i) = data.iter().position(|&b| b > 1) {
                return Err(bad("bool element is neither 0 nor 1", offset + i));
            }
            NpyData::Bool(collect(data.iter().map(|&b| b == 1), DATA)?)
        }
        Kind::U8 => NpyData::U8(collect(data.iter().copied(), DATA)?),
        Kind::I8 => NpyData::I8(collect(data.iter().map(|&b| i8::from_le_bytes([b])), DATA)?),
        Kind::I16 => NpyData::I16(scalars(data, be, i16::from_le_bytes)?),
        Kind::I32 => NpyData::I32(scalars(data, be, i32::from_le_bytes)?),
        Kind::I64 => NpyData::I64(scalars(data, be, i64::from_le_bytes)?),
        Kind::U16 => NpyData::U16(scalars(data, be, u16::from_le_bytes)?),
        Kind::U32 => NpyData::U32(scalars(data, be, u32::from_le_bytes)?),
        Kind::U64 => NpyData::U64(scalars(data, be, u64::from_le_bytes)?),
        Kind::F32 => NpyData::F32(scalars(data, be, f32::from_le_bytes)?),
        Kind::F64 => NpyData::F64(scalars(data, be, f64::from_le_bytes)?),
        Kind::C64 => NpyData::C64(complexes(data, be, f32::from_le_bytes)?),
        Kind::C128 => NpyData::C128(complexes(data, be, f64::from_le_bytes)?),
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

fn scalars<T, const N: usize>(
    data: &[u8],
    big_endian: bool,
    from_le: fn([u8; N]) -> T,
) -> Result<Vec<T>> {
    collect(
        data.chunks_exact(N).map(|c| scalar(c, big_endian, from_le)),
        DATA,
    )
}

/// Complex numbers: pairs of scalars, each component in the given byte order.
fn complexes<T, const N: usize>(
    data: &[u8],
    big_endian: bool,
    from_le: fn([u8; N]) -> T,
) -> Result<Vec<[T; 2]>> {
    collect(
        data.chunks_exact(2 * N).map(|c| {
            let (re, im) = c.split_at(N);
            [
                scalar(re, big_endian, from_le),
                scalar(im, big_endian, from_le),
            ]
        }),
        DATA,
    )
}

/// Appends the elements little-endian.
pub(super) fn encode(data: &NpyData, out: &mut Vec<u8>) {
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

/// Element strides of a Fortran-order array: axis 0 is contiguous.
pub(super) fn fortran_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1usize; shape.len()];
    for k in 1..shape.len() {
        strides[k] = strides[k - 1].saturating_mul(shape[k - 1]);
    }
    strides
}

/// Element strides of a C-order array: the last axis is contiguous.
pub(super) fn c_strides(shape: &[usize]) -> Vec<usize> {
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
pub(super) fn gather<T: Copy>(src: &[T], counts: &[usize], strides: &[usize]) -> Vec<T> {
    let mut out = Vec::with_capacity(src.len());
    gather_into(src, counts, strides, &mut out);
    out
}

/// [`gather`] into a buffer reserved fallibly (the reader's Fortran-order transpose).
pub(super) fn try_gather<T: Copy>(
    src: &[T],
    counts: &[usize],
    strides: &[usize],
) -> Result<Vec<T>> {
    let mut out = try_vec(src.len(), DATA)?;
    gather_into(src, counts, strides, &mut out);
    Ok(out)
}

/// [`gather`]'s walk, appending to `out` (which has room for `src.len()` more elements).
fn gather_into<T: Copy>(src: &[T], counts: &[usize], strides: &[usize], out: &mut Vec<T>) {
    let n = src.len();
    if n == 0 || counts.len() != strides.len() {
        return;
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
}
