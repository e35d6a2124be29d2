//! GPU Newton–Schulz and Gram-spectrum timings (feature `cublas`).
//!
//! Not a criterion bench: a GPU call is asynchronous, so each run is timed wall-clock from launch
//! to `synchronize()`, after 3 warm-up runs, and the median and minimum are printed — the same
//! method `scripts/gpu_compare.py` uses for PyTorch, so the two are comparable in one run.
//! Without a GPU it prints why and exits successfully.
//!
//! ```text
//! cargo bench --features cublas --bench gpu -- [--json] [--quick]
//! ```

use std::time::Instant;

use mlkern::gpu::{Cuda, GpuScalar, bf16};
use mlkern::ortho::{Algo, KELLER_JORDAN, NsConfig};

#[path = "common/mod.rs"]
mod common;

struct Case {
    b: usize,
    m: usize,
    n: usize,
    algo: Algo,
    symmetric: bool,
}

const fn case(b: usize, m: usize, n: usize, algo: Algo) -> Case {
    Case {
        b,
        m,
        n,
        algo,
        symmetric: true,
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn time_ns<T: GpuScalar>(gpu: &Cuda, c: &Case, runs: usize, json: bool) -> mlkern::Result<()> {
    let len = c.b * c.m * c.n;
    let host: Vec<T> = common::data::<f32>(len, 7)
        .into_iter()
        .map(T::from_f32)
        .collect();
    let mut x = gpu.upload(&host)?;
    let mut ws = gpu.workspace::<T>();
    ws.set_symmetric_kernels(c.symmetric);
    let cfg = NsConfig::new(KELLER_JORDAN).with_algo(c.algo);
    let mut flops = 0.0;
    for _ in 0..3 {
        flops = gpu.orthogonalize(&mut x, c.b, c.m, c.n, &cfg, &mut ws)?[0].flops;
    }
    gpu.synchronize()?;
    let mut t = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t0 = Instant::now();
        gpu.orthogonalize(&mut x, c.b, c.m, c.n, &cfg, &mut ws)?;
        gpu.synchronize()?;
        t.push(t0.elapsed().as_secs_f64());
    }
    let min = t.iter().copied().fold(f64::INFINITY, f64::min);
    let med = median(&mut t);
    let dtype = if T::DTYPE == mlkern::gpu::Dtype::F32 {
        "f32"
    } else {
        "bf16"
    };
    let algo = cfg.algo.resolve(c.m.min(c.n), c.m.max(c.n)).name();
    let kernels = if c.symmetric || dtype == "bf16" || c.b > 1 {
        ""
    } else {
        "+gemm-only"
    };
    let name = format!("ns5-{}x{}x{}-{dtype}-{algo}{kernels}", c.b, c.m, c.n);
    let tflops = flops * c.b as f64 / med / 1e12;
    if json {
        println!(
            "{{\"name\":\"{name}\",\"b\":{},\"m\":{},\"n\":{},\"dtype\":\"{dtype}\",\"algo\":\"{algo}\",\"median_s\":{med:e},\"min_s\":{min:e},\"runs\":{runs},\"tflops\":{tflops:.1}}}",
            c.b, c.m, c.n
        );
    } else {
        println!(
            "{name:<44} median {:>9.3} ms  min {:>9.3} ms  {tflops:>6.1} TFLOP/s (executed)",
            med * 1e3,
            min * 1e3
        );
    }
    Ok(())
}

fn time_spectrum(
    gpu: &Cuda,
    rows: usize,
    cols: usize,
    runs: usize,
    json: bool,
) -> mlkern::Result<()> {
    let host = common::data::<f32>(rows * cols, 11);
    let h = gpu.upload(&host)?;
    gpu.gram_singular_values(&h, rows, cols, true)?;
    let mut t = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t0 = Instant::now();
        gpu.gram_singular_values(&h, rows, cols, true)?;
        t.push(t0.elapsed().as_secs_f64());
    }
    let med = median(&mut t);
    let name = format!("gram-spectrum-{rows}x{cols}-f32-centered");
    if json {
        println!(
            "{{\"name\":\"{name}\",\"rows\":{rows},\"cols\":{cols},\"median_s\":{med:e},\"runs\":{runs}}}"
        );
    } else {
        println!(
            "{name:<44} median {:>9.3} ms (device Gram + host f64 eigenvalues)",
            med * 1e3
        );
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(0) => std::process::ExitCode::SUCCESS,
        Ok(failed) => {
            println!("error: {failed} case(s) failed");
            std::process::ExitCode::FAILURE
        }
        Err(e) => {
            println!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Runs every case; returns how many failed.
fn run() -> mlkern::Result<usize> {
    let args: Vec<String> = std::env::args().collect();
    let json = args.iter().any(|a| a == "--json");
    let quick = args.iter().any(|a| a == "--quick");
    let gpu = match Cuda::try_new() {
        Ok(g) => g,
        Err(e) => {
            println!("gpu bench skipped: {e}");
            return Ok(0);
        }
    };
    let i = gpu.info();
    if !json {
        println!(
            "{} (cc {}.{}), driver {}, cuBLAS {}",
            i.name,
            i.compute_capability.0,
            i.compute_capability.1,
            i.driver_version,
            i.cublas_version
        );
    }
    let runs = if quick { 5 } else { 30 };
    let std_ = Algo::Standard;
    let mut failed = 0;
    // The two target shapes first, then the reference note's benchmark matrix.
    let bf16_cases = [
        case(1, 4096, 4096, std_),
        case(32, 1024, 4096, std_),
        case(32, 1024, 4096, Algo::GRAM),
        case(1, 768, 768, std_),
        case(1, 768, 3072, std_),
        case(1, 768, 3072, Algo::GRAM),
        case(1, 1024, 4096, std_),
        case(1, 1024, 4096, Algo::GRAM),
        case(1, 4096, 14336, std_),
        case(1, 4096, 14336, Algo::GRAM),
        case(1, 8192, 1024, std_),
        case(1, 8192, 1024, Algo::GRAM),
        case(24, 128, 768, std_),
        case(24, 128, 768, Algo::GRAM),
    ];
    for c in &bf16_cases {
        if let Err(e) = time_ns::<bf16>(&gpu, c, runs, json) {
            println!("error: bf16 {}×{}×{}: {e}", c.b, c.m, c.n);
            failed += 1;
        }
    }
    let f32_cases = [
        case(1, 4096, 4096, std_),
        Case {
            symmetric: false,
            ..case(1, 4096, 4096, std_)
        },
        case(32, 1024, 4096, std_),
        case(32, 1024, 4096, Algo::GRAM),
        case(1, 1024, 4096, std_),
        Case {
            symmetric: false,
            ..case(1, 1024, 4096, std_)
        },
    ];
    for c in &f32_cases {
        if let Err(e) = time_ns::<f32>(&gpu, c, runs.min(10), json) {
            println!("error: f32 {}×{}×{}: {e}", c.b, c.m, c.n);
            failed += 1;
        }
    }
    for (rows, cols, runs) in [(65536, 1024, 5), (16384, 2048, 2)] {
        if let Err(e) = time_spectrum(&gpu, rows, cols, if quick { 1 } else { runs }, json) {
            println!("error: spectrum {rows}×{cols}: {e}");
            failed += 1;
        }
    }
    Ok(failed)
}
