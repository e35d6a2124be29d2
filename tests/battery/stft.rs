//! Battery cases for `mlkern::stft` (see `main.rs`): FFT and real-FFT plans, STFT plans, the
//! forward and inverse transforms (owned and caller-buffer forms, scratch queries),
//! spectrograms, and TiARA (all entry points), called with absurd lengths, hops, output
//! lengths, batch sizes, matrix sizes, window lengths and bands.
//!
//! Every case is counted; each test prints its count (`--nocapture`) so the notes can report
//! the battery's size.

use std::fmt::Display;

use mlkern::limits::{ISTFT_LENGTH_SPANS, MAX_FFT_LEN, MAX_TIARA_N};
use mlkern::stft::{
    Band, Complex, Direction, FarBias, Fft, FftBackend, PadMode, RealFft, Spectrogram, Stft,
    StftConfig, TiaraConfig, TiaraInput, TiaraWindow, Window, WindowKind, motion_intensity, tiara,
    tiara_in_place, tiara_into, tiara_scratch_len,
};
use mlkern::{Error, Par};

use crate::{ABSURD, count, fails_cleanly, rejects, rejects_naming, report};

/// [`accepts`](crate::accepts), counted.
#[track_caller]
fn ok<T, E: std::fmt::Debug>(case: &str, f: impl FnOnce() -> Result<T, E>) -> T {
    count();
    crate::accepts(case, f)
}

/// [`rejects_naming`], counted.
#[track_caller]
fn no<T, E: Display>(case: &str, needle: &str, f: impl FnOnce() -> Result<T, E>) -> String {
    count();
    rejects_naming(case, needle, f)
}

/// [`rejects`] (no parameter name to check), counted.
#[track_caller]
fn no_any<T, E: Display>(case: &str, f: impl FnOnce() -> Result<T, E>) -> String {
    count();
    rejects(case, f)
}

/// [`fails_cleanly`], counted: a length within the limits that needs more than the cap.
#[track_caller]
fn oom<T, E: Display>(case: &str, f: impl FnOnce() -> Result<T, E>) -> String {
    count();
    fails_cleanly(case, f)
}

/// The backends every build has a plan for (rustfft only with `std`).
fn backends() -> Vec<FftBackend> {
    let mut v = vec![FftBackend::Auto, FftBackend::Builtin];
    if cfg!(feature = "std") {
        v.push(FftBackend::RustFft);
    }
    v
}

/// The two issue lengths (2⁴⁰ and 10¹¹), the ABSURD scale values and the first length past the
/// limit.
fn huge() -> Vec<usize> {
    let mut v = ABSURD.to_vec();
    v.push(100_000_000_000);
    v.push(MAX_FFT_LEN + 1);
    v
}

fn fft_plans<T: mlkern::Real + 'static>(ty: &str) {
    for be in backends() {
        for dir in [Direction::Forward, Direction::Inverse] {
            for n in huge() {
                let case = format!("Fft::<{ty}>::with_backend({n}, {dir:?}, {be:?})");
                let msg = no(&case, "n", || Fft::<T>::with_backend(n, dir, be));
                assert!(msg.contains("limit"), "{case}: {msg}");
            }
            no(&format!("Fft::<{ty}>({be:?}) n = 0"), "n", || {
                Fft::<T>::with_backend(0, dir, be)
            });
        }
        for n in huge() {
            no(
                &format!("RealFft::<{ty}>::with_backend({n}, {be:?})"),
                "n",
                || RealFft::<T>::with_backend(n, be),
            );
        }
        no(&format!("RealFft::<{ty}>({be:?}) n = 0"), "n", || {
            RealFft::<T>::with_backend(0, be)
        });
        // At the limit the length is meaningful: the plan's tables (or rustfft's probe) are
        // reserved fallibly and the cap refuses them. A power of two, and a prime (Bluestein).
        for n in [MAX_FFT_LEN, 268_435_399] {
            let msg = oom(&format!("Fft::<{ty}>::with_backend({n}, {be:?})"), || {
                Fft::<T>::with_backend(n, Direction::Forward, be)
            });
            assert!(msg.contains('n'), "{msg}");
            oom(
                &format!("RealFft::<{ty}>::with_backend({n}, {be:?})"),
                || RealFft::<T>::with_backend(n, be),
            );
        }
    }
    for n in huge() {
        no(&format!("Fft::<{ty}>::new({n})"), "n", || {
            Fft::<T>::new(n, Direction::Forward)
        });
        no(&format!("RealFft::<{ty}>::new({n})"), "n", || {
            RealFft::<T>::new(n)
        });
    }
    // Small valid plans still work, and their scratch is the advertised size.
    let p = ok("Fft 12", || Fft::<T>::new(12, Direction::Forward));
    let s = ok("Fft 12 scratch", || p.make_scratch());
    assert_eq!(s.len(), p.scratch_len().unwrap());
    let r = ok("RealFft 10", || RealFft::<T>::new(10));
    ok("RealFft 10 scratch", || r.make_scratch());
    // A buffer that is not a multiple of the length.
    let mut buf = vec![Complex::new(T::zero(), T::zero()); 13];
    let mut scratch = p.make_scratch().unwrap();
    no_any("Fft::process 13 values on a 12-point plan", || {
        p.process(&mut buf, &mut scratch)
    });
    let b = Fft::<T>::with_backend(12, Direction::Forward, FftBackend::Builtin).unwrap();
    no_any("Fft::process short scratch", || {
        b.process(&mut buf[..12], &mut [])
    });
}

