//! Calls into mlkern from a `#![no_std]` staticlib (core tier, and the alloc tier with `alloc`).
#![no_std]

#[cfg(feature = "alloc")]
extern crate alloc;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}

/// A global allocator that never succeeds: enough to link the alloc tier.
#[cfg(feature = "alloc")]
struct NoAlloc;

#[cfg(feature = "alloc")]
// SAFETY: returning null is always a valid (failing) allocation; dealloc is never reached.
unsafe impl core::alloc::GlobalAlloc for NoAlloc {
    unsafe fn alloc(&self, _: core::alloc::Layout) -> *mut u8 {
        core::ptr::null_mut()
    }
    unsafe fn dealloc(&self, _: *mut u8, _: core::alloc::Layout) {}
}

/// Core tier: one speculative-decoding verify step (exact rule, Philox uniforms) on caller
/// buffers: `p` holds `k + 1` rows of `v` probabilities, `q` `k` rows, `out` `k + 1` tokens,
/// `scratch` `verify_scratch_len(v)` values. Returns the number of emitted tokens, or −1.
#[unsafe(no_mangle)]
pub extern "C" fn mlkern_nostd_verify(
    p: *const f32,
    q: *const f32,
    tokens: *const u32,
    v: usize,
    k: usize,
    out: *mut i32,
    scratch: *mut f64,
    scratch_len: usize,
) -> i32 {
    use mlkern::spec::{Batch, Draft, Input, Philox, VerifyConfig, VerifyOutput};
    if p.is_null() || q.is_null() || tokens.is_null() || out.is_null() || scratch.is_null() {
        return -1;
    }
    // SAFETY: the C caller promises the documented lengths.
    let (p, q, t, o, s) = unsafe {
        (
            core::slice::from_raw_parts(p, (k + 1) * v),
            core::slice::from_raw_parts(q, k * v),
            core::slice::from_raw_parts(tokens, k),
            core::slice::from_raw_parts_mut(out, k + 1),
            core::slice::from_raw_parts_mut(scratch, scratch_len),
        )
    };
    let cu = [0, k];
    let batch = Batch {
        vocab: v,
        draft_tokens: t,
        cu_num_drafts: &cu,
        seeds: &[1],
        positions: None,
    };
    let (mut n, mut e) = ([0u32], [None]);
    let out = VerifyOutput {
        tokens: o,
        num_emitted: &mut n,
        errors: &mut e,
        diag: None,
    };
    match mlkern::spec::verify_into(
        out,
        &batch,
        Input::Probs(p),
        Draft::Full(Input::Probs(q)),
        &VerifyConfig::default(),
        &Philox,
        s,
        mlkern::Par::Seq,
    ) {
        Ok(()) if e[0].is_none() => n[0] as i32,
        _ => -1,
    }
}

#[cfg(feature = "alloc")]
#[global_allocator]
static ALLOC: NoAlloc = NoAlloc;

/// Core tier: SIMD primitives on caller buffers.
#[unsafe(no_mangle)]
pub extern "C" fn mlkern_nostd_softmax(ptr: *mut f32, len: usize) -> i32 {
    if ptr.is_null() {
        return -1;
    }
    // SAFETY: the C caller promises `ptr` points to `len` initialized f32 values.
    let x = unsafe { core::slice::from_raw_parts_mut(ptr, len) };
    let s = mlkern::simd::sum(x);
    match mlkern::simd::softmax_in_place(x) {
        Ok(()) if s.is_finite() => 0,
        _ => 1,
    }
}

/// Core tier: spectral metrics over a caller's singular values (sorted in place).
#[unsafe(no_mangle)]
pub extern "C" fn mlkern_nostd_erank(ptr: *mut f64, len: usize) -> f64 {
    if ptr.is_null() {
        return -1.0;
    }
    // SAFETY: the C caller promises `ptr` points to `len` initialized f64 values.
    let s = unsafe { core::slice::from_raw_parts_mut(ptr, len) };
    match mlkern::spectrum::Spectrum::from_singular_values(s) {
        Ok(sp) => sp.erank(mlkern::spectrum::Weighting::Energy).unwrap_or(0.0),
        Err(_) => -1.0,
    }
}

