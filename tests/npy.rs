//! Golden `.npy` files written by NumPy (`tests/fixtures/npy/make_npy_fixtures.py`).
//!
//! Every array in the script is a simple closed form, so the literals below are known without
//! NumPy; the script prints the same values for cross-checking. The little-endian files are also
//! byte-exact references for the writer.
#![cfg(feature = "alloc")]

use mlkern::io::npy::{self, NpyArray, NpyData};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/npy/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn load(name: &str) -> NpyArray {
    npy::parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The arrays the script writes, built here from the closed forms, in C order.
fn f32_2x3() -> NpyArray {
    NpyArray::new(
        vec![2, 3],
        NpyData::F32(vec![0.0, 0.25, 0.5, 0.75, 1.0, 1.25]),
    )
    .unwrap()
}

fn f64_3x2() -> NpyArray {
    let data = (0..6).map(|k| f64::from(k) / 8.0 - 0.25).collect();
    NpyArray::new(vec![3, 2], NpyData::F64(data)).unwrap()
}

fn f64_2x3x4() -> NpyArray {
    let mut data = Vec::new();
    for i in 0..2 {
        for j in 0..3 {
            for k in 0..4 {
                data.push(f64::from(100 * i + 10 * j + k));
            }
        }
    }
    NpyArray::new(vec![2, 3, 4], NpyData::F64(data)).unwrap()
}

#[test]
fn float32_c_order() {
    let a = load("f32_2x3_c.npy");
    assert_eq!(a.dtype_name(), "float32");
    assert_eq!(a.shape, [2, 3]);
    assert_eq!(a.data, NpyData::F32(vec![0.0, 0.25, 0.5, 0.75, 1.0, 1.25]));
    assert_eq!(a.to_f64_vec().unwrap(), [0.0, 0.25, 0.5, 0.75, 1.0, 1.25]);
}

#[test]
fn float32_fortran_order_is_transposed_to_c_order() {
    let f = load("f32_2x3_f.npy");
    assert_eq!(f, f32_2x3());
    assert_eq!(f, load("f32_2x3_c.npy"));
}

#[test]
fn float64_little_and_big_endian() {
    let le = load("f64_3x2_c.npy");
    assert_eq!(le.shape, [3, 2]);
    assert_eq!(
        le.data,
        NpyData::F64(vec![-0.25, -0.125, 0.0, 0.125, 0.25, 0.375])
    );
    let be = load("f64_3x2_be.npy");
    assert_eq!(be, le);
    assert_eq!(be, f64_3x2());
}

#[test]
fn float64_3d_fortran_order() {
    let a = load("f64_2x3x4_f.npy");
    assert_eq!(a, f64_2x3x4());
    let NpyData::F64(v) = &a.data else {
        panic!("dtype {}", a.dtype_name())
    };
    assert_eq!(v[..5], [0.0, 1.0, 2.0, 3.0, 10.0]);
    assert_eq!(v[23], 123.0);
}

#[test]
fn integers() {
    let a = load("i64_6.npy");
    assert_eq!(a.shape, [6]);
    let expected = [
        -3_000_000_000_000,
        -2_000_000_000_000,
        -1_000_000_000_000,
        0,
        1_000_000_000_000,
        2_000_000_000_000,
    ];
    assert_eq!(a.data, NpyData::I64(expected.to_vec()));
    assert_eq!(a.to_i64_vec().unwrap(), expected);

    let a = load("i32_2x2_be.npy");
    assert_eq!((a.dtype_name(), a.shape.as_slice()), ("int32", &[2, 2][..]));
    assert_eq!(a.data, NpyData::I32(vec![-131_072, -65_536, 0, 65_536]));

    let a = load("u16_5.npy");
    assert_eq!(a.data, NpyData::U16(vec![0, 15, 255, 4095, 65_535]));

    let a = load("u8_6.npy");
    assert_eq!(a.data, NpyData::U8(vec![0, 1, 127, 128, 254, 255]));
    assert_eq!(
        a.to_f32_vec().unwrap(),
        [0.0, 1.0, 127.0, 128.0, 254.0, 255.0]
    );
}

#[test]
fn booleans() {
    let a = load("bool_2x2.npy");
    assert_eq!(a.shape, [2, 2]);
    assert_eq!(a.data, NpyData::Bool(vec![true, false, false, true]));
    assert_eq!(a.to_i64_vec().unwrap(), [1, 0, 0, 1]);
}

#[test]
fn complex() {
    let a = load("c64_3.npy");
    assert_eq!(a.dtype_name(), "complex64");
    assert_eq!(
        a.data,
        NpyData::C64(vec![[1.0, 2.0], [-0.5, 0.25], [3.0, -4.0]])
    );
    assert!(a.to_f64_vec().is_err());

    let a = load("c128_3_be.npy");
    assert_eq!(a.dtype_name(), "complex128");
    assert_eq!(
        a.data,
        NpyData::C128(vec![[0.0, 0.0], [1.0, 0.5], [2.0, 1.0]])
    );
}

#[test]
fn zero_dimensional_and_empty() {
    let a = load("f64_0d.npy");
    assert!(a.shape.is_empty());
    assert_eq!(a.data, NpyData::F64(vec![2.5]));

    let a = load("f64_empty_0.npy");
    assert_eq!(a.shape, [0]);
    assert!(a.is_empty());
    assert_eq!(a.data, NpyData::F64(vec![]));

    let a = load("f32_empty_3x0.npy");
    assert_eq!(a.shape, [3, 0]);
    assert_eq!(a.data, NpyData::F32(vec![]));
}

#[test]
fn writer_is_byte_identical_to_numpy_for_float_arrays() {
    assert_eq!(npy::to_bytes(&f32_2x3()), fixture("f32_2x3_c.npy"));
    assert_eq!(npy::to_bytes(&f64_3x2()), fixture("f64_3x2_c.npy"));
    assert_eq!(npy::to_bytes_fortran(&f32_2x3()), fixture("f32_2x3_f.npy"));
    assert_eq!(
        npy::to_bytes_fortran(&f64_2x3x4()),
        fixture("f64_2x3x4_f.npy")
    );
}

#[test]
fn writer_is_byte_identical_to_numpy_for_every_little_endian_fixture() {
    for name in [
        "f32_2x3_c.npy",
        "f64_3x2_c.npy",
        "i64_6.npy",
        "u16_5.npy",
        "u8_6.npy",
        "bool_2x2.npy",
        "c64_3.npy",
        "f64_0d.npy",
        "f64_empty_0.npy",
        "f32_empty_3x0.npy",
    ] {
        let bytes = fixture(name);
        assert_eq!(npy::to_bytes(&load(name)), bytes, "{name}");
    }
    for name in ["f32_2x3_f.npy", "f64_2x3x4_f.npy"] {
        assert_eq!(npy::to_bytes_fortran(&load(name)), fixture(name), "{name}");
    }
}

#[test]
fn big_endian_fixtures_rewrite_as_little_endian() {
    for name in ["f64_3x2_be.npy", "i32_2x2_be.npy", "c128_3_be.npy"] {
        let a = load(name);
        let le = npy::to_bytes(&a);
        assert_ne!(le, fixture(name));
        assert_eq!(npy::parse(&le).unwrap(), a, "{name}");
    }
    assert_eq!(
        npy::to_bytes(&load("f64_3x2_be.npy")),
        fixture("f64_3x2_c.npy")
    );
}

#[test]
fn truncated_fixtures_are_errors() {
    let bytes = fixture("f64_2x3x4_f.npy");
    for len in 0..bytes.len() {
        assert!(npy::parse(&bytes[..len]).is_err(), "prefix of {len} bytes");
    }
}
