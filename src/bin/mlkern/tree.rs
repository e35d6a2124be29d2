//! `mlkern tree`: Chow–Liu and latent trees from discrete samples (`.csv` labels or integer
//! `.npy`), Gaussian samples (float `.npy`/`.csv`) or an information-distance matrix.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use mlkern::Par;
use mlkern::io::npy::NpyData;
use mlkern::tree::{
    Center, Codes, Correction, Learner, NjConfig, RgConfig, Samples, SnjConfig, Tree, TreeData,
};
use serde_json::{Value, json};

use crate::files::{checked_len, filled, read_array, try_vec, with_path};
use crate::timing::Timing;
use crate::{CliError, Common};

/// Arguments of `mlkern tree`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Samples (`.csv` with a header of variable names, or `.npy` [samples, variables]) or, with
    /// `--kind distances`, an `.npy` [m, m] information-distance matrix.
    #[arg(value_name = "DATA")]
    pub(crate) file: PathBuf,
    /// What DATA holds; never guessed.
    #[arg(long, value_enum)]
    pub(crate) kind: Kind,
    /// Learner.
    #[arg(long, value_enum, default_value_t = Method::ChowLiu)]
    pub(crate) method: Method,
    /// Gaussian data: robust statistics, trimming this many products per pair (about √n
    /// corrupted samples; use twice the corruption count when different variables are hit in
    /// different samples).
    #[arg(long, default_value_t = 0)]
    pub(crate) robust_trim: usize,
    /// Centring before robust statistics (default median; needs --robust-trim).
    #[arg(long, value_enum, requires = "robust_trim")]
    pub(crate) center: Option<CenterArg>,
    /// Discrete Chow–Liu: Miller–Madow-corrected mutual information.
    #[arg(long)]
    pub(crate) miller_madow: bool,
    /// Latent learners: tolerance of the grouping tests / joined-node rule (default: 1e-8 for
    /// --kind distances, 0.2 for samples; NJ from samples: −ln 0.9).
    #[arg(long)]
    pub(crate) eps: Option<f64>,
    /// Hidden edges at most this long are contracted (default: 1e-8 for distances, −ln 0.9 for
    /// samples).
    #[arg(long)]
    pub(crate) contract: Option<f64>,
    /// Output format of the tree.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub(crate) format: Format,
    /// Write the tree here (default: stdout, unless --json).
    #[arg(short, long)]
    pub(crate) output: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) common: Common,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Discrete,
    Gaussian,
    Distances,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    ChowLiu,
    Rg,
    Clrg,
    Nj,
    Snj,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub(crate) enum CenterArg {
    Median,
    Mean,
    None,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Dot,
    Newick,
}

/// The loaded input.
enum Data {
    Discrete {
        codes: Vec<u8>,
        states: Vec<u8>,
        n: usize,
    },
    Gaussian {
        x: Vec<f64>,
        n: usize,
    },
    Distances {
        d: Vec<f64>,
    },
}

struct Input {
    data: Data,
    names: Vec<String>,
}

impl Input {
    fn n_vars(&self) -> usize {
        self.names.len()
    }
    fn n_samples(&self) -> Option<usize> {
        match self.data {
            Data::Discrete { n, .. } | Data::Gaussian { n, .. } => Some(n),
            Data::Distances { .. } => None,
        }
    }
}

