//! Battery cases for `mlkern::ortho` (see `main.rs`).
