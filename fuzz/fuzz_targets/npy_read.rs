//! Fuzzes the `.npy` reader: it must never panic, and whatever it accepts must be consistent
//! and survive a write/read round trip unchanged (floats compared bit for bit).
//!
//! Half the inputs are raw bytes; the other half are decoded ([`Bytes`]) into a well-formed
//! header whose dimensions are drawn from the whole `usize` range (`Bytes::size`), over a few
//! data bytes: absurd shapes must be rejected (or, with a zero dimension, give an empty array)
//! under the capped allocator, never abort. The same shapes go to `NpyArray::new`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlkern::Error;
use mlkern::io::npy::{self, NpyArray, NpyData};
use mlkern_fuzz::Bytes;

const DESCRS: [(&str, usize); 13] = [
    ("|b1", 1),
    ("|u1", 1),
    ("|i1", 1),
    ("<i2", 2),
    ("<i4", 4),
    ("<i8", 8),
    ("<u2", 2),
    (">u4", 4),
    ("<u8", 8),
    ("<f4", 4),
    (">f8", 8),
    ("<c8", 8),
    ("<c16", 16),
];

/// A well-formed `.npy` file whose shape is drawn from the whole `usize` range, then checks that
/// the reader accepts it exactly when the shape matches the data, and `NpyArray::new` likewise.
fn structured(b: &mut Bytes<'_>) {
    let (descr, item) = DESCRS[usize::from(b.u8()) % DESCRS.len()];
    let fortran = b.u8() % 2 == 1;
    let ndim = usize::from(b.u8() % 5);
    let shape: Vec<usize> = (0..ndim).map(|_| b.size(5)).collect();
    let data_len = usize::from(b.u8() % 64);
    // Bool data must be 0 or 1 to be accepted.
    let data: Vec<u8> = (0..data_len).map(|_| b.u8() % 2).collect();
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let tuple = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let order = if fortran { "True" } else { "False" };
    let text = format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {tuple}, }}\n");
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((text.len() as u16).to_le_bytes());
    bytes.extend(text.as_bytes());
    bytes.extend(&data);

    let count = if shape.contains(&0) {
        Some(0)
    } else {
        shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
    };
    let fits = count.and_then(|c| c.checked_mul(item)) == Some(data_len);
    match npy::parse(&bytes) {
        Ok(a) => {
            assert!(fits, "accepted {shape:?} over {data_len} bytes");
            assert_eq!(a.shape, shape);
            assert_eq!(Some(a.len()), count);
        }
        Err(Error::InvalidFormat { format, .. }) => {
            assert_eq!(format, "npy");
            assert!(
                !fits,
                "rejected a consistent {shape:?} over {data_len} bytes"
            );
        }
        Err(e) => panic!("unexpected error: {e}"),
    }
    // The same shape over an f32 vector of a drawn small length.
    let n = data_len / 4;
    let r = NpyArray::new(shape.clone(), NpyData::F32(vec![0.5; n]));
    assert_eq!(r.is_ok(), count == Some(n), "NpyArray::new({shape:?}, {n})");
}

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
    if let Some((&0xA5, rest)) = data.split_first() {
        structured(&mut Bytes(rest));
        return;
    }
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

    // Conversions never panic and keep the length (an `OutOfMemory` under the capped allocator
    // is an accepted outcome).
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
