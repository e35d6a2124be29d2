//! Battery cases for `mlkern::linalg` (see `main.rs`).
