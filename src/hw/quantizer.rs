//! The threshold quantizer and per-channel code LUT (DATAPATH.md §3.2).
//! x − μ̂ is compared against t_j·M̂ for the midpoints t_j of the channel's
//! sorted points; the index is the number of thresholds strictly below, so a
//! tie goes to the lower index. All comparisons are exact integers:
//! t_j = t_int / 2^(F+1), so `(x − μ̂)·2^(F+1)` is compared with `t_int·M̂`.
use super::stats::ChannelNorm;
use crate::select::PointSet;
use crate::sq::{Decoded, UniversalSet};
use crate::{Error, Result};

#[derive(Clone, Debug)]
pub struct ChannelQuantizer {
    /// Midpoints, in units of 2^-(F+1), ascending.
    pub t_int: Vec<i64>,
    /// Points, in units of 2^-F (the exact SQ integer s).
    pub s_int: Vec<i64>,
    /// Raw SQ code of each point (the LUT the hardware holds).
    pub codes: Vec<u32>,
    pub decoded: Vec<Decoded>,
    /// F, the universal set's exact fractional bits.
    pub frac_bits: u32,
}

impl ChannelQuantizer {
    pub fn new(points: &PointSet, u: &UniversalSet) -> Result<Self> {
        if points.frac_bits != u.frac_bits {
            return Err(Error::arg("point set", "fractional bits differ from the universal set"));
        }
        let mut codes = Vec::new();
        let mut decoded = Vec::new();
        for &p in &points.ints {
            let c = u.encode_int(p)?;
            codes.push(c.to_raw(&u.words));
            decoded.push(c.decode(&u.words)?);
        }
        Ok(ChannelQuantizer {
            t_int: points.ints.windows(2).map(|w| w[0] + w[1]).collect(),
            s_int: points.ints.clone(),
            codes,
            decoded,
            frac_bits: u.frac_bits,
        })
    }

    /// Thresholds scaled by this image's M̂ (computed once per channel and
    /// image by the hardware, then compared against every activation).
    /// (|t| < 2^(F+1) ≤ 2^25 and M̂ < 2^27 for validated configs, so the
    /// products fit i64 with room to spare.)
    pub fn scaled_thresholds(&self, norm: &ChannelNorm) -> Vec<i64> {
        self.t_int.iter().map(|&t| t * norm.m_hat()).collect()
    }

    /// Quantizer index of activation `x` (activation units).
    #[inline]
    pub fn index(&self, scaled: &[i64], norm: &ChannelNorm, x: i64) -> usize {
        let v = (x - norm.mu_hat()) << (self.frac_bits + 1);
        if scaled.len() <= 32 {
            // branch-free count: vectorizes, beats a binary search at this size
            scaled.iter().map(|&t| (t < v) as usize).sum()
        } else {
            scaled.partition_point(|&t| t < v)
        }
    }
}
