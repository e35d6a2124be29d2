//! Numeric CSV tables, parsed from text.
//!
//! # The format
//!
//! * Fields are separated by commas, rows by `\n` (a `\r` before it is ignored, so `\r\n` files
//!   work). Quoting is not supported: a field cannot contain a comma.
//! * Whitespace around each field and each line is trimmed. A leading UTF-8 byte order mark is
//!   skipped.
//! * Blank lines and lines whose first non-blank character is `#` are skipped anywhere in the
//!   input (comments must take the whole line).
//! * The first remaining row is a header when any of its fields is non-empty and not a number;
//!   its fields are kept as column names (one pair of surrounding `"` quotes is removed).
//!   Otherwise the first row is data.
//! * Every data field must parse as an `f64` with Rust's [`str::parse`], so `1`, `-2.5`, `1e-3`,
//!   `+4`, `.5`, `nan`, `NaN`, `inf` and `-infinity` are all accepted: NaN and ±∞ come through as
//!   they are, and the caller decides whether to allow them.
//! * Every row (the header included) must have as many fields as the first one.
//!
//! # Guarantees
//!
//! [`parse_f64`] never panics. Errors carry the 1-based line number of the offending line (blank
//! and comment lines are counted). Memory use is proportional to the input's length, and every
//! buffer grows fallibly: a table too large for memory is
//! [`Error::OutOfMemory`], never an abort.

use alloc::string::String;
use alloc::vec::Vec;

use crate::base::{collect, from_fn, oom, try_vec, zeros};
use crate::error::{Error, Result};

fn bad(reason: &'static str, line: usize) -> Error {
    Error::InvalidFormat {
        format: "csv",
        reason,
        position: line,
    }
}

/// A numeric table read by [`parse_f64`].
#[derive(Debug, Clone, PartialEq)]
pub struct CsvTable {
    /// The number of data rows (the header is not counted).
    pub rows: usize,
    /// The number of columns.
    pub cols: usize,
    /// The `rows × cols` values in row-major order.
    pub data: Vec<f64>,
    /// The column names, if the first row was a header.
    pub header: Option<Vec<String>>,
}

impl CsvTable {
    /// Row `r` as a slice of `cols` values, or `None` if `r >= rows`.
    ///
    /// ```
    /// let t = mlkern::io::csv::parse_f64("1,2\n3,4\n")?;
    /// assert_eq!(t.row(1), Some(&[3.0, 4.0][..]));
    /// assert_eq!(t.row(2), None);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn row(&self, r: usize) -> Option<&[f64]> {
        if r >= self.rows {
            return None;
        }
        let start = r.checked_mul(self.cols)?;
        self.data.get(start..start.checked_add(self.cols)?)
    }
}

/// Parses comma-separated numbers into a row-major table, with an optional header row.
///
/// See the [module documentation](crate::io::csv) for the exact rules. A header with no data
/// rows gives a table with `rows == 0`.
///
/// # Errors
///
/// * [`Error::Empty`] if the input holds no rows at all (only blank and comment lines);
/// * [`Error::InvalidFormat`] with `format: "csv"` and the 1-based line number as `position`
///   for a row whose field count differs from the first row's, an empty field, or a field after
///   the header that is not a number.
///
/// # Example
///
/// ```
/// use mlkern::io::csv;
///
/// let t = csv::parse_f64("# measurements\nx, y\n1, 2.5\n3, -4e1\n")?;
/// assert_eq!((t.rows, t.cols), (2, 2));
/// assert_eq!(t.data, [1.0, 2.5, 3.0, -40.0]);
/// assert_eq!(t.header, Some(vec!["x".to_string(), "y".to_string()]));
///
/// let e = csv::parse_f64("1,2\n3\n").unwrap_err();
/// let expected = "invalid csv input at line 2: row has a different number of fields than the first row";
/// assert_eq!(e.to_string(), expected);
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn parse_f64(text: &str) -> Result<CsvTable> {
    let mut cols = None;
    let mut rows = 0usize;
    let mut data = Vec::new();
    let mut header = None;
    let mut fields: Vec<&str> = Vec::new();

    for (line_no, line) in records(text) {
        fields.clear();
        fields.extend(line.split(',').map(str::trim));
        match cols {
            None => {
                cols = Some(fields.len());
                if fields
                    .iter()
                    .any(|f| !f.is_empty() && f.parse::<f64>().is_err())
                {
                    header = Some(collect(
                        fields.iter().map(|f| String::from(unquote(f))),
                        "csv header",
                    )?);
                    continue;
                }
            }
            Some(n) if n != fields.len() => {
                return Err(bad(
                    "row has a different number of fields than the first row",
                    line_no,
                ));
            }
            Some(_) => {}
        }
        for field in &fields {
            if field.is_empty() {
                return Err(bad("empty field", line_no));
            }
            let x = field
                .parse::<f64>()
                .map_err(|_| bad("field is not a number", line_no))?;
            push(&mut data, x, "csv data")?;
        }
        rows += 1;
    }

    let cols = cols.ok_or(Error::Empty { what: "csv input" })?;
    Ok(CsvTable {
        rows,
        cols,
        data,
        header,
    })
}

