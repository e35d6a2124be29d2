//! Battery cases for `mlkern::io` (see `main.rs`), and for [`Par`]: `.npy` headers that claim
//! absurd shapes, arrays whose fields disagree, conversions of arrays too large to convert under
//! the cap, CSV tables too large to hold, and thread requests up to `usize::MAX`.
//!
//! The parsers size nothing from a header before checking it against the bytes present, so a
//! lying header is rejected with no allocation at all ([`rejects`]); a conversion of a real,
//! in-memory array that is simply too big for the cap is an `OutOfMemory` after one refused
//! reservation ([`fails_cleanly`]).

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};

use mlkern::Par;
use mlkern::io::csv;
use mlkern::io::npy::{self, NpyArray, NpyData};
use mlkern::limits::MAX_THREADS;

use crate::{ABSURD, fails_cleanly, rejects, rejects_naming};

/// Cases run by this file (every test adds its own), checked against a floor at the end of each.
static CASES: AtomicUsize = AtomicUsize::new(0);

fn counted() {
    CASES.fetch_add(1, Ordering::Relaxed);
}

/// The bytes of a version-`major` `.npy` file with this header text and data.
fn npy_bytes(major: u8, header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = b"\x93NUMPY".to_vec();
    out.extend([major, 0]);
    let text = format!("{header}\n");
    if major == 1 {
        out.extend((text.len() as u16).to_le_bytes());
    } else {
        out.extend((text.len() as u32).to_le_bytes());
    }
    out.extend(text.as_bytes());
    out.extend(data);
    out
}

fn header(descr: &str, fortran: bool, shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let tuple = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let order = if fortran { "True" } else { "False" };
    format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {tuple}, }}")
}

const DESCRS: [&str; 13] = [
    "|b1", "|u1", "|i1", "<i2", "<i4", "<i8", "<u2", "<u4", "<u8", "<f4", ">f8", "<c8", "<c16",
];

/// Headers that claim absurd shapes over a few bytes of data: every dtype, both orders, every
/// version, 1-, 2- and 3-D shapes built from the absurd values. Rejected before allocating.
#[test]
fn npy_lying_headers_are_rejected_without_allocating() {
    let data = [1u8; 64];
    for major in [1u8, 2, 3] {
        for descr in DESCRS {
            for fortran in [false, true] {
                for &a in &ABSURD {
                    for shape in [vec![a], vec![a, 3], vec![2, a], vec![a, a], vec![4, 4, a]] {
                        let bytes = npy_bytes(major, &header(descr, fortran, &shape), &data);
                        let case = format!("npy v{major} {descr} fortran={fortran} {shape:?}");
                        rejects(&case, || npy::parse(&bytes));
                        counted();
                    }
                }
            }
        }
    }
    // Header length fields that point past the end of the input.
    for (major, len) in [
        (1u8, u64::from(u16::MAX)),
        (2, u64::from(u32::MAX)),
        (3, 1 << 31),
    ] {
        let mut bytes = b"\x93NUMPY".to_vec();
        bytes.extend([major, 0]);
        if major == 1 {
            bytes.extend((len as u16).to_le_bytes());
        } else {
            bytes.extend((len as u32).to_le_bytes());
        }
        bytes.extend(b"{'descr': '<f8'");
        rejects(&format!("npy v{major} header length {len}"), || {
            npy::parse(&bytes)
        });
        counted();
    }
    // Dimensions beyond usize, and a shape with thousands of absurd dimensions.
    for dims in [
        "(18446744073709551616,)",
        "(99999999999999999999999, 2)",
        "(-1,)",
    ] {
        let h = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {dims}, }}");
        rejects(dims, || npy::parse(&npy_bytes(1, &h, &data)));
        counted();
    }
    let many = vec![1usize << 40; 3000];
    let bytes = npy_bytes(2, &header("<f4", true, &many), &data);
    rejects("3000 dimensions of 2^40", || npy::parse(&bytes));
    counted();
    assert!(CASES.load(Ordering::Relaxed) >= 500);
}

/// A zero dimension beside absurd ones is a valid, empty array: accepted, with nothing
/// allocated for the absurd dimensions (Fortran order included: nothing to transpose).
#[test]
fn npy_empty_arrays_with_absurd_dimensions_allocate_nothing() {
    for descr in DESCRS {
        for fortran in [false, true] {
            for &a in &ABSURD {
                for shape in [vec![a, 0], vec![0, a], vec![a, 0, a], vec![0, a, a]] {
                    let bytes = npy_bytes(1, &header(descr, fortran, &shape), &[]);
                    let a = npy::parse(&bytes).unwrap();
                    assert_eq!(a.shape, shape);
                    assert!(a.is_empty());
                    assert!(a.to_f64_vec().is_ok_and(|v| v.is_empty()) || descr.contains('c'));
                    counted();
                }
            }
        }
    }
}

/// `NpyArray::new` with shapes that disagree with a small data vector, or overflow.
#[test]
fn npy_array_new_rejects_absurd_shapes() {
    for &a in &ABSURD {
        for shape in [
            vec![a],
            vec![a, 2],
            vec![a, a],
            vec![3, a, 5],
            vec![a, 1, 1, 1],
        ] {
            let case = format!("NpyArray::new({shape:?}, 4 elements)");
            rejects(&case, || {
                NpyArray::new(shape.clone(), NpyData::F64(vec![0.0; 4]))
            });
            counted();
        }
        // Empty data with a zero dimension is consistent, whatever the others are.
        assert!(NpyArray::new(vec![a, 0], NpyData::U8(vec![])).is_ok());
        counted();
    }
    rejects_naming("NpyArray::new overflow", "shape", || {
        NpyArray::new(vec![1 << 40, 1 << 40], NpyData::U8(vec![]))
    });
    counted();
    // The writer does not trust the public fields either: an inconsistent array is written and
    // then rejected by the reader, with nothing sized by the lying shape.
    for &a in &ABSURD {
        let lying = NpyArray {
            shape: vec![a, 2],
            data: NpyData::F32(vec![1.0; 6]),
        };
        let bytes = npy::to_bytes(&lying);
        rejects("to_bytes of a lying shape, read back", || {
            npy::parse(&bytes)
        });
        let bytes = npy::to_bytes_fortran(&lying);
        rejects("to_bytes_fortran of a lying shape", || npy::parse(&bytes));
        counted();
        counted();
    }
}

