//! `mlkern::stft` against fixtures from independent references, run once and committed:
//! `torch.stft` / `torch.istft` / torch's windows (`tests/fixtures/stft/make_stft_fixtures.py`,
//! torch 2.15, float64) and a float64 NumPy transcription of TiARA as reconstructed in the
//! reference note (`tests/fixtures/stft/make_tiara_fixtures.py`, which also reproduces the
//! note's §1.8 golden vector).
//!
//! Tolerances (relative to the largest magnitude of the expected output):
//! - f64 STFT/ISTFT: 1e-12 — both sides are FFTs of ≤ 64 points of values ≤ ~10 with errors
//!   ~ε·log₂n; the ISTFT divides by the window envelope, which is ≥ 2.7e-11 in one threshold case,
//!   so there the comparison is relative to the output's scale, which grows by the same factor.
//! - f32 STFT: 2e-6 — inputs rounded to f32 (2⁻²⁴ relative) and f32 FFT rounding over ≤ 6
//!   stages; f32 ISTFT: 2e-5 (the envelope division amplifies the error near the window's zeros
//!   by up to ~10× in the tiny-window cases).
//! - windows: 1e-15 absolute (both sides evaluate the same cosine sums in f64).
//! - TiARA f64: 1e-12 absolute on ρ and outputs; f32: 2e-6 absolute (values ≤ 1, a handful of
//!   rounded operations per entry, ρ's sensitivity to rounding bounded by the script's
//!   conditioning guard).

mod common;

use mlkern::Par;
use mlkern::stft::{
    Band, Complex, FarBias, FftBackend, PadMode, Spectrogram, Stft, StftConfig, TiaraConfig,
    TiaraInput, TiaraWindow, Window, WindowKind, tiara, tiara_into, tiara_scratch_len, window,
};
use serde_json::Value;

fn load(name: &str) -> Value {
    common::fixture_json(&format!("stft/{name}"))
}

/// Flattens nested arrays of numbers (or "-inf" strings) in row-major order.
fn flat(v: &Value) -> Vec<f64> {
    let mut out = Vec::new();
    fn go(v: &Value, out: &mut Vec<f64>) {
        match v {
            Value::Array(a) => a.iter().for_each(|x| go(x, out)),
            Value::String(s) if s == "-inf" => out.push(f64::NEG_INFINITY),
            Value::String(s) if s == "inf" => out.push(f64::INFINITY),
            _ => out.push(v.as_f64().unwrap()),
        }
    }
    go(v, &mut out);
    out
}

fn kind(s: &str) -> WindowKind {
    match s {
        "hann" => WindowKind::Hann,
        "hamming" => WindowKind::Hamming,
        "blackman" => WindowKind::Blackman,
        "rect" => WindowKind::Rect,
        _ => panic!("unknown window {s}"),
    }
}

fn max_abs(x: impl IntoIterator<Item = f64>) -> f64 {
    x.into_iter().fold(0.0, |m, v| m.max(v.abs()))
}

#[test]
fn windows_match_torch() {
    let f = load("stft_fixtures.json");
    let ws = f["windows"].as_array().unwrap();
    assert!(ws.len() >= 100);
    for w in ws {
        let want = flat(&w["values"]);
        let mut got = vec![0.0f64; w["len"].as_u64().unwrap() as usize];
        window(
            kind(w["kind"].as_str().unwrap()),
            w["periodic"].as_bool().unwrap(),
            &mut got,
        );
        for (g, e) in got.iter().zip(&want) {
            assert!((g - e).abs() <= 1e-15, "{w:?}: {g} vs {e}");
        }
        assert_eq!(got.len(), want.len());
    }
}

