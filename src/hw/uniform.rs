//! The bit-accurate uniform-integer datapath (hw/SPEC.md "Uniform-integer
//! datapath"), the gemmlowp/TFLite scheme the baselines would build, in the
//! order the array computes it:
//!   q   = clamp(round(x·m_in / 2^s_in) + Z, 0, 2^b − 1)     input quantizer
//!   for c: P = fit_tap(P + w[o,c,t]·(q − Z))                taps inside, row-major
//!          acc = fit_acc(acc + P)                           column sum into the accumulator
//!   y   = fit_act(round(acc·m_o / 2^s_o) + bias_o)          requantization
//! with x, y in activation units 2^-a, m_in/2^s_in ≈ 2^-a/S, m_o/2^s_o ≈
//! Δ_o·S·2^a. Padding is a real zero (q = Z), so border taps add nothing.
//! Partial sums accumulate across input channels: no per-channel
//! de-normalization, no stats pass.
use super::fixed::{round_shift, to_fixed_all, OverflowCounts, Reg};
use super::gemm::band_gemm;
use super::layer::{check_conv_input, delta_fixed, register_weights};
use crate::config::HwConfig;
use crate::float::conv::band_pixels;
use crate::model::{ConvExec, Conv2d, QuantSite};
use super::exec::{total_overflow, LayerReport};
use crate::uniform::{UniformFakeQuantExec, UniformLayer};
use crate::{Error, Feature, Result};
use rayon::prelude::*;
use std::sync::Mutex;

#[derive(Clone, Debug)]
pub struct UniformHwLayer {
    pub name: String,
    pub in_c: usize,
    pub out_c: usize,
    pub k: usize,
    /// Integer weights [o][c][k·k].
    pub w: Vec<i64>,
    pub weight_bits: u32,
    pub abits: u32,
    pub zero_point: i64,
    pub in_mult: i64,
    pub in_shift: i32,
    pub out_mult: Vec<i64>,
    pub out_shift: Vec<i32>,
    /// Bias in activation units.
    pub bias_fix: Vec<i64>,
    pub cfg: HwConfig,
}

impl UniformHwLayer {
    pub fn prepare(l: &UniformLayer, cfg: &HwConfig) -> Result<Self> {
        let qw = &l.qweights;
        let name = l.deq_conv.name.clone();
        let (w, weight_bits) = register_weights(&name, qw, cfg)?;
        let dp = &cfg.datapath;
        let a_scale = (1u64 << dp.act_frac_bits) as f64;
        let (in_mult, in_shift) = delta_fixed(1.0 / (l.act.scale * a_scale), cfg.uniform.input_mult_bits);
        let (out_mult, out_shift) =
            qw.delta.iter().map(|&d| delta_fixed(d as f64 * l.act.scale * a_scale, cfg.uniform.requant_mult_bits)).unzip();
        let bias_fix = l.deq_conv.bias.iter().map(|&b| (b as f64 * a_scale).round_ties_even() as i64).collect();
        Ok(UniformHwLayer {
            name,
            in_c: qw.in_c,
            out_c: qw.out_c,
            k: qw.k,
            w,
            weight_bits,
            abits: l.act.bits,
            zero_point: l.act.zero_point,
            in_mult,
            in_shift,
            out_mult,
            out_shift,
            bias_fix,
            cfg: cfg.clone(),
        })
    }

    /// The column's tap-sum register P (the DFSQ array's, same width).
    pub fn tap_reg(&self) -> Reg {
        Reg::new(self.cfg.datapath.tap_sum_bits, self.cfg.datapath.overflow)
    }
    pub fn acc_reg(&self) -> Reg {
        Reg::new(self.cfg.uniform.acc_bits, self.cfg.datapath.overflow)
    }
    pub fn act_reg(&self) -> Reg {
        Reg::new(self.cfg.datapath.act_bits, self.cfg.datapath.overflow)
    }
    #[inline]
    pub fn weight(&self, o: usize, c: usize, tap: usize) -> i64 {
        self.w[(o * self.in_c + c) * self.k * self.k + tap]
    }

    /// Host → datapath conversion of one conv input (as `HwExec::to_fixed`).
    pub fn to_fixed(&self, x: &[f32], count: &mut u64) -> Vec<i64> {
        let dp = &self.cfg.datapath;
        to_fixed_all(x, dp.act_frac_bits, &Reg::new(dp.act_bits, dp.overflow), count)
    }

