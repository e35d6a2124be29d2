//! Discrete data: variable-major `u8` codes, every pairwise contingency table from one
//! popcount Gram of bit-packed state indicators, plug-in mutual information and the
//! determinant-form information distance (alloc tier; the per-table functions are core).

use alloc::vec;
use alloc::vec::Vec;

use super::Samples;
use super::info::{Correction, XLogX, mi_from_counts};
use crate::base::{checked_len, filled, try_vec, zeros};
use crate::limits::{MAX_INDICATOR_COLUMNS, check};
use crate::{Error, Par, Result, Shape};

/// [`PairCounts`]' marker of a state without an indicator column.
pub(crate) const ABSENT: u32 = u32::MAX;

/// Discrete samples: a [`Samples`] of `u8` codes (either layout) in which sample `t` of
/// variable `v` is a state in `0..states[v]`.
///
/// ```
/// use mlkern::tree::{Codes, Samples};
/// let data = [0u8, 1, 1, 0,   2, 0, 1, 1]; // 2 variables × 4 samples
/// let c = Codes::new(Samples::variable_major(&data, 2, 4)?, &[2, 3])?;
/// assert_eq!(c.samples().get(0, 1), 2);
/// // A 2 in a binary variable:
/// assert!(Codes::new(Samples::variable_major(&data, 2, 4)?, &[2, 2]).is_err());
/// # Ok::<(), mlkern::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Codes<'a> {
    samples: Samples<'a, u8>,
    states: &'a [u8],
}

impl<'a> Codes<'a> {
    /// Checks that there is one state count per variable, that every variable has at least one
    /// state, and that every code is below its variable's state count.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] or [`Error::InvalidParameter`] (the message names the problem;
    /// [`Error::Degenerate`] gives the flat index in [`Samples::data`] of an out-of-range code).
    ///
    /// ```
    /// use mlkern::tree::{Codes, Samples};
    /// let rows = [0u8, 2,   1, 0,   1, 1,   0, 1]; // 4 samples × 2 variables (NumPy order)
    /// let c = Codes::new(Samples::row_major(&rows, 4, 2)?, &[2, 3])?;
    /// assert_eq!((c.n_samples(), c.n_vars()), (4, 2));
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn new(samples: Samples<'a, u8>, states: &'a [u8]) -> Result<Self> {
        let (n_samples, n_vars) = (samples.n_samples(), samples.n_vars());
        let data = samples.data();
        if states.len() != n_vars {
            return Err(Error::ShapeMismatch {
                what: "codes: states (one count per variable)",
                expected: Shape::d1(n_vars),
                found: Shape::d1(states.len()),
            });
        }
        if states.contains(&0) {
            return Err(Error::InvalidParameter {
                name: "codes: states",
                reason: "every variable needs at least one state",
            });
        }
        let bad = |index| Error::Degenerate {
            what: "codes: a code is not below its variable's state count",
            index,
        };
        if samples.is_row_major() {
            if n_vars > 0 {
                for (t, row) in data.chunks_exact(n_vars).enumerate() {
                    if let Some(v) = row.iter().zip(states).position(|(&c, &k)| c >= k) {
                        return Err(bad(t * n_vars + v));
                    }
                }
            }
        } else {
            for (v, col) in data.chunks(n_samples.max(1)).enumerate().take(n_vars) {
                // The maximum vectorizes; the position is only searched on failure.
                if col.iter().copied().max().unwrap_or(0) < states[v] {
                    continue;
                }
                if let Some(t) = col.iter().position(|&c| c >= states[v]) {
                    return Err(bad(v * n_samples + t));
                }
            }
        }
        Ok(Codes { samples, states })
    }

    /// Number of samples.
    pub fn n_samples(&self) -> usize {
        self.samples.n_samples()
    }

    /// Number of variables.
    pub fn n_vars(&self) -> usize {
        self.samples.n_vars()
    }

    /// State counts, one per variable.
    pub fn states(&self) -> &'a [u8] {
        self.states
    }

    /// The codes.
    pub fn samples(&self) -> Samples<'a, u8> {
        self.samples
    }
}

