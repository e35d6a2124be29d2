//! Counter-based uniforms: Philox4x32-10 keyed by (request seed, position, purpose).

/// What a uniform is used for. Each purpose is a separate stream, so that, e.g., the draft
/// sampler and the residual sampler never share noise (vLLM MRV2 salts its draft stream for the
/// same reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Purpose {
    /// The accept/reject coin of a draft position (or tree node).
    Accept,
    /// The inverse-CDF draw from the residual after a rejection.
    Residual,
    /// The inverse-CDF draw of the bonus token after every draft was accepted.
    Bonus,
    /// Drawing draft tokens from the draft rows (simulation, `mlkern accept --trials`).
    Draft,
}

impl Purpose {
    /// The counter word that separates the streams.
    #[inline]
    fn word(self) -> u32 {
        match self {
            Purpose::Accept => 0x4143_4350,   // "ACCP"
            Purpose::Residual => 0x5245_5344, // "RESD"
            Purpose::Bonus => 0x424F_4E55,    // "BONU"
            Purpose::Draft => 0x4452_4654,    // "DRFT"
        }
    }
}

/// Everything a uniform is keyed by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UniformKey {
    /// Index of the request in the batch. [`Philox`] ignores it (so results do not depend on
    /// batch order); injected sources may use it.
    pub request: usize,
    /// The request's seed.
    pub seed: u64,
    /// Absolute position: the request's base position plus the draft position (or tree node).
    pub position: u64,
    /// Which stream.
    pub purpose: Purpose,
    /// Trial index for repeated simulations (0 for a single verify).
    pub trial: u32,
}

/// A source of uniforms in the open interval `(0, 1)`.
///
/// The verify kernels take the source as an argument, so tests can inject extreme values
/// (`2⁻⁵³`, `1 − 2⁻⁵³`) or integrate over a grid, and production code uses [`Philox`]. A source
/// must return values in `(0, 1)`; the kernels clamp anything else into that interval.
pub trait Uniforms: Sync {
    /// The uniform for `key`.
    fn uniform(&self, key: UniformKey) -> f64;
}

/// Philox4x32-10 (Salmon, Moraes, Dror & Shaw, SC'11), used as a stateless function of
/// `(seed, position, purpose, trial)`: the key is the seed, the 128-bit counter is
/// `(position_lo, position_hi, purpose, trial)`. Two output words give 53 random bits `k` and
/// the uniform `k·2⁻⁵³` (`2⁻⁵⁴` for `k = 0`), exactly representable and in `(0, 1)`: never 0
/// or 1, so the strict test `u·q(x) < p(x)` never
/// accepts a token with `p(x) = 0`.
///
/// ```
/// use mlkern::spec::{Philox, Purpose, UniformKey, Uniforms};
/// // Random123's known-answer vector for a zero key and counter.
/// assert_eq!(Philox::block([0; 4], [0; 2]), [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
/// let key = UniformKey { request: 0, seed: 7, position: 3, purpose: Purpose::Accept, trial: 0 };
/// let u = Philox.uniform(key);
/// assert!(u > 0.0 && u < 1.0);
/// assert_eq!(u, Philox.uniform(UniformKey { request: 5, ..key })); // batch index is ignored
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Philox;

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;
const TWO_M53: f64 = 1.0 / 9_007_199_254_740_992.0;
const TWO_M54: f64 = 0.5 * TWO_M53;

impl Philox {
    /// One Philox4x32-10 block: 10 rounds of the counter `ctr` under `key`.
    #[inline]
    pub fn block(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
        let mut c = ctr;
        let mut k = key;
        for round in 0..10 {
            if round > 0 {
                k[0] = k[0].wrapping_add(W0);
                k[1] = k[1].wrapping_add(W1);
            }
            let p0 = u64::from(M0) * u64::from(c[0]);
            let p1 = u64::from(M1) * u64::from(c[2]);
            let (hi0, lo0) = ((p0 >> 32) as u32, p0 as u32);
            let (hi1, lo1) = ((p1 >> 32) as u32, p1 as u32);
            c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
        }
        c
    }

    /// 53 random bits for `key` as a uniform in `(0, 1)`.
    #[inline]
    pub fn uniform_for(key: UniformKey) -> f64 {
        let ctr = [
            key.position as u32,
            (key.position >> 32) as u32,
            key.purpose.word(),
            key.trial,
        ];
        let b = Self::block(ctr, [key.seed as u32, (key.seed >> 32) as u32]);
        let bits = (u64::from(b[0]) << 21) | (u64::from(b[1]) >> 11);
        if bits == 0 {
            TWO_M54
        } else {
            bits as f64 * TWO_M53
        }
    }
}

impl Uniforms for Philox {
    #[inline]
    fn uniform(&self, key: UniformKey) -> f64 {
        Philox::uniform_for(key)
    }
}

/// Clamps an injected uniform into `(0, 1)` (`NaN` becomes ½).
#[inline]
pub(crate) fn open_unit(u: f64) -> f64 {
    if u.is_nan() {
        0.5
    } else {
        u.clamp(TWO_M54, 1.0 - TWO_M53)
    }
}