fn is_csv(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

/// `"0"`, `"1"`, … for `p` variables, reserved fallibly (`p` comes from the file's shape).
pub(crate) fn index_names(p: usize) -> Result<Vec<String>, CliError> {
    let mut names = try_vec(p, "DATA")?;
    names.extend((0..p).map(|v| v.to_string()));
    Ok(names)
}

fn load(args: &Args) -> Result<Input, CliError> {
    let path = &args.file;
    if args.kind == Kind::Discrete && is_csv(path) {
        let bytes = std::fs::read(path).map_err(|e| CliError::io(path, e))?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| CliError::Usage(format!("{}: not UTF-8 text", path.display())))?;
        let t = mlkern::io::csv::parse_categorical(text).map_err(|e| with_path(path, e))?;
        if !t.names.is_empty() && t.names.iter().all(|f| f.parse::<f64>().is_ok()) {
            return Err(CliError::Usage(format!(
                "tree: {}: the first row must be a header of variable names (it is all numbers)",
                path.display()
            )));
        }
        return Ok(Input {
            data: Data::Discrete {
                codes: t.codes,
                states: t.states,
                n: t.rows,
            },
            names: t.names,
        });
    }
    let names = if is_csv(path) {
        let bytes = std::fs::read(path).map_err(|e| CliError::io(path, e))?;
        let text = String::from_utf8_lossy(&bytes);
        mlkern::io::csv::parse_f64(&text)
            .ok()
            .and_then(|t| t.header)
    } else {
        None
    };
    let a = read_array(path)?;
    let (rows, cols) = match a.shape[..] {
        [r, c] => (r, c),
        _ => {
            return Err(CliError::Usage(format!(
                "tree: {} must be 2-D ([samples, variables], or [m, m] distances), got shape {:?}",
                path.display(),
                a.shape
            )));
        }
    };
    if rows == 0 || cols == 0 {
        // [0, p] is an empty file whatever p is: nothing to learn, and p alone must not size
        // buffers or loops.
        return Err(CliError::Usage(format!(
            "tree: {} holds no data (shape {:?})",
            path.display(),
            a.shape
        )));
    }
    let names = match names {
        Some(names) => names,
        None => index_names(cols)?,
    };
    match args.kind {
        Kind::Discrete => {
            let values = match &a.data {
                NpyData::F32(_) | NpyData::F64(_) | NpyData::C64(_) | NpyData::C128(_) => {
                    return Err(CliError::Usage(
                        "tree: --kind discrete needs integer codes (an integer .npy or a .csv of labels); \
                         for continuous data use --kind gaussian"
                            .into(),
                    ));
                }
                _ => a.to_i64_vec()?,
            };
            let (codes, states) = code_columns(&values, rows, cols)?;
            Ok(Input {
                data: Data::Discrete {
                    codes,
                    states,
                    n: rows,
                },
                names,
            })
        }
        Kind::Gaussian => {
            let v = a.to_f64_vec()?;
            if let Some(k) = v.iter().position(|x| !x.is_finite()) {
                return Err(CliError::Usage(format!(
                    "tree: {} holds a NaN or Inf at sample {}, variable {}",
                    path.display(),
                    k / cols.max(1),
                    k % cols.max(1)
                )));
            }
            let mut x = filled(checked_len(&[rows, cols], "DATA")?, 0.0, "DATA")?;
            for r in 0..rows {
                for c in 0..cols {
                    x[c * rows + r] = v[r * cols + c];
                }
            }
            Ok(Input {
                data: Data::Gaussian { x, n: rows },
                names,
            })
        }
        Kind::Distances => {
            if rows != cols {
                return Err(CliError::Usage(format!(
                    "tree: --kind distances needs a square [m, m] matrix, got {rows}×{cols}"
                )));
            }
            Ok(Input {
                data: Data::Distances { d: a.to_f64_vec()? },
                names,
            })
        }
    }
}

/// Codes each column's integer values `0, 1, …` in order of first appearance (variable-major).
fn code_columns(values: &[i64], rows: usize, cols: usize) -> Result<(Vec<u8>, Vec<u8>), CliError> {
    let mut codes = filled(checked_len(&[rows, cols], "DATA")?, 0u8, "DATA")?;
    let mut states = filled(cols, 1u8, "DATA")?;
    for c in 0..cols {
        let mut seen: Vec<i64> = Vec::new();
        for r in 0..rows {
            let v = values[r * cols + c];
            let k = match seen.iter().position(|&s| s == v) {
                Some(k) => k,
                None if seen.len() < 255 => {
                    seen.push(v);
                    seen.len() - 1
                }
                None => {
                    return Err(CliError::Usage(format!(
                        "tree: column {c} has more than 255 distinct values (not categorical data?)"
                    )));
                }
            };
            codes[c * rows + r] = k as u8;
        }
        states[c] = seen.len().max(1) as u8;
    }
    Ok((codes, states))
}

fn center(args: &Args) -> Center {
    match args.center {
        Some(CenterArg::Median) | None => Center::Median,
        Some(CenterArg::Mean) => Center::Mean,
        Some(CenterArg::None) => Center::None,
    }
}

/// Flags that do not apply to the chosen method are errors, not silently ignored.
fn check_flags(args: &Args) -> Result<(), CliError> {
    let bad = |flag: &str, why: &str| Err(CliError::Usage(format!("tree: {flag} {why}")));
    if args.robust_trim > 0 && args.kind != Kind::Gaussian {
        return bad(
            "--robust-trim",
            "applies to --kind gaussian (robust correlations)",
        );
    }
    if args.miller_madow && !(args.method == Method::ChowLiu && args.kind == Kind::Discrete) {
        return bad(
            "--miller-madow",
            "applies to --method chow-liu on --kind discrete",
        );
    }
    if args.eps.is_some() && matches!(args.method, Method::ChowLiu | Method::Snj) {
        return bad("--eps", "applies to --method rg, clrg and nj");
    }
    if args.contract.is_some() && matches!(args.method, Method::ChowLiu | Method::Nj) {
        return bad(
            "--contract",
            "applies to --method rg, clrg and snj (nj uses --eps)",
        );
    }
    if args.common.json && args.output.is_none() && args.format != Format::Json {
        return bad(
            "--format dot|newick",
            "with --json needs -o OUT (stdout carries the JSON report)",
        );
    }
    Ok(())
}

