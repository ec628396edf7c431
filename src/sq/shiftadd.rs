//! The PE's arithmetic: w·s as four shifts and one add.
//!
//! Exact form (frac_bits = F, the word sets' exact fractional bits):
//! `w·s = sign · Σ_i (w << (F − shift_i))`, in units of 2^-F.
//! Narrow form (frac_bits = f < F): each term is `w · 2^(f − shift_i)`,
//! computed as `w << (f − shift_i)` when `shift_i ≤ f` and as the arithmetic
//! right shift `w >> (shift_i − f)` (floor) otherwise; the sign is applied to
//! the sum (the adder's output is negated), in units of 2^-f.
use super::code::Decoded;

/// One term of the shift-add: `w` scaled by 2^(frac_bits − shift), floored.
#[inline]
pub fn shift_term(w: i64, shift: u32, frac_bits: u32) -> i64 {
    if shift <= frac_bits {
        w << (frac_bits - shift)
    } else {
        w >> (shift - frac_bits).min(63)
    }
}

/// The product of an integer weight and a decoded SQ code, in units of
/// 2^-frac_bits.
#[inline]
pub fn shift_add(w: i64, code: &Decoded, frac_bits: u32) -> i64 {
    let mut sum = 0i64;
    for s in code.shifts[..code.n_words].iter().flatten() {
        sum += shift_term(w, *s, frac_bits);
    }
    if code.negative {
        -sum
    } else {
        sum
    }
}
