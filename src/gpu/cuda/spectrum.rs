//! Singular values from the f32 Gram matrix on the device and a host f64 eigensolve.

use alloc::vec::Vec;

use super::blas::{self, Operand};
use super::{Buffer, Context, check_owner, driver_error, ptr, ptr_mut, upload, zeros};
use crate::base::{filled, zeros as host_zeros};
use crate::linalg::try_zeros_mat;
use crate::{Error, Result, Shape};

pub(crate) fn gram_singular_values(
    c: &Context,
    h: &Buffer<f32>,
    rows: usize,
    cols: usize,
    center: bool,
) -> Result<Vec<f64>> {
    check_owner(c, h.slice.context(), "gpu gram_singular_values: h")?;
    if rows.checked_mul(cols) != Some(h.len) {
        return Err(Error::ShapeMismatch {
            what: "gpu gram_singular_values: h",
            expected: Shape::d2(rows, cols),
            found: Shape::d1(h.len),
        });
    }
    if rows == 0 || cols == 0 {
        return Err(Error::Empty {
            what: "gpu gram_singular_values: h",
        });
    }
    let (r32, c32) = (blas::len(rows)?, blas::len(cols)?);
    blas::len(rows * cols)?;
    c.ctx
        .bind_to_thread()
        .map_err(|e| driver_error("cuCtxSetCurrent", e))?;
    let hd = *c.blas.handle();
    // The C-order rows×cols matrix is the column-major cols×rows `Hc = Hᵀ` (ld cols).
    let mut copy;
    let src = if center {
        copy = zeros::<f32>(c, rows * cols)?;
        let ones = upload(c, &filled(rows, 1.0f32, "rows")?)?;
        let mut mean = zeros::<f32>(c, cols)?;
        let (cp, mp, op) = (ptr_mut(c, &mut copy), ptr_mut(c, &mut mean), ptr(c, &ones));
        let hc = Operand::new(cp, c32, 0);
        // SAFETY: copy, ones (rows), mean (cols) are live allocations of these sizes.
        unsafe {
            blas::copy(c.stream.cu_stream(), cp, ptr(c, h), rows * cols * 4)?;
            blas::gemv(hd, (c32, r32), 1.0 / rows as f32, hc, op, mp)?;
            blas::ger(hd, (c32, r32), -1.0, mp, op, hc)?;
        }
        super::synchronize(c)?; // `ones` and `mean` are freed on return
        ptr(c, &copy)
    } else {
        ptr(c, h)
    };
    let k = rows.min(cols);
    let mut gram = zeros::<f32>(c, k * k)?;
    let hc = Operand::new(src, c32, 0);
    let (n, inner, a) = if rows >= cols {
        (c32, r32, hc) // HᵀH = Hc·Hcᵀ
    } else {
        (r32, c32, hc.t()) // HHᵀ = Hcᵀ·Hc
    };
    let out = Operand::new(ptr_mut(c, &mut gram), n, 0);
    // SAFETY: src holds rows·cols f32, gram k·k.
    unsafe { blas::syrk(hd, n, inner, 1.0, a, 0.0, out) }?;
    let mut g: Vec<f32> = host_zeros(k * k, "shape")?;
    super::download(c, &gram, &mut g)?;
    // The upper triangle is the allocation's zeros: only the Gram entries can be non-finite.
    if let Some(index) = g.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFinite {
            what: "gpu gram_singular_values: Gram matrix (input holds NaN/±∞ or overflows f32)",
            index,
        });
    }
    // Lower triangle, column-major.
    let lower = |i: usize, j: usize| f64::from(if i >= j { g[i + j * k] } else { g[j + i * k] });
    let mut mat = try_zeros_mat::<f64>(k, k, "shape")?;
    for j in 0..k {
        for i in 0..k {
            mat[(i, j)] = lower(i, j);
        }
    }
    let mut eig = mat
        .self_adjoint_eigenvalues(faer::Side::Lower)
        .map_err(|_| Error::NoConvergence {
            algorithm: "symmetric eigenvalues of the Gram matrix",
            iterations: 0,
        })?;
    eig.reverse(); // nondecreasing → descending
    Ok(eig.into_iter().map(|l| l.max(0.0).sqrt()).collect())
}
