//! Newton–Schulz on the device: normalization, the standard and Gram iterations, batches.
//!
//! Layout. The batch is C order b×m×n. cuBLAS is column-major, so a row-major m×n matrix *is* a
//! column-major n×m one: a wide matrix (m ≤ n) is seen as `Xc = Xᵀ` (N×k, ld N) and its Gram
//! `X·Xᵀ = Xcᵀ·Xc`; a tall one (m > n) is seen as `C = Xᵀ` (k×N, ld k), already the short-fat
//! iterate, with Gram `C·Cᵀ`. No transposing copy is ever made. The k×k matrices of a batch lie
//! `k² + k` elements apart, so the diagonals of all of them form one arithmetic progression of
//! step `k + 1`: the `a·I` term of every step matrix is one strided `axpy` for the whole batch.
//!
//! A step matrix `B = a·I + b·A + c·A²` is built as: copy `A` into `B`, `B = c·A·A + b·B` (one
//! GEMM with β, a single rounding), `diag(B) += a`. The copy and the diagonal pass touch only
//! k×k data; the k×N iterate is read by the GEMMs alone.

use alloc::vec::Vec;

use cudarc::cublas::sys::cublasHandle_t;
use cudarc::driver::sys::CUstream;

use super::blas::{self, Gemm, Operand};
use super::{Buffer, Context, Scratch, check_owner, driver_error, ensure, ptr, ptr_mut};
use crate::base::{filled, try_vec, zeros as host_zeros};
use crate::gpu::{Dtype, GpuScalar};
use crate::ortho::{Algo, NsConfig, NsReport, Quintic, Restarts};
use crate::{Error, Result, Shape};

/// k×k slots per batch element: A/R, B/M, Q, T.
const SLOTS: usize = 4;

/// A batch of b matrices iterated as k×N.
#[derive(Clone, Copy, Debug)]
struct Geo {
    b: usize,
    k: usize,
    big: usize,
    wide: bool,
}

impl Geo {
    fn x_len(self) -> usize {
        self.k * self.big
    }

    /// Distance between consecutive k×k matrices of a slot.
    fn sq(self) -> usize {
        self.k * self.k + self.k
    }

    fn slot_len(self) -> usize {
        self.b * self.sq()
    }

    /// [`slot_len`](Self::slot_len), or `None` when it overflows (checked once before the
    /// workspace is sized; later uses cannot overflow).
    fn slot_len_checked(self) -> Option<usize> {
        self.k
            .checked_mul(self.k)?
            .checked_add(self.k)?
            .checked_mul(self.b)
    }
}

/// One call's state: handle, geometry, element size and the per-matrix flop count so far.
struct Run {
    h: cublasHandle_t,
    stream: CUstream,
    g: Geo,
    d: Dtype,
    size: usize,
    flops: f64,
}

impl Run {
    fn at(&self, base: u64, elems: usize) -> u64 {
        base + (elems * self.size) as u64
    }

    fn dims(&self) -> (i32, i32, i32) {
        (self.g.k as i32, self.g.big as i32, self.g.b as i32)
    }

    /// The iterate as a column-major operand (see the module docs).
    fn iterate(&self, x: u64) -> Operand {
        let (k, big, _) = self.dims();
        Operand::new(x, if self.g.wide { big } else { k }, self.g.x_len())
    }

    fn square_op(&self, p: u64) -> Operand {
        Operand::new(p, self.g.k as i32, self.g.sq())
    }

    /// `A = X·Xᵀ` for every matrix.
    fn gram(&mut self, x: u64, a: u64) -> Result<()> {
        let (k, big, batch) = self.dims();
        let xo = self.iterate(x);
        let (l, r) = if self.g.wide {
            (xo.t(), xo)
        } else {
            (xo, xo.t())
        };
        let g = Gemm {
            m: k,
            n: k,
            k: big,
            batch,
            alpha: 1.0,
            beta: 0.0,
        };
        // SAFETY: x holds b k×N matrices, a one slot of b k×k matrices `sq` apart.
        unsafe { blas::gemm(self.h, self.d, g, l, r, self.square_op(a)) }?;
        self.flops += 2.0 * (self.g.k * self.g.k) as f64 * self.g.big as f64;
        Ok(())
    }