/// The lines that hold records, with their 1-based line numbers: BOM skipped, lines trimmed,
/// blank and comment lines dropped.
fn records(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

/// A categorical table read by [`parse_categorical`]: every column coded to `u8` states.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoricalTable {
    /// Column names from the header row.
    pub names: Vec<String>,
    /// The number of data rows (samples).
    pub rows: usize,
    /// Codes in **variable-major** order: `codes[c·rows + r]` is the state of column `c` in row
    /// `r`, numbered in order of first appearance in that column.
    pub codes: Vec<u8>,
    /// The number of distinct labels of each column.
    pub states: Vec<u8>,
    /// The labels of each column, indexed by code.
    pub labels: Vec<Vec<String>>,
}

/// Parses a CSV of category labels (strings or numbers, compared as text after trimming and
/// removing one pair of surrounding quotes) with a mandatory header row of variable names,
/// coding each column's labels `0, 1, …` in order of first appearance. Comment, blank-line and
/// BOM rules are those of [`parse_f64`].
///
/// # Errors
/// [`Error::Empty`] without a header; [`Error::InvalidFormat`] (with the line number) for a row
/// whose field count differs from the header's, an empty field, or a column with more than 255
/// distinct labels.
///
/// ```
/// let t = mlkern::io::csv::parse_categorical("color,size\nred,1\nblue,2\nred,2\n")?;
/// assert_eq!(t.names, ["color", "size"]);
/// assert_eq!(t.codes, [0, 1, 0,   0, 1, 1]);
/// assert_eq!(t.states, [2, 2]);
/// assert_eq!(t.labels[0], ["red", "blue"]);
/// assert!(mlkern::io::csv::parse_categorical("a,b\n1,2\n3\n").is_err());
/// # Ok::<(), mlkern::Error>(())
/// ```
pub fn parse_categorical(text: &str) -> Result<CategoricalTable> {
    let mut lines = records(text);
    let (_, head) = lines.next().ok_or(Error::Empty { what: "csv input" })?;
    let cols = head.split(',').count();
    let mut names: Vec<String> = try_vec(cols, "csv header")?;
    names.extend(head.split(',').map(|f| String::from(unquote(f.trim()))));
    let mut labels: Vec<Vec<String>> = from_fn(cols, "csv header", |_| Vec::new())?;
    let mut by_row: Vec<u8> = Vec::new();
    let mut rows = 0usize;
    for (line_no, line) in lines {
        let mut n = 0usize;
        for (c, field) in line.split(',').enumerate() {
            if c >= cols {
                return Err(bad(
                    "row has a different number of fields than the header",
                    line_no,
                ));
            }
            let field = unquote(field.trim());
            if field.is_empty() {
                return Err(bad("empty field", line_no));
            }
            let code = match labels[c].iter().position(|l| l == field) {
                Some(k) => k,
                None if labels[c].len() < 255 => {
                    push(&mut labels[c], String::from(field), "csv labels")?;
                    labels[c].len() - 1
                }
                None => return Err(bad("a column has more than 255 distinct labels", line_no)),
            };
            push(&mut by_row, code as u8, "csv data")?;
            n += 1;
        }
        if n != cols {
            return Err(bad(
                "row has a different number of fields than the header",
                line_no,
            ));
        }
        rows += 1;
    }
    // rows · cols is by_row's length: no overflow, one code per field read.
    let mut codes = zeros::<u8>(by_row.len(), "csv data")?;
    for r in 0..rows {
        for c in 0..cols {
            codes[c * rows + r] = by_row[r * cols + c];
        }
    }
    let states = collect(labels.iter().map(|l| l.len().max(1) as u8), "csv header")?;
    Ok(CategoricalTable {
        names,
        rows,
        codes,
        states,
        labels,
    })
}

/// Appends `x`, growing `v` geometrically but fallibly: a table too large for memory is an
/// [`Error::OutOfMemory`] naming `name`, never an abort.
fn push<T>(v: &mut Vec<T>, x: T, name: &'static str) -> Result<()> {
    if v.len() == v.capacity() {
        v.try_reserve(1)
            .map_err(|_| oom::<T>(v.len().saturating_add(1), name))?;
    }
    v.push(x);
    Ok(())
}

/// `field` without one pair of surrounding double quotes.
fn unquote(field: &str) -> &str {
    field
        .strip_prefix('"')
        .and_then(|f| f.strip_suffix('"'))
        .unwrap_or(field)
}