/// Every pairwise contingency table of a [`Codes`] set, held as the popcount Gram of the
/// bit-packed indicators of the states `1..K` of each variable (state 0 and the marginals follow
/// from the totals, so a binary variable costs one column).
///
/// Building it costs `n/64 · c(c+1)/2` AND+popcount word operations for `c ≤ Σ(K_v − 1)`
/// indicator columns (one per binary variable), split over the threads of `par`. Only states
/// that occur in the data get a column, so declared state counts above what the data use cost
/// no memory (their sum `Σ(K_v − 1)` is bounded by
/// [`MAX_INDICATOR_COLUMNS`](crate::limits::MAX_INDICATOR_COLUMNS)). Counts are exact integers, the same for every [`Par`] and either [`Samples`]
/// layout.
///
/// ```
/// use mlkern::Par;
/// use mlkern::tree::{Codes, Correction, PairCounts, Samples};
/// // x1 copies x0 except in one sample of 4.
/// let data = [0u8, 0, 1, 1,   0, 0, 1, 0];
/// let codes = Codes::new(Samples::variable_major(&data, 2, 4)?, &[2, 2])?;
/// let counts = PairCounts::new(&codes, Par::Seq)?;
/// let mut t = [0u32; 4];
/// counts.table_into(0, 1, &mut t)?;
/// assert_eq!(t, [2, 0, 1, 1]); // rows: states of x0; columns: states of x1
/// let mi = counts.mutual_information(Correction::None)?;
/// assert!((mi[1] - 0.2157615543388357).abs() < 1e-15); // I(x0; x1) in nats
/// # Ok::<(), mlkern::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct PairCounts {
    pub(crate) n_samples: usize,
    pub(crate) states: Vec<u8>,
    /// The indicator column of state `s ≥ 1` of variable `v` at `marginal_start[v] + s`, or
    /// [`ABSENT`] for a state that never occurs (and for state 0).
    pub(crate) col: Vec<u32>,
    /// Number of indicator columns.
    pub(crate) c: usize,
    /// `c×c` Gram of the indicator columns (symmetric; diagonal = state counts).
    pub(crate) gram: Vec<u32>,
    /// Marginal counts of every variable, concatenated (`Σ K_v` entries).
    pub(crate) marginals: Vec<u32>,
    /// Start of each variable's marginal in `marginals` (`n_vars + 1` entries).
    pub(crate) marginal_start: Vec<usize>,
}

