//! Fixed-point registers: a width, an overflow policy, and a counter that
//! every out-of-range write increments. Nothing overflows silently.
use crate::summed;
use crate::config::OverflowPolicy;
use rayon::prelude::*;
use serde::Serialize;

/// A signed register of `bits` bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reg {
    pub bits: u32,
    pub policy: OverflowPolicy,
    pub min: i64,
    pub max: i64,
}

impl Reg {
    pub fn new(bits: u32, policy: OverflowPolicy) -> Self {
        let bits = bits.clamp(1, 63);
        Reg { bits, policy, min: -(1i64 << (bits - 1)), max: (1i64 << (bits - 1)) - 1 }
    }

    /// Writes `v` into the register: in range → `v`; out of range → clamp
    /// or wrap per the policy, and `*count += 1`.
    #[inline]
    pub fn fit(&self, v: i128, count: &mut u64) -> i64 {
        if v >= self.min as i128 && v <= self.max as i128 {
            return v as i64;
        }
        *count += 1;
        match self.policy {
            OverflowPolicy::Saturate => {
                if v < 0 {
                    self.min
                } else {
                    self.max
                }
            }
            OverflowPolicy::Wrap => {
                let sh = 128 - self.bits;
                ((v << sh) >> sh) as i64
            }
        }
    }

    #[inline]
    pub fn contains(&self, v: i128) -> bool {
        v >= self.min as i128 && v <= self.max as i128
    }
}

summed! {
@total
/// Overflow events per datapath stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OverflowCounts {
    /// Host float → activation format at a quantized conv's input.
    pub act_in: u64,
    /// Per-(o, c) tap-sum register P.
    pub tap_sum: u64,
    /// De-normalization accumulator (channel terms and the μ term).
    pub denorm_acc: u64,
    /// Output requantization into the activation format.
    pub act_out: u64,
    /// The uniform-integer datapath's accumulator (hw::uniform).
    #[serde(skip_serializing_if = "is_zero")]
    pub acc: u64,
}
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// `round(v / 2^s)` with ties away from −∞ (add half, arithmetic shift);
/// a negative `s` shifts left.
#[inline]
pub fn round_shift(v: i128, s: i32) -> i128 {
    if s <= 0 {
        v << (-s) as u32
    } else {
        (v + (1i128 << (s - 1))) >> s as u32
    }
}

/// `round(a / b)`, ties away from zero (b > 0): the stats unit's mean.
#[inline]
pub fn div_round(a: i128, b: i128) -> i128 {
    if a >= 0 {
        (a + b / 2) / b
    } else {
        -((-a + b / 2) / b)
    }
}

/// Host float → fixed: round half to even at `frac_bits`, then fit (an
/// overflow, ±∞ or NaN is counted in `count`).
#[inline]
pub fn to_fixed(x: f32, frac_bits: u32, reg: &Reg, count: &mut u64) -> i64 {
    let v = x as f64 * (1u64 << frac_bits) as f64;
    // round half to even; below 2^51 by adding and removing 1.5·2^52 (exact
    // in IEEE round-to-nearest-even, and no libm `rint` call per activation)
    const MAGIC: f64 = 6_755_399_441_055_744.0;
    let v = if v.abs() < (1u64 << 51) as f64 { (v + MAGIC) - MAGIC } else { v.round_ties_even() };
    // i64 is enough for every value a register can hold (a software f64→i128
    // conversion per activation was a visible cost); beyond it, a clamp that
    // still overflows any register
    // ±∞ clamp like any too-large value; NaN has no value: 0, counted
    if v.is_nan() {
        *count += 1;
        return 0;
    }
    let v = v.clamp(-9.0e18, 9.0e18) as i64 as i128;
    reg.fit(v, count)
}

/// `to_fixed` over a whole tensor, in parallel; the per-chunk overflow counts
/// are summed in chunk order, so the result is the same on any thread count.
pub fn to_fixed_all(x: &[f32], frac_bits: u32, reg: &Reg, count: &mut u64) -> Vec<i64> {
    let chunks: Vec<(Vec<i64>, u64)> = x
        .par_chunks(1 << 16)
        .map(|c| {
            let mut n = 0;
            (c.iter().map(|&v| to_fixed(v, frac_bits, reg, &mut n)).collect(), n)
        })
        .collect();
    let mut out = Vec::with_capacity(x.len());
    for (c, n) in chunks {
        out.extend_from_slice(&c);
        *count += n;
    }
    out
}
