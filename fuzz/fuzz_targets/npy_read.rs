//! Fuzzes the `.npy` reader: it must never panic, and whatever it accepts must be consistent
//! and survive a write/read round trip unchanged (floats compared bit for bit).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlkern::io::npy::{self, NpyArray, NpyData};

/// Equality that compares floats by bit pattern, so NaN payloads and signed zeros must survive.
fn bitwise_eq(a: &NpyArray, b: &NpyArray) -> bool {
    fn bits_eq<T, const N: usize>(x: &[T], y: &[T], bits: impl Fn(&T) -> [u64; N]) -> bool {
        x.len() == y.len() && x.iter().zip(y).all(|(p, q)| bits(p) == bits(q))
    }
    a.shape == b.shape
        && match (&a.data, &b.data) {
            (NpyData::F32(x), NpyData::F32(y)) => bits_eq(x, y, |v| [u64::from(v.to_bits())]),
            (NpyData::F64(x), NpyData::F64(y)) => bits_eq(x, y, |v| [v.to_bits()]),
            (NpyData::C64(x), NpyData::C64(y)) => bits_eq(x, y, |v| {
                [u64::from(v[0].to_bits()), u64::from(v[1].to_bits())]
            }),
            (NpyData::C128(x), NpyData::C128(y)) => {
                bits_eq(x, y, |v| [v[0].to_bits(), v[1].to_bits()])
            }
            (x, y) => x == y,
        }
}

/// Bytes per element.
fn item_size(data: &NpyData) -> usize {
    match data {
        NpyData::Bool(_) | NpyData::U8(_) | NpyData::I8(_) => 1,
        NpyData::I16(_) | NpyData::U16(_) => 2,
        NpyData::I32(_) | NpyData::U32(_) | NpyData::F32(_) => 4,
        NpyData::I64(_) | NpyData::U64(_) | NpyData::F64(_) | NpyData::C64(_) => 8,
        NpyData::C128(_) => 16,
        _ => unreachable!("a dtype this target does not know yet"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(a) = npy::parse(data) else { return };

    // The element count is the product of the shape (0 if any axis is 0), and the input held
    // exactly that many elements after its preamble.
    let count = if a.shape.contains(&0) {
        Some(0)
    } else {
        a.shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
    };
    assert_eq!(count, Some(a.len()));
    let size = item_size(&a.data);
    assert!(a.len() * size <= data.len());
    assert_eq!(a.is_empty(), count == Some(0));

    // C and Fortran writes both parse back to the same array, with a 64-byte aligned preamble.
    let written = npy::to_bytes(&a);
    for bytes in [&written, &npy::to_bytes_fortran(&a)] {
        assert_eq!((bytes.len() - a.len() * size) % 64, 0);
        let b = npy::parse(bytes).expect("the writer's output must parse");
        assert!(bitwise_eq(&a, &b), "round trip changed the array");
    }
    // Writing is deterministic.
    assert_eq!(npy::to_bytes(&npy::parse(&written).unwrap()), written);

    // Conversions never panic and keep the length.
    for len in [
        a.to_f64_vec().map(|v| v.len()),
        a.to_f32_vec().map(|v| v.len()),
        a.to_i64_vec().map(|v| v.len()),
    ]
    .into_iter()
    .flatten()
    {
        assert_eq!(len, a.len());
    }
});
