//! Sharded Muon training steps over MPI, timed: each rank owns a block of columns of one k×N
//! weight matrix (and of its gradient and momentum) and no rank ever holds the whole matrix.
//!
//! ```text
//! cargo build --release --features mpi,rayon --example mpi_muon
//! mpiexec -n 2 target/release/examples/mpi_muon --k 1024 --n 8192 --algo gram --threads 1
//! mpiexec -n 1 target/release/examples/mpi_muon --k 1024 --n 8192 --algo gram --threads 2
//! ```
//!
//! The task is synthetic: pull `W` towards a fixed target `W*` (`f = ½‖W − W*‖²`, whose gradient
//! `W − W*` is local to each block). Rank 0 prints the loss (summed over ranks) every few steps,
//! then one line of timings: the median step, the median time spent inside the communicator's
//! collectives, and its share of the step (the issue's target for the Gram algorithm: ≤ 10 %).
//! Options: `--k K --n N --steps S --algo standard|gram|auto --threads T --lr LR`, and `--sync`
//! to time the exchanges alone (the ranks synchronize, untimed, before each collective; without
//! it a collective's time includes waiting for the slowest rank).

#[path = "common/args.rs"]
mod args;

use args::arg;
use std::cell::Cell;
use std::time::Instant;

use mlkern::dist::{Buf, Comm, Mpi, Split, muon_shard_scratch_len, muon_step_shard};
use mlkern::ortho::{Algo, Hyper, MuonConfig, NsConfig};
use mlkern::{Par, Result};

/// A communicator that times its collectives. (`--threads` needs the `rayon` feature; without
/// it the kernels run on one thread.)
struct Timed<C> {
    inner: C,
    seconds: Cell<f64>,
    /// Synchronize the ranks (an untimed 1-word all-reduce) before each timed collective, so
    /// that the time is the exchange itself, not a rank waiting for a slower one.
    sync: bool,
}

impl<C: Comm> Timed<C> {
    fn time(&self, f: impl FnOnce() -> Result<()>) -> Result<()> {
        if self.sync {
            self.inner.sum(&mut [0u64])?;
        }
        let t = Instant::now();
        let r = f();
        self.seconds
            .set(self.seconds.get() + t.elapsed().as_secs_f64());
        r
    }
}

impl<C: Comm> Comm for Timed<C> {
    fn rank(&self) -> usize {
        self.inner.rank()
    }
    fn size(&self) -> usize {
        self.inner.size()
    }
    fn all_reduce_sum(&self, buf: Buf<'_>) -> Result<()> {
        self.time(|| self.inner.all_reduce_sum(buf))
    }
    fn broadcast(&self, buf: Buf<'_>, root: usize) -> Result<()> {
        self.time(|| self.inner.broadcast(buf, root))
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<()> {
    let (_universe, mpi) = Mpi::init()?;
    let comm = Timed {
        inner: mpi,
        seconds: Cell::new(0.0),
        sync: std::env::args().any(|a| a == "--sync"),
    };
    let (rank, size) = (comm.rank(), comm.size());
    let (k, n, steps) = (
        arg("--k", 256usize),
        arg("--n", 1024usize),
        arg("--steps", 10usize),
    );
    let threads = arg("--threads", 1usize);
    let algo = match arg("--algo", String::from("gram")).as_str() {
        "standard" => Algo::Standard,
        "auto" => Algo::Auto,
        _ => Algo::GRAM,
    };
    let lr = arg("--lr", 0.02f64);
    // Columns lo..hi of the k×N matrix, as even as possible.
    let (lo, hi) = (n * rank / size, n * (rank + 1) / size);
    let cols = hi - lo;
    // Seeded so that the blocks are the same whatever the number of ranks.
    let value = |i: usize, j: usize, seed: u64| {
        let mut h =
            (i as u64 * 1_000_003 + j as u64 + (seed << 40)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        h = (h ^ (h >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h ^= h >> 29;
        ((h >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.1
    };
    let block = |seed| -> Vec<f32> {
        (0..k)
            .flat_map(|i| (lo..hi).map(move |j| value(i, j, seed)))
            .collect()
    };
    let (mut w, target) = (block(1), block(2));
    let mut momentum = vec![0.0f32; w.len()];
    let cfg = MuonConfig::new(NsConfig::default().with_algo(algo));
    let mut scratch = vec![0.0f32; muon_shard_scratch_len(k, cols, Split::Cols, &cfg)?];
    let par = Par::threads(threads);
    let (mut step_s, mut comm_s) = (Vec::new(), Vec::new());
    let mut flops = 0.0;
    for step in 0..steps {
        let grad: Vec<f32> = w.iter().zip(&target).map(|(a, b)| a - b).collect();
        let mut loss = [grad
            .iter()
            .map(|g| 0.5 * f64::from(*g).powi(2))
            .sum::<f64>()];
        comm.sum(&mut loss)?;
        if rank == 0 && (step % 5 == 0 || step + 1 == steps) {
            println!("step {step:3}  loss {:.6}", loss[0]);
        }
        let c0 = comm.seconds.get();
        let t = Instant::now();
        let report = muon_step_shard(
            &mut w,
            &mut momentum,
            &grad,
            (k, cols),
            Split::Cols,
            Hyper::lr(lr),
            &cfg,
            &mut scratch,
            &comm,
            par,
        )?;
        step_s.push(t.elapsed().as_secs_f64());
        flops = report.ns.flops;
        comm_s.push(comm.seconds.get() - c0);
        if step == 0 && rank == 0 {
            println!(
                "{k}×{n} f32, {} over {size} rank(s) × {threads} thread(s)",
                report.ns.algo.name()
            );
        }
    }
    // The slowest rank sets the pace: report rank-maxima of the medians.
    let mut m = vec![0.0f64; 3 * size];
    m[3 * rank] = median(&mut step_s);
    m[3 * rank + 1] = median(&mut comm_s);
    m[3 * rank + 2] = flops;
    comm.inner.sum(&mut m)?;
    if rank == 0 {
        let step = m.chunks(3).map(|c| c[0]).fold(0.0, f64::max);
        let inside = m.chunks(3).map(|c| c[1]).fold(0.0, f64::max);
        let total_flops: f64 = m.chunks(3).map(|c| c[2]).sum();
        println!(
            "ranks {size} threads {threads} algo {}: median step {:.1} ms, in collectives {:.2} ms ({:.1} %), {:.1} GFLOP/s over all ranks",
            algo.name(),
            step * 1e3,
            inside * 1e3,
            100.0 * inside / step,
            total_flops / step * 1e-9
        );
    }
    Ok(())
}