/// Alloc tier: the portable GEMM (the no_std default backend).
#[cfg(feature = "alloc")]
#[unsafe(no_mangle)]
pub extern "C" fn mlkern_nostd_matmul(a: *const f32, b: *const f32, c: *mut f32, n: usize) -> i32 {
    use mlkern::Par;
    use mlkern::linalg::{Accum, Layout, matmul, view, view_mut};
    if a.is_null() || b.is_null() || c.is_null() {
        return -1;
    }
    // SAFETY: the C caller promises three n×n f32 buffers, `c` not aliasing `a` or `b`.
    let (a, b, c) = unsafe {
        (
            core::slice::from_raw_parts(a, n * n),
            core::slice::from_raw_parts(b, n * n),
            core::slice::from_raw_parts_mut(c, n * n),
        )
    };
    let mut run = || -> mlkern::Result<()> {
        matmul(
            view_mut(c, n, n, Layout::RowMajor)?,
            Accum::Replace,
            view(a, n, n, Layout::RowMajor)?,
            view(b, n, n, Layout::RowMajor)?,
            1.0,
            Par::Seq,
        )
    };
    if run().is_ok() { 0 } else { 1 }
}

/// Alloc tier: Newton–Schulz (Polar Express) into caller buffers: ortho allocates nothing itself;
/// the GEMM packs into its own buffers, so a real allocator is needed at run time.
#[cfg(feature = "alloc")]
#[unsafe(no_mangle)]
pub extern "C" fn mlkern_nostd_orthogonalize(
    g: *const f32,
    out: *mut f32,
    m: usize,
    n: usize,
    ws: *mut f32,
    ws_len: usize,
) -> i32 {
    use mlkern::Par;
    use mlkern::linalg::{Layout, view, view_mut};
    use mlkern::ortho::{NsConfig, POLAR_EXPRESS, orthogonalize_into};
    if g.is_null() || out.is_null() || ws.is_null() {
        return -1;
    }
    // SAFETY: the C caller promises m·n f32 values at `g` and `out` and `ws_len` at `ws`, disjoint.
    let (g, out, ws) = unsafe {
        (
            core::slice::from_raw_parts(g, m * n),
            core::slice::from_raw_parts_mut(out, m * n),
            core::slice::from_raw_parts_mut(ws, ws_len),
        )
    };
    let mut run = || -> mlkern::Result<bool> {
        let report = orthogonalize_into(
            view_mut(out, m, n, Layout::RowMajor)?,
            view(g, m, n, Layout::RowMajor)?,
            &NsConfig::new(POLAR_EXPRESS),
            ws,
            Par::Seq,
        )?;
        Ok(report.zero_input)
    };
    match run() {
        Ok(false) => 0,
        Ok(true) => 2,
        Err(_) => 1,
    }
}

/// Core tier: TiARA on `mats` probability matrices of `n × n` in place (α = 5, symmetric
/// Blackman of 5 taps, bins [1, 3)); `scratch` holds `tiara_scratch_len` values.
#[unsafe(no_mangle)]
pub extern "C" fn mlkern_nostd_tiara(
    data: *mut f32,
    mats: usize,
    n: usize,
    scratch: *mut f32,
    scratch_len: usize,
) -> i32 {
    use mlkern::Par;
    use mlkern::stft::{Band, TiaraConfig, tiara_in_place};
    if data.is_null() || scratch.is_null() {
        return -1;
    }
    // SAFETY: the C caller promises mats·n·n values at `data` and scratch_len at `scratch`.
    let (x, s) = unsafe {
        (
            core::slice::from_raw_parts_mut(data, mats * n * n),
            core::slice::from_raw_parts_mut(scratch, scratch_len),
        )
    };
    let cfg = TiaraConfig::new(5.0, 5, Band::Bins { phi1: 1, phi2: 3 });
    if tiara_in_place(x, n, &cfg, s, Par::Seq).is_ok() {
        0
    } else {
        1
    }
}

