//! Weight quantizer (DATAPATH.md §1): asymmetric min/max with a zero point,
//! per output channel (the authors' code) or per kernel (the paper's text).
//! All arithmetic in f32 with round-half-to-even, as torch does, so the
//! float reference reproduces the authors' numbers.
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Granularity {
    /// One (Δ, zp) per output channel o over W[o, :, :, :].
    #[default]
    PerOutputChannel,
    /// One (Δ, zp) per kernel (o, c) over W[o, c, :, :].
    PerKernel,
}

/// A quantized weight tensor [out_c][in_c][k][k].
#[derive(Clone, Debug)]
pub struct QuantWeights {
    pub bits: u32,
    pub granularity: Granularity,
    pub out_c: usize,
    pub in_c: usize,
    pub k: usize,
    /// q per weight, in [−2^(b−1), 2^(b−1) − 1].
    pub q: Vec<i32>,
    /// Per group (o, or o·in_c + c): zero point and step Δ.
    pub zp: Vec<i32>,
    pub delta: Vec<f32>,
}

impl QuantWeights {
    pub fn group_of(&self, o: usize, c: usize) -> usize {
        match self.granularity {
            Granularity::PerOutputChannel => o,
            Granularity::PerKernel => o * self.in_c + c,
        }
    }
    /// The integer the datapath multiplies: w = q + zp.
    pub fn int_weight(&self, o: usize, c: usize, tap: usize) -> i32 {
        let i = (o * self.in_c + c) * self.k * self.k + tap;
        self.q[i] + self.zp[self.group_of(o, c)]
    }
    /// Ŵ = (q + zp)·Δ, f32.
    pub fn dequantize(&self) -> Vec<f32> {
        let kk = self.k * self.k;
        let mut out = vec![0f32; self.q.len()];
        for o in 0..self.out_c {
            for c in 0..self.in_c {
                let g = self.group_of(o, c);
                for t in 0..kk {
                    let i = (o * self.in_c + c) * kk + t;
                    out[i] = (self.q[i] + self.zp[g]) as f32 * self.delta[g];
                }
            }
        }
        out
    }
    /// Smallest and largest w = q + zp: the datapath's weight width follows.
    pub fn int_range(&self) -> (i32, i32) {
        let kk = self.k * self.k;
        let (mut lo, mut hi) = (i32::MAX, i32::MIN);
        for o in 0..self.out_c {
            for c in 0..self.in_c {
                for t in 0..kk {
                    let w = self.int_weight(o, c, t);
                    lo = lo.min(w);
                    hi = hi.max(w);
                }
            }
        }
        (lo, hi)
    }
    /// Signed bits needed to hold every w = q + zp.
    pub fn int_bits(&self) -> u32 {
        let (lo, hi) = self.int_range();
        signed_bits(lo as i64).max(signed_bits(hi as i64))
    }
}

/// Bits of the narrowest two's-complement field holding `v`.
pub fn signed_bits(v: i64) -> u32 {
    if v >= 0 {
        65 - v.leading_zeros()
    } else {
        65 - (!v).leading_zeros()
    }
}

/// (Δ, zp) for one group. A constant group (hi == lo) has no range: torch
/// would divide by zero; here Δ = |lo| (or 1 when lo = 0), which represents
/// the constant exactly with q = −2^(b−1).
fn group_params(lo: f32, hi: f32, bits: u32) -> (f32, i32) {
    let levels = ((1u32 << bits) - 1) as f32;
    let half = 1i32 << (bits - 1);
    let delta = if hi > lo {
        (hi - lo) / levels
    } else if lo != 0.0 {
        lo.abs()
    } else {
        1.0
    };
    let zp = (lo / delta).round_ties_even() as i32 + half;
    (delta, zp)
}

/// Quantizes `w` ([out_c][in_c][k][k]); `name` labels errors.
pub fn quantize_weights(
    name: &str,
    w: &[f32],
    out_c: usize,
    in_c: usize,
    k: usize,
    bits: u32,
    granularity: Granularity,
) -> Result<QuantWeights> {
    if !(2..=16).contains(&bits) {
        return Err(Error::arg("weight bits", format!("{bits} not in 2..=16")));
    }
    if w.len() != out_c * in_c * k * k {
        return Err(Error::shape(format!("{name}.weight"), out_c * in_c * k * k, w.len()));
    }
    if let Some(i) = w.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFinite { what: format!("{name}.weight[{i}]") });
    }
    let kk = k * k;
    let group_len = match granularity {
        Granularity::PerOutputChannel => in_c * kk,
        Granularity::PerKernel => kk,
    };
    let groups = w.len() / group_len.max(1);
    let half = 1i32 << (bits - 1);
    let mut q = vec![0i32; w.len()];
    let mut zp = Vec::with_capacity(groups);
    let mut delta = Vec::with_capacity(groups);
    for g in 0..groups {
        let ws = &w[g * group_len..(g + 1) * group_len];
        let lo = ws.iter().copied().fold(f32::INFINITY, f32::min);
        let hi = ws.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let (d, z) = group_params(lo, hi, bits);
        for (qi, &x) in q[g * group_len..(g + 1) * group_len].iter_mut().zip(ws) {
            *qi = ((x / d).round_ties_even() as i32 - z).clamp(-half, half - 1);
        }
        zp.push(z);
        delta.push(d);
    }
    Ok(QuantWeights { bits, granularity, out_c, in_c, k, q, zp, delta })
}

/// Symmetric per-output-channel weights (TFLite's int8 scheme): zp = 0,
/// Δ = max|W|/(2^(b−1) − 1), q = clamp(round(W/Δ), −(2^(b−1) − 1), 2^(b−1) − 1),
/// so w = q fits b bits. Used by the conventional W8A8 reference design.
pub fn quantize_weights_symmetric(name: &str, w: &[f32], out_c: usize, in_c: usize, k: usize, bits: u32) -> Result<QuantWeights> {
    // shape, bit-width and NaN checks are the asymmetric quantizer's
    let mut qw = quantize_weights(name, w, out_c, in_c, k, bits, Granularity::PerOutputChannel)?;
    let qmax = (1i32 << (bits - 1)) - 1;
    let group_len = in_c * k * k;
    for o in 0..out_c {
        let ws = &w[o * group_len..(o + 1) * group_len];
        let m = ws.iter().fold(0f32, |m, &x| m.max(x.abs()));
        let d = if m > 0.0 { m / qmax as f32 } else { 1.0 };
        for (qi, &x) in qw.q[o * group_len..(o + 1) * group_len].iter_mut().zip(ws) {
            *qi = ((x / d).round_ties_even() as i32).clamp(-qmax, qmax);
        }
        qw.zp[o] = 0;
        qw.delta[o] = d;
    }
    Ok(qw)
}
