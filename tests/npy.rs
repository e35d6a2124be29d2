//! `mlkern::io::npy` through its public API: golden `.npy` files written by NumPy
//! (`tests/fixtures/npy/make_npy_fixtures.py`), then hand-made bytes (every dtype, byte order,
//! layout and format version; header syntax; malformed input, every prefix and byte mutation).
//!
//! Every array in the script is a simple closed form, so the literals below are known without
//! NumPy; the script prints the same values for cross-checking. The little-endian files are also
//! byte-exact references for the writer.
#![cfg(feature = "alloc")]

mod common;

use mlkern::Error;
use mlkern::io::npy::{self, NpyArray, NpyData, parse, to_bytes, to_bytes_fortran};

fn fixture(name: &str) -> Vec<u8> {
    common::fixture_bytes(&format!("npy/{name}"))
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

// ---------------------------------------------------------------------------------------------
// Reader and writer on hand-made bytes (moved from the former inline tests of src/io/npy.rs)
// ---------------------------------------------------------------------------------------------

/// The first six bytes of every `.npy` file.
const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Bytes per element of the array's dtype.
fn item_size(a: &NpyArray) -> usize {
    match a.dtype_name() {
        "bool" | "uint8" | "int8" => 1,
        "int16" | "uint16" => 2,
        "int32" | "uint32" | "float32" => 4,
        "int64" | "uint64" | "float64" | "complex64" => 8,
        "complex128" => 16,
        other => panic!("unknown dtype {other}"),
    }
}

/// The `descr` string the writer puts in the header of `a`.
fn descr(a: &NpyArray) -> String {
    let bytes = to_bytes(a);
    let len = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
    let text = std::str::from_utf8(&bytes[10..10 + len]).unwrap();
    let rest = text.strip_prefix("{'descr': '").unwrap();
    rest[..rest.find('\'').unwrap()].to_string()
}

/// The error every conversion of complex data to real numbers gives.
fn complex_to_real() -> Error {
    Error::InvalidParameter {
        name: "dtype",
        reason: "complex values cannot be converted to real numbers",
    }
}

/// The number of elements of `shape`, or `None` if it overflows; a zero axis makes it zero.
fn element_count(shape: &[usize]) -> Option<usize> {
    if shape.contains(&0) {
        return Some(0);
    }
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

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
    let size = item_size(a);
    let scalar = match a.dtype_name() {
        "complex64" | "complex128" => size / 2,
        _ => size,
    };
    let descr_be = descr(a).replace('<', ">");
    let mut data = le[le.len() - a.len() * size..].to_vec();
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
            let preamble = bytes.len() - a.len() * item_size(&a);
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
    let descrs: Vec<_> = samples().iter().map(descr).collect();
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
            with("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,)}"),
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