#[test]
fn fft_and_real_fft_plans() {
    fft_plans::<f32>("f32");
    fft_plans::<f64>("f64");
    report("stft::fft_and_real_fft_plans");
}

fn plan(n_fft: usize) -> Stft<f64> {
    Stft::new(&StftConfig::new(n_fft)).unwrap()
}

#[test]
fn stft_plans() {
    for be in backends() {
        for n in huge() {
            // The issue's `--n-fft 1099511627776` and `--n-fft 100000000000`.
            let msg = no(&format!("Stft::new(n_fft {n}, {be:?})"), "n_fft", || {
                Stft::<f32>::new(&StftConfig::new(n).with_backend(be).with_hop(1))
            });
            assert!(msg.contains("limit"), "{msg}");
            // The default hop n_fft/4 too.
            no(
                &format!("Stft::new(n_fft {n}, default hop)"),
                "n_fft",
                || Stft::<f64>::new(&StftConfig::new(n).with_backend(be)),
            );
            // A custom window that does not match: the size is still rejected first.
            let w = [1.0f32; 4];
            no(
                &format!("Stft::new(n_fft {n}, custom window of 4)"),
                "n_fft",
                || {
                    Stft::<f32>::new(
                        &StftConfig::new(n)
                            .with_window(Window::Custom(&w))
                            .with_win_length(4),
                    )
                },
            );
            no(&format!("Stft::new(win_length {n})"), "win_length", || {
                Stft::<f32>::new(&StftConfig::new(64).with_win_length(n).with_backend(be))
            });
            no(
                &format!("Stft::new(n_fft {n}, win_length {n})"),
                "n_fft",
                || Stft::<f32>::new(&StftConfig::new(n).with_win_length(n).with_hop(n)),
            );
        }
        // At the limit: the window (and the plans) are reserved fallibly, and the cap refuses.
        oom(&format!("Stft::new(n_fft = MAX_FFT_LEN, {be:?})"), || {
            Stft::<f32>::new(&StftConfig::new(MAX_FFT_LEN).with_backend(be))
        });
    }
    no("Stft::new(n_fft 0)", "n_fft", || {
        Stft::<f32>::new(&StftConfig::new(0).with_hop(1))
    });
    no("Stft::new(hop 0)", "hop", || {
        Stft::<f32>::new(&StftConfig::new(64).with_hop(0))
    });
    no("Stft::new(n_fft 3, default hop 0)", "hop", || {
        Stft::<f32>::new(&StftConfig::new(3))
    });
    no("Stft::new(win_length 0)", "win_length", || {
        Stft::<f32>::new(&StftConfig::new(64).with_win_length(0))
    });
    no("Stft::new(win_length 65 > n_fft 64)", "win_length", || {
        Stft::<f32>::new(&StftConfig::new(64).with_win_length(65))
    });
    let w = [1.0f64; 5];
    no("Stft::new(custom window of 5 for 64)", "window", || {
        Stft::<f64>::new(&StftConfig::new(64).with_window(Window::Custom(&w)))
    });
    let nan = [f64::NAN; 8];
    no_any("Stft::new(NaN window)", || {
        Stft::<f64>::new(&StftConfig::new(8).with_window(Window::Custom(&nan)))
    });
    // A huge hop is meaningful for the forward transform (one frame); it is not limited.
    for hop in ABSURD {
        let p = ok(&format!("Stft::new(hop {hop})"), || {
            Stft::<f64>::new(&StftConfig::new(16).with_hop(hop))
        });
        assert_eq!(p.frames(100).unwrap(), 1);
        let x = vec![0.25f64; 100];
        let s = ok(&format!("stft with hop {hop}"), || p.stft(&x, 1, Par::Seq));
        assert_eq!(s.frames(), 1);
    }
    report("stft::stft_plans");
}

