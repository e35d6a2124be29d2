//! The candle optimizers against mlkern's core steps (bit for bit in f32), candle-nn's AdamW,
//! the torch.optim.Muon fixtures, routing, dtypes, all-or-nothing errors and training.

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Module, Optimizer, VarBuilder, VarMap, linear};
use mlkern::Par;
use mlkern::ortho::{
    AmuseConfig, AmuseState, Hyper, MomentumKind, MuonConfig, Normalize, amuse_scratch_len,
    amuse_step, muon_scratch_len, muon_step,
};
use mlkern_candle::{Amuse, Muon, ParamsAdamW, ParamsAmuse, ParamsMuon, Route};

type R<T> = candle_core::Result<T>;
type Step = Box<dyn FnMut(&Tensor) -> R<()>>;

fn cpu() -> Device {
    Device::Cpu
}

/// A seeded tensor in [−1, 1) (candle's `randn` is not seedable on the CPU).
fn data(shape: &[usize], seed: u64) -> Tensor {
    let n: usize = shape.iter().product();
    let mut s = seed;
    let v: Vec<f32> = (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect();
    Tensor::from_vec(v, shape, &cpu()).unwrap()
}

fn var(shape: &[usize], seed: u64, dtype: DType) -> Var {
    Var::from_tensor(&data(shape, seed).to_dtype(dtype).unwrap()).unwrap()
}

fn grads_of(vars: &[(&Var, Tensor)]) -> GradStore {
    // A loss whose gradient for each variable is the given tensor: Σ ⟨v, g⟩.
    let mut loss: Option<Tensor> = None;
    for (v, g) in vars {
        let term = (v.as_tensor() * g)
            .unwrap()
            .sum_all()
            .unwrap()
            .to_dtype(DType::F64)
            .unwrap();
        loss = Some(match loss {
            None => term,
            Some(l) => (l + term).unwrap(),
        });
    }
    loss.unwrap().backward().unwrap()
}

fn vec32(t: &Tensor) -> Vec<f32> {
    t.to_dtype(DType::F32)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

#[test]
fn muon_is_the_core_step_bit_for_bit_and_adamw_is_candles() -> R<()> {
    let w = var(&[6, 10], 1, DType::F32);
    let conv = var(&[4, 3, 2, 2], 2, DType::F32); // a conv filter: the 4×12 matrix view
    let b = var(&[6], 3, DType::F32);
    let twin = Var::from_tensor(&b.as_tensor().copy()?)?; // for candle's own AdamW
    let cfg = ParamsMuon::default().with_lr(0.03).with_weight_decay(0.1);
    let named = vec![
        ("w".into(), w.clone()),
        ("conv".into(), conv.clone()),
        ("b".into(), b.clone()),
    ];
    let mut opt = Muon::new_named(named, cfg.clone())?;
    let adamw = ParamsAdamW::default();
    let mut reference = AdamW::new(vec![twin.clone()], adamw.clone())?;
    let mut mw = vec![0.0f32; 60];
    let mut mc = vec![0.0f32; 48];
    let (mut pw, mut pc) = (vec32(&w), vec32(&conv));
    for step in 0..3u64 {
        let (gw, gc, gb) = (
            data(&[6, 10], 10 + step),
            data(&[4, 3, 2, 2], 20 + step),
            data(&[6], 30 + step),
        );
        opt.step(&grads_of(&[
            (&w, gw.clone()),
            (&conv, gc.clone()),
            (&b, gb.clone()),
        ]))?;
        reference.step(&grads_of(&[(&twin, gb)]))?;
        for (p, m, g, dims) in [
            (&mut pw, &mut mw, &gw, [6usize, 10].as_slice()),
            (&mut pc, &mut mc, &gc, &[4, 3, 2, 2]),
        ] {
            let mut ws = vec![0.0f32; muon_scratch_len(dims, &cfg.muon).unwrap()];
            let hyper = Hyper::lr(0.03).with_weight_decay(0.1);
            muon_step(p, m, &vec32(g), dims, hyper, &cfg.muon, &mut ws, Par::Seq).unwrap();
        }
        assert_eq!(vec32(&w), pw, "step {step}: w");
        assert_eq!(vec32(&conv), pc, "step {step}: conv");
        assert_eq!(vec32(&b), vec32(&twin), "step {step}: AdamW as candle-nn's");
    }
    assert_eq!(opt.steps(), 3);
    let momentum = opt.momentum()?;
    assert_eq!(momentum[2].0, "w");
    assert_eq!(vec32(&momentum[2].1), mw);
    Ok(())
}

/// tests/fixtures/muon (torch.optim.Muon, float64): three steps through candle on an f64 Var.
#[test]
fn muon_matches_the_torch_fixture_through_candle() -> R<()> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/muon/");
    let load = |name: &str| {
        let a =
            mlkern::io::npy::parse(&std::fs::read(format!("{dir}a__{name}.npy")).unwrap()).unwrap();
        Tensor::from_vec(a.to_f64_vec().unwrap(), a.shape.clone(), &cpu()).unwrap()
    };
    let m0 = load("momentum0");
    assert_eq!(
        m0.abs()?.sum_all()?.to_scalar::<f64>()?,
        0.0,
        "the fixture starts from zero momentum"
    );
    let p = Var::from_tensor(&load("param0"))?;
    let mut muon = MuonConfig::default();
    let n = muon.ns.schedule.normalize;
    muon.ns.schedule.normalize = Normalize::max_eps(n.scale, n.eps);
    let cfg = ParamsMuon::default()
        .with_lr(0.02)
        .with_weight_decay(0.1)
        .with_muon(muon);
    let mut opt = Muon::new(vec![p.clone()], cfg)?;
    for t in 1..=3 {
        opt.step(&grads_of(&[(&p, load(&format!("grad{t}")))]))?;
        let want = load(&format!("param{t}"));
        let diff = (p.as_tensor() - want)?
            .abs()?
            .max_all()?
            .to_scalar::<f64>()?;
        assert!(diff < 1e-12, "step {t}: {diff:e}");
    }
    Ok(())
}

#[test]
fn routing_by_rank_and_name() -> R<()> {
    let vm = VarMap::new();
    let vb = VarBuilder::from_varmap(&vm, DType::F32, &cpu());
    let _embed = candle_nn::embedding(50, 8, vb.pp("embed"))?;
    let _l = linear(8, 4, vb.pp("body"))?;
    let _head = linear(4, 50, vb.pp("lm_head"))?;
    let opt = Muon::from_varmap(
        &vm,
        ParamsMuon::default().exclude("embed").exclude("lm_head"),
    )?;
    let routes = opt.routes();
    let names: Vec<&str> = routes.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "body.bias",
            "body.weight",
            "embed.weight",
            "lm_head.bias",
            "lm_head.weight"
        ]
    );
    assert_eq!(routes[0].1, Route::Fallback);
    assert_eq!(routes[1].1, Route::Matrix { rows: 4, cols: 8 });
    assert_eq!(routes[2].1, Route::Fallback);
    assert_eq!(routes[4].1, Route::Fallback);
    // Without exclusions every matrix is a Muon matrix; integer variables are skipped.
    let ints = Var::from_tensor(&Tensor::zeros((3, 3), DType::U32, &cpu())?)?;
    let opt = Muon::new(
        vec![ints, var(&[3, 3], 1, DType::F32)],
        ParamsMuon::default(),
    )?;
    assert_eq!(
        opt.routes(),
        [("param1".to_string(), Route::Matrix { rows: 3, cols: 3 })]
    );
    Ok(())
}

