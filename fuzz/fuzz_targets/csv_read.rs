//! Fuzzes the numeric CSV reader: it must never panic, its tables must be consistent, its
//! errors must point at a real line, and the values must survive printing and re-parsing.
#![no_main]

use std::fmt::Write as _;

use libfuzzer_sys::fuzz_target;
use mlkern::Error;
use mlkern::io::csv;

/// The categorical reader on the same text: never panics; an accepted table is consistent.
fn categorical(text: &str) {
    let Ok(t) = csv::parse_categorical(text) else {
        return;
    };
    let cols = t.names.len();
    assert_eq!(t.codes.len(), t.rows * cols);
    assert_eq!((t.states.len(), t.labels.len()), (cols, cols));
    for (c, labels) in t.labels.iter().enumerate() {
        assert_eq!(usize::from(t.states[c]), labels.len().max(1));
        let codes = &t.codes[c * t.rows..(c + 1) * t.rows];
        assert!(codes.iter().all(|&k| usize::from(k) < labels.len()));
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    categorical(text);
    let t = match csv::parse_f64(text) {
        Ok(t) => t,
        Err(Error::InvalidFormat {
            format, position, ..
        }) => {
            assert_eq!(format, "csv");
            assert!(
                (1..=text.split('\n').count()).contains(&position),
                "line {position}"
            );
            return;
        }
        Err(Error::Empty { .. }) => {
            assert!(text.lines().all(|l| {
                let l = l.trim_start_matches('\u{feff}').trim();
                l.is_empty() || l.starts_with('#')
            }));
            return;
        }
        // A table too large for the capped allocator: fallible, never an abort.
        Err(Error::OutOfMemory { name, .. }) => {
            assert!(name.starts_with("csv"), "{name}");
            return;
        }
        Err(e) => panic!("unexpected error: {e}"),
    };

    assert!(t.cols >= 1);
    assert_eq!(t.data.len(), t.rows * t.cols);
    if let Some(header) = &t.header {
        assert_eq!(header.len(), t.cols);
    }
    for r in 0..t.rows {
        assert_eq!(t.row(r).map(<[f64]>::len), Some(t.cols));
    }
    assert_eq!(t.row(t.rows), None);

    // Rust's float formatting round-trips, so printing the values and parsing them again must
    // give the same numbers (NaN payloads aside) and no header.
    if t.rows > 0 {
        let mut out = String::new();
        for r in 0..t.rows {
            let row = t.row(r).unwrap();
            for (c, x) in row.iter().enumerate() {
                let sep = if c + 1 == row.len() { "\n" } else { "," };
                write!(out, "{x}{sep}").unwrap();
            }
        }
        let back = csv::parse_f64(&out).expect("printed values must parse");
        assert_eq!((back.rows, back.cols, back.header), (t.rows, t.cols, None));
        for (x, y) in t.data.iter().zip(&back.data) {
            assert!(
                x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
                "{x} vs {y}"
            );
        }
    }
});
