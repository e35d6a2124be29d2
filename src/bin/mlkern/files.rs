//! Reading `.npy`/`.csv` inputs and writing `.npy` outputs.

use std::path::Path;

use mlkern::io::npy::{self, NpyArray, NpyData};

use crate::CliError;

/// Reads a `.npy` file, or a `.csv` file (numeric, optional header) as a 2-D f64 array.
pub fn read_array(path: &Path) -> Result<NpyArray, CliError> {
    let bytes = std::fs::read(path).map_err(|e| CliError::io(path, e))?;
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| CliError::Usage(format!("{}: not UTF-8 text", path.display())))?;
        let table = mlkern::io::csv::parse_f64(text).map_err(|e| with_path(path, e))?;
        return Ok(NpyArray {
            shape: vec![table.rows, table.cols],
            data: NpyData::F64(table.data),
        });
    }
    npy::parse(&bytes).map_err(|e| with_path(path, e))
}

/// Writes `array` as a `.npy` file.
pub fn write_array(path: &Path, array: &NpyArray) -> Result<(), CliError> {
    std::fs::write(path, npy::to_bytes(array)).map_err(|e| CliError::io(path, e))
}

pub fn with_path(path: &Path, e: mlkern::Error) -> CliError {
    CliError::Usage(format!("{}: {e}", path.display()))
}

/// A real 2-D matrix read from a file, row-major, in its own precision (integers become f64).
pub enum Matrix {
    /// f32 data.
    F32 {
        rows: usize,
        cols: usize,
        data: Vec<f32>,
    },
    /// f64 data (also integer and bool input).
    F64 {
        rows: usize,
        cols: usize,
        data: Vec<f64>,
    },
}

impl Matrix {
    /// Interprets `array` as a 2-D real matrix.
    pub fn from_array(name: &str, array: NpyArray) -> Result<Matrix, CliError> {
        let &[rows, cols] = array.shape.as_slice() else {
            return Err(CliError::Usage(format!(
                "{name}: expected a 2-D array, found shape {:?}",
                array.shape
            )));
        };
        Ok(match array.data {
            NpyData::F32(data) => Matrix::F32 { rows, cols, data },
            _ => Matrix::F64 {
                rows,
                cols,
                data: array.to_f64_vec().map_err(CliError::from)?,
            },
        })
    }

    /// `(rows, cols)`.
    pub fn shape(&self) -> (usize, usize) {
        match self {
            Matrix::F32 { rows, cols, .. } | Matrix::F64 { rows, cols, .. } => (*rows, *cols),
        }
    }

    /// `"f32"` or `"f64"`.
    pub fn dtype(&self) -> &'static str {
        match self {
            Matrix::F32 { .. } => "f32",
            Matrix::F64 { .. } => "f64",
        }
    }

    /// Converts to f64 (exact for f32).
    pub fn into_f64(self) -> Vec<f64> {
        match self {
            Matrix::F32 { data, .. } => data.into_iter().map(f64::from).collect(),
            Matrix::F64 { data, .. } => data,
        }
    }

    /// Converts to f32 (rounds f64).
    pub fn into_f32(self) -> Vec<f32> {
        match self {
            Matrix::F32 { data, .. } => data,
            Matrix::F64 { data, .. } => data.into_iter().map(|x| x as f32).collect(),
        }
    }
}

/// The product of `dims`, or the library's `OutOfMemory` error naming `name` when it overflows
/// `usize` (a shape read from a file, or a flag, that no buffer can hold).
pub fn checked_len(dims: &[usize], name: &'static str) -> Result<usize, CliError> {
    dims.iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or(CliError::Kernel(mlkern::Error::OutOfMemory {
            name,
            bytes: usize::MAX,
        }))
}

/// An empty vector with room for exactly `len` elements, reserved fallibly: a size that comes
/// from a file's shape or a flag and cannot be allocated is the library's `OutOfMemory` error
/// naming `name` (exit code 2, one line), never an abort.
pub fn try_vec<T>(len: usize, name: &'static str) -> Result<Vec<T>, CliError> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| {
        CliError::Kernel(mlkern::Error::OutOfMemory {
            name,
            bytes: len.saturating_mul(size_of::<T>()),
        })
    })?;
    Ok(v)
}

/// `len` copies of `value`, reserved fallibly (see [`try_vec`]).
pub fn filled<T: Clone>(len: usize, value: T, name: &'static str) -> Result<Vec<T>, CliError> {
    let mut v = try_vec(len, name)?;
    v.resize(len, value);
    Ok(v)
}

/// The precisions a step on files runs in: the parameter's dtype picks one, and every other input
/// is converted to it (f64 → f32 rounds; integers become floats).
pub trait FileReal: mlkern::Real {
    /// `"f32"` or `"f64"`.
    const NAME: &'static str;
    /// `array`'s values in this precision.
    fn read(array: &NpyArray) -> Result<Vec<Self>, CliError>;
    /// `values` as `.npy` data of this precision.
    fn data(values: Vec<Self>) -> NpyData;
}

impl FileReal for f32 {
    const NAME: &'static str = "f32";
    fn read(array: &NpyArray) -> Result<Vec<f32>, CliError> {
        Ok(array.to_f32_vec()?)
    }
    fn data(values: Vec<f32>) -> NpyData {
        NpyData::F32(values)
    }
}

impl FileReal for f64 {
    const NAME: &'static str = "f64";
    fn read(array: &NpyArray) -> Result<Vec<f64>, CliError> {
        Ok(array.to_f64_vec()?)
    }
    fn data(values: Vec<f64>) -> NpyData {
        NpyData::F64(values)
    }
}