/// The learner the flags ask for (sample-mode defaults unless DATA holds distances).
fn learner(input: &Input, args: &Args) -> Learner {
    let population = matches!(input.data, Data::Distances { .. });
    let n = input.n_samples().unwrap_or(1);
    let (mut rg, mut nj, mut snj) = if population {
        (
            RgConfig::population(),
            NjConfig::population(),
            SnjConfig::population(),
        )
    } else {
        (
            RgConfig::samples(n),
            NjConfig::samples(),
            SnjConfig::samples(),
        )
    };
    if let Some(eps) = args.eps {
        rg = rg.eps(eps);
        nj = nj.tol(eps);
    }
    if let Some(c) = args.contract {
        rg = rg.contract(c);
        snj = snj.contract(c);
    }
    match args.method {
        Method::ChowLiu => Learner::ChowLiu {
            correction: if args.miller_madow {
                Correction::MillerMadow
            } else {
                Correction::None
            },
        },
        Method::Rg => Learner::RecursiveGrouping(rg),
        Method::Clrg => Learner::Clrg(rg),
        Method::Nj => Learner::NeighborJoining(nj),
        Method::Snj => Learner::SpectralNj(snj),
    }
}

fn learn(input: &Input, args: &Args, learner: &Learner, par: Par) -> Result<Tree, CliError> {
    let p = input.n_vars();
    let data = match &input.data {
        Data::Discrete { codes, states, n } => {
            TreeData::Discrete(Codes::new(Samples::variable_major(codes, p, *n)?, states)?)
        }
        Data::Gaussian { x, n } => TreeData::Gaussian {
            x: Samples::variable_major(x, p, *n)?,
            robust_trim: args.robust_trim,
            center: center(args),
        },
        Data::Distances { d } => TreeData::Distances { d, m: p },
    };
    Ok(learner.learn(data, par)?)
}

pub(crate) fn tree_json(t: &Tree, names: &[String]) -> Value {
    let nodes: Vec<String> = (0..t.n_nodes())
        .map(|v| t.node_name(v, Some(names)))
        .collect();
    let edges: Vec<Value> = t
        .edges()
        .iter()
        .map(|e| json!([e.a, e.b, e.weight]))
        .collect();
    json!({ "nodes": nodes, "n_observed": t.n_observed(), "n_nodes": t.n_nodes(), "edges": edges })
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<(), CliError> {
    check_flags(&args)?;
    let par = args.common.par();
    let threads = par.thread_count();
    let input = load(&args)?;
    let learner = learner(&input, &args);
    let p = input.n_vars();
    let work = input.n_samples().unwrap_or(p) as f64 * (p as f64).powi(2);
    let bar = if work > 2e9 && std::io::stderr().is_terminal() && !args.common.json {
        let b = ProgressBar::new_spinner();
        b.set_message(format!("tree: {} variables, learning…", p));
        b.enable_steady_tick(std::time::Duration::from_millis(120));
        b
    } else {
        ProgressBar::hidden()
    };
    let (tree, timing) =
        Timing::measure(args.common.repeat, || learn(&input, &args, &learner, par))?;
    bar.finish_and_clear();
    let text = match args.format {
        Format::Json => tree_json(&tree, &input.names).to_string(),
        Format::Dot => tree.to_dot(Some(&input.names)),
        Format::Newick => tree.to_newick(Some(&input.names)),
    };
    if let Some(out) = &args.output {
        std::fs::write(out, text.as_bytes()).map_err(|e| CliError::io(out, e))?;
    }
    if args.common.json {
        let mut report = tree_json(&tree, &input.names);
        let kind = match args.kind {
            Kind::Discrete => "discrete",
            Kind::Gaussian => "gaussian",
            Kind::Distances => "distances",
        };
        let method = match args.method {
            Method::ChowLiu => "chow-liu",
            Method::Rg => "rg",
            Method::Clrg => "clrg",
            Method::Nj => "nj",
            Method::Snj => "snj",
        };
        if let Value::Object(map) = &mut report {
            map.insert("kind".into(), json!(kind));
            map.insert("method".into(), json!(method));
            map.insert("n_samples".into(), json!(input.n_samples()));
            map.insert("n_vars".into(), json!(p));
            map.insert("robust_trim".into(), json!(args.robust_trim));
            map.insert("threads".into(), json!(threads));
            map.insert("timing".into(), timing.to_json());
        }
        outln!("{report}");
    } else if args.output.is_none() {
        outln!("{}", text.trim_end());
    } else {
        eprintln!(
            "tree: {} observed + {} hidden nodes, {} edges, {}",
            tree.n_observed(),
            tree.n_hidden(),
            tree.edges().len(),
            timing.human()
        );
    }
    Ok(())
}
