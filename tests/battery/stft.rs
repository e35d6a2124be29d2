//! Battery cases for `mlkern::stft` (see `main.rs`).
