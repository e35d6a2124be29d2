//! The distributed kernels over MPI, checked against one process: run with
//! `mpiexec -n R target/debug/examples/mpi_check` (feature `mpi`; `tests/mpi.rs` runs it with 2
//! and 3 ranks). Every rank runs the same checks as `tests/dist.rs` does on threads, and also
//! checks that MPI gives bit for bit what the in-process group gives. Exits 1 on any failure,
//! on any rank.

#[path = "../tests/dist_cases/mod.rs"]
mod dist_cases;

use std::process::ExitCode;

use dist_cases::Check;
use mlkern::dist::{Comm, Local, Mpi, Split};

fn main() -> ExitCode {
    let (_universe, comm) = match Mpi::init() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("mpi_check: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (rank, size) = (comm.rank(), comm.size());
    let mut results: Vec<(&str, Check)> = vec![
        ("rank-order sum", dist_cases::sum_order(&comm)),
        ("muon", dist_cases::muon(&comm, None)),
        (
            "muon, NaN on the last rank",
            dist_cases::muon(&comm, Some(size - 1)),
        ),
        ("covariance spectrum", dist_cases::cov(&comm).map(drop)),
        ("chow-liu", dist_cases::chow_liu(&comm)),
        ("inconsistent shards", dist_cases::inconsistent(&comm)),
    ];
    // NS: every preset and algorithm, both splits, f32 and f64; and the same bits as threads.
    let cases: [(bool, (usize, usize), Split, bool); 4] = [
        (true, (12, 40), Split::Cols, true),
        (true, (9, 25), Split::Rows, false),
        (false, (24, 70), Split::Cols, true),
        (false, (10, 33), Split::Rows, false),
    ];
    for (f64_case, shape, split, empty) in cases {
        let tol = if f64_case { 1e-12 } else { 1e-6 };
        let check = if f64_case {
            same_as_threads::<f64>(&comm, shape, split, empty, tol)
        } else {
            same_as_threads::<f32>(&comm, shape, split, empty, tol)
        };
        results.push(("newton-schulz", check));
    }
    let mut failed = [0u64];
    for (name, r) in &results {
        if let Err(msg) = r {
            eprintln!("mpi_check rank {rank}: {name}: {msg}");
            failed[0] += 1;
        }
    }
    if let Err(e) = comm.sum(&mut failed) {
        eprintln!("mpi_check rank {rank}: {e}");
        return ExitCode::FAILURE;
    }
    if rank == 0 {
        println!(
            "mpi_check: {size} ranks, {} checks per rank, {} failed",
            results.len(),
            failed[0]
        );
    }
    if failed[0] == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The NS checks over MPI, then the same on `size` threads inside this process: this rank's
/// blocks must agree bit for bit (both engines fold in rank order).
fn same_as_threads<T: mlkern::Real>(
    comm: &Mpi,
    shape: (usize, usize),
    split: Split,
    empty: bool,
    tol: f64,
) -> Check {
    let over_mpi = dist_cases::ns::<T, _>(comm, shape, split, empty, tol)?;
    let threads = Local::run(comm.size(), |c| {
        Ok(dist_cases::ns::<T, _>(c, shape, split, empty, tol))
    })
    .map_err(|e| e.to_string())?;
    let mine = threads
        .into_iter()
        .nth(comm.rank())
        .ok_or("no such thread rank")??;
    let same = over_mpi
        .iter()
        .flatten()
        .zip(mine.iter().flatten())
        .all(|(a, b)| a.as_f64().to_bits() == b.as_f64().to_bits());
    if same && over_mpi.len() == mine.len() {
        Ok(())
    } else {
        Err(format!(
            "{shape:?} {split:?}: MPI and in-process results differ"
        ))
    }
}
