//! `mpiexec -n R mlkern ortho|spectrum|tree …` (feature `mpi`): the same subcommands with each
//! rank reading only its part of the input file and rank 0 writing the output.
//!
//! * `ortho` (2-D): the matrix is split along its long side (a wide matrix by columns, a tall one
//!   by rows); sharded Newton–Schulz; rank 0 writes the whole result.
//! * `spectrum` (2-D samples × width): rows split; each rank accumulates its rows' covariance,
//!   the accumulators are reduced, rank 0 prints the metrics (the Gram method).
//! * `tree --method chow-liu` (`.npy` samples × variables): rows split; pair counts (discrete,
//!   integer codes 0…255 used as given) or correlation sums (Gaussian) are reduced; rank 0 prints
//!   or writes the tree.
//!
//! Each rank reads the `.npy` header and then only the byte ranges of its rows (or of its columns
//! of each row), so no rank holds the whole input. Errors: every rank stops with exit code 2;
//! the lowest rank whose own input failed prints the one-line message.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::process::ExitCode;

use mlkern::dist::{self, Comm, Mpi, Split};
use mlkern::io::npy::{self, NpyArray, NpyData, NpyHeader};
use mlkern::linalg::{Layout, view, view_mut};
use mlkern::spectrum::{Centering, CovAccumulator};
use mlkern::tree::{ChowLiuConfig, Codes, Correction, Samples};
use mlkern::{Error, Real};

use crate::files::{filled, write_array};
use crate::timing::Timing;
use crate::{CliError, Command, ortho, spectrum, tree};

/// Whether this process was started by an MPI launcher (MPICH/hydra, Open MPI, PMIx).
pub fn launched() -> bool {
    ["PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK"]
        .iter()
        .any(|v| std::env::var_os(v).is_some())
}

/// Whether the launcher made this process rank 0 (read before MPI starts, for argument errors).
pub fn is_rank_zero() -> bool {
    ["PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK"]
        .iter()
        .find_map(|v| std::env::var(v).ok())
        .is_none_or(|r| r.trim() == "0")
}

/// Runs `command` as one rank of the job.
pub fn run(command: Command) -> ExitCode {
    let (_universe, comm) = match Mpi::init() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("mlkern: error: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match command {
        Command::Ortho(args) => run_ortho(&comm, args),
        Command::Spectrum(args) => run_spectrum(&comm, args),
        Command::Tree(args) => run_tree(&comm, args),
        _ => Err(CliError::Usage(
            "under mpiexec only ortho, spectrum and tree run distributed; run this subcommand \
             without mpiexec"
                .into(),
        )),
    };
    // The lowest rank with an error of its own prints it; a rank whose peers failed is silent.
    let own = matches!(&result, Err(e) if !matches!(e, CliError::Kernel(Error::PeerFailed { .. })));
    let mut flags = vec![0u64; comm.size()];
    flags[comm.rank()] = u64::from(own);
    let first = match comm.sum(&mut flags) {
        Ok(()) => flags.iter().position(|&f| f != 0),
        Err(_) => Some(comm.rank()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if first == Some(comm.rank()) {
                eprintln!("mlkern: error: {e}");
            }
            ExitCode::from(2)
        }
    }
}

/// Every rank's `local` outcome: `Ok` everywhere only when it is `Ok` everywhere.
fn agree<T>(comm: &Mpi, local: Result<T, CliError>) -> Result<T, CliError> {
    let mut flags = vec![0u64; comm.size()];
    flags[comm.rank()] = u64::from(local.is_err());
    comm.sum(&mut flags)?;
    let value = local?;
    match flags.iter().position(|&f| f != 0) {
        Some(rank) => Err(Error::PeerFailed {
            what: "reading the input",
            rank,
        }
        .into()),
        None => Ok(value),
    }
}

/// `lo..hi` of `n` items for `rank` of `size`, as even as possible.
fn share(n: usize, rank: usize, size: usize) -> (usize, usize) {
    let at = |r: usize| ((n as u128 * r as u128) / size as u128) as usize;
    (at(rank), at(rank + 1))
}

/// A 2-D C-order `.npy` file opened by one rank: its header read, its data not.
struct Input2d<'p> {
    path: &'p Path,
    file: File,
    header: NpyHeader,
    rows: usize,
    cols: usize,
}