/// Real arrays that are too large to convert or decode under the cap: `OutOfMemory` naming the
/// buffer, after one refused reservation (the legitimate check for a meaningful size).
#[test]
fn npy_conversions_too_large_for_memory_fail_cleanly() {
    // 40 MiB of u8 → 320 MiB of f64 / i64, 160 MiB of f32 (allowed) → refused above 256 MiB.
    let n = 40 << 20;
    let a = NpyArray::new(vec![n], NpyData::U8(vec![1; n])).unwrap();
    let msg = fails_cleanly("u8 → f64 (320 MiB)", || a.to_f64_vec());
    assert!(msg.contains("data"), "{msg}");
    fails_cleanly("u8 → i64 (320 MiB)", || a.to_i64_vec());
    assert_eq!(a.to_f32_vec().map(|v| v.len()).ok(), Some(n));
    let b = NpyArray::new(vec![n], NpyData::Bool(vec![true; n])).unwrap();
    fails_cleanly("bool → f64 (320 MiB)", || b.to_f64_vec());
    let c = NpyArray::new(vec![n / 2], NpyData::I16(vec![1; n / 2])).unwrap();
    fails_cleanly("i16 → i64 (160 MiB, allowed)", || {
        c.to_i64_vec().and_then(|_| b.to_i64_vec())
    });
    for _ in 0..5 {
        counted();
    }
}

/// CSV tables whose parsed values outgrow the cap: `OutOfMemory`, never an abort; and the
/// ordinary error paths of both parsers stay errors.
#[test]
fn csv_too_large_and_malformed_fail_cleanly() {
    // 36 Mi values of one byte each: 288 MiB of f64, more than one request may take.
    let text = "0,0,0,0,0,0,0,0\n".repeat(36 << 17);
    let msg = fails_cleanly("csv 36 Mi values", || csv::parse_f64(&text));
    assert!(msg.contains("csv data"), "{msg}");
    counted();
    drop(text);
    for (case, text) in [
        ("empty", ""),
        ("only comments", "# a\n# b\n"),
        ("ragged", "1,2\n3\n"),
        ("empty field", "1,,2\n"),
        ("not a number", "1,2\n3,x\n"),
    ] {
        rejects(case, || csv::parse_f64(text));
        counted();
    }
    let many_labels: String = (0..300).map(|i| format!("{i}\n")).collect();
    for (case, text) in [
        ("categorical empty", String::new()),
        ("categorical ragged", "a,b\n1,2\n3\n".into()),
        ("categorical 300 labels", format!("a\n{many_labels}")),
        ("categorical empty field", "a,b\n1,\n".into()),
    ] {
        rejects(case, || csv::parse_categorical(&text));
        counted();
    }
    let t = csv::parse_f64("x,y\n1,2\n3,4\n").unwrap();
    assert_eq!((t.rows, t.cols), (2, 2));
    let t = csv::parse_categorical("a,b\nx,1\ny,1\n").unwrap();
    assert_eq!(t.states, [2, 1]);
}

/// Thread requests up to `usize::MAX` are clamped to the documented limit: never an absurd
/// number of threads, jobs or per-thread scratch blocks.
#[test]
fn par_clamps_absurd_thread_requests() {
    for &n in ABSURD
        .iter()
        .chain(&[MAX_THREADS + 1, 1 << 20, u32::MAX as usize])
    {
        assert_eq!(
            Par::threads(n).thread_count(),
            MAX_THREADS,
            "Par::threads({n})"
        );
        counted();
        if let Some(n) = NonZeroUsize::new(n) {
            assert_eq!(
                Par::Threads(n).thread_count(),
                MAX_THREADS,
                "Par::Threads({n})"
            );
            counted();
        }
    }
    assert_eq!(Par::threads(MAX_THREADS).thread_count(), MAX_THREADS);
    assert_eq!(Par::threads(4).thread_count(), 4);
    assert!(Par::threads(0).thread_count() <= MAX_THREADS);
    assert_eq!(Par::threads(1), Par::Seq);
}

/// A kernel given `Par::Threads(usize::MAX)` sizes its per-thread scratch from the clamped
/// count and runs (the stft plan sizes one block per job).
#[test]
fn kernels_run_with_the_largest_thread_request() {
    use mlkern::stft::{Stft, StftConfig};
    let plan = Stft::<f32>::new(&StftConfig::new(64)).unwrap();
    for par in [Par::threads(usize::MAX), Par::Threads(NonZeroUsize::MAX)] {
        let len = plan.scratch_len(par).unwrap();
        assert!(len <= 4 * MAX_THREADS * plan.scratch_len(Par::Seq).unwrap() + 4096);
        let x = vec![0.5f32; 4 * 256];
        let spec = plan.stft(&x, 4, par).unwrap();
        let seq = plan.stft(&x, 4, Par::Seq).unwrap();
        assert_eq!(spec, seq);
        counted();
    }
}
