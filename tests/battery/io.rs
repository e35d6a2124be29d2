//! Battery cases for `mlkern::io` (see `main.rs`).