/// Opens `path` and reads its header.
fn open_2d(path: &Path) -> Result<Input2d<'_>, CliError> {
    let mut file = File::open(path).map_err(|e| CliError::io(path, e))?;
    let mut prefix = Vec::new();
    file.by_ref()
        .take(1 << 16)
        .read_to_end(&mut prefix)
        .map_err(|e| CliError::io(path, e))?;
    let header = npy::header(&prefix).map_err(|e| crate::files::with_path(path, e))?;
    let (rows, cols) = match header.shape[..] {
        [r, c] => (r, c),
        _ => {
            return Err(CliError::Usage(format!(
                "{}: distributed runs take a 2-D .npy, found shape {:?}",
                path.display(),
                header.shape
            )));
        }
    };
    if header.fortran_order {
        return Err(CliError::Usage(format!(
            "{}: distributed runs read C-order .npy files (save np.ascontiguousarray(x))",
            path.display()
        )));
    }
    Ok(Input2d {
        path,
        file,
        header,
        rows,
        cols,
    })
}

impl Input2d<'_> {
    /// Rows `r0..r1`, columns `c0..c1` of the matrix, row-major, as stored, and their shape.
    fn read_block(
        &mut self,
        (r0, r1): (usize, usize),
        (c0, c1): (usize, usize),
    ) -> Result<(NpyData, (usize, usize)), CliError> {
        let (h, cols, path) = (&self.header, self.cols, self.path);
        let item = h.item_size();
        let (nr, nc) = (r1 - r0, c1 - c0);
        let mut bytes = filled(
            crate::files::checked_len(&[nr, nc, item], "input block")?,
            0u8,
            "input block",
        )?;
        let io = |e| CliError::io(path, e);
        // A rank with no rows or no columns (more ranks than the long side) reads nothing.
        if !bytes.is_empty() && nc == cols {
            self.file
                .seek(SeekFrom::Start((h.data_start + r0 * cols * item) as u64))
                .map_err(io)?;
            self.file.read_exact(&mut bytes).map_err(io)?;
        } else if !bytes.is_empty() {
            for (i, row) in bytes.chunks_exact_mut(nc * item).enumerate() {
                let at = h.data_start + ((r0 + i) * cols + c0) * item;
                self.file.seek(SeekFrom::Start(at as u64)).map_err(io)?;
                self.file.read_exact(row).map_err(io)?;
            }
        }
        let data = h
            .decode(&bytes, h.data_start)
            .map_err(|e| crate::files::with_path(path, e))?;
        Ok((data, (nr, nc)))
    }
}

fn run_ortho(comm: &Mpi, args: ortho::Args) -> Result<(), CliError> {
    if args.backend.name() != "cpu" || args.precision.is_some() {
        return Err(CliError::Usage(
            "ortho under mpiexec: --backend and --precision are not distributed".into(),
        ));
    }
    let mut input = agree(comm, open_2d(&args.input))?;
    let (rows, cols) = (input.rows, input.cols);
    // Split along the long side.
    let split = if rows <= cols {
        Split::Cols
    } else {
        Split::Rows
    };
    let long = rows.max(cols);
    let (lo, hi) = share(long, comm.rank(), comm.size());
    let block = match split {
        Split::Cols => input.read_block((0, rows), (lo, hi)),
        _ => input.read_block((lo, hi), (0, cols)),
    };
    let (data, shape) = agree(comm, block)?;
    let cfg = args.ns.config();
    let par = args.common.par();
    let (out, report, timing) = match data {
        NpyData::F32(g) => {
            let (o, r, t) = ortho_block(comm, &g, shape, split, &cfg, &args.common, par)?;
            (NpyData::F32(gather(comm, &o, (rows, cols), split)?), r, t)
        }
        other => {
            let g = NpyArray::new(vec![shape.0, shape.1], other)?.to_f64_vec()?;
            let (o, r, t) = ortho_block(comm, &g, shape, split, &cfg, &args.common, par)?;
            (NpyData::F64(gather(comm, &o, (rows, cols), split)?), r, t)
        }
    };
    if comm.rank() == 0 {
        if let Some(path) = &args.output {
            write_array(path, &NpyArray::new(vec![rows, cols], out)?)?;
        }
        if args.common.json {
            outln!(
                "{}",
                serde_json::json!({
                    "shape": [rows, cols],
                    "ranks": comm.size(),
                    "split": if split == Split::Cols { "columns" } else { "rows" },
                    "schedule": cfg.schedule.name,
                    "steps": report.steps,
                    "algo": report.algo.name(),
                    "input_norm": report.input_norm,
                    "timing": timing.to_json(),
                })
            );
        } else {
            outln!(
                "ortho: {rows}×{cols} over {} ranks ({} split), {} × {} steps ({}), ‖G‖_F = {:.6e}, {}",
                comm.size(),
                if split == Split::Cols {
                    "column"
                } else {
                    "row"
                },
                cfg.schedule.name,
                report.steps,
                report.algo.name(),
                report.input_norm,
                timing.human()
            );
        }
    }
    Ok(())
}