impl PairCounts {
    /// Packs the indicators and computes their Gram with the threads of `par` (sequential
    /// without the `std` feature).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `n_samples` exceeds `u32::MAX` (counts are `u32`);
    /// [`Error::TooLarge`] when `Σ(K_v − 1)` over the declared state counts exceeds
    /// [`MAX_INDICATOR_COLUMNS`](crate::limits::MAX_INDICATOR_COLUMNS);
    /// [`Error::OutOfMemory`] when a buffer cannot be allocated.
    ///
    /// ```
    /// use mlkern::Par;
    /// use mlkern::tree::{Codes, PairCounts, Samples};
    /// let rows = [0u8, 1,   1, 1,   1, 0]; // 3 samples × 2 variables
    /// let pc = PairCounts::new(&Codes::new(Samples::row_major(&rows, 3, 2)?, &[2, 2])?, Par::Seq)?;
    /// let mut m = [0u32; 2];
    /// pc.marginal_into(0, &mut m)?;
    /// assert_eq!(m, [1, 2]);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn new(codes: &Codes<'_>, par: Par) -> Result<Self> {
        let n = codes.n_samples();
        let n_vars = codes.n_vars();
        if n > u32::MAX as usize {
            return Err(Error::InvalidParameter {
                name: "pair counts: n_samples",
                reason: "at most 2³² − 1 samples (counts are u32)",
            });
        }
        // The declared indicator columns bound the Gram (c² u32): checked before anything is
        // allocated.
        let declared = codes
            .states
            .iter()
            .fold(0usize, |c, &k| c.saturating_add(usize::from(k) - 1));
        check(
            declared,
            MAX_INDICATOR_COLUMNS,
            "pair counts: states (Σ(K_v − 1))",
        )?;
        let samples = codes.samples();
        // Which states occur: 256 bits per variable. Only those get an indicator column, so the
        // Gram is sized by the data, not by the declared state counts (a state that never occurs
        // has an all-zero column, whose counts are known to be 0).
        let mut present = zeros::<u64>(
            checked_len(&[n_vars, 4], "pair counts: n_vars")?,
            "pair counts: n_vars",
        )?;
        if !samples.is_row_major() {
            for (v, seen) in present.chunks_exact_mut(4).enumerate() {
                for &code in samples.contiguous(v).unwrap_or_default() {
                    seen[usize::from(code >> 6)] |= 1u64 << (code & 63);
                }
            }
        } else if n_vars > 0 {
            for row in samples.data().chunks_exact(n_vars) {
                for (seen, &code) in present.chunks_exact_mut(4).zip(row) {
                    seen[usize::from(code >> 6)] |= 1u64 << (code & 63);
                }
            }
        }
        // col[marginal_start[v] + s]: the indicator column of state s ≥ 1 of variable v, or
        // ABSENT (state 0 is always ABSENT: it follows from the totals).
        let mut marginal_start = try_vec::<usize>(n_vars + 1, "pair counts: n_vars")?;
        let mut total = 0usize;
        for &k in codes.states {
            marginal_start.push(total);
            total += usize::from(k);
        }
        marginal_start.push(total);
        let mut col = filled(total, ABSENT, "pair counts: states")?;
        let mut c = 0usize;
        for (v, &k) in codes.states.iter().enumerate() {
            let seen = &present[4 * v..4 * v + 4];
            for s in 1..usize::from(k) {
                if seen[s >> 6] >> (s & 63) & 1 == 1 {
                    col[marginal_start[v] + s] = c as u32;
                    c += 1;
                }
            }
        }
        drop(present);
        let words = n.div_ceil(64);
        let mut bits = zeros::<u64>(
            checked_len(&[c, words], "pair counts: packed indicators")?,
            "pair counts: packed indicators",
        )?;
        if !samples.is_row_major() {
            for v in 0..n_vars {
                let data = samples.contiguous(v).unwrap_or_default();
                for s in 1..codes.states[v] {
                    let j = col[marginal_start[v] + usize::from(s)];
                    if j != ABSENT {
                        let dst = &mut bits[j as usize * words..][..words];
                        pack_indicator(data, s, dst);
                    }
                }
            }
        } else if n_vars > 0 && n > 0 {
            // Row-major: one pass over the rows, 64 samples per word of every indicator column.
            for (w, block) in samples.data().chunks(64 * n_vars).enumerate() {
                for (i, row) in block.chunks_exact(n_vars).enumerate() {
                    for (v, &code) in row.iter().enumerate() {
                        if code != 0 {
                            let j = col[marginal_start[v] + usize::from(code)] as usize;
                            bits[j * words + w] |= 1u64 << i;
                        }
                    }
                }
            }
        }
        let mut gram = zeros::<u32>(c * c, "pair counts: Gram")?;
        super::popcount::gram_upper(&bits, words, c, &mut gram, par);
        drop(bits);
        for i in 0..c {
            for j in 0..i {
                gram[i * c + j] = gram[j * c + i];
            }
        }
        let mut marginals = zeros::<u32>(total, "pair counts: states")?;
        for v in 0..n_vars {
            let (s0, s1) = (marginal_start[v], marginal_start[v + 1]);
            let mut rest = n as u32;
            for a in s0 + 1..s1 {
                let j = col[a];
                let count = if j == ABSENT {
                    0
                } else {
                    gram[j as usize * c + j as usize]
                };
                marginals[a] = count;
                rest -= count;
            }
            marginals[s0] = rest;
        }
        let mut states = try_vec(n_vars, "pair counts: n_vars")?;
        states.extend_from_slice(codes.states);
        Ok(PairCounts {
            n_samples: n,
            states,
            col,
            c,
            gram,
            marginals,
            marginal_start,
        })
    }

    /// Number of samples.
    pub fn n_samples(&self) -> usize {
        self.n_samples
    }

    /// Number of variables.
    pub fn n_vars(&self) -> usize {
        self.states.len()
    }

    /// State counts, one per variable.
    pub fn states(&self) -> &[u8] {
        &self.states
    }

    /// The counts of each state of variable `i` (`states[i]` entries).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for a bad index or output length.
    pub fn marginal_into(&self, i: usize, out: &mut [u32]) -> Result<()> {
        let ki = self.k(i, "pair counts: marginal variable")?;
        check_len("pair counts: marginal out", out.len(), ki)?;
        out.copy_from_slice(self.marginal(i));
        Ok(())
    }

    fn marginal(&self, i: usize) -> &[u32] {
        &self.marginals[self.marginal_start[i]..self.marginal_start[i + 1]]
    }

    /// The `K_i×K_j` table (row-major: rows are the states of `i`) of pair `(i, j)`; for `i = j`
    /// the diagonal table of the marginal.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for a bad index or output length.
    pub fn table_into(&self, i: usize, j: usize, out: &mut [u32]) -> Result<()> {
        let ki = self.k(i, "pair counts: table variable i")?;
        let kj = self.k(j, "pair counts: table variable j")?;
        check_len("pair counts: table out", out.len(), ki * kj)?;
        self.table_unchecked(i, j, out);
        Ok(())
    }

    fn table_unchecked(&self, i: usize, j: usize, out: &mut [u32]) {
        let (ki, kj) = (self.states[i] as usize, self.states[j] as usize);
        let c = self.c;
        let (ci, cj) = (self.columns(i), self.columns(j));
        let (mi, mj) = (self.marginal(i), self.marginal(j));
        // Indicator block for states ≥ 1 (0 for a state that never occurs), then row 0 /
        // column 0 from the marginals.
        for a in 1..ki {
            let mut row_rest = mi[a];
            for b in 1..kj {
                let v = if ci[a] == ABSENT || cj[b] == ABSENT {
                    0
                } else {
                    self.gram[ci[a] as usize * c + cj[b] as usize]
                };
                out[a * kj + b] = v;
                row_rest -= v;
            }
            out[a * kj] = row_rest;
        }
        for b in 0..kj {
            let below: u32 = (1..ki).map(|a| out[a * kj + b]).sum();
            out[b] = mj[b] - below;
        }
    }

    /// The `p×p` plug-in mutual information matrix in nats, `I(X_i; X_j)` off the diagonal and
    /// the entropy `H(X_i)` on it (`I(X; X) = H(X)`), with the optional Miller–Madow
    /// correction. See [`mutual_information`](super::mutual_information) for the formula.
    ///
    /// # Errors
    /// [`Error::OutOfMemory`] when the `p·p` matrix cannot be allocated.
    ///
    /// ```
    /// use mlkern::Par;
    /// use mlkern::tree::{Codes, Correction, PairCounts, Samples};
    /// let data = [0u8, 1, 0, 1,   0, 1, 0, 1]; // two copies of a fair coin
    /// let pc = PairCounts::new(&Codes::new(Samples::variable_major(&data, 2, 4)?, &[2, 2])?, Par::Seq)?;
    /// let mi = pc.mutual_information(Correction::None)?;
    /// assert!((mi[1] - 2f64.ln()).abs() < 1e-15);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn mutual_information(&self, correction: Correction) -> Result<Vec<f64>> {
        let p = self.n_vars();
        let mut out = zeros(
            checked_len(&[p, p], "pair counts: mutual information")?,
            "pair counts: mutual information",
        )?;
        self.mutual_information_into(&mut out, correction)?;
        Ok(out)
    }

    /// [`Self::mutual_information`] into a caller buffer of `p·p` entries (no allocation).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for a wrong buffer length.
    ///
    /// ```
    /// use mlkern::Par;
    /// use mlkern::tree::{Codes, Correction, PairCounts, Samples};
    /// let data = [0u8, 1, 0, 1,   1, 1, 0, 0];
    /// let pc = PairCounts::new(&Codes::new(Samples::variable_major(&data, 2, 4)?, &[2, 2])?, Par::Seq)?;
    /// let mut mi = [0.0; 4];
    /// pc.mutual_information_into(&mut mi, Correction::None)?;
    /// assert_eq!(mi[1], 0.0); // independent in these 4 samples
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn mutual_information_into(&self, out: &mut [f64], correction: Correction) -> Result<()> {
        let p = self.n_vars();
        check_len(
            "pair counts: mutual information out",
            out.len(),
            checked_len(&[p, p], "pair counts: mutual information out")?,
        )?;
        let xlx = XLogX::new(self.n_samples);
        let kmax = self.states.iter().copied().max().unwrap_or(1) as usize;
        let mut table = vec![0u32; kmax * kmax];
        for i in 0..p {
            let ki = self.states[i] as usize;
            let mi = self.marginal(i);
            for j in i..p {
                let kj = self.states[j] as usize;
                let t = &mut table[..ki * kj];
                if i == j {
                    t.fill(0);
                    for a in 0..ki {
                        t[a * ki + a] = mi[a];
                    }
                } else {
                    self.table_unchecked(i, j, t);
                }
                let v = mi_from_counts(t, mi, self.marginal(j), self.n_samples, correction, &xlx);
                out[i * p + j] = v;
                out[j * p + i] = v;
            }
        }
        Ok(())
    }

    /// The `p×p` determinant-form information distances
    /// `d_ij = −ln|det J_ij| + ½ ln det M_i + ½ ln det M_j` (see
    /// [`discrete_distance`](super::discrete_distance)); all variables must share one state count.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when the state counts differ.
    ///
    /// ```
    /// use mlkern::Par;
    /// use mlkern::tree::{Codes, PairCounts, Samples};
    /// let data = [0u8, 1, 0, 1,   0, 1, 0, 1]; // identical variables: distance 0
    /// let pc = PairCounts::new(&Codes::new(Samples::variable_major(&data, 2, 4)?, &[2, 2])?, Par::Seq)?;
    /// assert!(pc.distances()?[1].abs() < 1e-15);
    /// # Ok::<(), mlkern::Error>(())
    /// ```
    pub fn distances(&self) -> Result<Vec<f64>> {
        let p = self.n_vars();
        let k = self.states.first().copied().unwrap_or(1) as usize;
        if self.states.iter().any(|&s| s as usize != k) {
            return Err(Error::InvalidParameter {
                name: "discrete distances",
                reason: "the determinant form needs every variable to have the same number of states",
            });
        }
        let mut out = zeros(
            checked_len(&[p, p], "discrete distances")?,
            "discrete distances",
        )?;
        let mut t = vec![0u32; k * k];
        for i in 0..p {
            for j in i + 1..p {
                self.table_unchecked(i, j, &mut t);
                let d = super::info::discrete_distance(&t, k)?;
                out[i * p + j] = d;
                out[j * p + i] = d;
            }
        }
        Ok(out)
    }

    fn columns(&self, i: usize) -> &[u32] {
        &self.col[self.marginal_start[i]..self.marginal_start[i + 1]]
    }

    fn k(&self, i: usize, what: &'static str) -> Result<usize> {
        self.states
            .get(i)
            .map(|&k| k as usize)
            .ok_or(Error::ShapeMismatch {
                what,
                expected: Shape::d1(self.states.len()),
                found: Shape::d1(i.saturating_add(1)),
            })
    }
}

/// Bit `t` of `dst` = `col[t] == s`, 64 samples per word (tail bits zero).
fn pack_indicator(col: &[u8], s: u8, dst: &mut [u64]) {
    let mut chunks = col.chunks_exact(64);
    for (w, chunk) in dst.iter_mut().zip(&mut chunks) {
        let mut word = 0u64;
        for (i, &c) in chunk.iter().enumerate() {
            word |= ((c == s) as u64) << i;
        }
        *w = word;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = 0u64;
        for (i, &c) in rest.iter().enumerate() {
            word |= ((c == s) as u64) << i;
        }
        dst[col.len() / 64] = word;
    }
}

fn check_len(what: &'static str, len: usize, want: usize) -> Result<()> {
    if len != want {
        return Err(Error::ShapeMismatch {
            what,
            expected: Shape::d1(want),
            found: Shape::d1(len),
        });
    }
    Ok(())
}