    /// `Y = M·X` for every matrix.
    fn apply(&mut self, m: u64, x: u64, y: u64) -> Result<()> {
        let (k, big, batch) = self.dims();
        let (xo, yo, mo) = (self.iterate(x), self.iterate(y), self.square_op(m));
        let (rows, cols, l, r) = if self.g.wide {
            (big, k, xo, mo) // Yc = Xc·M (M symmetric)
        } else {
            (k, big, mo, xo) // Y = M·C
        };
        let g = Gemm {
            m: rows,
            n: cols,
            k,
            batch,
            alpha: 1.0,
            beta: 0.0,
        };
        // SAFETY: as in `gram`; y is a second k×N iterate buffer.
        unsafe { blas::gemm(self.h, self.d, g, l, r, yo) }?;
        self.flops += 2.0 * (self.g.k * self.g.k) as f64 * self.g.big as f64;
        Ok(())
    }

    /// `T = alpha·P·Q + beta·T` for every matrix.
    fn square(&mut self, alpha: f32, p: u64, q: u64, beta: f32, t: u64) -> Result<()> {
        let (k, _, batch) = self.dims();
        let g = Gemm {
            m: k,
            n: k,
            k,
            batch,
            alpha,
            beta,
        };
        let (po, qo, to) = (self.square_op(p), self.square_op(q), self.square_op(t));
        // SAFETY: three slots of b k×k matrices.
        unsafe { blas::gemm(self.h, self.d, g, po, qo, to) }?;
        self.flops += 2.0 * (self.g.k as f64).powi(3);
        Ok(())
    }

    /// Copies a whole slot.
    fn copy_slot(&self, dst: u64, src: u64) -> Result<()> {
        // SAFETY: two distinct slots of the same scratch.
        unsafe { blas::copy(self.stream, dst, src, self.g.slot_len() * self.size) }
    }

    /// Groups of whole matrices whose strided accesses stay below 2³¹ elements.
    fn groups(&self) -> impl Iterator<Item = (usize, usize)> {
        let per = (i32::MAX as usize / self.g.sq()).max(1);
        let b = self.g.b;
        (0..b).step_by(per).map(move |i| (i, per.min(b - i)))
    }

    /// `diag(P) += alpha` for every matrix of a slot.
    fn add_diagonal(&self, alpha: f32, p: u64, ones: u64) -> Result<()> {
        let k = self.g.k;
        for (first, count) in self.groups() {
            let y = self.at(p, first * self.g.sq());
            // SAFETY: count·k diagonal entries `k + 1` apart inside the slot; ones has b·k.
            unsafe {
                blas::axpy(
                    self.h,
                    self.d,
                    count * k,
                    alpha,
                    (ones, 1),
                    (y, k as i32 + 1),
                )
            }?;
        }
        Ok(())
    }

    /// Scales a whole slot.
    fn scale_slot(&self, alpha: f32, p: u64) -> Result<()> {
        for (first, count) in self.groups() {
            let x = self.at(p, first * self.g.sq());
            // SAFETY: inside the slot.
            unsafe { blas::scal(self.h, self.d, count * self.g.sq(), alpha, x) }?;
        }
        Ok(())
    }

    /// `B = a·I + b·A + c·A²` for every matrix.
    fn step_matrix(&mut self, a: u64, bm: u64, q: Quintic, ones: u64) -> Result<()> {
        self.copy_slot(bm, a)?;
        if q.is_cubic() {
            self.scale_slot(q.b as f32, bm)?;
        } else {
            self.square(q.c as f32, a, a, q.b as f32, bm)?;
        }
        self.add_diagonal(q.a as f32, bm, ones)
    }
}

