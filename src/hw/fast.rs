//! The fast bit-accurate conv: the same per-element operation sequence as
//! `HwLayer::run_reference`, reordered for the machine.
//!
//! * Rows are processed in bands in parallel; inside a band, for each output
//!   channel, tap sums P of one input channel are built a whole row at a
//!   time (tap order ky, kx per element, as the reference).
//! * At pe_frac_bits ≥ F the shift-add product equals `w·s·2^(f−F)` (proven
//!   by the quickcheck property in tests/sq_code.rs), so P is an integer
//!   multiply-accumulate that vectorizes. When a static bound shows no tap
//!   sum can leave the register, the per-tap overflow check is provably a
//!   no-op and is skipped; otherwise every partial sum is checked.
//! * Below F each product is looked up in a per-(o, c, tap) table built with
//!   the PE's own `shift_add`.
//! * When static bounds prove that no register can overflow and every
//!   output's Σ|terms| stays below 2^53 (every layer of the shipped models
//!   under the default presets), the layer is one exact f64 GEMM instead
//!   (`gemm.rs`); the loops here handle the rest, checking every register.
use super::bands::gather_bands;
use super::border::MuTable;
use super::fixed::OverflowCounts;
use super::layer::{HwLayer, LayerRun};
use super::stats::ChannelNorm;
use crate::sq::shift_add;
use crate::Result;
use rayon::prelude::*;

const BAND_ROWS: usize = 16;

/// How a layer input is computed, from what its registers can prove.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// No register can overflow and every Σ|terms| < 2^53: one exact f64 GEMM.
    Gemm,
    /// Row loops. `taps`: how a tap sum is built; `acc_safe`: no
    /// accumulator partial sum can leave its register (the fit is skipped).
    Rows { taps: Taps, acc_safe: bool },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Taps {
    /// Exact integer products, no tap sum can overflow, and it fits i32.
    I32,
    /// Exact integer products, no tap sum can overflow (i64).
    I64,
    /// Every partial sum through the register; products are exact integer
    /// multiplies (`exact`) or the PE's `shift_add` from a table (below F).
    Checked { exact: bool },
}

/// The static bounds a layer input's kernel is chosen from.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    pub kernel: Kernel,
    /// Shift from the universal set's F to the PE's fraction bits.
    pub up: u32,
}

impl Taps {
    /// Products are integer multiplies (not the below-F table).
    fn exact(&self) -> bool {
        !matches!(self, Taps::Checked { exact: false })
    }
}

impl HwLayer {
    /// The one place the kernel is chosen: bounds on |w|, |s|, the tap sums,
    /// the de-normalized accumulators and the μ terms against the registers.
    pub fn bounds(&self, norms: &[ChannelNorm], mu: &MuTable) -> Bounds {
        let (tap, accr) = (self.tap_reg(), self.acc_reg());
        // exact products as integer multiplies when f ≥ F
        let exact_up = self.exact_up();
        let (exact, up) = (exact_up.is_some(), exact_up.unwrap_or(0));
        let max_w = self.w.iter().map(|v| v.unsigned_abs()).max().unwrap_or(0) as i128;
        let max_s = self.quant.iter().flat_map(|q| q.s_int.iter()).map(|v| v.unsigned_abs()).max().unwrap_or(0) as i128;
        let bound = max_w * (max_s << up) * (self.k * self.k) as i128;
        let taps_safe = exact && bound <= tap.max as i128;
        // When no partial sum of the accumulator can leave its register, the
        // per-step fit is provably the identity and the update is plain i64.
        let tap_bound = if taps_safe { bound } else { tap.max as i128 + 1 };
        let acc_bound: i128 = norms.iter().map(|n| (n.m_mant as i128 * tap_bound) << n.exp).sum::<i128>() + mu.max_abs();
        let acc_safe = acc_bound <= accr.max as i128;
        let max_mhat = norms.iter().map(|n| n.m_hat() as i128).max().unwrap_or(0);
        let kernel = if taps_safe && acc_safe && acc_bound < 1i128 << 53 && (max_s << up) * max_mhat < 1i128 << 53 {
            Kernel::Gemm
        } else {
            let taps = match (taps_safe, bound <= i32::MAX as i128) {
                (true, true) => Taps::I32,
                (true, false) => Taps::I64,
                (false, _) => Taps::Checked { exact },
            };
            Kernel::Rows { taps, acc_safe }
        };
        Bounds { kernel, up }
    }

    pub fn run_fast(&self, x: &[i64], h: usize, w: usize, post_relu: bool) -> Result<LayerRun> {
        if x.len() != self.in_c * h * w || h == 0 || w == 0 {
            return self.run_reference(x, h, w, post_relu); // reports the shape error
        }
        let hw = h * w;
        let norms = self.norms(x, hw, post_relu);
        let idx = self.indices(x, hw, &norms);
        let activity = super::Activity::of_indices(self, &idx, h, w);
        let mu = self.mu_table(&norms, h, w);
        let b = self.bounds(&norms, &mu);
        let (out, overflow) = match b.kernel {
            Kernel::Gemm => self.run_gemm(&idx, b.up, h, w, &norms, &mu),
            Kernel::Rows { taps, acc_safe } => self.run_rows(&idx, b.up, h, w, &norms, &mu, taps, acc_safe),
        };
        Ok(LayerRun { out, norms, overflow, activity })
    }

