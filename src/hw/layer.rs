//! One quantized conv on the bit-accurate datapath (DATAPATH.md §3).
//!
//! Per output element, in this order (the order the hardware uses, which
//! matters under saturation):
//!   for c in 0..C:  P = 0; for (ky, kx) row-major, tap inside the image:
//!                       P = fit_tap(P + w[o,c,ky,kx]·s[c, y+ky−p, x+kx−p])
//!                   acc = fit_acc(acc + (m_mant_c·P) << exp_c)
//!   acc = fit_acc(acc + μ-term(o, which taps are inside))
//!   y   = fit_act(round(acc·mult_o / 2^(shift_o + f)) + bias_o)
//! with products in units of 2^-f (f = pe_frac_bits), activations in units of
//! 2^-a, acc in units of 2^-(a+f), μ-term = Σ_c μ̂_c·Σ_{inside} w·2^f.
use super::border::{self, MuTable};
use super::fixed::{round_shift, OverflowCounts, Reg};
use super::quantizer::ChannelQuantizer;
use super::stats::{channel_norm, ChannelNorm};
use crate::config::HwConfig;
use crate::dfsq::QuantLayer;
use crate::quant::{weight::signed_bits, Granularity};
use crate::sq::{shift_add, UniversalSet};
use crate::{Error, Result};
use rayon::prelude::*;

/// A quantized conv prepared for the datapath.
#[derive(Clone, Debug)]
pub struct HwLayer {
    pub name: String,
    pub in_c: usize,
    pub out_c: usize,
    pub k: usize,
    /// Integer weights w = q + zp, [o][c][k·k].
    pub w: Vec<i64>,
    /// Signed bits the weights need (the weight register is sized to this
    /// unless the config fixes it).
    pub weight_bits: u32,
    /// Δ_o ≈ delta_mult[o] / 2^delta_shift[o].
    pub delta_mult: Vec<i64>,
    pub delta_shift: Vec<i32>,
    /// Bias in activation units.
    pub bias_fix: Vec<i64>,
    pub quant: Vec<ChannelQuantizer>,
    pub cfg: HwConfig,
}

/// Everything one layer run produces.
#[derive(Clone, Debug)]
pub struct LayerRun {
    /// Output in activation units, [o][y][x].
    pub out: Vec<i64>,
    pub norms: Vec<ChannelNorm>,
    pub overflow: OverflowCounts,
    /// Words of the codes the PEs received (term gating's measure).
    pub activity: super::Activity,
}

/// Δ as an unsigned `bits`-bit mantissa and a shift: Δ ≈ mult / 2^shift.
pub fn delta_fixed(delta: f64, bits: u32) -> (i64, i32) {
    let d = delta;
    if !(d > 0.0) || !d.is_finite() {
        return (0, 0);
    }
    // mult in [2^(bits-1), 2^bits)
    let mut shift = bits as i32 - 1 - d.log2().floor() as i32;
    let mut mult = (d * 2f64.powi(shift)).round() as i64;
    if mult >= 1i64 << bits {
        shift -= 1;
        mult = (d * 2f64.powi(shift)).round() as i64;
    }
    (mult, shift)
}

/// Output stage D4: y = fit_act(round(acc · mult / 2^s) + bias), the
/// rounding adds half and shifts (ties toward +∞); s ≤ 0 shifts left.
#[inline]
pub fn requant(acc: i64, mult: i64, s: i32, bias: i64, act: &Reg, count: &mut u64) -> i64 {
    act.fit(round_shift(acc as i128 * mult as i128, s) + bias as i128, count)
}

/// A layer input must be `in_c`×`h`×`w` activations with h, w ≥ 1 (every
/// datapath and the stepped model check it the same way).
pub fn check_conv_input(name: &str, in_c: usize, x: &[i64], h: usize, w: usize) -> Result<()> {
    if x.len() != in_c * h * w || h == 0 || w == 0 {
        return Err(Error::shape(format!("{name} input"), format!("{in_c}x{h}x{w}"), x.len()));
    }
    Ok(())
}