/// Per-matrix norms: `‖xᵢ‖² = xᵢᵀ·xᵢ` as one strided-batched 1×1 GEMM with an f32 output (f32
/// accumulation, NaN/∞ propagate — unlike `nrm2`, whose NaN handling cuBLAS leaves undefined),
/// then one download.
fn norms<T: GpuScalar>(
    c: &Context,
    x: &Buffer<T>,
    g: Geo,
    ws: &mut Scratch<T>,
) -> Result<Vec<f64>> {
    ensure(c, &mut ws.norms, g.b, false)?;
    let sq = ws.norms.as_mut().expect("allocated above");
    let len = blas::len(g.x_len())?;
    let xo = Operand::new(ptr(c, x), len, g.x_len());
    let gm = Gemm {
        m: 1,
        n: 1,
        k: len,
        batch: g.b as i32,
        alpha: 1.0,
        beta: 0.0,
    };
    let out = Operand::new(ptr_mut(c, sq), 1, 1);
    // SAFETY: b matrices of k·N elements; b f32 outputs.
    unsafe { blas::gemm_to_f32(*c.blas.handle(), T::DTYPE, gm, xo.t(), xo, out) }?;
    let mut host: Vec<f32> = host_zeros(g.b, "batch")?;
    c.stream
        .memcpy_dtoh(&sq.slice.slice(..g.b), &mut host)
        .map_err(|e| driver_error("cuMemcpyDtoH", e))?;
    super::synchronize(c)?;
    Ok(host.into_iter().map(|v| f64::from(v).sqrt()).collect())
}

/// The C-order index of the first non-finite element of matrix `i`, if any.
fn first_non_finite<T: GpuScalar>(
    c: &Context,
    x: &Buffer<T>,
    g: Geo,
    i: usize,
) -> Result<Option<usize>> {
    let len = g.x_len();
    let mut host = filled(len, T::default(), "shape")?;
    c.stream
        .memcpy_dtoh(&x.slice.slice(i * len..(i + 1) * len), &mut host)
        .map_err(|e| driver_error("cuMemcpyDtoH", e))?;
    super::synchronize(c)?;
    Ok(host
        .iter()
        .position(|v| !v.to_f32().is_finite())
        .map(|j| i * len + j))
}

