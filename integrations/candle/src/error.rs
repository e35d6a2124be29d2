//! Errors: candle's [`candle_core::Error`] throughout (the [`Optimizer`](candle_nn::Optimizer)
//! trait fixes it), with mlkern's message and the tensor or variable it concerns.

/// candle's result type, which every function of this crate returns.
pub type Result<T> = candle_core::Result<T>;

/// An error with this message.
pub(crate) fn msg(text: String) -> candle_core::Error {
    candle_core::Error::Msg(text)
}

/// mlkern's error `e` about `name` (a variable or an argument).
pub(crate) fn kernel(name: &str, e: mlkern::Error) -> candle_core::Error {
    msg(format!("mlkern-candle: '{name}': {e}"))
}