fn ortho_block<T: Real>(
    comm: &Mpi,
    g: &[T],
    (r, c): (usize, usize),
    split: Split,
    cfg: &mlkern::ortho::NsConfig<'_>,
    common: &crate::Common,
    par: mlkern::Par,
) -> Result<(Vec<T>, mlkern::ortho::NsReport, Timing), CliError> {
    let mut out = filled(g.len(), T::zero(), "ortho output")?;
    let need = dist::orthogonalize_shard_scratch_len(r, c, split, cfg)?;
    let mut ws = filled(need, T::zero(), "ortho scratch")?;
    let (report, timing) = Timing::measure(common.repeat, || {
        dist::orthogonalize_shard_into(
            view_mut(&mut out, r, c, Layout::RowMajor)?,
            view(g, r, c, Layout::RowMajor)?,
            split,
            cfg,
            &mut ws,
            comm,
            par,
        )
    })?;
    Ok((out, report, timing))
}

/// The whole `rows×cols` result on rank 0 (empty elsewhere): each rank's block in turn is
/// broadcast from its owner.
fn gather<T: Real>(
    comm: &Mpi,
    mine: &[T],
    (rows, cols): (usize, usize),
    split: Split,
) -> Result<Vec<T>, CliError> {
    let root = comm.rank() == 0;
    let mut whole = if root {
        filled(
            crate::files::checked_len(&[rows, cols], "ortho output")?,
            T::zero(),
            "ortho output",
        )?
    } else {
        Vec::new()
    };
    let long = rows.max(cols);
    for r in 0..comm.size() {
        let (lo, hi) = share(long, r, comm.size());
        let n = match split {
            Split::Cols => rows * (hi - lo),
            _ => (hi - lo) * cols,
        };
        let mut buf = if r == comm.rank() {
            mine.to_vec()
        } else {
            filled(n, T::zero(), "ortho block")?
        };
        comm.broadcast(T::buf(&mut buf), r)?;
        if root && hi > lo {
            match split {
                Split::Cols => {
                    for (i, chunk) in buf.chunks_exact(hi - lo).enumerate() {
                        whole[i * cols + lo..i * cols + hi].copy_from_slice(chunk);
                    }
                }
                _ => whole[lo * cols..hi * cols].copy_from_slice(&buf),
            }
        }
    }
    Ok(whole)
}

fn run_spectrum(comm: &Mpi, args: spectrum::Args) -> Result<(), CliError> {
    if args.backend.name() != "cpu" || args.plot.is_some() || args.slq.estimate {
        return Err(CliError::Usage(
            "spectrum under mpiexec: --backend, --plot and --estimate are not distributed".into(),
        ));
    }
    let mut input = agree(comm, open_2d(&args.input))?;
    let (lo, hi) = share(input.rows, comm.rank(), comm.size());
    let (data, shape) = agree(comm, input.read_block((lo, hi), (0, input.cols)))?;
    let par = args.common.par();
    let centering = if args.center {
        Centering::ColumnMean
    } else {
        Centering::None
    };
    let (s, timing) = match data {
        NpyData::F32(x) => covariance_spectrum(comm, &x, shape, centering, &args.common, par)?,
        other => {
            let x = NpyArray::new(vec![shape.0, shape.1], other).and_then(|a| a.to_f64_vec());
            let x = agree(comm, x.map_err(CliError::from))?;
            covariance_spectrum(comm, &x, shape, centering, &args.common, par)?
        }
    };
    if comm.rank() == 0 {
        if args.common.json {
            let mut o = spectrum::summary_json(&s, "gram");
            o["timing"] = timing.to_json();
            o["ranks"] = serde_json::json!(comm.size());
            outln!("{o}");
        } else {
            spectrum::print_table(
                std::slice::from_ref(&s),
                std::slice::from_ref(&timing),
                false,
                |_| "gram",
            );
        }
    }
    Ok(())
}