    /// Input quantizer: activation (units 2^-a) → code q in [0, 2^b − 1].
    /// Clamping is the quantizer's range, not an overflow.
    #[inline]
    pub fn code(&self, x: i64) -> i64 {
        let v = round_shift(x as i128 * self.in_mult as i128, self.in_shift) + self.zero_point as i128;
        v.clamp(0, (1i128 << self.abits) - 1) as i64
    }

    /// The PE's activation operand of code q: q − zero point.
    #[inline]
    pub fn operand(&self, q: i64) -> i64 {
        q - self.zero_point
    }

    /// The PE's product: weight times (code − zero point).
    #[inline]
    pub fn product(&self, w: i64, q: i64) -> i64 {
        w * self.operand(q)
    }

    /// q − Z of every activation (the PE's activation operand).
    pub fn operands(&self, x: &[i64]) -> Vec<i64> {
        x.par_iter().map(|&v| self.operand(self.code(v))).collect()
    }

    /// Requantization of one accumulator into the activation format.
    #[inline]
    pub fn requantize(&self, o: usize, acc: i64, act: &Reg, count: &mut u64) -> i64 {
        let y = round_shift(acc as i128 * self.out_mult[o] as i128, self.out_shift[o]) + self.bias_fix[o] as i128;
        act.fit(y, count)
    }

    fn check_input(&self, x: &[i64], h: usize, w: usize) -> Result<()> {
        check_conv_input(&self.name, self.in_c, x, h, w)
    }

    /// The naive reference: nested loops over (o, y, x, c, ky, kx), every
    /// add through its register. Slow; the definition.
    pub fn run_reference(&self, x: &[i64], h: usize, w: usize) -> Result<(Vec<i64>, OverflowCounts)> {
        self.check_input(x, h, w)?;
        let hw = h * w;
        let q: Vec<i64> = x.iter().map(|&v| self.code(v)).collect();
        let (tap, accr, act) = (self.tap_reg(), self.acc_reg(), self.act_reg());
        let pad = (self.k / 2) as isize;
        let mut ovf = OverflowCounts::default();
        let mut out = vec![0i64; self.out_c * hw];
        for o in 0..self.out_c {
            for y in 0..h {
                for xx in 0..w {
                    let mut acc = 0i64;
                    for c in 0..self.in_c {
                        let mut p = 0i64;
                        for ky in 0..self.k {
                            for kx in 0..self.k {
                                let (sy, sx) = (y as isize + ky as isize - pad, xx as isize + kx as isize - pad);
                                if sy < 0 || sy >= h as isize || sx < 0 || sx >= w as isize {
                                    continue;
                                }
                                let v = q[c * hw + sy as usize * w + sx as usize];
                                let prod = self.product(self.weight(o, c, ky * self.k + kx), v);
                                p = tap.fit(p as i128 + prod as i128, &mut ovf.tap_sum);
                            }
                        }
                        acc = accr.fit(acc as i128 + p as i128, &mut ovf.acc);
                    }
                    out[o * hw + y * w + xx] = self.requantize(o, acc, &act, &mut ovf.act_out);
                }
            }
        }
        Ok((out, ovf))
    }

    /// Largest |P| of one (o, c) and largest |accumulator| any input can
    /// produce: Σ_t |w|·max|q − Z| and its sum over c.
    pub fn bounds(&self) -> (i128, i128) {
        let amax = self.zero_point.max((1i64 << self.abits) - 1 - self.zero_point) as i128;
        let kk = self.k * self.k;
        let (mut tap, mut acc) = (0i128, 0i128);
        for o in 0..self.out_c {
            let mut a = 0i128;
            for c in 0..self.in_c {
                let t: i128 = self.w[(o * self.in_c + c) * kk..(o * self.in_c + c + 1) * kk].iter().map(|&v| v.unsigned_abs() as i128).sum::<i128>() * amax;
                tap = tap.max(t);
                a += t;
            }
            acc = acc.max(a);
        }
        (tap, acc)
    }

    /// Whether the static bounds prove the GEMM kernel exact.
    pub fn gemm_exact(&self) -> bool {
        let (tap, acc) = self.bounds();
        tap <= self.tap_reg().max as i128 && acc <= self.acc_reg().max as i128 && acc < 1i128 << 53
    }

