//! `mlkern tiara`: TiARA reweighting of `[..., N, N]` temporal-attention matrices.

use std::path::PathBuf;

use mlkern::Real;
use mlkern::io::npy::{NpyArray, NpyData};
use mlkern::stft::{
    Band, FarBias, TiaraConfig, TiaraInput, TiaraWindow, tiara_into, tiara_scratch_len,
};
use serde_json::json;

use crate::files::{filled, read_array, write_array};
use crate::stft::Shape;
use crate::timing::Timing;
use crate::{CliError, Common};

/// Arguments of `mlkern tiara`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Attention matrices: a float .npy of shape [..., N, N] (probabilities by default).
    #[arg(value_name = "IN")]
    file: PathBuf,
    /// Output probabilities, same shape and dtype.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Strength α ≥ 0 (the paper's 5–7): the diagonal logit moves by −α(1 − ρ).
    #[arg(long)]
    alpha: f64,
    /// Window length L (1 ≤ L ≤ N; the paper's 7–9).
    #[arg(long)]
    window_len: usize,
    /// First motion bin φ1 of the N-point DFT.
    #[arg(long, requires = "phi2", conflicts_with_all = ["freq1", "freq2"])]
    phi1: Option<usize>,
    /// First excluded ("abnormal") bin φ2 ≤ N/2 + 1.
    #[arg(long, requires = "phi1")]
    phi2: Option<usize>,
    /// The band's lower edge in cycles per frame (instead of --phi1): φ1 = ⌊f·N + ½⌋.
    #[arg(long, requires = "freq2")]
    freq1: Option<f64>,
    /// The band's upper edge in cycles per frame (≤ 0.5).
    #[arg(long, requires = "freq1")]
    freq2: Option<f64>,
    /// What the input holds.
    #[arg(long = "input", id = "input_kind", value_enum, default_value_t = Kind::Probs)]
    input_kind: Kind,
    /// Window shape (symmetric unless --periodic-window).
    #[arg(long, value_enum, default_value_t = Shape::Blackman)]
    window: Shape,
    /// Periodic instead of symmetric window.
    #[arg(long)]
    periodic_window: bool,
    /// The fixed variant Λ = −αI (no STFT).
    #[arg(long)]
    fixed: bool,
    /// Far-frame bias: frames at least this far apart get −β (off by default; speculative, A9).
    #[arg(long, requires = "far_beta")]
    far_distance: Option<usize>,
    /// Far-frame bias magnitude β ≥ 0.
    #[arg(long, requires = "far_distance")]
    far_beta: Option<f64>,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Kind {
    Probs,
    Logits,
}

fn apply<T: Real>(
    args: &Args,
    cfg: &TiaraConfig<'_>,
    x: &[T],
    n: usize,
) -> Result<(Vec<T>, Timing), CliError> {
    let par = args.common.par();
    // n comes from the file's shape: [0, N, N] is empty whatever N is.
    let mut scratch = filled(tiara_scratch_len(cfg, n)?, T::zero(), "tiara scratch")?;
    let mut out = filled(x.len(), T::zero(), "tiara output")?;
    let ((), timing) = Timing::measure(args.common.repeat, || {
        tiara_into(&mut out, x, n, cfg, &mut scratch, par)
    })?;
    Ok((out, timing))
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<(), CliError> {
    let a = read_array(&args.file)?;
    let n = match a.shape.as_slice() {
        [.., r, c] if r == c => *c,
        s => {
            return Err(CliError::Usage(format!(
                "tiara: the input must be [..., N, N] square matrices, got shape {s:?}"
            )));
        }
    };
    let band = match (args.phi1, args.phi2, args.freq1, args.freq2) {
        (Some(phi1), Some(phi2), None, None) => Band::Bins { phi1, phi2 },
        (None, None, Some(f1), Some(f2)) => Band::Freq { f1, f2 },
        _ => {
            return Err(CliError::Usage(
                "tiara: give the band as --phi1/--phi2 (bins) or --freq1/--freq2 (cycles per frame)".into(),
            ));
        }
    };
    let cfg = TiaraConfig::new(args.alpha, args.window_len, band)
        .with_window(TiaraWindow::Kind {
            kind: args.window.into(),
            periodic: args.periodic_window,
        })
        .with_adaptive(!args.fixed)
        .with_far(
            args.far_distance
                .zip(args.far_beta)
                .map(|(distance, beta)| FarBias { distance, beta }),
        )
        .with_input(match args.input_kind {
            Kind::Probs => TiaraInput::Probs,
            Kind::Logits => TiaraInput::Logits,
        });
    let f32_in = matches!(a.data, NpyData::F32(_));
    let (data, timing) = if f32_in {
        let (o, t) = apply(&args, &cfg, &a.to_f32_vec()?, n)?;
        (NpyData::F32(o), t)
    } else {
        let (o, t) = apply(&args, &cfg, &a.to_f64_vec()?, n)?;
        (NpyData::F64(o), t)
    };
    // [0, N, N] is empty whatever N is: N·N may overflow.
    let matrices = n
        .checked_mul(n)
        .filter(|&nn| nn > 0)
        .map_or(0, |nn| a.len() / nn);
    if let Some(out) = &args.output {
        write_array(
            out,
            &NpyArray {
                shape: a.shape.clone(),
                data,
            },
        )?;
    }
    let bytes = a.len() * if f32_in { 4 } else { 8 };
    let gbs = 2.0 * bytes as f64 / timing.median_s() / 1e9;
    if args.common.json {
        outln!(
            "{}",
            json!({ "shape": a.shape, "dtype": if f32_in { "float32" } else { "float64" }, "n": n,
                    "matrices": matrices, "read_write_gb_per_s": gbs, "timing": timing.to_json() })
        );
    } else {
        outln!(
            "tiara: {matrices} matrices of {n}×{n}, median {} over {} run(s) ({gbs:.1} GB/s read+write)",
            timing.human(),
            args.common.repeat
        );
    }
    Ok(())
}