/// The configuration of a fixture case; `custom` takes the window values torch was given.
fn config<'a>(c: &Value, window_values: &'a [f64], custom: bool) -> StftConfig<'a, f64> {
    let mut cfg = StftConfig::new(c["n_fft"].as_u64().unwrap() as usize);
    cfg.hop = c["hop"].as_u64().map(|v| v as usize);
    cfg.win_length = c["win_length"].as_u64().map(|v| v as usize);
    cfg.window = if custom || c["window"] == "custom" {
        Window::Custom(window_values)
    } else {
        Window::Kind(kind(c["window"].as_str().unwrap()))
    };
    cfg.periodic = c["periodic"].as_bool().unwrap_or(true);
    cfg.center = c["center"].as_bool().unwrap();
    cfg.pad_mode = match c.get("pad_mode").and_then(|v| v.as_str()) {
        Some("constant") => PadMode::Constant,
        _ => PadMode::Reflect,
    };
    cfg.normalized = c["normalized"].as_bool().unwrap();
    cfg.onesided = c["onesided"].as_bool().unwrap();
    cfg
}

fn batch_of(c: &Value) -> usize {
    c["batch"].as_u64().map_or(1, |b| b as usize)
}

/// A raw `[B, F, T]` spectrum with `F` from its length (a wrong count reaches the ISTFT as a
/// wrong bin count).
fn spectrogram<T>(
    spec: Vec<Complex<T>>,
    batch: usize,
    frames: usize,
    length: Option<usize>,
) -> Result<Spectrogram<T>, mlkern::Error> {
    let bins = spec.len() / (batch * frames).max(1);
    Ok(Spectrogram::new(spec, batch, bins, frames)?.with_length(length))
}

fn f32_plan(cfg: &StftConfig<'_, f64>, w32: &[f32]) -> Stft<f32> {
    let win = match cfg.window {
        Window::Custom(_) => Window::Custom(w32),
        Window::Kind(k) => Window::Kind(k),
        _ => unreachable!("the fixtures use built-in or custom windows"),
    };
    let mut c32 = StftConfig::new(cfg.n_fft)
        .with_window(win)
        .with_periodic(cfg.periodic)
        .with_center(cfg.center)
        .with_pad_mode(cfg.pad_mode)
        .with_normalized(cfg.normalized)
        .with_onesided(cfg.onesided)
        .with_backend(cfg.backend);
    c32.hop = cfg.hop;
    c32.win_length = cfg.win_length;
    Stft::<f32>::new(&c32).unwrap()
}

#[test]
fn stft_matches_torch() {
    let f = load("stft_fixtures.json");
    let cases = f["stft"].as_array().unwrap();
    let (mut ok, mut errs) = (0, 0);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let wv = flat(&c["window_values"]);
        let x = flat(&c["signal"]);
        let batch = batch_of(c);
        for custom in [true, false] {
            for backend in [FftBackend::Auto, FftBackend::Builtin] {
                let mut cfg = config(c, &wv, custom);
                cfg.backend = backend;
                let got = Stft::<f64>::new(&cfg)
                    .and_then(|p| p.stft(&x, batch, Par::Seq))
                    .map(Spectrogram::into_vec);
                if c["error"] == true {
                    assert!(got.is_err(), "{name}: torch raised, mlkern returned Ok");
                    continue;
                }
                let got = got.unwrap_or_else(|e| panic!("{name}: {e}"));
                let (re, im) = (flat(&c["re"]), flat(&c["im"]));
                assert_eq!(got.len(), re.len(), "{name}: output size");
                let scale = max_abs(re.iter().chain(&im).copied()).max(1e-300);
                let err = max_abs(
                    got.iter()
                        .zip(re.iter().zip(&im))
                        .map(|(g, (r, i))| (g - Complex::new(*r, *i)).norm()),
                );
                assert!(
                    err <= 1e-12 * scale.max(1.0),
                    "{name} ({backend:?}, custom {custom}): error {err:e}, scale {scale:e}"
                );
                // f32 on the same inputs.
                let w32: Vec<f32> = wv.iter().map(|&v| v as f32).collect();
                let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
                let got32 = f32_plan(&cfg, &w32)
                    .stft(&x32, batch, Par::Seq)
                    .unwrap()
                    .into_vec();
                let err32 = max_abs(got32.iter().zip(re.iter().zip(&im)).map(|(g, (r, i))| {
                    (Complex::new(g.re as f64, g.im as f64) - Complex::new(*r, *i)).norm()
                }));
                assert!(
                    err32 <= 2e-6 * scale.max(1e-30),
                    "{name} f32: error {err32:e}, scale {scale:e}"
                );
            }
        }
        if c["error"] == true {
            errs += 1;
        } else {
            ok += 1;
        }
    }
    assert!(ok >= 90 && errs >= 7, "{ok} cases, {errs} error cases");
}

