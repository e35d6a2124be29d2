//! The CLI's error: a library error or a file problem, printed as one line.

use std::fmt;
use std::path::Path;

/// Why a subcommand failed.
#[derive(Debug)]
pub enum CliError {
    /// A kernel or parser rejected the input.
    Kernel(mlkern::Error),
    /// Reading or writing a file failed.
    Io {
        path: String,
        source: std::io::Error,
    },
    /// Input that parses but does not fit the subcommand (wrong rank, dtype...).
    Usage(String),
}

impl CliError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        CliError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Kernel(e) => write!(f, "{e}"),
            CliError::Io { path, source } => write!(f, "{path}: {source}"),
            CliError::Usage(msg) => f.write_str(msg),
        }
    }
}

impl From<mlkern::Error> for CliError {
    fn from(e: mlkern::Error) -> Self {
        CliError::Kernel(e)
    }
}
