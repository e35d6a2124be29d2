//! `mlkern stft` / `mlkern istft`: `torch.stft` / `torch.istft` on `.npy` files.

use std::path::PathBuf;

use mlkern::Real;
use mlkern::io::npy::{NpyArray, NpyData};
use mlkern::stft::{Complex, PadMode, Stft, StftConfig, Window, WindowKind};
use serde_json::json;

use crate::backend::{self, Backend};
use crate::files::{read_array, write_array};
use crate::timing::Timing;
use crate::{CliError, Common};

/// Framing flags shared by `stft` and `istft` (torch's parameter names).
#[derive(clap::Args, Debug, Clone)]
pub struct Framing {
    /// FFT length.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    n_fft: u64,
    /// Frame step (default n_fft/4).
    #[arg(long)]
    hop: Option<usize>,
    /// Window length ≤ n_fft (default n_fft); a shorter window is zero-padded to the centre.
    #[arg(long)]
    win_length: Option<usize>,
    /// Window shape (periodic unless --symmetric-window). Default hann (torch's default
    /// without a window is rect).
    #[arg(long, value_enum, default_value_t = Shape::Hann, conflicts_with = "window_file")]
    window: Shape,
    /// A custom window: a 1-D .npy of win_length values.
    #[arg(long)]
    window_file: Option<PathBuf>,
    /// Symmetric instead of periodic built-in window.
    #[arg(long)]
    symmetric_window: bool,
    /// Do not pad n_fft/2 on both sides (torch center=False).
    #[arg(long)]
    no_center: bool,
    /// Padding used by centring.
    #[arg(long, value_enum, default_value_t = Pad::Reflect)]
    pad_mode: Pad,
    /// n_fft bins instead of n_fft/2+1.
    #[arg(long)]
    two_sided: bool,
    /// Scale by n_fft^(-1/2).
    #[arg(long)]
    normalized: bool,
    /// FFT implementation: rustfft (auto) or the in-crate transform.
    #[arg(long, value_parser = Backend::parser(backend::FFT), default_value = "auto")]
    fft: Backend,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Shape {
    Hann,
    Hamming,
    Blackman,
    Rect,
}

impl From<Shape> for WindowKind {
    fn from(s: Shape) -> Self {
        match s {
            Shape::Hann => WindowKind::Hann,
            Shape::Hamming => WindowKind::Hamming,
            Shape::Blackman => WindowKind::Blackman,
            Shape::Rect => WindowKind::Rect,
        }
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Pad {
    Reflect,
    Constant,
    Replicate,
    Circular,
}

impl Framing {
    /// The custom window's values, if any.
    fn custom(&self) -> Result<Option<Vec<f64>>, CliError> {
        let Some(path) = &self.window_file else {
            return Ok(None);
        };
        let a = read_array(path)?;
        if a.shape.len() != 1 {
            return Err(CliError::Usage(format!(
                "--window-file must hold a 1-D array, got shape {:?}",
                a.shape
            )));
        }
        Ok(Some(a.to_f64_vec()?))
    }

    fn plan<T: Real>(&self, custom: Option<&[T]>) -> Result<Stft<T>, CliError> {
        let mut cfg = StftConfig::new(self.n_fft as usize)
            .with_window(custom.map_or(Window::Kind(self.window.into()), Window::Custom))
            .with_periodic(!self.symmetric_window)
            .with_center(!self.no_center)
            .with_pad_mode(match self.pad_mode {
                Pad::Reflect => PadMode::Reflect,
                Pad::Constant => PadMode::Constant,
                Pad::Replicate => PadMode::Replicate,
                Pad::Circular => PadMode::Circular,
            })
            .with_normalized(self.normalized)
            .with_onesided(!self.two_sided)
            .with_backend(self.fft.fft());
        cfg.hop = self.hop;
        cfg.win_length = self.win_length;
        Ok(Stft::new(&cfg)?)
    }

    fn describe<T: Real>(&self, plan: &Stft<T>) -> serde_json::Value {
        json!({
            "n_fft": plan.n_fft(),
            "hop": plan.hop(),
            "win_length": plan.win_length(),
            "window": if self.window_file.is_some() { "custom" } else { WindowKind::from(self.window).name() },
            "periodic": !self.symmetric_window,
            "center": !self.no_center,
            "onesided": !self.two_sided,
            "normalized": self.normalized,
            "fft_backend": format!("{:?}", plan.backend()),
        })
    }
}

/// Arguments of `mlkern stft`.
#[derive(clap::Args, Debug)]
pub struct StftArgs {
    /// Signals: a float .npy of shape [B, L] or [L].
    input: PathBuf,
    /// Output: complex .npy [B, F, T] (or [F, T] for a 1-D input); complex64 for float32
    /// input, complex128 otherwise.
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    framing: Framing,
    #[command(flatten)]
    common: Common,
}

/// Arguments of `mlkern istft`.
#[derive(clap::Args, Debug)]
pub struct IstftArgs {
    /// Spectra: a complex .npy of shape [B, F, T] or [F, T].
    input: PathBuf,
    /// Output: float .npy [B, length] (or [length]); float32 for complex64 input.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Output length (default: the overlap-added length minus the centring).
    #[arg(long)]
    length: Option<usize>,
    #[command(flatten)]
    framing: Framing,
    #[command(flatten)]
    common: Common,
}

/// The transform, its bins and frames, the timing and the configuration summary.
type Forward<T> = (Vec<Complex<T>>, usize, usize, Timing, serde_json::Value);

fn forward<T: Real>(
    args: &StftArgs,
    x: &[T],
    batch: usize,
    custom: Option<&[T]>,
) -> Result<Forward<T>, CliError> {
    let plan = args.framing.plan(custom)?;
    let len = x.len() / batch.max(1);
    let frames = plan.frames(len)?;
    let mut out = vec![Complex::new(T::zero(), T::zero()); batch * plan.bins() * frames];
    let par = args.common.par();
    let mut scratch = plan.make_scratch(par)?;
    let ((), timing) = Timing::measure(args.common.repeat, || {
        plan.stft_into(&mut out, x, batch, &mut scratch, par)
    })?;
    Ok((
        out,
        plan.bins(),
        frames,
        timing,
        args.framing.describe(&plan),
    ))
}

/// Runs `mlkern stft`.
pub fn run_stft(args: StftArgs) -> Result<(), CliError> {
    let a = read_array(&args.input)?;
    let (batch, one_d) = match a.shape.as_slice() {
        [_] => (1, true),
        [b, _] => (*b, false),
        s => {
            return Err(CliError::Usage(format!(
                "stft: the input must be [B, L] or [L], got shape {s:?}"
            )));
        }
    };
    if batch == 0 {
        return Err(CliError::Usage("stft: the batch is empty".into()));
    }
    let custom = args.framing.custom()?;
    let f32_in = matches!(a.data, NpyData::F32(_));
    let (data, bins, frames, timing, desc) = if f32_in {
        let x = a.to_f32_vec()?;
        let w: Option<Vec<f32>> = custom.map(|w| w.iter().map(|&v| v as f32).collect());
        let (o, f, t, tm, d) = forward(&args, &x, batch, w.as_deref())?;
        (
            NpyData::C64(o.iter().map(|z| [z.re, z.im]).collect()),
            f,
            t,
            tm,
            d,
        )
    } else {
        let x = a.to_f64_vec()?;
        let (o, f, t, tm, d) = forward(&args, &x, batch, custom.as_deref())?;
        (
            NpyData::C128(o.iter().map(|z| [z.re, z.im]).collect()),
            f,
            t,
            tm,
            d,
        )
    };
    let shape = if one_d {
        vec![bins, frames]
    } else {
        vec![batch, bins, frames]
    };
    if let Some(out) = &args.output {
        write_array(
            out,
            &NpyArray {
                shape: shape.clone(),
                data,
            },
        )?;
    }
    if args.common.json {
        outln!(
            "{}",
            json!({ "shape": shape, "dtype": if f32_in { "complex64" } else { "complex128" },
                    "config": desc, "timing": timing.to_json() })
        );
    } else {
        outln!(
            "stft: {batch} signal(s) → {shape:?} ({}), median {} over {} run(s)",
            if f32_in { "complex64" } else { "complex128" },
            timing.human(),
            args.common.repeat
        );
    }
    Ok(())
}

fn inverse<T: Real>(
    args: &IstftArgs,
    spec: &[Complex<T>],
    (batch, frames): (usize, usize),
    custom: Option<&[T]>,
) -> Result<(Vec<T>, usize, Timing, serde_json::Value), CliError> {
    let plan = args.framing.plan(custom)?;
    if spec.len() != batch * plan.bins() * frames {
        return Err(CliError::Usage(format!(
            "istft: the spectrum has {} frequency bins, but n_fft {} needs {} ({})",
            spec.len() / (batch * frames).max(1),
            plan.n_fft(),
            plan.bins(),
            if args.framing.two_sided {
                "two-sided"
            } else {
                "one-sided: n_fft/2+1"
            }
        )));
    }
    let par = args.common.par();
    // The scratch query validates `--length` against the frames before anything is allocated.
    let need = plan.istft_scratch_len(frames, args.length, par)?;
    let len = plan.istft_len(frames, args.length);
    let mut out = vec![T::zero(); batch * len];
    let mut scratch = vec![Complex::new(T::zero(), T::zero()); need];
    let ((), timing) = Timing::measure(args.common.repeat, || {
        plan.istft_into(
            &mut out,
            spec,
            batch,
            frames,
            args.length,
            &mut scratch,
            par,
        )
    })?;
    Ok((out, len, timing, args.framing.describe(&plan)))
}

/// Runs `mlkern istft`.
pub fn run_istft(args: IstftArgs) -> Result<(), CliError> {
    let a = read_array(&args.input)?;
    let (batch, frames, one_d) = match a.shape.as_slice() {
        [_, t] => (1, *t, true),
        [b, _, t] => (*b, *t, false),
        s => {
            return Err(CliError::Usage(format!(
                "istft: the input must be [B, F, T] or [F, T], got shape {s:?}"
            )));
        }
    };
    if batch == 0 || frames == 0 {
        return Err(CliError::Usage("istft: the input has no frames".into()));
    }
    let custom = args.framing.custom()?;
    let (data, len, timing, desc, dtype) = match &a.data {
        NpyData::C64(v) => {
            let spec: Vec<Complex<f32>> = v.iter().map(|z| Complex::new(z[0], z[1])).collect();
            let w: Option<Vec<f32>> = custom.map(|w| w.iter().map(|&v| v as f32).collect());
            let (o, l, t, d) = inverse(&args, &spec, (batch, frames), w.as_deref())?;
            (NpyData::F32(o), l, t, d, "float32")
        }
        NpyData::C128(v) => {
            let spec: Vec<Complex<f64>> = v.iter().map(|z| Complex::new(z[0], z[1])).collect();
            let (o, l, t, d) = inverse(&args, &spec, (batch, frames), custom.as_deref())?;
            (NpyData::F64(o), l, t, d, "float64")
        }
        _ => {
            return Err(CliError::Usage(format!(
                "istft: the input must be complex (complex64 or complex128), got {}",
                a.dtype_name()
            )));
        }
    };
    let shape = if one_d { vec![len] } else { vec![batch, len] };
    if let Some(out) = &args.output {
        write_array(
            out,
            &NpyArray {
                shape: shape.clone(),
                data,
            },
        )?;
    }
    if args.common.json {
        outln!(
            "{}",
            json!({ "shape": shape, "dtype": dtype, "config": desc, "timing": timing.to_json() })
        );
    } else {
        outln!(
            "istft: {batch} spectr{} → {shape:?} ({dtype}), median {} over {} run(s)",
            if batch == 1 { "um" } else { "a" },
            timing.human(),
            args.common.repeat
        );
    }
    Ok(())
}