#[test]
fn istft_matches_torch() {
    let f = load("stft_fixtures.json");
    let cases = f["istft"].as_array().unwrap();
    let (mut ok, mut errs) = (0, 0);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let wv = flat(&c["window_values"]);
        let batch = batch_of(c);
        let (sr, si) = (flat(&c["spec_re"]), flat(&c["spec_im"]));
        let spec: Vec<Complex<f64>> = sr
            .iter()
            .zip(&si)
            .map(|(&r, &i)| Complex::new(r, i))
            .collect();
        // Frames: the last axis of spec_re.
        let mut v = &c["spec_re"];
        while v[0].is_array() {
            v = &v[0];
        }
        let frames = v.as_array().unwrap().len();
        let length = c["length"].as_u64().map(|l| l as usize);
        for backend in [FftBackend::Auto, FftBackend::Builtin] {
            let mut cfg = config(c, &wv, true);
            cfg.backend = backend;
            let got = Stft::<f64>::new(&cfg).and_then(|p| {
                p.istft(&spectrogram(spec.clone(), batch, frames, length)?, Par::Seq)
            });
            if name == "err_empty_output_one_frame_center" {
                // torch fails inside its own min() on an empty output; mlkern returns it empty.
                assert_eq!(got.unwrap().len(), 0, "{name}");
                continue;
            }
            if c["error"] == true {
                assert!(
                    got.is_err(),
                    "{name}: torch raised ({}), mlkern returned Ok",
                    c["torch_message"]
                );
                continue;
            }
            let got = got.unwrap_or_else(|e| panic!("{name}: {e}"));
            let want = flat(&c["signal"]);
            assert_eq!(got.len(), want.len(), "{name}: output length");
            let scale = max_abs(want.iter().copied()).max(1.0);
            let err = max_abs(got.iter().zip(&want).map(|(g, w)| g - w));
            assert!(
                err <= 1e-12 * scale,
                "{name} ({backend:?}): error {err:e}, scale {scale:e}"
            );
            let w32: Vec<f32> = wv.iter().map(|&v| v as f32).collect();
            let spec32: Vec<Complex<f32>> = spec
                .iter()
                .map(|z| Complex::new(z.re as f32, z.im as f32))
                .collect();
            let got32 = f32_plan(&cfg, &w32)
                .istft(
                    &spectrogram(spec32, batch, frames, length).unwrap(),
                    Par::Seq,
                )
                .unwrap();
            let err32 = max_abs(got32.iter().zip(&want).map(|(g, w)| *g as f64 - w));
            assert!(
                err32 <= 2e-5 * scale,
                "{name} f32: error {err32:e}, scale {scale:e}"
            );
        }
        if c["error"] == true {
            errs += 1;
        } else {
            ok += 1;
        }
    }
    assert!(ok >= 30 && errs >= 10, "{ok} cases, {errs} error cases");
}

