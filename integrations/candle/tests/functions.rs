//! The tensor functions: STFT/ISTFT against the core and the torch fixtures, TiARA, spectral
//! summaries, margins, verification and the model report against the core kernels.

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap, linear};
use mlkern::Par;
use mlkern::spec::VerifyConfig;
use mlkern::spectrum::MarginKind;
use mlkern::stft::{Band, PadMode, Stft, StftConfig, TiaraConfig, Window};
use mlkern_candle::{
    DevicePolicy, ModelReport, istft, logit_margins, spectral_summary, stft, tiara, verify,
};
use serde_json::Value;

type R<T> = candle_core::Result<T>;
const CPU: DevicePolicy = DevicePolicy::CpuOnly;

fn fixtures() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/stft/stft_fixtures.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn flat(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(a) if a.first().is_some_and(Value::is_array) => {
            a.iter().flat_map(flat).collect()
        }
        _ => f64s(v),
    }
}

/// Every torch.stft fixture (109 settings: windows, lengths, hops, centre and pad modes, one-
/// and two-sided, normalized, batched) through candle, to 1e-9 in f64.
#[test]
fn stft_matches_the_torch_fixtures() -> R<()> {
    let fx = fixtures();
    let (mut n, mut errors) = (0, 0);
    for case in fx["stft"].as_array().unwrap() {
        let torch_fails = case.get("error").is_some_and(|e| !e.is_null());
        let signal = flat(&case["signal"]);
        let window = f64s(&case["window_values"]);
        let pad = match case["pad_mode"].as_str().unwrap() {
            "reflect" => PadMode::Reflect,
            "constant" => PadMode::Constant,
            "replicate" => PadMode::Replicate,
            _ => PadMode::Circular,
        };
        let cfg = StftConfig::new(case["n_fft"].as_u64().unwrap() as usize)
            .with_hop(case["hop"].as_u64().unwrap() as usize)
            .with_win_length(case["win_length"].as_u64().unwrap() as usize)
            .with_window(Window::Custom(&window))
            .with_center(case["center"].as_bool().unwrap())
            .with_pad_mode(pad)
            .with_onesided(case["onesided"].as_bool().unwrap())
            .with_normalized(case["normalized"].as_bool().unwrap());
        let x = match case["batch"].as_u64() {
            Some(b) => Tensor::from_vec(
                signal.clone(),
                (b as usize, signal.len() / b as usize),
                &Device::Cpu,
            )?,
            None => Tensor::from_vec(signal.clone(), signal.len(), &Device::Cpu)?,
        };
        let result = Stft::<f64>::new(&cfg)
            .map_err(|e| candle_core::Error::Msg(e.to_string()))
            .and_then(|plan| stft(&x, &plan, Par::Seq, CPU));
        if torch_fails {
            // torch.stft refuses these settings; so must we, with an error rather than a panic.
            assert!(result.is_err(), "{}: torch fails, we did not", case["name"]);
            errors += 1;
            continue;
        }
        let s = result?;
        assert_eq!(*s.dims().last().unwrap(), 2);
        let re = s
            .narrow(s.rank() - 1, 0, 1)?
            .flatten_all()?
            .to_vec1::<f64>()?;
        let im = s
            .narrow(s.rank() - 1, 1, 1)?
            .flatten_all()?
            .to_vec1::<f64>()?;
        let (want_re, want_im) = (flat(&case["re"]), flat(&case["im"]));
        assert_eq!(re.len(), want_re.len(), "{}", case["name"]);
        let scale = want_re
            .iter()
            .chain(&want_im)
            .fold(1.0f64, |m, v| m.max(v.abs()));
        for (got, want) in re.iter().zip(&want_re).chain(im.iter().zip(&want_im)) {
            assert!(
                (got - want).abs() <= 1e-9 * scale,
                "{}: {got} vs {want}",
                case["name"]
            );
        }
        n += 1;
    }
    assert!(
        n >= 100 && errors >= 8,
        "only {n} fixtures and {errors} error cases ran"
    );
    Ok(())
}

