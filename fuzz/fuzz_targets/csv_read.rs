//! Fuzzes the numeric CSV reader: it must never panic, its tables must be consistent, its
//! errors must point at a real line, and the values must survive printing and re-parsing.
#![no_main]

use std::fmt::Write as _;

use libfuzzer_sys::fuzz_target;
use mlkern::Error;
use mlkern::io::csv;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
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