#[test]
fn stft_forward() {
    let p = plan(8);
    let x = vec![0.5f64; 40];
    let constant = Stft::<f64>::new(&StftConfig::new(8).with_pad_mode(PadMode::Constant)).unwrap();
    for batch in ABSURD {
        // Empty signals with reflect padding are too short.
        no(
            &format!("stft(empty, batch {batch}) reflect"),
            "signal",
            || p.stft(&[], batch, Par::Seq),
        );
        // 40 samples do not split into `batch` signals.
        no(&format!("stft(40 samples, batch {batch})"), "x", || {
            p.stft(&x, batch, Par::Seq)
        });
        // stft_into with a caller's buffer: the shape is checked, nothing is allocated.
        let mut out = vec![Complex::new(0.0, 0.0); 8];
        let mut scratch = p.make_scratch(Par::Seq).unwrap();
        no_any(&format!("stft_into(empty, batch {batch}) constant"), || {
            constant.stft_into(&mut out, &[], batch, &mut scratch, Par::Seq)
        });
        for par in [Par::Seq, Par::threads(4)] {
            no_any(
                &format!("stft_into(40 samples, batch {batch}, {par:?})"),
                || p.stft_into(&mut out, &x, batch, &mut scratch, par),
            );
        }
    }
    // Constant padding makes empty signals meaningful (frames of zeros, as in torch): a batch
    // of 2⁴⁰ empty signals is a real [2⁴⁰, 5, 1] output, which the reservation refuses; past
    // usize the size overflows before anything is allocated.
    for batch in [1usize << 40, (1 << 40) + 1] {
        let msg = oom(&format!("stft(empty, batch {batch}) constant"), || {
            constant.stft(&[], batch, Par::Seq)
        });
        assert!(msg.contains('x'), "{msg}");
    }
    for batch in [usize::MAX / 2, usize::MAX] {
        no(&format!("stft(empty, batch {batch}) constant"), "x", || {
            constant.stft(&[], batch, Par::Seq)
        });
    }
    no("stft(batch 0)", "batch", || p.stft(&x, 0, Par::Seq));
    no_any("stft(signal of 3 < n_fft/2 + 1)", || {
        p.stft(&[1.0, 2.0, 3.0], 1, Par::Seq)
    });
    let mut bad = x.clone();
    bad[7] = f64::INFINITY;
    no_any("stft(∞ sample)", || p.stft(&bad, 1, Par::Seq));
    let mut scratch = p.make_scratch(Par::Seq).unwrap();
    let mut short = vec![Complex::new(0.0, 0.0); 3];
    no_any("stft_into(short out)", || {
        p.stft_into(&mut short, &x, 1, &mut scratch, Par::Seq)
    });
    let mut out = vec![Complex::new(0.0, 0.0); p.bins() * p.frames(40).unwrap()];
    no_any("stft_into(short scratch)", || {
        p.stft_into(&mut out, &x, 1, &mut [], Par::Seq)
    });
    // An absurd thread count is clamped to `limits::MAX_THREADS` by `Par` itself, so the
    // per-thread scratch stays that of MAX_THREADS threads (bounded, not absurd).
    if cfg!(feature = "std") {
        let cap = Par::threads(mlkern::limits::MAX_THREADS);
        for n in ABSURD {
            assert_eq!(
                p.scratch_len(Par::threads(n)).unwrap(),
                p.scratch_len(cap).unwrap(),
                "Stft::scratch_len(Par::threads({n}))"
            );
            assert_eq!(
                p.istft_scratch_len(3, None, Par::threads(n)).unwrap(),
                p.istft_scratch_len(3, None, cap).unwrap(),
                "Stft::istft_scratch_len(Par::threads({n}))"
            );
        }
    }
    ok("stft_into valid", || {
        p.stft_into(&mut out, &x, 1, &mut scratch, Par::Seq)
    });
    report("stft::stft_forward");
}

