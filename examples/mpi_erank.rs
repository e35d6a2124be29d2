//! A data-parallel effective-rank monitor over MPI: every rank pushes its own batches of hidden
//! states into a [`CovAccumulator`], the accumulators are reduced across ranks
//! ([`reduce_cov`]), and rank 0 prints the effective rank of all ranks' samples per "epoch" —
//! what one process would print on the concatenated batches, bit-identical on every rank.
//!
//! ```text
//! cargo build --release --features mpi --example mpi_erank
//! mpiexec -n 3 target/release/examples/mpi_erank --dim 256 --rows 512 --epochs 4
//! ```
//!
//! The synthetic hidden states have a spectrum that decays faster every epoch (features
//! `x_j ~ N(0, j^(−α))` with α growing), so the effective rank falls, as it does when a network's
//! representations collapse.

#[path = "common/args.rs"]
mod args;

use args::arg;
use mlkern::dist::{Comm, Mpi, reduce_cov};
use mlkern::linalg::{Layout, view};
use mlkern::spectrum::{Centering, CovAccumulator, Weighting};
use mlkern::{Par, Result};

fn main() -> Result<()> {
    let (_universe, comm) = Mpi::init()?;
    let (rank, size) = (comm.rank(), comm.size());
    let (dim, rows, epochs) = (arg("--dim", 128), arg("--rows", 256), arg("--epochs", 4));
    let mut state = 0x1234_5678_u64 ^ (rank as u64) << 32;
    let mut normal = move || {
        // Box–Muller on a xorshift stream (distinct per rank).
        let mut u = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let (a, b) = (u(), u());
        (-2.0 * a.ln()).sqrt() * (2.0 * std::f64::consts::PI * b).cos()
    };
    for epoch in 0..epochs {
        let alpha = 0.5 * epoch as f64;
        let mut acc = CovAccumulator::new(dim)?;
        for _batch in 0..2 {
            let x: Vec<f32> = (0..rows * dim)
                .map(|i| (normal() * ((i % dim) as f64 + 1.0).powf(-alpha / 2.0)) as f32)
                .collect();
            acc.push(view(&x, rows, dim, Layout::RowMajor)?, Par::Seq)?;
        }
        reduce_cov(&mut acc, &comm)?;
        let s = acc.spectrum(Centering::ColumnMean, Par::Seq)?;
        let erank = s.spectrum().erank(Weighting::Energy).unwrap_or(f64::NAN);
        if rank == 0 {
            println!(
                "epoch {epoch}: {} samples from {size} rank(s), {dim} features, α = {alpha:.1}: effective rank {erank:.2}",
                acc.count()
            );
        }
    }
    Ok(())
}
