//! A global allocator that refuses every single request above [`CAP`] bytes, so code that tries
//! to allocate an absurd amount fails *here*, on every machine, instead of passing by luck where
//! memory is plentiful (or taking the machine down where it is not).
//!
//! A refused request returns null: a fallible reservation (`try_reserve_exact`) turns that into
//! an `Err`, an infallible one (`vec![..]`, `Vec::with_capacity`, `collect`) aborts the process
//! through `handle_alloc_error`, which fails the test binary (or is a crash the fuzzer reports).
//! [`refused`] tells a test whether the code under test even *tried* such a request, so a test
//! can demand that an absurd parameter is rejected before any allocation.
//!
//! One file, two users: the `battery` integration test and the fuzz crate (`fuzz/src/lib.rs`)
//! include it with `#[path]`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ptr::null_mut;

/// The largest single allocation the capped allocator grants: 256 MiB. No case of the battery or
/// the fuzz targets needs more; anything larger is an attempted absurd allocation.
pub const CAP: usize = 256 << 20;

thread_local! {
    /// The largest request this thread had refused since [`take_refused`] last ran (0: none).
    static REFUSED: Cell<usize> = const { Cell::new(0) };
}

/// The capped allocator: [`System`] for requests up to [`CAP`] bytes, null above.
pub struct Capped;

fn refuse(size: usize) -> *mut u8 {
    // `try_with`: thread-local storage may be gone while a thread shuts down.
    let _ = REFUSED.try_with(|r| r.set(r.get().max(size)));
    null_mut()
}

// SAFETY: every request within the cap is forwarded unchanged to `System`; refused requests
// return null, which `GlobalAlloc` allows, and are never passed to `dealloc`.
unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > CAP {
            return refuse(layout.size());
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() > CAP {
            return refuse(layout.size());
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > CAP {
            return refuse(new_size);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` (refused requests never reach here).
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// The largest request this thread had refused since the last call (0: none), and resets it.
pub fn take_refused() -> usize {
    REFUSED.try_with(|r| r.replace(0)).unwrap_or(0)
}
