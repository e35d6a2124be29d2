//! Battery cases for `mlkern::spectrum` (see `main.rs`).
