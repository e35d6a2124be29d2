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
