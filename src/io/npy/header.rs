//! The preamble and header dict of an `.npy` file: magic string, version, header length and the
//! `{'descr': ..., 'fortran_order': ..., 'shape': ...}` text, parsed and written.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use super::array::Kind;
use crate::error::{Error, Result};

/// The first six bytes of every `.npy` file.
pub(super) const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// NumPy pads the preamble (magic, version, header length, header) to a multiple of this.
pub(super) const ALIGN: usize = 64;
/// NumPy leaves room in the header for the growth axis to reach this many digits.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;

pub(super) fn bad(reason: &'static str, position: usize) -> Error {
    Error::InvalidFormat {
        format: "npy",
        reason,
        position,
    }
}

/// Splits off the magic string, version and header length; returns the header bytes, the offset
/// of the header, the offset of the data and the major version.
pub(super) fn split_preamble(bytes: &[u8]) -> Result<(&[u8], usize, usize, u8)> {
    if !bytes.starts_with(MAGIC) {
        return Err(if MAGIC.starts_with(bytes) {
            bad("input ends inside the magic string", bytes.len())
        } else {
            bad(
                "not an .npy file: the magic string \\x93NUMPY is missing",
                0,
            )
        });
    }
    let (Some(&major), Some(&minor)) = (bytes.get(6), bytes.get(7)) else {
        return Err(bad("input ends before the format version", bytes.len()));
    };
    let len_size = match major {
        1 => 2,
        2 | 3 => 4,
        _ => {
            return Err(bad(
                "unsupported format version (expected 1.0, 2.0 or 3.0)",
                6,
            ));
        }
    };
    if minor != 0 {
        return Err(bad(
            "unsupported format version (expected 1.0, 2.0 or 3.0)",
            7,
        ));
    }
    let header_start = 8 + len_size;
    let Some(len_bytes) = bytes.get(8..header_start) else {
        return Err(bad("input ends inside the header length", bytes.len()));
    };
    let header_len = len_bytes
        .iter()
        .rev()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    let data_start = header_start
        .checked_add(header_len)
        .filter(|&end| end <= bytes.len())
        .ok_or(bad("truncated header: header length exceeds the input", 8))?;
    Ok((
        &bytes[header_start..data_start],
        header_start,
        data_start,
        major,
    ))
}

/// The three values of the header dict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Header {
    pub(super) kind: Kind,
    pub(super) big_endian: bool,
    pub(super) fortran_order: bool,
    pub(super) shape: Vec<usize>,
    /// Byte offset of the shape tuple, for size errors.
    pub(super) shape_pos: usize,
}

/// A cursor over the header text; positions it reports are offsets in the whole input.
struct Cursor<'a> {
    text: &'a [u8],
    at: usize,
    base: usize,
}

impl<'a> Cursor<'a> {
    fn pos(&self) -> usize {
        self.base + self.at
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(
            self.peek(),
            Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
        ) {
            self.at += 1;
        }
    }

    /// Skips whitespace, then consumes `c` if it comes next.
    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn err(&self, reason: &'static str) -> Error {
        bad(reason, self.pos())
    }

    /// A quoted string (single or double quotes, no escapes); returns its contents.
    fn string(&mut self, reason: &'static str) -> Result<&'a [u8]> {
        self.skip_ws();
        let quote = match self.peek() {
            Some(q @ (b'\'' | b'"')) => q,
            _ => return Err(self.err(reason)),
        };
        let start = self.at + 1;
        let mut end = start;
        loop {
            match self.text.get(end) {
                Some(&c) if c == quote => break,
                Some(b'\\') => {
                    self.at = end;
                    return Err(self.err("escape sequences in header strings are not supported"));
                }
                Some(b'\n') | None => {
                    self.at = end;
                    return Err(self.err("unterminated string in header"));
                }
                Some(_) => end += 1,
            }
        }
        self.at = end + 1;
        Ok(&self.text[start..end])
    }

    /// A run of ASCII letters (an identifier such as `True`).
    fn word(&mut self) -> &'a [u8] {
        self.skip_ws();
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.at += 1;
        }
        &self.text[start..self.at]
    }

    /// A non-negative decimal integer, optionally with Python 2's `L` suffix.
    fn uint(&mut self) -> Result<usize> {
        self.skip_ws();
        let start = self.at;
        let mut value = 0usize;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(usize::from(c - b'0')))
                .ok_or(self.err("shape dimension overflows usize"))?;
            self.at += 1;
        }
        if self.at == start {
            return Err(self.err("shape entries must be non-negative integers"));
        }
        if matches!(self.peek(), Some(b'L' | b'l')) {
            self.at += 1;
        }
        Ok(value)
    }
}

