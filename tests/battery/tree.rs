//! Battery cases for `mlkern::tree` (see `main.rs`).
