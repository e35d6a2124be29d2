//! `mlkern::io::csv` through its public API: numeric tables with headers, comments, blank lines,
//! CRLF and a BOM; special values; ragged rows and bad fields reported by line number.
#![cfg(feature = "alloc")]

use mlkern::Error;
use mlkern::io::csv::parse_f64;

fn csv_err(text: &str) -> (&'static str, usize) {
    match parse_f64(text) {
        Err(Error::InvalidFormat {
            format: "csv",
            reason,
            position,
        }) => (reason, position),
        other => panic!("expected a csv error for {text:?}, got {other:?}"),
    }
}

#[test]
fn plain_numbers() {
    let t = parse_f64("1,2,3\n4,5,6\n").unwrap();
    assert_eq!((t.rows, t.cols), (2, 3));
    assert_eq!(t.data, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(t.header, None);
    assert_eq!(t.row(0), Some(&[1.0, 2.0, 3.0][..]));
    assert_eq!(t.row(1), Some(&[4.0, 5.0, 6.0][..]));
    assert_eq!(t.row(2), None);
    assert_eq!(t.row(usize::MAX), None);
}

#[test]
fn no_trailing_newline_and_single_column() {
    let t = parse_f64("1.5\n-2\n3e2").unwrap();
    assert_eq!((t.rows, t.cols), (3, 1));
    assert_eq!(t.data, [1.5, -2.0, 300.0]);
}

#[test]
fn header_detected() {
    let t = parse_f64("a,b\n1,2\n").unwrap();
    assert_eq!(t.header, Some(vec![String::from("a"), String::from("b")]));
    assert_eq!((t.rows, t.cols), (1, 2));
    assert_eq!(t.data, [1.0, 2.0]);
}

#[test]
fn header_with_a_numeric_name_and_quotes() {
    let t = parse_f64("\"time\", 2024 ,\"\"\n1,2,3\n").unwrap();
    let h = t.header.unwrap();
    assert_eq!(
        h,
        [String::from("time"), String::from("2024"), String::new()]
    );
    assert_eq!(t.data, [1.0, 2.0, 3.0]);
}

#[test]
fn header_only() {
    let t = parse_f64("x,y\n# nothing yet\n").unwrap();
    assert_eq!((t.rows, t.cols), (0, 2));
    assert!(t.data.is_empty());
    assert_eq!(t.row(0), None);
}

#[test]
fn comments_blank_lines_whitespace_crlf_bom() {
    let text = "\u{feff}# comment\r\n\r\n  x ,\ty \r\n  # indented comment\r\n \
                1 , 2 \r\n\r\n\t3,4\r\n";
    let t = parse_f64(text).unwrap();
    assert_eq!(t.header, Some(vec![String::from("x"), String::from("y")]));
    assert_eq!(t.data, [1.0, 2.0, 3.0, 4.0]);
    assert_eq!(t.rows, 2);
}

#[test]
fn special_values_parse() {
    let t = parse_f64("nan,NaN,inf\n-inf,+infinity,1e400\n.5,+4,-0\n").unwrap();
    assert!(t.data[0].is_nan() && t.data[1].is_nan());
    assert_eq!(t.data[2], f64::INFINITY);
    assert_eq!(t.data[3], f64::NEG_INFINITY);
    assert_eq!(t.data[4], f64::INFINITY);
    assert_eq!(t.data[5], f64::INFINITY);
    assert_eq!(&t.data[6..], [0.5, 4.0, 0.0]);
    assert!(t.data[8].is_sign_negative());
    assert_eq!(t.header, None);
}

#[test]
fn empty_inputs() {
    for text in ["", "\n", "  \n\t\n", "# only a comment\n", "\r\n#x\r\n"] {
        assert_eq!(
            parse_f64(text),
            Err(Error::Empty { what: "csv input" }),
            "{text:?}"
        );
    }
}

#[test]
fn ragged_rows_report_line_numbers() {
    assert_eq!(
        csv_err("1,2\n3\n"),
        ("row has a different number of fields than the first row", 2)
    );
    assert_eq!(csv_err("# c\n\n1,2\n3,4\n5,6,7\n").1, 5);
    assert_eq!(csv_err("a,b\n1,2,3\n").1, 2);
    assert_eq!(csv_err("a,b,c\n\n1,2\n").1, 3);
}

#[test]
fn bad_fields_report_line_numbers() {
    assert_eq!(csv_err("a,b\n1,2\n3,x\n"), ("field is not a number", 3));
    assert_eq!(csv_err("1,2\n3,four\n"), ("field is not a number", 2));
    assert_eq!(csv_err("1,2\n3,\n"), ("empty field", 2));
    assert_eq!(csv_err("1,,3\n"), ("empty field", 1));
    assert_eq!(csv_err("1,2,\n"), ("empty field", 1));
    assert_eq!(csv_err("1,2\n\"3\",4\n"), ("field is not a number", 2));
    assert_eq!(
        csv_err("1,2\n3,4 # trailing comment\n"),
        ("field is not a number", 2)
    );
    // A header row with an empty name is still a header; a second header is data.
    assert_eq!(csv_err("a,,c\nd,e,f\n"), ("field is not a number", 2));
}

#[test]
fn error_display() {
    let e = parse_f64("1\n2\nx\n").unwrap_err();
    assert_eq!(
        format!("{e}"),
        "invalid csv input at line 3: field is not a number"
    );
}
