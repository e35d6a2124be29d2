//! The distributed kernels over the in-process [`Local`] group (threads as ranks): every result
//! against the single-process kernel on the concatenated data, determinism, all-or-nothing
//! errors (`dist_cases`, shared with `tests/mpi.rs`, which runs them over MPI), and the
//! group's own failure modes.

#![cfg(feature = "std")]

mod dist_cases;

use dist_cases::Check;
use mlkern::dist::{
    Buf, Comm, Local, Solo, Split, orthogonalize_shard_into, orthogonalize_shard_scratch_len,
};
use mlkern::linalg::{Layout, view, view_mut};
use mlkern::ortho::{Algo, NsConfig, orthogonalize_into, orthogonalize_scratch_len};
use mlkern::{Error, Par};

/// Runs a case on `ranks` threads and fails with every rank's message.
fn on_ranks(ranks: usize, case: impl Fn(&Local<'_>) -> Check + Sync) {
    let out = Local::run(ranks, |comm| Ok(case(comm))).unwrap();
    let failed: Vec<String> = out.into_iter().filter_map(|r| r.err()).collect();
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn sums_are_in_rank_order_and_identical_everywhere() {
    for ranks in [1, 2, 3, 4, 5] {
        on_ranks(ranks, |c| dist_cases::sum_order(c));
    }
}

#[test]
fn sharded_ns_f64_matches_one_process_to_1e12() {
    on_ranks(3, |c| {
        dist_cases::ns::<f64, _>(c, (12, 40), Split::Cols, true, 1e-12).map(drop)
    });
    on_ranks(2, |c| {
        dist_cases::ns::<f64, _>(c, (9, 25), Split::Rows, false, 1e-12).map(drop)
    });
    on_ranks(4, |c| {
        dist_cases::ns::<f64, _>(c, (16, 16), Split::Cols, false, 1e-12).map(drop)
    });
}

#[test]
fn sharded_ns_f32_matches_one_process_to_1e6() {
    on_ranks(3, |c| {
        dist_cases::ns::<f32, _>(c, (24, 70), Split::Cols, true, 1e-6).map(drop)
    });
    on_ranks(3, |c| {
        dist_cases::ns::<f32, _>(c, (10, 33), Split::Rows, false, 1e-6).map(drop)
    });
}

#[test]
fn sharded_muon_matches_and_is_all_or_nothing() {
    for ranks in [2, 3] {
        on_ranks(ranks, |c| dist_cases::muon(c, None));
        for bad in 0..ranks {
            on_ranks(ranks, |c| dist_cases::muon(c, Some(bad)));
        }
    }
}

#[test]
fn sharded_amuse_matches_and_is_all_or_nothing() {
    for ranks in [2, 3] {
        on_ranks(ranks, |c| dist_cases::amuse(c, None));
        for bad in 0..ranks {
            on_ranks(ranks, |c| dist_cases::amuse(c, Some(bad)));
        }
    }
}

#[test]
fn reduced_covariance_gives_the_spectrum_of_all_rows() {
    on_ranks(3, |c| dist_cases::cov(c).map(drop));
}

#[test]
fn distributed_chow_liu_gives_the_same_tree() {
    on_ranks(3, |c| dist_cases::chow_liu(c));
    on_ranks(2, |c| dist_cases::chow_liu(c));
}

#[test]
fn inconsistent_shards_fail_on_every_rank() {
    on_ranks(2, |c| dist_cases::inconsistent(c));
}

#[test]
fn one_rank_is_the_single_process_kernel_bit_for_bit() {
    let mut rng = dist_cases::Rng(3);
    let (k, n) = (7, 19);
    let g: Vec<f32> = rng.vec(k * n);
    for algo in [Algo::Standard, Algo::GRAM] {
        let cfg = NsConfig::default().with_algo(algo);
        let mut want = vec![0.0f32; k * n];
        let mut ws = vec![0.0; orthogonalize_scratch_len(k, n, &cfg).unwrap()];
        orthogonalize_into(
            view_mut(&mut want, k, n, Layout::RowMajor).unwrap(),
            view(&g, k, n, Layout::RowMajor).unwrap(),
            &cfg,
            &mut ws,
            Par::Seq,
        )
        .unwrap();
        let mut got = vec![0.0f32; k * n];
        let mut ws = vec![0.0; orthogonalize_shard_scratch_len(k, n, Split::Cols, &cfg).unwrap()];
        orthogonalize_shard_into(
            view_mut(&mut got, k, n, Layout::RowMajor).unwrap(),
            view(&g, k, n, Layout::RowMajor).unwrap(),
            Split::Cols,
            &cfg,
            &mut ws,
            &Solo,
            Par::Seq,
        )
        .unwrap();
        assert_eq!(got, want, "{algo:?}");
    }
}

#[test]
fn the_group_errors_instead_of_hanging() {
    // Different lengths: every rank gets Communication.
    let r = Local::run(2, |comm| {
        let mut x = vec![1.0f32; 1 + comm.rank()];
        Ok(comm.sum(&mut x))
    })
    .unwrap();
    assert!(
        r.iter()
            .all(|e| matches!(e, Err(Error::Communication { .. }))),
        "{r:?}"
    );
    // A rank that leaves early: the others' collective fails instead of waiting forever.
    let r = Local::run(3, |comm| {
        if comm.rank() == 1 {
            return Ok(None);
        }
        let mut x = [1.0f64];
        Ok(Some(comm.sum(&mut x)))
    })
    .unwrap();
    assert!(
        matches!(r[0], Some(Err(Error::Communication { .. }))),
        "{r:?}"
    );
    // A u64 overflow is an error on every rank; bad roots and group sizes are rejected.
    let r = Local::run(2, |comm| {
        let mut x = [u64::MAX];
        Ok(comm.sum(&mut x))
    })
    .unwrap();
    assert!(r.iter().all(|e| e.is_err()));
    assert!(Local::run(0, |_| Ok(())).is_err());
    assert!(Solo.broadcast(Buf::F64(&mut [1.0]), 1).is_err());
    let r = Local::run(2, |comm| Ok(comm.broadcast(Buf::F64(&mut [1.0]), 2)));
    assert!(r.unwrap().iter().all(|e| e.is_err()));
    // A panicking rank: the panic reaches the caller, the other rank does not hang.
    let caught = std::panic::catch_unwind(|| {
        Local::run(2, |comm| {
            if comm.rank() == 0 {
                panic!(
                    "rank 0 fails (expected: the test checks that a panic does not hang rank 1)"
                );
            }
            let mut x = [1.0f64];
            Ok(comm.sum(&mut x))
        })
    });
    assert!(caught.is_err());
}