pub(crate) fn orthogonalize<T: GpuScalar>(
    c: &Context,
    x: &mut Buffer<T>,
    (b, m, n): (usize, usize, usize),
    cfg: &NsConfig<'_>,
    ws: &mut Scratch<T>,
) -> Result<Vec<NsReport>> {
    check_owner(c, x.slice.context(), "gpu orthogonalize: x")?;
    check_owner(c, &ws.ctx, "gpu orthogonalize: workspace")?;
    cfg.validate()?;
    let total = b.checked_mul(m).and_then(|v| v.checked_mul(n));
    if total != Some(x.len) {
        return Err(Error::ShapeMismatch {
            what: "gpu orthogonalize: x",
            expected: Shape::d3(b, m, n),
            found: Shape::d1(x.len),
        });
    }
    let (k, big) = (m.min(n), m.max(n));
    let algo = cfg.algo.resolve(k, big);
    let empty = NsReport {
        input_norm: 0.0,
        zero_input: true,
        steps: 0,
        algo,
        flops: 0.0,
    };
    if b == 0 || k == 0 {
        // One report per (empty) matrix: `b` is not backed by any data here, so it is reserved
        // fallibly.
        return filled(b, empty, "batch");
    }
    blas::len(k * big)?;
    blas::len(b)?;
    c.ctx
        .bind_to_thread()
        .map_err(|e| driver_error("cuCtxSetCurrent", e))?;
    let g = Geo {
        b,
        k,
        big,
        wide: m <= n,
    };
    let size = core::mem::size_of::<T>();
    let h = *c.blas.handle();

    let norms = norms(c, x, g, ws)?;
    let mut reports = try_vec(b, "batch")?;
    let xp = ptr_mut(c, x);
    for (i, &norm) in norms.iter().enumerate() {
        if !norm.is_finite() {
            let index = first_non_finite(c, x, g, i)?;
            if index.is_none() {
                return Err(Error::InvalidParameter {
                    name: "gpu orthogonalize: input",
                    reason: "a matrix's squared Frobenius norm overflows f32 (‖X‖_F > 1.8e19): scale it down",
                });
            }
            return Err(Error::NonFinite {
                what: "gpu orthogonalize: input",
                index: index.unwrap_or(0),
            });
        }
        let scale = 1.0 / cfg.schedule.normalize.divisor(norm);
        if norm > 0.0 && scale != 1.0 {
            let xi = xp + (i * g.x_len() * size) as u64;
            // SAFETY: matrix i of x.
            unsafe { blas::scal(h, T::DTYPE, g.x_len(), scale as f32, xi) }?;
        }
        reports.push(NsReport {
            input_norm: norm,
            zero_input: norm == 0.0,
            steps: if norm == 0.0 { 0 } else { cfg.schedule.steps },
            algo,
            flops: 0.0,
        });
    }
    let steps = cfg.schedule.steps;
    if steps == 0 {
        return Ok(reports);
    }

    ensure(c, &mut ws.iterate, x.len, false)?;
    let squares = g
        .slot_len_checked()
        .and_then(|l| l.checked_mul(SLOTS))
        .ok_or(Error::OutOfMemory {
            name: "shape",
            bytes: usize::MAX,
        })?;
    ensure(c, &mut ws.squares, squares, false)?;
    let ones_ready = ws.ones.as_ref().is_some_and(|o| o.len == b * k);
    if !ones_ready {
        ws.ones = None;
        let ones = filled(b * k, T::from_f32(1.0), "shape")?;
        ws.ones = Some(super::upload(c, &ones)?);
    }
    let mut run = Run {
        h,
        stream: c.stream.cu_stream(),
        g,
        d: T::DTYPE,
        size,
        flops: 0.0,
    };
    let iterate = ws.iterate.as_mut().expect("allocated above");
    let bufs = [ptr_mut(c, x), ptr_mut(c, iterate)];
    let sq = ptr_mut(c, ws.squares.as_mut().expect("allocated above"));
    let slots = [0, 1, 2, 3].map(|j| sq + (j * g.slot_len() * size) as u64);
    let ones = ptr(c, ws.ones.as_ref().expect("allocated above"));
    let symmetric = T::DTYPE == Dtype::F32 && b == 1 && ws.symmetric;
    let in_iterate = match algo {
        Algo::Gram { restarts } => gram(&mut run, bufs, slots, ones, cfg, restarts)?,
        _ if symmetric => standard_symmetric(&mut run, bufs, slots, ones, cfg)?,
        _ => standard(&mut run, bufs, slots, ones, cfg)?,
    };
    if in_iterate {
        // The result is in the workspace's buffer: hand it to `x`, keep x's old memory.
        core::mem::swap(x, iterate);
    }
    for r in reports.iter_mut().filter(|r| !r.zero_input) {
        r.flops = run.flops;
    }
    Ok(reports)
}

/// The standard iteration; returns whether the result ended in `bufs[1]`.
fn standard(
    run: &mut Run,
    bufs: [u64; 2],
    s: [u64; SLOTS],
    ones: u64,
    cfg: &NsConfig<'_>,
) -> Result<bool> {
    let mut cur = 0;
    for i in 0..cfg.schedule.steps {
        run.gram(bufs[cur], s[0])?;
        run.step_matrix(s[0], s[1], cfg.schedule.coefficient(i), ones)?;
        run.apply(s[1], bufs[cur], bufs[1 - cur])?;
        cur = 1 - cur;
    }
    Ok(cur == 1)
}

