//! The distributed kernels over MPI, checked against one process (feature `mpi`, a test without
//! the libtest harness). `cargo test --features mpi --test mpi` starts this binary once; it then
//! starts itself under `mpiexec -n 2` and `mpiexec -n 3` (set `MPIEXEC` to use another launcher)
//! and passes when every rank of both runs passes. Under `mpiexec`, every rank runs the same checks
//! as `tests/dist.rs` does on threads, and also checks that MPI gives bit for bit what the
//! in-process group gives; any failure on any rank exits 1.

mod dist_cases;

use std::process::{Command, ExitCode};

use dist_cases::Check;
use mlkern::dist::{Comm, Local, Mpi, Split};

/// Set in the ranks' environment, so the launched copies run the checks instead of launching.
const UNDER_TEST: &str = "MLKERN_MPI_TEST_RANKS";

fn main() -> ExitCode {
    if std::env::var_os(UNDER_TEST).is_some() {
        return ranks();
    }
    let launcher = std::env::var("MPIEXEC").unwrap_or_else(|_| "mpiexec".into());
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("mpi test: cannot find its own executable: {e}");
            return ExitCode::FAILURE;
        }
    };
    for n in ["2", "3"] {
        println!("mpi test: {launcher} -n {n} {}", exe.display());
        let status = Command::new(&launcher)
            .args(["-n", n])
            .arg(&exe)
            .env(UNDER_TEST, n)
            .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => {
                eprintln!("mpi test: {n} ranks failed ({s})");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!(
                    "mpi test: cannot start {launcher} ({e}): install MPICH (apt-get install mpich) \
                     or set MPIEXEC"
                );
                return ExitCode::FAILURE;
            }
        }
    }
    println!("mpi test: passed with 2 and 3 ranks");
    ExitCode::SUCCESS
}

/// One rank of a launched run.
fn ranks() -> ExitCode {
    let (_universe, comm) = match Mpi::init() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("mpi test: {e}");
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
        ("amuse", dist_cases::amuse(&comm, None)),
        ("amuse, NaN on rank 0", dist_cases::amuse(&comm, Some(0))),
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
            eprintln!("mpi test rank {rank}: {name}: {msg}");
            failed[0] += 1;
        }
    }
    if let Err(e) = comm.sum(&mut failed) {
        eprintln!("mpi test rank {rank}: {e}");
        return ExitCode::FAILURE;
    }
    if rank == 0 {
        println!(
            "mpi test: {size} ranks, {} checks per rank, {} failed",
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