/// bf16/f16 are computed in f32 and rounded back; f64 in f64.
#[test]
fn dtypes_round_trip() -> R<()> {
    for dtype in [DType::BF16, DType::F16, DType::F64] {
        let w = var(&[5, 7], 4, dtype);
        let g = data(&[5, 7], 5).to_dtype(dtype)?;
        let mut opt = Muon::new(vec![w.clone()], ParamsMuon::default().with_lr(0.1))?;
        let cfg = opt.params().muon;
        opt.step(&grads_of(&[(&w, g.clone())]))?;
        assert_eq!(w.dtype(), dtype);
        if dtype == DType::F64 {
            let mut p = var(&[5, 7], 4, dtype)
                .as_tensor()
                .flatten_all()?
                .to_vec1::<f64>()?;
            let gv = g.flatten_all()?.to_vec1::<f64>()?;
            let mut m = vec![0.0; 35];
            let mut ws = vec![0.0; muon_scratch_len(&[5, 7], &cfg).unwrap()];
            muon_step(
                &mut p,
                &mut m,
                &gv,
                &[5, 7],
                Hyper::lr(0.1),
                &cfg,
                &mut ws,
                Par::Seq,
            )
            .unwrap();
            assert_eq!(w.as_tensor().flatten_all()?.to_vec1::<f64>()?, p);
        } else {
            let mut p = vec32(var(&[5, 7], 4, dtype).as_tensor());
            let mut m = vec![0.0f32; 35];
            let mut ws = vec![0.0f32; muon_scratch_len(&[5, 7], &cfg).unwrap()];
            muon_step(
                &mut p,
                &mut m,
                &vec32(&g),
                &[5, 7],
                Hyper::lr(0.1),
                &cfg,
                &mut ws,
                Par::Seq,
            )
            .unwrap();
            let want = Tensor::from_vec(p, (5, 7), &cpu())?.to_dtype(dtype)?;
            assert_eq!(vec32(w.as_tensor()), vec32(&want), "{dtype:?}");
        }
    }
    Ok(())
}

