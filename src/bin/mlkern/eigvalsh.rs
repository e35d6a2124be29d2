//! `mlkern eigvalsh A.npy [-o W.npy]`: eigenvalues of a symmetric matrix (lower triangle read).

use std::path::PathBuf;

use mlkern::Real;
use mlkern::io::npy::{NpyArray, NpyData};
use mlkern::linalg::{self, Layout};
use serde_json::json;

use crate::files::{Matrix, read_array, write_array};
use crate::timing::Timing;
use crate::{CliError, Common};

/// Arguments of `mlkern eigvalsh`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Symmetric matrix A (n×n, f32 or f64), .npy or .csv; only its lower triangle is read.
    a: PathBuf,
    /// Output: the n eigenvalues, ascending, as a float64 .npy vector.
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    common: Common,
}

fn values<T: Real>(args: &Args, a: &[T], n: usize) -> Result<(Vec<f64>, Timing), CliError> {
    // .npy files are row-major: a row-major view reads the file's own lower triangle, as
    // NumPy's eigvalsh (UPLO='L') does.
    let view = linalg::view(a, n, n, Layout::RowMajor)?;
    let par = args.common.par();
    let mut w = Vec::new();
    let ((), timing) = Timing::measure(args.common.repeat, || {
        w = linalg::eigvalsh(view, par)?;
        Ok::<(), mlkern::Error>(())
    })?;
    Ok((w, timing))
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<(), CliError> {
    let a = Matrix::from_array("A", read_array(&args.a)?)?;
    let (n, cols) = a.shape();
    if n != cols {
        return Err(CliError::Usage(format!(
            "eigvalsh: A is {n}×{cols}; it must be square"
        )));
    }
    let dtype = a.dtype();
    let (w, timing) = if dtype == "f32" {
        values(&args, &a.into_f32(), n)?
    } else {
        values(&args, &a.into_f64(), n)?
    };
    if let Some(out) = &args.output {
        write_array(
            out,
            &NpyArray {
                shape: vec![n],
                data: NpyData::F64(w.clone()),
            },
        )?;
    }
    if args.common.json {
        let summary = json!({
            "n": n,
            "dtype": dtype,
            "eigenvalues": w,
            "timing": timing.to_json(),
        });
        outln!("{summary}");
    } else {
        let (lo, hi) = (w.first().copied(), w.last().copied());
        outln!(
            "eigvalsh: {n}×{n} ({dtype}), λ_min {}, λ_max {}, median {} over {} run(s)",
            lo.map_or("—".into(), |x| format!("{x:.6e}")),
            hi.map_or("—".into(), |x| format!("{x:.6e}")),
            timing.human(),
            args.common.repeat,
        );
    }
    Ok(())
}
