//! What every fuzz target shares: [`Bytes`], the decoder that turns the fuzzer's input into
//! sizes, flags and numbers.
//!
//! A target reads whatever it needs, in order; past the end of the input every byte reads as 0,
//! so any input, even an empty one, decodes to a complete case.

/// A reader of sizes and numbers from the fuzz input.
pub struct Bytes<'a>(pub &'a [u8]);

impl Bytes<'_> {
    /// The next byte (0 once the input is used up).
    pub fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    /// The next 4 bytes as a little-endian `u32`.
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes(core::array::from_fn(|_| self.u8()))
    }

    /// The next 8 bytes as a little-endian `u64`.
    pub fn u64(&mut self) -> u64 {
        u64::from_le_bytes(core::array::from_fn(|_| self.u8()))
    }

    /// The next 8 bytes as a big-endian `u64` (the first byte is the most significant).
    pub fn u64_be(&mut self) -> u64 {
        u64::from_be_bytes(core::array::from_fn(|_| self.u8()))
    }

    /// A size from the whole `usize` range: one selector byte picks a small value
    /// (`0..small`, most of the time), a 16-bit value, a power of two `2^k` (k < 64) give or take
    /// one, `usize::MAX`, or 8 raw bytes. Parameters a caller controls (FFT lengths, hops, output
    /// lengths, steps, vocabulary sizes, state counts) are drawn with this, so the absurd ones
    /// reach the library's limits and fallible reservations.
    pub fn size(&mut self, small: usize) -> usize {
        match self.u8() % 16 {
            0 => usize::from(u16::from_le_bytes([self.u8(), self.u8()])),
            1 => {
                let k = u32::from(self.u8() % 64);
                let p = 1usize.checked_shl(k).unwrap_or(0);
                match self.u8() % 3 {
                    0 => p.wrapping_sub(1),
                    1 => p,
                    _ => p.wrapping_add(1),
                }
            }
            2 => usize::MAX,
            3 => self.u64() as usize,
            _ => usize::from(self.u8()) % small.max(1),
        }
    }

    /// A float that is mostly tame, sometimes special, sometimes raw bits: one selector byte
    /// `s = u8() % cases`; `s == 0` reads the next 4 bytes as raw `f32` bits (NaNs, infinities,
    /// subnormals), `1 <= s <= specials.len()` gives `specials[s - 1]`, and any other `s` maps
    /// the next byte through `tame`.
    pub fn mixed_f32(&mut self, cases: u8, specials: &[f32], tame: impl Fn(u8) -> f32) -> f32 {
        let s = usize::from(self.u8() % cases);
        if s == 0 {
            f32::from_bits(self.u32())
        } else if let Some(&x) = specials.get(s - 1) {
            x
        } else {
            tame(self.u8())
        }
    }

    /// [`mixed_f32`](Self::mixed_f32) in `f64`: raw bits are the next 8 bytes, little-endian.
    pub fn mixed_f64(&mut self, cases: u8, specials: &[f64], tame: impl Fn(u8) -> f64) -> f64 {
        let s = usize::from(self.u8() % cases);
        if s == 0 {
            f64::from_bits(self.u64())
        } else if let Some(&x) = specials.get(s - 1) {
            x
        } else {
            tame(self.u8())
        }
    }
}

#[path = "../../tests/common/capped_alloc.rs"]
#[allow(dead_code)] // `take_refused` is for the battery
mod capped_alloc;

/// Every fuzz target runs under the capped allocator: a single request above 256 MiB is refused,
/// so an infallible absurd allocation is a crash the fuzzer reports, on any machine.
#[global_allocator]
static ALLOC: capped_alloc::Capped = capped_alloc::Capped;