/// Alloc tier: the STFT of one signal with the in-crate FFT (the no_std backend) into a caller
/// buffer of `bins·frames` complex values (interleaved re, im).
#[cfg(feature = "alloc")]
#[unsafe(no_mangle)]
pub extern "C" fn mlkern_nostd_stft(
    x: *const f32,
    len: usize,
    n_fft: usize,
    out: *mut f32,
    out_len: usize,
) -> i32 {
    use mlkern::stft::{Complex, Stft, StftConfig};
    if x.is_null() || out.is_null() {
        return -1;
    }
    // SAFETY: the C caller promises `len` samples at `x` and `out_len` floats at `out`.
    let (x, out) = unsafe {
        (
            core::slice::from_raw_parts(x, len),
            core::slice::from_raw_parts_mut(out, out_len),
        )
    };
    let mut run = || -> mlkern::Result<()> {
        let plan = Stft::<f32>::new(&StftConfig::new(n_fft))?;
        let spec = plan.stft(x, 1, mlkern::Par::Seq)?;
        for (o, z) in out.chunks_exact_mut(2).zip(spec.as_slice()) {
            let z: &Complex<f32> = z;
            o[0] = z.re;
            o[1] = z.im;
        }
        Ok(())
    };
    if run().is_ok() { 0 } else { 1 }
}

/// Core tier: the maximum spanning tree of a `p×p` mutual-information matrix (Prim with caller
/// buffers); `parent` receives the tree (`parent[v]` for `v ≥ 1`), `key` is scratch.
#[unsafe(no_mangle)]
pub extern "C" fn mlkern_nostd_chow_liu_tree(
    mi: *const f64,
    p: usize,
    parent: *mut usize,
    key: *mut f64,
) -> i32 {
    use mlkern::tree::{Objective, spanning_tree_into};
    if mi.is_null() || parent.is_null() || key.is_null() {
        return -1;
    }
    // SAFETY: the C caller promises p·p weights at `mi` and p entries at `parent` and `key`.
    let (w, par, k) = unsafe {
        (
            core::slice::from_raw_parts(mi, p * p),
            core::slice::from_raw_parts_mut(parent, p),
            core::slice::from_raw_parts_mut(key, p),
        )
    };
    if spanning_tree_into(w, p, Objective::Maximum, par, k).is_ok() {
        0
    } else {
        1
    }
}

/// Core tier: the truncated inner product of two vectors, dropping the `n_trim` largest
/// products (`heap` holds `n_trim` values); NaN on bad input.
#[unsafe(no_mangle)]
pub extern "C" fn mlkern_nostd_truncated_dot(
    a: *const f64,
    b: *const f64,
    n: usize,
    n_trim: usize,
    heap: *mut f64,
) -> f64 {
    if a.is_null() || b.is_null() || heap.is_null() {
        return f64::NAN;
    }
    // SAFETY: the C caller promises n values at `a` and `b`, n_trim at `heap`.
    let (a, b, h) = unsafe {
        (
            core::slice::from_raw_parts(a, n),
            core::slice::from_raw_parts(b, n),
            core::slice::from_raw_parts_mut(heap, n_trim),
        )
    };
    mlkern::tree::truncated_dot(a, b, n_trim, h).unwrap_or(f64::NAN)
}

/// Alloc tier: CLRG over an `m×m` information-distance matrix; returns the number of hidden
/// nodes, or −1 on error.
#[cfg(feature = "alloc")]
#[unsafe(no_mangle)]
pub extern "C" fn mlkern_nostd_clrg(d: *const f64, m: usize) -> i64 {
    use mlkern::tree::{RgConfig, clrg};
    if d.is_null() {
        return -1;
    }
    // SAFETY: the C caller promises m·m distances at `d`.
    let d = unsafe { core::slice::from_raw_parts(d, m * m) };
    match clrg(d, m, &RgConfig::population()) {
        Ok(t) => t.n_hidden() as i64,
        Err(_) => -1,
    }
}