/// Through candle = the core plan on the same slice, bit for bit (f32); ISTFT inverts it and
/// matches the core's ISTFT.
#[test]
fn stft_and_istft_equal_the_core_and_round_trip() -> R<()> {
    let x = Tensor::randn(0f32, 1.0, (3, 777), &Device::Cpu)?;
    let plan = Stft::<f32>::new(&StftConfig::new(128).with_hop(32)).unwrap();
    let s = stft(&x, &plan, Par::threads(2), CPU)?;
    assert_eq!(s.dims(), &[3, 65, 25, 2]);
    let xv = x.flatten_all()?.to_vec1::<f32>()?;
    let core = plan.stft(&xv, 3, Par::Seq).unwrap();
    let pairs: Vec<f32> = core.as_slice().iter().flat_map(|c| [c.re, c.im]).collect();
    assert_eq!(s.flatten_all()?.to_vec1::<f32>()?, pairs);
    // A strided view (not borrowed in place, converted first) gives the same bits.
    let strided = x.t()?.contiguous()?.t()?;
    assert!(!strided.is_contiguous());
    let s2 = stft(&strided, &plan, Par::Seq, CPU)?;
    assert_eq!(s2.flatten_all()?.to_vec1::<f32>()?, pairs);
    let back = istft(&s, &plan, Some(777), Par::Seq, CPU)?;
    assert_eq!(back.dims(), &[3, 777]);
    let err = (back - &x)?.abs()?.max_all()?.to_scalar::<f32>()?;
    assert!(err < 1e-5, "{err}");
    // A single signal, [L] → [F, T, 2] → [L].
    let one = x.get(1)?;
    let s1 = stft(&one, &plan, Par::Seq, CPU)?;
    assert_eq!(s1.dims(), &[65, 25, 2]);
    assert_eq!(istft(&s1, &plan, Some(777), Par::Seq, CPU)?.dims(), &[777]);
    // Bad shapes are errors, not panics.
    assert!(stft(&x.unsqueeze(0)?, &plan, Par::Seq, CPU).is_err());
    assert!(istft(&x, &plan, None, Par::Seq, CPU).is_err());
    Ok(())
}

#[test]
fn tiara_equals_the_core_in_the_inputs_dtype() -> R<()> {
    let logits = Tensor::randn(0f32, 1.0, (2, 3, 12, 12), &Device::Cpu)?;
    let p = candle_nn::ops::softmax_last_dim(&logits)?;
    let cfg = TiaraConfig::new(5.0, 5, Band::Bins { phi1: 1, phi2: 4 });
    let q = tiara(&p, &cfg, Par::Seq, CPU)?;
    let core =
        mlkern::stft::tiara(&p.flatten_all()?.to_vec1::<f32>()?, 12, &cfg, Par::Seq).unwrap();
    assert_eq!(q.flatten_all()?.to_vec1::<f32>()?, core);
    let qb = tiara(&p.to_dtype(DType::BF16)?, &cfg, Par::Seq, CPU)?;
    assert_eq!(qb.dtype(), DType::BF16);
    assert!(tiara(&p.narrow(3, 0, 11)?, &cfg, Par::Seq, CPU).is_err());
    Ok(())
}