/// The spectrum of every rank's rows together: each rank's covariance accumulator, reduced.
fn covariance_spectrum<T: Real>(
    comm: &Mpi,
    x: &[T],
    (n, d): (usize, usize),
    centering: Centering,
    common: &crate::Common,
    par: mlkern::Par,
) -> Result<(mlkern::spectrum::MatrixSpectrum, Timing), CliError> {
    Timing::measure(common.repeat, || -> Result<_, CliError> {
        let mut acc = CovAccumulator::new(d)?;
        let pushed = acc.push(view(x, n, d, Layout::RowMajor)?, par);
        dist::agree(comm, "spectrum", pushed)?;
        dist::reduce_cov(&mut acc, comm)?;
        Ok(acc.spectrum(centering, par)?)
    })
}

fn run_tree(comm: &Mpi, args: tree::Args) -> Result<(), CliError> {
    if args.method != tree::Method::ChowLiu
        || args.kind == tree::Kind::Distances
        || args.robust_trim > 0
    {
        return Err(CliError::Usage(
            "tree under mpiexec: only --method chow-liu on --kind discrete|gaussian samples (no --robust-trim)".into(),
        ));
    }
    let mut input = agree(comm, open_2d(&args.file))?;
    let (rows, cols) = (input.rows, input.cols);
    let (lo, hi) = share(rows, comm.rank(), comm.size());
    let (data, (n, p)) = agree(comm, input.read_block((lo, hi), (0, cols)))?;
    let par = args.common.par();
    let local = NpyArray::new(vec![n, p], data);
    let (t, timing) = match args.kind {
        tree::Kind::Discrete => {
            let values = agree(comm, local.and_then(|a| a.to_i64_vec()).map_err(CliError::from).and_then(|v| {
                if let Some(k) = v.iter().position(|&x| !(0..=255).contains(&x)) {
                    return Err(CliError::Usage(format!(
                        "tree under mpiexec: discrete codes must be integers 0…255 (sample {}, variable {})",
                        lo + k / p.max(1), k % p.max(1)
                    )));
                }
                Ok(v.into_iter().map(|x| x as u8).collect::<Vec<u8>>())
            }))?;
            // States: the largest code of each variable over all ranks, plus one.
            let mut maxima = vec![0u64; comm.size() * p];
            for (i, &c) in values.iter().enumerate() {
                let m = &mut maxima[comm.rank() * p + i % p];
                *m = (*m).max(u64::from(c));
            }
            comm.sum(&mut maxima)?;
            let states: Vec<u8> = (0..p)
                .map(|v| {
                    (0..comm.size())
                        .map(|r| maxima[r * p + v])
                        .max()
                        .unwrap_or(0)
                        .min(254) as u8
                        + 1
                })
                .collect();
            let cfg = ChowLiuConfig::new().correction(if args.miller_madow {
                Correction::MillerMadow
            } else {
                Correction::None
            });
            Timing::measure(args.common.repeat, || {
                let codes = Codes::new(Samples::row_major(&values, n, p)?, &states)?;
                dist::chow_liu_discrete(&codes, &cfg, comm, par)
            })?
        }
        _ => {
            let x = agree(
                comm,
                local.and_then(|a| a.to_f64_vec()).map_err(CliError::from),
            )?;
            Timing::measure(args.common.repeat, || {
                dist::chow_liu_gaussian(
                    Samples::row_major(&x, n, p)?,
                    &ChowLiuConfig::new(),
                    comm,
                    par,
                )
            })?
        }
    };
    if comm.rank() == 0 {
        let names = tree::index_names(cols)?;
        let text = match args.format {
            tree::Format::Json => tree::tree_json(&t, &names).to_string(),
            tree::Format::Dot => t.to_dot(Some(&names)),
            tree::Format::Newick => t.to_newick(Some(&names)),
        };
        if let Some(out) = &args.output {
            std::fs::write(out, text.as_bytes()).map_err(|e| CliError::io(out, e))?;
        }
        if args.common.json {
            let mut report = tree::tree_json(&t, &names);
            report["n_samples"] = serde_json::json!(rows);
            report["ranks"] = serde_json::json!(comm.size());
            report["timing"] = timing.to_json();
            outln!("{report}");
        } else if args.output.is_none() {
            outln!("{}", text.trim_end());
        }
    }
    Ok(())
}