#[test]
fn istft_inverse() {
    let p = plan(8); // hop 2
    let x: Vec<f64> = (0..20).map(|j| (0.3 * j as f64).sin()).collect();
    let spec = p.stft(&x, 1, Par::Seq).unwrap(); // 11 frames: span 8 + 2·10 = 28
    let frames = spec.frames();
    let span = 8 + 2 * (frames - 1);
    let limit = ISTFT_LENGTH_SPANS * span;
    let mut lengths = ABSURD.to_vec();
    lengths.push(limit + 1);
    for length in lengths {
        // The issue's `istft --length 1099511627776`.
        let s = spec.clone().with_length(Some(length));
        let msg = no(&format!("istft(length {length})"), "length", || {
            p.istft(&s, Par::Seq)
        });
        assert!(msg.contains("limit"), "{msg}");
        for par in [Par::Seq, Par::threads(3)] {
            no(
                &format!("istft_scratch_len(length {length}, {par:?})"),
                "length",
                || p.istft_scratch_len(frames, Some(length), par),
            );
        }
        let mut out = vec![0.0; 20];
        let mut scratch = vec![Complex::new(0.0, 0.0); 64];
        no(&format!("istft_into(length {length})"), "length", || {
            p.istft_into(
                &mut out,
                spec.as_slice(),
                1,
                frames,
                Some(length),
                &mut scratch,
                Par::Seq,
            )
        });
    }
    // Up to the limit torch's zero padding is kept.
    let back = ok("istft(length = limit)", || {
        p.istft(&spec.clone().with_length(Some(limit)), Par::Seq)
    });
    assert_eq!(back.len(), limit);
    assert!(back[span..].iter().all(|&v| v == 0.0));
    // A hop larger than the window cannot be inverted: rejected before the scratch is sized
    // by it.
    for hop in ABSURD {
        let q = Stft::<f64>::new(&StftConfig::new(8).with_hop(hop)).unwrap();
        let s = q.stft(&x, 1, Par::Seq).unwrap();
        no(&format!("istft(hop {hop})"), "hop", || {
            q.istft(&s, Par::Seq)
        });
        no(
            &format!("istft_scratch_len(hop {hop}, 2 frames)"),
            "hop",
            || q.istft_scratch_len(2, None, Par::Seq),
        );
        no(
            &format!("istft_scratch_len(hop {hop}, ABSURD frames)"),
            "hop",
            || q.istft_scratch_len(hop, None, Par::Seq),
        );
    }
    for par in [Par::Seq, Par::threads(2)] {
        no(
            &format!("istft_scratch_len(0 frames, {par:?})"),
            "frames",
            || p.istft_scratch_len(0, None, par),
        );
    }
    // Zero dimensions paired with huge ones: the data is empty and the shape says so.
    for big in ABSURD {
        let s = ok(&format!("Spectrogram [{big}, 0, 3]"), || {
            Spectrogram::<f64>::new(Vec::new(), big, 0, 3)
        });
        no_any(&format!("istft([{big}, 0, 3])"), || p.istft(&s, Par::Seq));
        // (B·F overflowing before the zero T is a shape error of its own.)
        no_any(&format!("istft([{big}, 5, 0])"), || {
            Spectrogram::<f64>::new(Vec::new(), big, 5, 0).and_then(|s| p.istft(&s, Par::Seq))
        });
        let s = Spectrogram::<f64>::new(Vec::new(), 0, 5, big).unwrap();
        no(&format!("istft([0, 5, {big}])"), "batch", || {
            p.istft(&s, Par::Seq)
        });
        no_any(
            &format!("Spectrogram::new(6 values, [{big}, {big}, {big}])"),
            || Spectrogram::<f64>::new(vec![Complex::new(0.0, 0.0); 6], big, big, big),
        );
        let mut out = vec![0.0; 20];
        let mut scratch = vec![Complex::new(0.0, 0.0); 64];
        no_any(&format!("istft_into(frames {big} for 55 values)"), || {
            p.istft_into(
                &mut out,
                spec.as_slice(),
                1,
                big,
                None,
                &mut scratch,
                Par::Seq,
            )
        });
        no_any(&format!("istft_into(batch {big} for 55 values)"), || {
            p.istft_into(
                &mut out,
                spec.as_slice(),
                big,
                frames,
                None,
                &mut scratch,
                Par::Seq,
            )
        });
    }
    // The round trip still holds.
    let back = ok("istft round trip", || p.istft(&spec, Par::Seq));
    assert!(back.iter().zip(&x).all(|(a, b)| (a - b).abs() < 1e-12));
    report("stft::istft_inverse");
}

