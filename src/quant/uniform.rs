//! Uniform (linear) activation quantizer of the integer baselines: one
//! affine grid per tensor, fixed after calibration (static ranges), as in
//! the paper's Min-Max baseline and gemmlowp/TFLite. All arithmetic in f64
//! with round-half-to-even, so an independent numpy script reproduces every
//! code bit for bit (tests/golden/uniform/gen_uniform.py).
use crate::{Error, Feature, Result};
use serde::{Deserialize, Serialize};

/// A static per-tensor range [lo, hi] from calibration.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Range {
    pub lo: f64,
    pub hi: f64,
}

/// real = scale·(q − zero_point), q ∈ [0, 2^bits − 1].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ActQuant {
    pub bits: u32,
    pub scale: f64,
    pub zero_point: i64,
}

impl ActQuant {
    /// The grid for `range`: the range is widened to contain 0 (so a real
    /// zero — padding, a ReLU's zeros — is exactly a code), scale =
    /// (hi − lo)/(2^b − 1), zero point = round(−lo/scale) clamped to the codes.
    /// A degenerate range (hi == lo == 0) gets scale 1.
    pub fn new(range: Range, bits: u32) -> Result<Self> {
        if !(2..=16).contains(&bits) {
            return Err(Error::arg("activation bits", format!("{bits} not in 2..=16")));
        }
        if !range.lo.is_finite() || !range.hi.is_finite() || range.lo > range.hi {
            return Err(Error::arg("activation range", format!("[{}, {}] is not a finite interval", range.lo, range.hi)));
        }
        let (lo, hi) = (range.lo.min(0.0), range.hi.max(0.0));
        let qmax = ((1u64 << bits) - 1) as f64;
        let scale = if hi > lo { (hi - lo) / qmax } else { 1.0 };
        let zero_point = (-lo / scale).round_ties_even().clamp(0.0, qmax) as i64;
        Ok(ActQuant { bits, scale, zero_point })
    }

    pub fn qmax(&self) -> i64 {
        (1i64 << self.bits) - 1
    }

    /// Code of one value: clamp(round(x/scale) + zp, 0, 2^b − 1).
    #[inline]
    pub fn code(&self, x: f32) -> i64 {
        let q = (x as f64 / self.scale).round_ties_even() + self.zero_point as f64;
        if q.is_nan() {
            return self.zero_point;
        }
        q.clamp(0.0, self.qmax() as f64) as i64
    }

    /// The value a code stands for.
    #[inline]
    pub fn value(&self, q: i64) -> f32 {
        ((q - self.zero_point) as f64 * self.scale) as f32
    }

    /// Fake-quantizes a whole tensor (the float reference's activation).
    pub fn fake_quant(&self, x: &Feature) -> Feature {
        use rayon::prelude::*;
        let mut out = x.clone();
        out.data.par_iter_mut().for_each(|v| *v = self.value(self.code(*v)));
        out
    }
}
