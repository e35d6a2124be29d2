//! The "never abort, never hang" battery: every public constructor and entry point called with
//! absurd sizes and parameters (2⁴⁰-scale lengths, `usize::MAX`, zero where zero is invalid).
//!
//! The whole binary runs under a capped global allocator (`tests/common/capped_alloc.rs`): any
//! single request above 256 MiB is refused. A case passes only when the call returns `Err` with
//! a message; an infallible absurd allocation aborts this binary (a failed run), and
//! [`rejects`] also fails when the code merely *tried* a refused request before giving up, so
//! an absurd parameter must be rejected before anything is allocated for it.
//!
//! One module per library module; `tests/cli.rs` holds the CLI half (absurd flags under a capped
//! address space).

#[path = "../common/capped_alloc.rs"]
mod capped_alloc;

mod io;
mod linalg;
mod ortho;
mod spec;
mod spectrum;
mod stft;
mod tree;

use std::cell::Cell;
use std::fmt::{Debug, Display};

#[global_allocator]
static ALLOC: capped_alloc::Capped = capped_alloc::Capped;

/// `f()` must return `Err` without ever asking the allocator for more than the cap; returns the
/// error's message (non-empty) so the case can check that it names the parameter.
#[track_caller]
pub fn rejects<T, E: Display>(case: &str, f: impl FnOnce() -> Result<T, E>) -> String {
    capped_alloc::take_refused();
    let r = f();
    let refused = capped_alloc::take_refused();
    let msg = match r {
        Ok(_) => panic!("{case}: accepted, expected an error"),
        Err(e) => e.to_string(),
    };
    assert_eq!(
        refused, 0,
        "{case}: returned `{msg}` but first tried to allocate {refused} bytes"
    );
    assert!(!msg.is_empty(), "{case}: empty error message");
    msg
}

/// [`rejects`], and the message must contain `needle` (the parameter's name).
#[track_caller]
pub fn rejects_naming<T, E: Display>(
    case: &str,
    needle: &str,
    f: impl FnOnce() -> Result<T, E>,
) -> String {
    let msg = rejects(case, f);
    assert!(
        msg.contains(needle),
        "{case}: message `{msg}` does not name `{needle}`"
    );
    msg
}

/// `f()` must return `Err`; unlike [`rejects`] it may have tried (and been refused) a large
/// allocation first: for sizes that are meaningful but more than the machine can hold, where the
/// fallible reservation is the check.
#[track_caller]
pub fn fails_cleanly<T, E: Display>(case: &str, f: impl FnOnce() -> Result<T, E>) -> String {
    let r = f();
    capped_alloc::take_refused();
    match r {
        Ok(_) => panic!("{case}: accepted, expected an error"),
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.is_empty(), "{case}: empty error message");
            msg
        }
    }
}

/// `f()` must be `Ok` without having tried an allocation the cap refused: a valid call whose
/// shape alone is absurd, where nothing may be sized by the absurd part.
#[track_caller]
pub fn accepts<T, E: Debug>(case: &str, f: impl FnOnce() -> Result<T, E>) -> T {
    capped_alloc::take_refused();
    let r = f();
    let refused = capped_alloc::take_refused();
    assert_eq!(refused, 0, "{case}: tried to allocate {refused} bytes");
    match r {
        Ok(v) => v,
        Err(e) => panic!("{case}: expected Ok, got {e:?}"),
    }
}

thread_local! {
    /// Cases the running test has counted (every test runs on its own thread).
    static CASES: Cell<usize> = const { Cell::new(0) };
}

/// Counts one case of the running test.
pub fn count() {
    CASES.with(|c| c.set(c.get() + 1));
}

/// Prints (visible with `--nocapture`) and resets the running test's case count.
pub fn report(test: &str) {
    let n = CASES.with(|c| c.replace(0));
    eprintln!("battery {test}: {n} cases");
}

/// Scale values every module's cases draw from.
pub const ABSURD: [usize; 4] = [1 << 40, (1 << 40) + 1, usize::MAX / 2, usize::MAX];

/// The harness itself can fail: a refused request is seen, and a fallible one becomes `Err`.
#[test]
fn the_cap_refuses_and_is_seen() {
    let mut v: Vec<u8> = Vec::new();
    assert!(v.try_reserve_exact(1 << 40).is_err());
    assert_eq!(capped_alloc::take_refused(), 1 << 40);
    assert!(v.try_reserve_exact(1 << 20).is_ok());
    assert_eq!(capped_alloc::take_refused(), 0);
    let r = std::panic::catch_unwind(|| {
        rejects("a case that allocates first", || {
            let mut w: Vec<u8> = Vec::new();
            w.try_reserve_exact(1 << 40).map_err(|_| "too large")
        })
    });
    assert!(r.is_err(), "rejects() must fail a case that tried first");
    fails_cleanly("the same case, allowed", || {
        let mut w: Vec<u8> = Vec::new();
        w.try_reserve_exact(1 << 40).map_err(|_| "too large")
    });
}