/// A NaN in one gradient: an error naming the variable, and nothing changes anywhere.
#[test]
fn nan_gradients_leave_everything_untouched() -> R<()> {
    let (w, b) = (var(&[4, 6], 6, DType::F32), var(&[4], 7, DType::F32));
    let named = || {
        vec![
            ("a.weight".to_string(), w.clone()),
            ("z.bias".to_string(), b.clone()),
        ]
    };
    let mut muon = Muon::new_named(named(), ParamsMuon::default())?;
    let mut amuse = Amuse::new_named(named(), ParamsAmuse::default())?;
    let good = grads_of(&[(&w, data(&[4, 6], 8)), (&b, data(&[4], 9))]);
    muon.step(&good)?;
    amuse.step(&good)?;
    let before = (
        vec32(&w),
        vec32(&b),
        vec32(&muon.momentum()?[0].1),
        vec32(&amuse.averaged()?[0].1),
    );
    let mut bad_bias = vec32(&data(&[4], 10));
    bad_bias[2] = f32::NAN;
    let bad = grads_of(&[
        (&w, data(&[4, 6], 11)),
        (&b, Tensor::new(bad_bias.as_slice(), &cpu())?),
    ]);
    let e = muon.step(&bad).unwrap_err().to_string();
    assert!(e.contains("z.bias") && e.contains("gradient"), "{e}");
    let e = amuse.step(&bad).unwrap_err().to_string();
    assert!(e.contains("z.bias"), "{e}");
    let after = (
        vec32(&w),
        vec32(&b),
        vec32(&muon.momentum()?[0].1),
        vec32(&amuse.averaged()?[0].1),
    );
    assert_eq!(before, after);
    assert_eq!((muon.steps(), amuse.t()), (1, 2));
    Ok(())
}

#[test]
fn amuse_is_the_core_step_bit_for_bit_and_evaluates_the_average() -> R<()> {
    let w = var(&[6, 9], 12, DType::F32);
    let cfg = ParamsAmuse::default()
        .with_lr(0.05)
        .with_weight_decay(0.01)
        .with_amuse(AmuseConfig::default().with_schedule(0.5, 2, 1.0));
    let mut opt = Amuse::new(vec![w.clone()], cfg.clone())?;
    let (mut y, mut z, mut x, mut m) = (vec32(&w), vec32(&w), vec32(&w), vec![0.0f32; 54]);
    let mut ws = vec![0.0f32; amuse_scratch_len(&[6, 9], &cfg.amuse).unwrap()];
    for t in 1..=4u64 {
        let g = data(&[6, 9], 40 + t);
        opt.step(&grads_of(&[(&w, g.clone())]))?;
        let state = AmuseState {
            z: &mut z,
            x: &mut x,
            m: &mut m,
        };
        let hyper = Hyper::lr(0.05).with_weight_decay(0.01);
        amuse_step(
            &mut y,
            state,
            &vec32(&g),
            &[6, 9],
            t,
            hyper,
            &cfg.amuse,
            &mut ws,
            Par::Seq,
        )
        .unwrap();
        assert_eq!(vec32(&w), y, "Y at step {t}");
        assert_eq!(vec32(&opt.averaged()?[0].1), x, "X at step {t}");
        assert_eq!(vec32(&opt.fast()?[0].1), z, "Z at step {t}");
    }
    // with_averaged shows X inside and restores Y after, also when the closure fails.
    let inside = opt.with_averaged(|| Ok(vec32(&w)))?;
    assert_eq!(inside, x);
    assert_eq!(vec32(&w), y);
    assert!(
        opt.with_averaged(|| -> R<()> { candle_core::bail!("eval failed") })
            .is_err()
    );
    assert_eq!(vec32(&w), y);
    assert_eq!(opt.params().amuse.muon.momentum_kind, MomentumKind::Sum);
    Ok(())
}

