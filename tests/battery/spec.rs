//! Battery cases for `mlkern::spec` (see `main.rs`).
