//! The popcount Gram of bit-packed columns: `G[i][j] = popcount(x_i AND x_j)` for `j ≥ i`.

/// Fills the upper triangle (diagonal included) of the `c×c` row-major `gram` from `c` columns
/// of `words` words each in `bits`. Rows are dealt round-robin to jobs so the triangle's uneven
/// rows balance; each job writes only its own rows.
pub(crate) fn gram_upper(bits: &[u64], words: usize, c: usize, gram: &mut [u32], par: crate::Par) {
    let rows: alloc::vec::Vec<(usize, &mut [u32])> =
        gram.chunks_mut(c.max(1)).take(c).enumerate().collect();
    crate::jobs::round_robin(rows, par, |(i, row)| upper_row(bits, words, c, i, row));
}

fn upper_row(bits: &[u64], words: usize, c: usize, i: usize, row: &mut [u32]) {
    crate::simd::Isa::detect().dispatch(Row {
        bits,
        words,
        c,
        i,
        row,
    });
}

struct Row<'a> {
    bits: &'a [u64],
    words: usize,
    c: usize,
    i: usize,
    row: &'a mut [u32],
}

impl pulp::WithSimd for Row<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let Row {
            bits,
            words,
            c,
            i,
            row,
        } = self;
        let xi = &bits[i * words..(i + 1) * words];
        let mut j = i;
        // Four partner columns per pass: each word of x_i is loaded once for four popcounts.
        while j + 4 <= c {
            let b0 = &bits[j * words..(j + 1) * words];
            let b1 = &bits[(j + 1) * words..(j + 2) * words];
            let b2 = &bits[(j + 2) * words..(j + 3) * words];
            let b3 = &bits[(j + 3) * words..(j + 4) * words];
            let (mut s0, mut s1, mut s2, mut s3) = (0u32, 0u32, 0u32, 0u32);
            for w in 0..words {
                let x = xi[w];
                s0 += (x & b0[w]).count_ones();
                s1 += (x & b1[w]).count_ones();
                s2 += (x & b2[w]).count_ones();
                s3 += (x & b3[w]).count_ones();
            }
            row[j] = s0;
            row[j + 1] = s1;
            row[j + 2] = s2;
            row[j + 3] = s3;
            j += 4;
        }
        while j < c {
            let b = &bits[j * words..(j + 1) * words];
            row[j] = xi.iter().zip(b).map(|(x, y)| (x & y).count_ones()).sum();
            j += 1;
        }
    }
}