fn tiara_config<'a>(c: &Value, window_values: &'a [f64], custom: bool) -> TiaraConfig<'a> {
    let l = c["window"]["len"].as_u64().unwrap() as usize;
    let band = match (c["freq1"].as_f64(), c["freq2"].as_f64()) {
        (Some(f1), Some(f2)) => Band::Freq { f1, f2 },
        _ => Band::Bins {
            phi1: c["phi1"].as_u64().unwrap() as usize,
            phi2: c["phi2"].as_u64().unwrap() as usize,
        },
    };
    let mut cfg = TiaraConfig::new(c["alpha"].as_f64().unwrap(), l, band);
    cfg.window = if custom {
        TiaraWindow::Custom(window_values)
    } else {
        TiaraWindow::Kind {
            kind: kind(c["window"]["kind"].as_str().unwrap()),
            periodic: c["window"]["periodic"].as_bool().unwrap(),
        }
    };
    cfg.adaptive = c["adaptive"].as_bool().unwrap();
    cfg.far = c["far"].as_object().map(|f| FarBias {
        distance: f["distance"].as_u64().unwrap() as usize,
        beta: f["beta"].as_f64().unwrap(),
    });
    cfg.input = if c["input_kind"] == "logits" {
        TiaraInput::Logits
    } else {
        TiaraInput::Probs
    };
    cfg
}

#[test]
fn tiara_matches_the_numpy_reference() {
    let f = load("tiara_fixtures.json");
    let cases = f["cases"].as_array().unwrap();
    assert!(cases.len() >= 40);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let n = c["n"].as_u64().unwrap() as usize;
        let wv = flat(&c["window_values"]);
        let input = flat(&c["input"]);
        let want = flat(&c["output"]);
        for custom in [true, false] {
            let cfg = tiara_config(c, &wv, custom);
            let mut scratch = vec![0.0f64; tiara_scratch_len(&cfg, n).unwrap()];
            let mut out = vec![0.0f64; input.len()];
            tiara_into(&mut out, &input, n, &cfg, &mut scratch, Par::Seq)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let err = max_abs(out.iter().zip(&want).map(|(g, w)| g - w));
            assert!(
                err <= 1e-12,
                "{name} (custom window {custom}): error {err:e}"
            );
            let in32: Vec<f32> = input.iter().map(|&v| v as f32).collect();
            let mut s32 = vec![0.0f32; tiara_scratch_len(&cfg, n).unwrap()];
            let mut out32 = vec![0.0f32; input.len()];
            tiara_into(&mut out32, &in32, n, &cfg, &mut s32, Par::Seq).unwrap();
            let err32 = max_abs(out32.iter().zip(&want).map(|(g, w)| *g as f64 - w));
            assert!(err32 <= 2e-6, "{name} f32: error {err32:e}");
        }
    }
}

#[test]
fn tiara_reproduces_the_notes_golden_vector() {
    let f = load("tiara_fixtures.json");
    let g = &f["golden"];
    let n = 8;
    // The note's §1.8 inputs, rebuilt here: S_ij = 2[i=j] + 0.5cos(0.7(i−j)) + 0.1((3i+5j) mod 7)/7.
    let mut logits = vec![0.0f64; n * n];
    for i in 0..n {
        for j in 0..n {
            logits[i * n + j] = 2.0 * f64::from(i == j)
                + 0.5 * (0.7 * (i as f64 - j as f64)).cos()
                + 0.1 * ((3 * i + 5 * j) % 7) as f64 / 7.0;
        }
    }
    let mut cfg = TiaraConfig::new(5.0, 5, Band::Bins { phi1: 1, phi2: 3 });
    cfg.input = TiaraInput::Logits;
    let out = tiara(&logits, n, &cfg, Par::Seq).unwrap();
    let tol = g["tolerance"].as_f64().unwrap();
    for (k, row) in [(0usize, "row0"), (3, "row3")] {
        for (a, b) in out[k * n..(k + 1) * n].iter().zip(flat(&g[row])) {
            assert!((a - b).abs() <= tol, "{row}: {a} vs {b}");
        }
    }
    for (i, d) in flat(&g["diag"]).iter().enumerate() {
        assert!((out[i * n + i] - d).abs() <= tol);
    }
}