/// The standard iteration of one f32 matrix with `SYRK` for both symmetric products and `SYMM`
/// to apply the step matrix (kept in the lower triangle of slot 0, whose upper triangle stays
/// zero; slot 1 holds the mirrored `A`).
fn standard_symmetric(
    run: &mut Run,
    bufs: [u64; 2],
    s: [u64; SLOTS],
    ones: u64,
    cfg: &NsConfig<'_>,
) -> Result<bool> {
    let (k, big, _) = run.dims();
    let (kf, bigf) = (run.g.k as f64, run.g.big as f64);
    let h = run.h;
    let (p, f) = (run.square_op(s[0]), run.square_op(s[1]));
    // SAFETY: slot 0 (k² + k elements).
    unsafe { blas::zero(run.stream, s[0], run.g.sq() * run.size) }?;
    let mut cur = 0;
    for i in 0..cfg.schedule.steps {
        let q = cfg.schedule.coefficient(i);
        let x = run.iterate(bufs[cur]);
        let gram_of = if run.g.wide { x.t() } else { x };
        // SAFETY (all calls below): single-matrix operands inside the iterates and slots 0–1.
        unsafe { blas::syrk(h, k, big, 1.0, gram_of, 0.0, p) }?;
        run.flops += kf * kf * bigf;
        if q.is_cubic() {
            unsafe { blas::scal(h, run.d, run.g.sq(), q.b as f32, s[0]) }?;
        } else {
            unsafe { blas::add_transpose(h, k, p, f) }?;
            unsafe { blas::axpy(h, run.d, run.g.k, -1.0, (s[0], k + 1), (s[1], k + 1)) }?;
            unsafe { blas::syrk(h, k, k, q.c as f32, f, q.b as f32, p) }?;
            run.flops += kf * kf * kf;
        }
        run.add_diagonal(q.a as f32, s[0], ones)?;
        let y = run.iterate(bufs[1 - cur]);
        let dims = if run.g.wide { (big, k) } else { (k, big) };
        unsafe { blas::symm(h, !run.g.wide, dims, p, x, y) }?;
        run.flops += 2.0 * kf * kf * bigf;
        cur = 1 - cur;
    }
    Ok(cur == 1)
}

/// The Gram iteration (Dao-AILab's Gram Newton–Schulz, as [`ortho`](crate::ortho) runs it):
/// `R = X·Xᵀ`, then per step `M = p(R)`, `Q ← Q·M`, `R ← M·R·M`, with `X = Q·X` and a fresh
/// `R` at each restart and at the end. Returns whether the result ended in `bufs[1]`.
fn gram(
    run: &mut Run,
    bufs: [u64; 2],
    s: [u64; SLOTS],
    ones: u64,
    cfg: &NsConfig<'_>,
    restarts: Restarts,
) -> Result<bool> {
    let steps = cfg.schedule.steps;
    let (r, m) = (s[0], s[1]);
    let (mut q, mut t) = (s[2], s[3]);
    let mut cur = 0;
    run.gram(bufs[cur], r)?;
    let mut fresh = true;
    for i in 0..steps {
        if restarts.before(i, steps) {
            run.apply(q, bufs[cur], bufs[1 - cur])?;
            cur = 1 - cur;
            run.gram(bufs[cur], r)?;
            fresh = true;
        }
        run.step_matrix(r, m, cfg.schedule.coefficient(i), ones)?;
        if fresh {
            run.copy_slot(q, m)?;
            fresh = false;
        } else {
            run.square(1.0, q, m, 0.0, t)?;
            core::mem::swap(&mut q, &mut t);
        }
        if i + 1 < steps && !restarts.before(i + 1, steps) {
            run.square(1.0, r, m, 0.0, t)?;
            run.square(1.0, m, t, 0.0, r)?;
        }
    }
    run.apply(q, bufs[cur], bufs[1 - cur])?;
    Ok(cur == 0)
}