/// The integer weights w = q + zp, [o][c][k·k], and the signed width they
/// need, checked against `datapath.weight_bits` when the config fixes it
/// (shared by the DFSQ and the uniform-integer datapaths).
pub fn register_weights(name: &str, qw: &crate::quant::QuantWeights, cfg: &HwConfig) -> Result<(Vec<i64>, u32)> {
    let kk = qw.k * qw.k;
    let mut w = Vec::with_capacity(qw.q.len());
    for o in 0..qw.out_c {
        for c in 0..qw.in_c {
            for t in 0..kk {
                w.push(qw.int_weight(o, c, t) as i64);
            }
        }
    }
    let weight_bits = w.iter().map(|&v| signed_bits(v)).max().unwrap_or(1);
    let fixed = cfg.datapath.weight_bits;
    if fixed != 0 && weight_bits > fixed {
        return Err(Error::config(
            "datapath.weight_bits",
            format!("layer {name} needs {weight_bits}-bit weights (w = q + zp), config gives {fixed}"),
        ));
    }
    Ok((w, weight_bits))
}

impl HwLayer {
    /// At pe_frac_bits f ≥ F every shift-add product is exactly
    /// w·(s << (f − F)) (property in tests/sq_code.rs): that shift, or `None`
    /// below F, where the per-term floors make it the PE's `shift_add` only.
    pub fn exact_up(&self) -> Option<u32> {
        let f = self.cfg.datapath.pe_frac_bits;
        let ff = self.quant.first().map_or(f, |q| q.frac_bits);
        f.checked_sub(ff)
    }

    pub fn prepare(ql: &QuantLayer, u: &UniversalSet, cfg: &HwConfig) -> Result<Self> {
        let qw = &ql.qweights;
        let name = ql.deq_conv.name.clone();
        if qw.granularity != Granularity::PerOutputChannel {
            return Err(Error::config(
                "granularity",
                "the datapath applies Δ once per output channel; per-kernel weights need a Δ multiply per (o, c) and are float-reference only",
            ));
        }
        if ql.points.len() != qw.in_c {
            return Err(Error::shape(format!("{name} point sets"), qw.in_c, ql.points.len()));
        }
        let (w, weight_bits) = register_weights(&name, qw, cfg)?;
        let dp = &cfg.datapath;
        let (delta_mult, delta_shift) = qw.delta.iter().map(|&d| delta_fixed(d as f64, dp.delta_mult_bits)).unzip();
        let act_scale = (1u64 << dp.act_frac_bits) as f64;
        let bias_fix = ql.deq_conv.bias.iter().map(|&b| (b as f64 * act_scale).round_ties_even() as i64).collect();
        let quant = ql.points.iter().map(|p| ChannelQuantizer::new(p, u)).collect::<Result<_>>()?;
        Ok(HwLayer {
            name,
            in_c: qw.in_c,
            out_c: qw.out_c,
            k: qw.k,
            w,
            weight_bits,
            delta_mult,
            delta_shift,
            bias_fix,
            quant,
            cfg: cfg.clone(),
        })
    }

    pub fn tap_reg(&self) -> Reg {
        Reg::new(self.cfg.datapath.tap_sum_bits, self.cfg.datapath.overflow)
    }
    pub fn acc_reg(&self) -> Reg {
        Reg::new(self.cfg.datapath.denorm_acc_bits, self.cfg.datapath.overflow)
    }
    pub fn act_reg(&self) -> Reg {
        Reg::new(self.cfg.datapath.act_bits, self.cfg.datapath.overflow)
    }
    #[inline]
    pub fn weight(&self, o: usize, c: usize, tap: usize) -> i64 {
        self.w[(o * self.in_c + c) * self.k * self.k + tap]
    }

    /// Stats unit over every input channel.
    pub fn norms(&self, x: &[i64], hw: usize, post_relu: bool) -> Vec<ChannelNorm> {
        (0..self.in_c).into_par_iter().map(|c| channel_norm(&x[c * hw..(c + 1) * hw], post_relu, &self.cfg.denorm)).collect()
    }

    /// Quantizer indices for every activation, [c][y][x].
    pub fn indices(&self, x: &[i64], hw: usize, norms: &[ChannelNorm]) -> Vec<u8> {
        let mut idx = vec![0u8; x.len()];
        if hw == 0 {
            return idx;
        }
        idx.par_chunks_mut(hw).zip(x.par_chunks(hw)).enumerate().for_each(|(c, (ic, xc))| {
            let q = &self.quant[c];
            q.index_plane(&q.scaled_thresholds(&norms[c]), &norms[c], xc, ic);
        });
        idx
    }

