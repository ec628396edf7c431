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

/// The threshold generator: midpoint t (units 2^-(F+1)) scaled by the
/// channel's M̂ into the comparator value t·M̂.
#[inline]
pub fn scaled_threshold(t: i64, norm: &ChannelNorm) -> i64 {
    t * norm.m_hat()
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
        self.t_int.iter().map(|&t| scaled_threshold(t, norm)).collect()
    }

    /// `index` over a whole channel plane, in a loop that vectorizes even
    /// for the baseline x86-64 target. `t·M̂ < (x − μ̂)·2^(F+1)` holds exactly
    /// when `x ≥ μ̂ + ⌊t·M̂ / 2^(F+1)⌋ + 1`, so each threshold becomes a bound
    /// on x itself, and activations (≤ 25-bit registers) and bounds compare
    /// in i32; bounds beyond i32 are clamped to values no such x reaches.
    pub fn index_plane(&self, scaled: &[i64], norm: &ChannelNorm, x: &[i64], idx: &mut [u8]) {
        const LIM: i64 = 1 << 30;
        if scaled.len() > 255 || x.iter().any(|&v| !(-LIM..LIM).contains(&v)) {
            for (i, &v) in idx.iter_mut().zip(x) {
                *i = self.index(scaled, norm, v) as u8;
            }
            return;
        }
        let sh = self.frac_bits + 1;
        let bounds: Vec<i32> = scaled
            .iter()
            .map(|&t| (norm.mu_hat() as i128 + (t as i128 >> sh) + 1).clamp(-LIM as i128 - 1, LIM as i128) as i32)
            .collect();
        const CHUNK: usize = 256;
        let (mut xv, mut cnt) = ([0i32; CHUNK], [0i32; CHUNK]);
        for (ic, xc) in idx.chunks_mut(CHUNK).zip(x.chunks(CHUNK)) {
            let n = xc.len();
            let (xv, cnt) = (&mut xv[..n], &mut cnt[..n]);
            xv.iter_mut().zip(xc).for_each(|(d, &v)| *d = v as i32);
            cnt.fill(0);
            for &b in &bounds {
                cnt.iter_mut().zip(xv.iter()).for_each(|(c, &v)| *c += (v >= b) as i32);
            }
            ic.iter_mut().zip(cnt.iter()).for_each(|(i, &c)| *i = c as u8);
        }
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