fn tiara_cfg(l: usize) -> TiaraConfig<'static> {
    TiaraConfig::new(5.0, l, Band::Bins { phi1: 1, phi2: 3 })
}

#[test]
fn tiara_entry_points() {
    let mut sizes = ABSURD.to_vec();
    sizes.push(MAX_TIARA_N + 1);
    sizes.push(1 << 32);
    let eye: Vec<f32> = (0..16)
        .map(|j| if j % 5 == 0 { 1.0 } else { 0.0 })
        .collect();
    for n in sizes {
        for l in [3, n] {
            let cfg = tiara_cfg(l);
            let what = format!("N {n}, window_len {l}");
            no(&format!("tiara_scratch_len({what})"), "n", || {
                tiara_scratch_len(&cfg, n)
            });
            no(&format!("tiara(empty, {what})"), "n", || {
                tiara::<f32>(&[], n, &cfg, Par::Seq)
            });
            no(&format!("tiara(4x4 data, {what})"), "n", || {
                tiara(&eye, n, &cfg, Par::threads(2))
            });
            let mut out = vec![0.0f32; 16];
            let mut scratch = vec![0.0f32; 64];
            no(&format!("tiara_into({what})"), "n", || {
                tiara_into(&mut out, &eye, n, &cfg, &mut scratch, Par::Seq)
            });
            no(&format!("tiara_into(empty, {what})"), "n", || {
                tiara_into::<f32>(&mut [], &[], n, &cfg, &mut [], Par::threads(2))
            });
            no(&format!("tiara_in_place({what})"), "n", || {
                tiara_in_place(&mut out, n, &cfg, &mut scratch, Par::Seq)
            });
            let mut rho = vec![0.0f32; 4];
            no(&format!("motion_intensity({what})"), "n", || {
                motion_intensity(&mut rho, &eye, n, &cfg, &mut scratch)
            });
        }
    }
    // At the size limit with the widest window and band: the table would be ~2³² values, but
    // data that is not whole matrices is rejected before it is built …
    let n = MAX_TIARA_N;
    let wide = TiaraConfig::new(
        5.0,
        n,
        Band::Bins {
            phi1: 1,
            phi2: n / 2 + 1,
        },
    );
    let need = ok("tiara_scratch_len at the limit", || {
        tiara_scratch_len(&wide, n)
    });
    assert!(need > 1 << 32);
    no("tiara(16 values, N = MAX_TIARA_N)", "input", || {
        tiara(&eye, n, &wide, Par::Seq)
    });
    // … and an empty batch is empty without building it.
    let empty = ok("tiara(empty, N = MAX_TIARA_N)", || {
        tiara::<f64>(&[], n, &wide, Par::Seq)
    });
    assert!(empty.is_empty());
    // The caller's scratch must hold the table.
    let mut out = vec![0.0f32; 16];
    no("tiara_into(short scratch)", "scratch", || {
        tiara_into(&mut out, &eye, 4, &tiara_cfg(3), &mut [], Par::Seq)
    });
    // Bad window lengths and bands, with huge values.
    for big in ABSURD {
        no(&format!("tiara(window_len {big})"), "window_len", || {
            tiara(&eye, 4, &tiara_cfg(big), Par::Seq)
        });
        no(
            &format!("tiara_scratch_len(window_len {big})"),
            "window_len",
            || tiara_scratch_len(&tiara_cfg(big), 4),
        );
        let band = Band::Bins { phi1: 0, phi2: big };
        no(&format!("tiara(phi2 {big})"), "band", || {
            tiara(&eye, 4, &tiara_cfg(3).with_band(band), Par::Seq)
        });
        let band = Band::Bins {
            phi1: big,
            phi2: big,
        };
        no(
            &format!("tiara_scratch_len(phi1 = phi2 = {big})"),
            "band",
            || tiara_scratch_len(&tiara_cfg(3).with_band(band), 4),
        );
        // A custom window whose length is not window_len.
        let taps = [1.0f64; 3];
        no(
            &format!("tiara(custom 3 taps, window_len {big})"),
            "window_len",
            || {
                tiara(
                    &eye,
                    4,
                    &tiara_cfg(big).with_window(TiaraWindow::Custom(&taps)),
                    Par::Seq,
                )
            },
        );
        // A far bias that never applies is harmless; the data length must still match.
        let far = tiara_cfg(3).with_far(Some(FarBias {
            distance: big,
            beta: 1.0,
        }));
        ok(&format!("tiara(far distance {big})"), || {
            tiara(&eye, 4, &far, Par::Seq)
        });
        no(
            &format!("tiara(15 values, far distance {big})"),
            "input",
            || tiara(&eye[..15], 4, &far, Par::Seq),
        );
    }
    no("tiara(N 0)", "n", || {
        tiara(&eye, 0, &tiara_cfg(3), Par::Seq)
    });
    no("tiara(window_len 0)", "window_len", || {
        tiara(&eye, 4, &tiara_cfg(0), Par::Seq)
    });
    let far0 = tiara_cfg(3).with_far(Some(FarBias {
        distance: 0,
        beta: 1.0,
    }));
    no("tiara(far distance 0)", "far", || {
        tiara(&eye, 4, &far0, Par::Seq)
    });
    for (f1, f2) in [
        (f64::NAN, 0.3),
        (0.1, f64::INFINITY),
        (0.4, 0.2),
        (0.0, 1e300),
    ] {
        let cfg = tiara_cfg(3).with_band(Band::Freq { f1, f2 });
        no(&format!("tiara(band {f1}..{f2})"), "band", || {
            tiara(&eye, 4, &cfg, Par::Seq)
        });
    }
    for alpha in [f64::NAN, -1.0, f64::INFINITY] {
        no(&format!("tiara(alpha {alpha})"), "alpha", || {
            tiara(&eye, 4, &tiara_cfg(3).with_alpha(alpha), Par::Seq)
        });
    }
    let logits = tiara_cfg(3).with_input(TiaraInput::Logits);
    let mut rho = vec![0.0f32; 4];
    let mut scratch = vec![0.0f32; 64];
    no("motion_intensity(logits)", "input", || {
        motion_intensity(&mut rho, &eye, 4, &logits, &mut scratch)
    });
    no("motion_intensity(rho of 3)", "rho", || {
        motion_intensity(&mut rho[..3], &eye, 4, &tiara_cfg(3), &mut scratch)
    });
    // Windows over the stack tap buffer still work (the heap one is reserved fallibly).
    let n = 80;
    let big_eye: Vec<f64> = (0..n * n)
        .map(|j| if j % (n + 1) == 0 { 1.0 } else { 0.0 })
        .collect();
    let cfg =
        TiaraConfig::new(5.0, 70, Band::Bins { phi1: 1, phi2: 3 }).with_window(TiaraWindow::Kind {
            kind: WindowKind::Hann,
            periodic: true,
        });
    let out = ok("tiara(80x80, 70 taps)", || {
        tiara(&big_eye, n, &cfg, Par::Seq)
    });
    assert!(
        out.chunks(n)
            .all(|r| (r.iter().sum::<f64>() - 1.0).abs() < 1e-12)
    );
    report("stft::tiara_entry_points");
}

/// The errors name their kind: sizes past a limit are `TooLarge`, refused reservations are
/// `OutOfMemory`.
#[test]
fn error_kinds() {
    count();
    assert!(matches!(
        Stft::<f32>::new(&StftConfig::new(1 << 40)),
        Err(Error::TooLarge {
            name: "n_fft",
            value: 1_099_511_627_776,
            limit: MAX_FFT_LEN
        })
    ));
    count();
    assert!(matches!(
        Fft::<f64>::with_backend(MAX_FFT_LEN, Direction::Forward, FftBackend::Builtin),
        Err(Error::OutOfMemory { name: "n", .. })
    ));
    crate::capped_alloc::take_refused();
    count();
    let p = plan(8);
    let spec = p.stft(&[0.5; 20], 1, Par::Seq).unwrap();
    assert!(matches!(
        p.istft(&spec.with_length(Some(1 << 40)), Par::Seq),
        Err(Error::TooLarge {
            name: "length",
            limit: 56,
            ..
        })
    ));
    count();
    assert!(matches!(
        tiara_scratch_len(&tiara_cfg(3), 1 << 40),
        Err(Error::TooLarge {
            name: "n",
            limit: MAX_TIARA_N,
            ..
        })
    ));
    report("stft::error_kinds");
}