#[test]
fn spectral_summary_margins_and_report_equal_the_core() -> R<()> {
    // diag(4, 2, 1) ⊕ 0: σ = (4, 2, 1), stable rank 21/16, energy erank exp H(16, 4, 1)/21.
    let mut d = vec![0.0f64; 4 * 5];
    (d[0], d[6], d[12]) = (4.0, 2.0, 1.0);
    let t = Tensor::from_vec(d, (4, 5), &Device::Cpu)?;
    let s = spectral_summary(&t, Par::Seq, CPU)?;
    assert!((s.stable_rank.unwrap() - 21.0 / 16.0).abs() < 1e-12);
    let w = [16.0f64 / 21.0, 4.0 / 21.0, 1.0 / 21.0];
    let h: f64 = -w.iter().map(|p| p * p.ln()).sum::<f64>();
    assert!((s.erank_energy.unwrap() - h.exp()).abs() < 1e-12);
    assert_eq!(s.shape, (4, 5));
    assert!(spectral_summary(&Tensor::new(1.0f32, &Device::Cpu)?, Par::Seq, CPU).is_err());
    // Margins: both kinds, and bad labels.
    let z = Tensor::new(&[[2.0f32, 0.0, 1.0], [0.0, 5.0, 5.0]], &Device::Cpu)?;
    let m = logit_margins(&z, None, MarginKind::Top2, CPU)?;
    assert_eq!(m.to_vec1::<f32>()?, [1.0, 0.0]);
    let bad = Tensor::new(&[0i64, 7], &Device::Cpu)?;
    assert!(logit_margins(&z, Some(&bad), MarginKind::TrueClass, CPU).is_err());
    // The report: one row per matrix, metrics as spectral_summary gives them.
    let vm = VarMap::new();
    let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
    let _a = linear(20, 10, vb.pp("a"))?;
    let report = ModelReport::of(&vm, Par::Seq, CPU)?;
    let weight = vm.data().lock().unwrap()["a.weight"].clone();
    assert_eq!(
        report.params[0].summary,
        spectral_summary(&weight, Par::Seq, CPU)?
    );
    let json = report.to_json();
    assert_eq!(json["params"][0]["shape"], serde_json::json!([10, 20]));
    assert!(json["params"][0]["erank_energy"].as_f64().unwrap() > 1.0);
    Ok(())
}

/// Verification through candle = the core's verify on the same rows; vLLM layout.
#[test]
fn verify_equals_the_core_in_vllm_layout() -> R<()> {
    let (b, k, v) = (3, 4, 40);
    let target = Tensor::randn(0f32, 2.0, (b, k + 1, v), &Device::Cpu)?;
    let draft = Tensor::randn(0f32, 2.0, (b, k, v), &Device::Cpu)?;
    let ids: Vec<u32> = (0..b * k).map(|i| (i * 7 % v) as u32).collect();
    let tokens = Tensor::from_vec(ids.clone(), (b, k), &Device::Cpu)?;
    let temps = [0.8f32, 0.0, 1.0];
    let seeds = [5u64, 6, 7];
    let cfg = VerifyConfig::default();
    let out = verify(
        &target,
        Some(&draft),
        &tokens,
        &temps,
        &seeds,
        &cfg,
        Par::Seq,
        CPU,
    )?;
    let tv = target.flatten_all()?.to_vec1::<f32>()?;
    let dv = draft.flatten_all()?.to_vec1::<f32>()?;
    let cu: Vec<usize> = (0..=b).map(|r| r * k).collect();
    let batch = mlkern::spec::Batch {
        vocab: v,
        draft_tokens: &ids,
        cu_num_drafts: &cu,
        seeds: &seeds,
        positions: None,
    };
    let core = mlkern::spec::verify(
        &batch,
        mlkern::spec::Input::Logits {
            logits: &tv,
            temperature: &temps,
        },
        mlkern::spec::Draft::Full(mlkern::spec::Input::Logits {
            logits: &dv,
            temperature: &temps,
        }),
        &cfg,
        &mlkern::spec::Philox,
        Par::Seq,
    )
    .unwrap();
    assert_eq!(out.tokens.dims(), &[b, k + 1]);
    assert_eq!(out.tokens.dtype(), DType::I32);
    assert_eq!(
        out.tokens.flatten_all()?.to_vec1::<i32>()?,
        core.token_rows()
    );
    assert_eq!(out.num_emitted.to_vec1::<u32>()?, core.num_emitted());
    assert!(out.errors.iter().all(Option::is_none));
    // One-hot drafts (no draft logits), and shape errors.
    let one_hot = verify(&target, None, &tokens, &temps, &seeds, &cfg, Par::Seq, CPU)?;
    assert_eq!(one_hot.tokens.dims(), &[b, k + 1]);
    let short = tokens.narrow(1, 0, k - 1)?;
    assert!(
        verify(
            &target,
            Some(&draft),
            &short,
            &temps,
            &seeds,
            &cfg,
            Par::Seq,
            CPU
        )
        .is_err()
    );
    Ok(())
}
