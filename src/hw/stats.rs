//! The stats unit: per image and input channel, μ and M in fixed point,
//! stored in the low-bit de-normalization format (DATAPATH.md §3.1).
//!
//! One pass over the channel gives Σx, min x and max x. μ = round(Σx / n).
//! The format then picks the smallest shared exponent e ≥ 0 such that
//! μ̂ = round(μ / 2^e)·2^e fits a `mean_mant_bits` signed mantissa and
//! M' = max(max x − μ̂, μ̂ − min x) fits the M̂ format: a `max_mant_bits`
//! unsigned mantissa rounded to nearest (M̂ = round(M'/2^e)·2^e; a sample that
//! normalizes slightly beyond ±1 still snaps to the outermost point, so
//! rounding up would only bias M̂), or a power of two (M̂ = 2^e ≥ M').
use super::fixed::div_round;
use crate::config::{DenormConfig, DenormFormat};
use serde::Serialize;

/// De-normalization constants of one channel, in activation units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ChannelNorm {
    /// M̂ = m_mant · 2^exp.
    pub m_mant: i64,
    /// μ̂ = mu_mant · 2^exp.
    pub mu_mant: i64,
    pub exp: u32,
}

impl ChannelNorm {
    pub fn m_hat(&self) -> i64 {
        self.m_mant << self.exp
    }
    pub fn mu_hat(&self) -> i64 {
        self.mu_mant << self.exp
    }
}

/// The stats unit's pass over one channel: Σx, min x, max x.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelStats {
    pub sum: i128,
    pub lo: i64,
    pub hi: i64,
    pub n: u64,
}

impl ChannelStats {
    pub fn of(plane: &[i64]) -> Self {
        let (mut sum, mut lo, mut hi) = (0i128, i64::MAX, i64::MIN);
        for &v in plane {
            sum += v as i128;
            lo = lo.min(v);
            hi = hi.max(v);
        }
        ChannelStats { sum, lo, hi, n: plane.len() as u64 }
    }
}

/// Runs the stats unit over one channel of activation-format integers.
pub fn channel_norm(plane: &[i64], post_relu: bool, cfg: &DenormConfig) -> ChannelNorm {
    encode_norm(&ChannelStats::of(plane), post_relu, cfg)
}

/// The stats unit's end of channel: μ = round(Σx/n) (0 after a ReLU), then
/// μ̂ and M̂ in the configured format (module doc).
pub fn encode_norm(st: &ChannelStats, post_relu: bool, cfg: &DenormConfig) -> ChannelNorm {
    if st.n == 0 {
        return ChannelNorm { m_mant: 0, mu_mant: 0, exp: 0 };
    }
    let (lo, hi) = (st.lo, st.hi);
    let mu = if post_relu { 0 } else { div_round(st.sum, st.n as i128) as i64 };
    let spread = |mu_hat: i64| (hi - mu_hat).max(mu_hat - lo).max(0);
    match cfg.format {
        DenormFormat::Full => ChannelNorm { m_mant: spread(mu), mu_mant: mu, exp: 0 },
        DenormFormat::Mantissa | DenormFormat::Pow2 => {
            let mu_lim = 1i64 << (cfg.mean_mant_bits - 1);
            for e in 0..62u32 {
                let mu_mant = div_round(mu as i128, 1i128 << e) as i64;
                if mu_mant < -mu_lim || mu_mant >= mu_lim {
                    continue;
                }
                let m = spread(mu_mant << e);
                match cfg.format {
                    DenormFormat::Pow2 => {
                        if m <= 1i64 << e {
                            return ChannelNorm { m_mant: 1, mu_mant, exp: e };
                        }
                    }
                    _ => {
                        let m_mant = ((m + (1i64 << e >> 1)) >> e).max((m > 0) as i64); // nearest, ties up
                        if m_mant < 1i64 << cfg.max_mant_bits {
                            return ChannelNorm { m_mant, mu_mant, exp: e };
                        }
                    }
                }
            }
            // unreachable for activation widths ≤ 25 bits; keep a safe answer
            ChannelNorm { m_mant: 1, mu_mant: 0, exp: 62 }
        }
    }
}