    /// De-normalization term of one channel: (m_mant·P) << exp.
    #[inline]
    pub fn denorm_term(norm: &ChannelNorm, p: i64) -> i128 {
        (norm.m_mant as i128 * p as i128) << norm.exp
    }

    /// μ-term for output channel `o` given which taps are inside the image.
    pub fn mu_term(&self, o: usize, norms: &[ChannelNorm], inside: &dyn Fn(usize, usize) -> bool) -> i128 {
        let f = self.cfg.datapath.pe_frac_bits;
        let mut t = 0i128;
        for c in 0..self.in_c {
            let mut sw = 0i128;
            for ky in 0..self.k {
                for kx in 0..self.k {
                    if inside(ky, kx) {
                        sw += self.weight(o, c, ky * self.k + kx) as i128;
                    }
                }
            }
            t += (norms[c].mu_hat() as i128 * sw) << f;
        }
        t
    }

    /// The μ table of one h×w input: `mu_term` per (o, row mask, column mask).
    pub fn mu_table(&self, norms: &[ChannelNorm], h: usize, w: usize) -> MuTable {
        MuTable::new(self.out_c, self.k, h, w, |o, inside| self.mu_term(o, norms, inside))
    }

    /// Output stage of channel `o` (`requant` with its Δ and bias).
    #[inline]
    pub fn requantize(&self, o: usize, acc: i64, act: &Reg, count: &mut u64) -> i64 {
        requant(acc, self.delta_mult[o], self.requant_shift(o), self.bias_fix[o], act, count)
    }

    /// Total rounding shift of channel `o`'s output stage: Δ's shift plus
    /// the products' fractional bits.
    pub fn requant_shift(&self, o: usize) -> i32 {
        self.delta_shift[o] + self.cfg.datapath.pe_frac_bits as i32
    }

    fn check_input(&self, x: &[i64], h: usize, w: usize) -> Result<()> {
        check_conv_input(&self.name, self.in_c, x, h, w)
    }

    /// The naive reference: literal nested loops over (o, y, x, c, ky, kx),
    /// the PE's shift-add for every product. Slow; the definition.
    pub fn run_reference(&self, x: &[i64], h: usize, w: usize, post_relu: bool) -> Result<LayerRun> {
        self.check_input(x, h, w)?;
        let hw = h * w;
        let norms = self.norms(x, hw, post_relu);
        let idx = self.indices(x, hw, &norms);
        let (tap, accr, act) = (self.tap_reg(), self.acc_reg(), self.act_reg());
        let f = self.cfg.datapath.pe_frac_bits;
        let pad = (self.k / 2) as isize;
        let mut ovf = OverflowCounts::default();
        let mut activity = super::Activity::default();
        let mut out = vec![0i64; self.out_c * hw];
        for o in 0..self.out_c {
            for y in 0..h {
                for xx in 0..w {
                    let inside = |ky: usize, kx: usize| border::inside(y, ky, h, self.k) && border::inside(xx, kx, w, self.k);
                    let mut acc = 0i64;
                    for c in 0..self.in_c {
                        let mut p = 0i64;
                        for ky in 0..self.k {
                            for kx in 0..self.k {
                                if !inside(ky, kx) {
                                    continue;
                                }
                                let sy = (y as isize + ky as isize - pad) as usize;
                                let sx = (xx as isize + kx as isize - pad) as usize;
                                let code = &self.quant[c].decoded[idx[c * hw + sy * w + sx] as usize];
                                activity.macs_by_words[super::Activity::class(code)] += 1;
                                let prod = shift_add(self.weight(o, c, ky * self.k + kx), code, f);
                                p = tap.fit(p as i128 + prod as i128, &mut ovf.tap_sum);
                            }
                        }
                        acc = accr.fit(acc as i128 + Self::denorm_term(&norms[c], p), &mut ovf.denorm_acc);
                    }
                    let mu = self.mu_term(o, &norms, &inside);
                    acc = accr.fit(acc as i128 + mu, &mut ovf.denorm_acc);
                    out[o * hw + y * w + xx] = self.requantize(o, acc, &act, &mut ovf.act_out);
                }
            }
        }
        Ok(LayerRun { out, norms, overflow: ovf, activity })
    }
}