pub(super) fn parse_header(text: &[u8], base: usize) -> Result<Header> {
    let mut c = Cursor { text, at: 0, base };
    if !c.eat(b'{') {
        return Err(c.err("header is not a dict: expected '{'"));
    }
    let mut dtype = None;
    let mut fortran_order = None;
    let mut shape = None;
    loop {
        if c.eat(b'}') {
            break;
        }
        c.skip_ws();
        let key_pos = c.pos();
        let key = c.string("expected a quoted key or '}' in the header dict")?;
        if !c.eat(b':') {
            return Err(c.err("expected ':' after a key in the header dict"));
        }
        match key {
            b"descr" => {
                if dtype.is_some() {
                    return Err(bad("duplicate key 'descr' in header", key_pos));
                }
                dtype = Some(parse_descr(&mut c)?);
            }
            b"fortran_order" => {
                if fortran_order.is_some() {
                    return Err(bad("duplicate key 'fortran_order' in header", key_pos));
                }
                c.skip_ws();
                let at = c.pos();
                fortran_order = Some(match c.word() {
                    b"True" => true,
                    b"False" => false,
                    _ => return Err(bad("fortran_order must be True or False", at)),
                });
            }
            b"shape" => {
                if shape.is_some() {
                    return Err(bad("duplicate key 'shape' in header", key_pos));
                }
                c.skip_ws();
                let at = c.pos();
                shape = Some((parse_shape(&mut c)?, at));
            }
            _ => {
                return Err(bad(
                    "unexpected key in header (allowed: 'descr', 'fortran_order', 'shape')",
                    key_pos,
                ));
            }
        }
        if c.eat(b',') {
            continue;
        }
        if c.eat(b'}') {
            break;
        }
        return Err(c.err("expected ',' or '}' after a value in the header dict"));
    }
    c.skip_ws();
    if c.at != text.len() {
        return Err(c.err("unexpected characters after the header dict"));
    }
    let (kind, big_endian) = dtype.ok_or(bad("header lacks the 'descr' key", base))?;
    let fortran_order = fortran_order.ok_or(bad("header lacks the 'fortran_order' key", base))?;
    let (shape, shape_pos) = shape.ok_or(bad("header lacks the 'shape' key", base))?;
    Ok(Header {
        kind,
        big_endian,
        fortran_order,
        shape,
        shape_pos,
    })
}

/// The `descr` value: a dtype string such as `'<f8'`. Returns the dtype and whether it is
/// big-endian.
fn parse_descr(c: &mut Cursor<'_>) -> Result<(Kind, bool)> {
    c.skip_ws();
    match c.peek() {
        Some(b'[') => return Err(c.err("structured dtypes (a list descr) are not supported")),
        Some(b'(') => return Err(c.err("sub-array dtypes (a tuple descr) are not supported")),
        _ => {}
    }
    let at = c.pos();
    let descr = c.string("descr must be a quoted dtype string such as '<f8'")?;
    let (big_endian, code) = match descr.split_first() {
        Some((b'>', rest)) => (true, rest),
        Some((b'<' | b'|' | b'=', rest)) => (false, rest),
        _ => (false, descr),
    };
    let kind = match code {
        b"b1" => Kind::Bool,
        b"u1" => Kind::U8,
        b"i1" => Kind::I8,
        b"i2" => Kind::I16,
        b"i4" => Kind::I32,
        b"i8" => Kind::I64,
        b"u2" => Kind::U16,
        b"u4" => Kind::U32,
        b"u8" => Kind::U64,
        b"f4" => Kind::F32,
        b"f8" => Kind::F64,
        b"c8" => Kind::C64,
        b"c16" => Kind::C128,
        _ => return Err(bad(unsupported_dtype(code), at)),
    };
    Ok((kind, big_endian))
}