    /// The fast kernel: one exact f64 GEMM when neither a tap sum nor the
    /// accumulator can overflow (then every partial sum is an integer below
    /// 2^53, so the result equals `run_reference` bit for bit), else the
    /// checked loops.
    pub fn run_fast(&self, x: &[i64], h: usize, w: usize) -> Result<(Vec<i64>, OverflowCounts)> {
        self.check_input(x, h, w)?;
        if !self.gemm_exact() {
            return self.run_reference(x, h, w);
        }
        let hw = h * w;
        let a: Vec<f64> = self.operands(x).into_iter().map(|v| v as f64).collect();
        let wf: Vec<f64> = self.w.iter().map(|&v| v as f64).collect();
        let act = self.act_reg();
        let band = band_pixels(self.in_c * self.k * self.k, hw);
        let bands: Vec<(usize, usize)> = (0..hw).step_by(band).map(|p0| (p0, (p0 + band).min(hw))).collect();
        let results: Vec<(Vec<i64>, OverflowCounts)> = bands
            .par_iter()
            .map(|&(p0, p1)| {
                let n = p1 - p0;
                let acc = band_gemm(&a, self.in_c, &wf, self.out_c, h, w, self.k, p0, p1);
                let mut ovf = OverflowCounts::default();
                let out = (0..self.out_c * n).map(|i| self.requantize(i / n, acc[i] as i64, &act, &mut ovf.act_out)).collect();
                (out, ovf)
            })
            .collect();
        Ok(super::bands::gather_bands(self.out_c, hw, &bands, results))
    }
}

/// Runs every quantized conv of a static uniform design on the integer
/// datapath (host f32 → activation format at each input, as `HwExec`),
/// optionally beside its float reference on the same input so each layer's
/// own error is measured.
pub struct UniformHwExec<'a> {
    pub layers: Vec<UniformHwLayer>,
    pub reference: Option<&'a UniformFakeQuantExec>,
    pub naive: bool,
    reports: Mutex<Vec<LayerReport>>,
    /// Time spent in `reference` (the per-layer comparison).
    pub reference_time: super::exec::Stopwatch,
}

impl<'a> UniformHwExec<'a> {
    pub fn new(layers: &[UniformLayer], cfg: &HwConfig) -> Result<Self> {
        cfg.validate()?;
        let layers: Vec<UniformHwLayer> = layers.iter().map(|l| UniformHwLayer::prepare(l, cfg)).collect::<Result<_>>()?;
        let reports = layers.iter().map(|l| LayerReport::new(&l.name, l.weight_bits)).collect();
        Ok(UniformHwExec { layers, reference: None, naive: false, reports: Mutex::new(reports), reference_time: Default::default() })
    }
    /// Also runs `reference` on every layer's input and records the error.
    pub fn with_reference(mut self, reference: &'a UniformFakeQuantExec) -> Self {
        self.reference = Some(reference);
        self
    }
    pub fn reports(&self) -> Vec<LayerReport> {
        self.reports.lock().map(|r| r.clone()).unwrap_or_default()
    }
    pub fn total_overflow(&self) -> OverflowCounts {
        total_overflow(&self.reports())
    }
}

impl ConvExec for UniformHwExec<'_> {
    fn quant_conv(&self, conv: &Conv2d, site: QuantSite, x: &Feature) -> Result<Feature> {
        let l = self.layers.get(site.index).ok_or_else(|| {
            Error::arg("quantized layer", format!("{} has index {} beyond {}", conv.name, site.index, self.layers.len()))
        })?;
        let mut act_in = 0u64;
        let xf = l.to_fixed(&x.data, &mut act_in);
        let (out, ovf) = if self.naive { l.run_reference(&xf, x.h, x.w)? } else { l.run_fast(&xf, x.h, x.w)? };
        let scale = 1.0 / (1u64 << l.cfg.datapath.act_frac_bits) as f64;
        let y = Feature::from_vec(l.out_c, x.h, x.w, out.par_iter().map(|&v| (v as f64 * scale) as f32).collect())?;
        let yr = self.reference_time.time(|| self.reference.map(|r| r.quant_conv(conv, site, x)).transpose())?;
        let macs = (conv.macs_per_pixel() * x.h * x.w) as u64;
        let mut reps = self.reports.lock().map_err(|_| Error::arg("uniform hw report", "poisoned lock"))?;
        reps[site.index].record(macs, act_in, &ovf, &y, yr.as_ref());
        Ok(y)
    }
}
