//! `mlkern matmul A.npy B.npy -o C.npy`: the GEMM layer on files.

use std::path::PathBuf;

use mlkern::Real;
use mlkern::io::npy::{NpyArray, NpyData};
use mlkern::linalg::{self, Accum, Layout};
use serde_json::json;

use crate::backend::{self, Backend};
use crate::files::{Matrix, checked_len, filled, read_array, write_array};
use crate::timing::Timing;
use crate::{CliError, Common};

/// Arguments of `mlkern matmul`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Left factor A (m×k), .npy or .csv.
    a: PathBuf,
    /// Right factor B (k×n), .npy or .csv.
    b: PathBuf,
    /// Output C = A·B (m×n) as .npy.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// GEMM implementation.
    #[arg(long, value_parser = Backend::parser(backend::GEMM), default_value = "auto")]
    backend: Backend,
    #[command(flatten)]
    common: Common,
}

fn product<T: Real>(
    args: &Args,
    a: &[T],
    b: &[T],
    (m, k, n): (usize, usize, usize),
) -> Result<(Vec<T>, Timing), CliError> {
    // m and n come from two files' shapes: A (m×0) and B (0×n) are empty whatever m and n are.
    let mut c = filled(checked_len(&[m, n], "C = A·B")?, T::zero(), "C = A·B")?;
    let par = args.common.par();
    let ((), timing) = Timing::measure(args.common.repeat, || {
        linalg::matmul_with(
            args.backend.gemm(),
            linalg::view_mut(&mut c, m, n, Layout::RowMajor)?,
            Accum::Replace,
            linalg::view(a, m, k, Layout::RowMajor)?,
            linalg::view(b, k, n, Layout::RowMajor)?,
            T::one(),
            par,
        )
    })?;
    Ok((c, timing))
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<(), CliError> {
    let a = Matrix::from_array("A", read_array(&args.a)?)?;
    let b = Matrix::from_array("B", read_array(&args.b)?)?;
    let ((m, k), (k2, n)) = (a.shape(), b.shape());
    if k != k2 {
        return Err(CliError::Usage(format!(
            "matmul: A is {m}×{k} but B is {k2}×{n}; the inner dimensions must agree"
        )));
    }
    let dtype = if a.dtype() == "f32" && b.dtype() == "f32" {
        "f32"
    } else {
        "f64"
    };
    let (data, timing) = if dtype == "f32" {
        let (c, t) = product(&args, &a.into_f32(), &b.into_f32(), (m, k, n))?;
        (NpyData::F32(c), t)
    } else {
        let (c, t) = product(&args, &a.into_f64(), &b.into_f64(), (m, k, n))?;
        (NpyData::F64(c), t)
    };
    if let Some(out) = &args.output {
        write_array(
            out,
            &NpyArray {
                shape: vec![m, n],
                data,
            },
        )?;
    }
    let flops = 2.0 * m as f64 * k as f64 * n as f64;
    if args.common.json {
        let summary = json!({
            "shape": [m, n],
            "dtype": dtype,
            "backend": format!("{:?}", args.backend.gemm()),
            "gflops": flops / timing.median_s() / 1e9,
            "timing": timing.to_json(),
        });
        outln!("{summary}");
    } else {
        outln!(
            "C = A·B: {m}×{k} · {k}×{n} ({dtype}), median {} over {} run(s), {:.1} GFLOP/s",
            timing.human(),
            args.common.repeat,
            flops / timing.median_s() / 1e9
        );
    }
    Ok(())
}