fn unsupported_dtype(code: &[u8]) -> &'static str {
    match code.first() {
        Some(b'U' | b'S' | b'a') => "unsupported dtype: strings (U, S) are not supported",
        Some(b'O') => "unsupported dtype: object arrays (pickled Python objects) are not supported",
        Some(b'f') => "unsupported dtype: only f4 and f8 floats are supported (not f2, f16)",
        Some(b'c') => "unsupported dtype: only c8 and c16 complex numbers are supported",
        Some(b'M' | b'm') => "unsupported dtype: datetime and timedelta are not supported",
        Some(b'V') => "unsupported dtype: void (raw bytes) is not supported",
        _ => "unsupported dtype (supported: b1, i1, i2, i4, i8, u1, u2, u4, u8, f4, f8, c8, c16)",
    }
}

/// The `shape` value: a tuple of non-negative integers, `()` or `(n,)` or `(n, m, ...)`.
fn parse_shape(c: &mut Cursor<'_>) -> Result<Vec<usize>> {
    if !c.eat(b'(') {
        return Err(c.err("shape must be a tuple such as (2, 3)"));
    }
    let mut dims = Vec::new();
    let mut trailing_comma = false;
    loop {
        if c.eat(b')') {
            if dims.len() == 1 && !trailing_comma {
                return Err(c.err("shape must be a tuple: one dimension needs a comma, as in (3,)"));
            }
            return Ok(dims);
        }
        dims.push(c.uint()?);
        trailing_comma = c.eat(b',');
        if !trailing_comma {
            c.skip_ws();
            if c.peek() != Some(b')') {
                return Err(c.err("expected ',' or ')' in the shape tuple"));
            }
        }
    }
}

/// The header dict as NumPy formats it, including the spare spaces NumPy leaves so that the
/// growth axis (the first in C order, the last in Fortran order) can be rewritten in place.
pub(super) fn header_text(descr: &str, fortran_order: bool, shape: &[usize]) -> String {
    let mut h = String::with_capacity(64 + 22 * shape.len());
    h.push_str("{'descr': '");
    h.push_str(descr);
    h.push_str("', 'fortran_order': ");
    h.push_str(if fortran_order { "True" } else { "False" });
    h.push_str(", 'shape': (");
    for (i, d) in shape.iter().enumerate() {
        if i > 0 {
            h.push_str(", ");
        }
        // Writing into a String cannot fail.
        let _ = write!(h, "{d}");
    }
    if shape.len() == 1 {
        h.push(',');
    }
    h.push_str("), }");
    let growth = if fortran_order {
        shape.last()
    } else {
        shape.first()
    };
    if let Some(&d) = growth {
        for _ in decimal_digits(d)..GROWTH_AXIS_MAX_DIGITS {
            h.push(' ');
        }
    }
    h
}

fn decimal_digits(mut n: usize) -> usize {
    let mut digits = 1;
    while n >= 10 {
        n /= 10;
        digits += 1;
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::header_text;

    /// The spare spaces for the growth axis are not observable through the public API (the
    /// padding to 64 bytes absorbs them), so this checks the private formatter directly.
    #[test]
    fn header_text_leaves_room_for_the_growth_axis() {
        let t = |shape: &[usize], fortran| header_text("|u1", fortran, shape);
        assert_eq!(
            t(&[], false),
            "{'descr': '|u1', 'fortran_order': False, 'shape': (), }"
        );
        assert_eq!(
            t(&[7], false).trim_end(),
            "{'descr': '|u1', 'fortran_order': False, 'shape': (7,), }"
        );
        assert_eq!(t(&[7], false).len() - t(&[7], false).trim_end().len(), 20);
        // The growth axis is the first in C order and the last in Fortran order.
        assert_eq!(
            t(&[100, 5], false).len() - t(&[100, 5], false).trim_end().len(),
            18
        );
        assert_eq!(
            t(&[100, 5], true).len() - t(&[100, 5], true).trim_end().len(),
            20
        );
        assert_eq!(
            t(&[usize::MAX], false).len() - t(&[usize::MAX], false).trim_end().len(),
            1
        );
    }
}