/// A small regression model's loss falls under Muon and AMUSE (and candle's AdamW as a check).
#[test]
fn a_small_model_trains_under_each_optimizer() -> R<()> {
    let x = data(&[64, 12], 50);
    let truth = data(&[12, 3], 51);
    let y = x.matmul(&truth)?.tanh()?;
    for which in ["muon", "amuse", "adamw"] {
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &cpu());
        let l1 = linear(12, 32, vb.pp("l1"))?;
        let l2 = linear(32, 3, vb.pp("l2"))?;
        let loss = |_: ()| -> R<Tensor> {
            let h = l1.forward(&x)?.relu()?;
            (l2.forward(&h)? - &y)?.sqr()?.mean_all()
        };
        let first = loss(())?.to_scalar::<f32>()?;
        let mut step: Step = match which {
            "muon" => {
                let mut o = Muon::from_varmap(&vm, ParamsMuon::default().with_lr(0.02))?;
                Box::new(move |l| o.backward_step(l))
            }
            "amuse" => {
                let mut o = Amuse::from_varmap(&vm, ParamsAmuse::default().with_lr(0.02))?;
                Box::new(move |l| o.backward_step(l))
            }
            _ => {
                let p = ParamsAdamW {
                    lr: 0.01,
                    ..Default::default()
                };
                let mut o = AdamW::new(vm.all_vars(), p)?;
                Box::new(move |l| o.backward_step(l))
            }
        };
        for _ in 0..60 {
            step(&loss(())?)?;
        }
        let last = loss(())?.to_scalar::<f32>()?;
        assert!(last < 0.5 * first, "{which}: {first} → {last}");
    }
    Ok(())
}

#[test]
fn set_learning_rate_drives_both_groups() -> R<()> {
    let w = var(&[3, 3], 60, DType::F32);
    let mut opt = Muon::new(vec![w], ParamsMuon::default().with_lr(0.02))?;
    opt.set_learning_rate(0.01);
    assert_eq!(opt.learning_rate(), 0.01);
    assert_eq!(opt.params().adamw.lr, 0.001 * 0.5);
    opt.set_learning_rate(0.0);
    opt.set_learning_rate(0.04);
    assert_eq!(opt.params().adamw.lr, 0.002);
    Ok(())
}

/// Same-shaped matrices form a batch spread over threads: the same bits as one at a time, for
/// Muon and AMUSE, with a mix of shapes, precisions and a fallback parameter.
#[test]
fn batches_over_threads_give_the_same_bits() -> R<()> {
    let shapes: [&[usize]; 6] = [&[8, 16], &[8, 16], &[8, 16], &[16, 8], &[8, 16], &[5]];
    let make = || -> Vec<(String, Var)> {
        let mut v: Vec<(String, Var)> = shapes
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("p{i}"), var(s, 70 + i as u64, DType::F32)))
            .collect();
        v.push(("q64".into(), var(&[8, 16], 90, DType::F64)));
        v
    };
    let grads = |vars: &[(String, Var)], step: u64| {
        let pairs: Vec<(&Var, Tensor)> = vars
            .iter()
            .enumerate()
            .map(|(i, (_, v))| {
                (
                    v,
                    data(v.dims(), 100 * step + i as u64)
                        .to_dtype(v.dtype())
                        .unwrap(),
                )
            })
            .collect();
        grads_of(&pairs)
    };
    let values =
        |vars: &[(String, Var)]| -> Vec<Vec<f32>> { vars.iter().map(|(_, v)| vec32(v)).collect() };
    let (seq, thr) = (make(), make());
    let mut a = Muon::new_named(seq.clone(), ParamsMuon::default())?;
    let mut b = Muon::new_named(thr.clone(), ParamsMuon::default().with_par(Par::threads(3)))?;
    let (seq2, thr2) = (make(), make());
    let mut c = Amuse::new_named(seq2.clone(), ParamsAmuse::default())?;
    let mut d = Amuse::new_named(
        thr2.clone(),
        ParamsAmuse::default().with_par(Par::threads(2)),
    )?;
    for step in 1..=3 {
        a.step(&grads(&seq, step))?;
        b.step(&grads(&thr, step))?;
        c.step(&grads(&seq2, step))?;
        d.step(&grads(&thr2, step))?;
        assert_eq!(values(&seq), values(&thr), "muon step {step}");
        assert_eq!(values(&seq2), values(&thr2), "amuse step {step}");
    }
    // A NaN in the middle of a threaded batch still leaves everything untouched.
    let before = values(&thr);
    let mut bad: Vec<(&Var, Tensor)> = thr
        .iter()
        .map(|(_, v)| (v, Tensor::zeros(v.shape(), v.dtype(), &cpu()).unwrap()))
        .collect();
    bad[2].1 = Tensor::full(f32::NAN, (8, 16), &cpu())?;
    let e = b.step(&grads_of(&bad)).unwrap_err().to_string();
    assert!(e.contains("p2"), "{e}");
    assert_eq!(values(&thr), before);
    Ok(())
}