    /// The row-loop kernels: bands of rows in parallel; per output channel,
    /// each input channel's tap sums a whole row at a time.
    #[allow(clippy::too_many_arguments)]
    fn run_rows(&self, idx: &[u8], up: u32, h: usize, w: usize, norms: &[ChannelNorm], mu: &MuTable, taps: Taps, acc_safe: bool) -> (Vec<i64>, OverflowCounts) {
        let hw = h * w;
        let (k, pad) = (self.k, self.k / 2);
        let f = self.cfg.datapath.pe_frac_bits;
        let (tap, accr, act) = (self.tap_reg(), self.acc_reg(), self.act_reg());
        let exact = taps.exact();
        let use_i32 = taps == Taps::I32;
        let mut s_plane = vec![0i64; if exact { idx.len() } else { 0 }];
        s_plane.par_chunks_mut(hw).zip(idx.par_chunks(hw)).zip(&self.quant).for_each(|((sc, ic), q)| {
            sc.iter_mut().zip(ic).for_each(|(s, &i)| *s = q.s_int[i as usize] << up);
        });
        let s32: Vec<i32> = if use_i32 { s_plane.iter().map(|&v| v as i32).collect() } else { Vec::new() };
        let bands: Vec<(usize, usize)> = (0..h).step_by(BAND_ROWS).map(|y0| (y0, (y0 + BAND_ROWS).min(h))).collect();
        let results: Vec<(Vec<i64>, OverflowCounts)> = bands
            .par_iter()
            .map(|&(y0, y1)| {
                let rows = y1 - y0;
                let mut ovf = OverflowCounts::default();
                let mut out = vec![0i64; self.out_c * rows * w];
                let mut acc = vec![0i64; rows * w];
                let mut p64 = vec![0i64; rows * w];
                let mut p32 = vec![0i32; if use_i32 { rows * w } else { 0 }];
                let mut table = vec![0i64; if exact { 0 } else { 256 }];
                for o in 0..self.out_c {
                    acc.iter_mut().for_each(|a| *a = 0);
                    for c in 0..self.in_c {
                        let norm = &norms[c];
                        if use_i32 {
                            p32.iter_mut().for_each(|p| *p = 0);
                        } else {
                            p64.iter_mut().for_each(|p| *p = 0);
                        }
                        for ky in 0..k {
                            for kx in 0..k {
                                let wv = self.weight(o, c, ky * k + kx);
                                if !exact {
                                    let q = &self.quant[c];
                                    for (i, d) in q.decoded.iter().enumerate() {
                                        table[i] = shift_add(wv, d, f);
                                    }
                                }
                                let x_lo = pad.saturating_sub(kx);
                                let x_hi = (w + pad).saturating_sub(kx).min(w);
                                if x_lo >= x_hi {
                                    continue;
                                }
                                for r in 0..rows {
                                    let sy = (y0 + r + ky) as isize - pad as isize;
                                    if sy < 0 || sy >= h as isize {
                                        continue;
                                    }
                                    let src0 = c * hw + sy as usize * w + x_lo + kx - pad;
                                    let n = x_hi - x_lo;
                                    let dst = r * w + x_lo;
                                    match taps {
                                        Taps::I32 => {
                                            let wv = wv as i32;
                                            let (d, s) = (&mut p32[dst..dst + n], &s32[src0..src0 + n]);
                                            for (pv, &sv) in d.iter_mut().zip(s) {
                                                *pv += wv * sv;
                                            }
                                        }
                                        Taps::I64 => {
                                            let (d, s) = (&mut p64[dst..dst + n], &s_plane[src0..src0 + n]);
                                            for (pv, &sv) in d.iter_mut().zip(s) {
                                                *pv += wv * sv;
                                            }
                                        }
                                        Taps::Checked { exact } => {
                                            for i in 0..n {
                                                let prod = if exact { wv * s_plane[src0 + i] } else { table[idx[src0 + i] as usize] };
                                                let pv = &mut p64[dst + i];
                                                *pv = tap.fit(*pv as i128 + prod as i128, &mut ovf.tap_sum);
                                            }
                                        }
                                    }
                                }
                            }
                        }
                        let (m, e) = (norm.m_mant, norm.exp);
                        match (acc_safe, use_i32) {
                            (true, true) => acc.iter_mut().zip(&p32).for_each(|(a, &pv)| *a += (pv as i64 * m) << e),
                            (true, false) => acc.iter_mut().zip(&p64).for_each(|(a, &pv)| *a += (pv * m) << e),
                            (false, _) => {
                                for i in 0..rows * w {
                                    let pv = if use_i32 { p32[i] as i64 } else { p64[i] };
                                    acc[i] = accr.fit(acc[i] as i128 + HwLayer::denorm_term(norm, pv), &mut ovf.denorm_acc);
                                }
                            }
                        }
                    }
                    let mu_o = mu.channel(o);
                    for r in 0..rows {
                        for xx in 0..w {
                            let i = r * w + xx;
                            let m = mu_o[mu.mask_index(y0 + r, xx)];
                            let a = if acc_safe { acc[i] + m as i64 } else { accr.fit(acc[i] as i128 + m, &mut ovf.denorm_acc) };
                            out[(o * rows + r) * w + xx] = self.requantize(o, a, &act, &mut ovf.act_out);
                        }
                    }
                }
                (out, ovf)
            })
            .collect();
        let pixels: Vec<(usize, usize)> = bands.iter().map(|&(y0, y1)| (y0 * w, y1 * w)).collect();
        gather_bands(self.out_c, hw, &pixels, results)
    }
}
