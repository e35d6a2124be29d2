//! A test matrix with known singular values and singular vectors (two Householder reflectors),
//! shared by the ortho and spectrum demo rows.

use mlkern::ortho::Schedule;

use super::row::data;

/// Singular values `logspace(0, −2, k)` and the reflector vectors for a k×n test matrix.
pub(crate) struct KnownSvd {
    k: usize,
    n: usize,
    /// The singular values, descending.
    pub(crate) s: Vec<f64>,
    u: Vec<f64>,
    v: Vec<f64>,
}

impl KnownSvd {
    pub(crate) fn new(k: usize, n: usize, seed: u64) -> Self {
        let s = (0..k)
            .map(|i| 10f64.powf(-2.0 * i as f64 / (k.max(2) - 1) as f64))
            .collect();
        KnownSvd {
            k,
            n,
            s,
            u: data(k, seed),
            v: data(n, seed + 1),
        }
    }

    /// `H_u·diag(w)·V_kᵀ`, row-major k×n.
    fn compose(&self, w: &[f64]) -> Vec<f64> {
        let (k, n) = (self.k, self.n);
        let vv: f64 = self.v.iter().map(|x| x * x).sum();
        let uu: f64 = self.u.iter().map(|x| x * x).sum();
        // M = diag(w)·V_kᵀ: row i = w_i·(e_i − 2·v_i·v/‖v‖²).
        let mut m = vec![0.0; k * n];
        for i in 0..k {
            for j in 0..n {
                let e = if i == j { 1.0 } else { 0.0 };
                m[i * n + j] = w[i] * (e - 2.0 * self.v[i] * self.v[j] / vv);
            }
        }
        // G = M − 2·u·(uᵀM)/‖u‖².
        let utm: Vec<f64> = (0..n)
            .map(|j| (0..k).map(|i| self.u[i] * m[i * n + j]).sum())
            .collect();
        for i in 0..k {
            for j in 0..n {
                m[i * n + j] -= 2.0 * self.u[i] * utm[j] / uu;
            }
        }
        m
    }

    pub(crate) fn input(&self) -> Vec<f64> {
        self.compose(&self.s)
    }

    /// The exact output of `sched` for an input `c·G`.
    pub(crate) fn expected(&self, sched: &Schedule<'_>, c: f64) -> Vec<f64> {
        let norm = c * self.s.iter().map(|x| x * x).sum::<f64>().sqrt();
        let d = sched.normalize.divisor(norm);
        let w: Vec<f64> = self.s.iter().map(|&x| sched.eval(c * x / d)).collect();
        self.compose(&w)
    }
}
