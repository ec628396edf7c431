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
use super::fixed::OverflowCounts;
use super::layer::{HwLayer, LayerRun};
use crate::sq::shift_add;
use crate::Result;
use rayon::prelude::*;

const BAND_ROWS: usize = 16;

/// Which taps are inside the image along one axis, per coordinate: the
/// coordinate's mask id and the distinct masks (bit t = tap t inside).
fn masks(n: usize, k: usize) -> (Vec<usize>, Vec<u32>) {
    let pad = (k / 2) as isize;
    let mut uniq: Vec<u32> = Vec::new();
    let ids = (0..n)
        .map(|i| {
            let m = (0..k).fold(0u32, |m, t| {
                let s = i as isize + t as isize - pad;
                if s >= 0 && s < n as isize {
                    m | 1 << t
                } else {
                    m
                }
            });
            match uniq.iter().position(|&u| u == m) {
                Some(p) => p,
                None => {
                    uniq.push(m);
                    uniq.len() - 1
                }
            }
        })
        .collect();
    (ids, uniq)
}

impl HwLayer {
    pub fn run_fast(&self, x: &[i64], h: usize, w: usize, post_relu: bool) -> Result<LayerRun> {
        if x.len() != self.in_c * h * w || h == 0 || w == 0 {
            return self.run_reference(x, h, w, post_relu); // reports the shape error
        }
        let hw = h * w;
        let k = self.k;
        let kk = k * k;
        let pad = k / 2;
        let norms = self.norms(x, hw, post_relu);
        let idx = self.indices(x, hw, &norms);
        let activity = super::Activity::of_indices(self, &idx, h, w);
        let f = self.cfg.datapath.pe_frac_bits;
        let ff = self.quant.first().map_or(f, |q| q.frac_bits);
        let (tap, accr, act) = (self.tap_reg(), self.acc_reg(), self.act_reg());

        // exact products as integer multiplies when f ≥ F
        let exact = f >= ff;
        let up = f.saturating_sub(ff);
        let max_w = self.w.iter().map(|v| v.unsigned_abs()).max().unwrap_or(0) as i128;
        let max_s = self.quant.iter().flat_map(|q| q.s_int.iter()).map(|v| v.unsigned_abs()).max().unwrap_or(0) as i128;
        let bound = max_w * (max_s << up) * kk as i128;
        let taps_safe = exact && bound <= tap.max as i128;
        let use_i32 = taps_safe && bound <= i32::MAX as i128;

        // μ-terms per (o, row mask, column mask)
        let (row_id, row_masks) = masks(h, k);
        let (col_id, col_masks) = masks(w, k);
        let (nr, nc) = (row_masks.len(), col_masks.len());
        let mut mu_tab = vec![0i128; self.out_c * nr * nc];
        mu_tab.par_chunks_mut(nr * nc).enumerate().for_each(|(o, t)| {
            for (ri, &rm) in row_masks.iter().enumerate() {
                for (ci, &cm) in col_masks.iter().enumerate() {
                    let inside = |ky: usize, kx: usize| rm >> ky & 1 == 1 && cm >> kx & 1 == 1;
                    t[ri * nc + ci] = self.mu_term(o, &norms, &inside);
                }
            }
        });

        // When no partial sum of the accumulator can leave its register, the
        // per-step fit is provably the identity and the update is plain i64.
        let tap_bound = if taps_safe { bound } else { tap.max as i128 + 1 };
        let acc_bound: i128 = norms.iter().map(|n| (n.m_mant as i128 * tap_bound) << n.exp).sum::<i128>()
            + mu_tab.iter().map(|v| v.abs()).max().unwrap_or(0);
        let acc_safe = acc_bound <= accr.max as i128;

        let max_mhat = norms.iter().map(|n| n.m_hat() as i128).max().unwrap_or(0);
        let gemm_exact = taps_safe && acc_safe && acc_bound < 1i128 << 53 && (max_s << up) * max_mhat < 1i128 << 53;
        if gemm_exact {
            let mu = super::gemm::MuTable { tab: &mu_tab, row_id: &row_id, col_id: &col_id, nr, nc };
            let (out, overflow) = self.run_gemm(&idx, up, h, w, &norms, &mu);
            return Ok(LayerRun { out, norms, overflow, activity });
        }
        let mut s_plane = vec![0i64; if exact { x.len() } else { 0 }];
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
                                    if use_i32 {
                                        let wv = wv as i32;
                                        let (d, s) = (&mut p32[dst..dst + n], &s32[src0..src0 + n]);
                                        for (pv, &sv) in d.iter_mut().zip(s) {
                                            *pv += wv * sv;
                                        }
                                    } else if taps_safe {
                                        let (d, s) = (&mut p64[dst..dst + n], &s_plane[src0..src0 + n]);
                                        for (pv, &sv) in d.iter_mut().zip(s) {
                                            *pv += wv * sv;
                                        }
                                    } else {
                                        for i in 0..n {
                                            let prod = if exact {
                                                wv * s_plane[src0 + i]
                                            } else {
                                                table[idx[src0 + i] as usize]
                                            };
                                            let pv = &mut p64[dst + i];
                                            *pv = tap.fit(*pv as i128 + prod as i128, &mut ovf.tap_sum);
                                        }
                                    }
                                }
                            }
                        }
                        if acc_safe && use_i32 {
                            let (m, e) = (norm.m_mant, norm.exp);
                            for (a, &pv) in acc.iter_mut().zip(&p32) {
                                *a += (pv as i64 * m) << e;
                            }
                        } else if acc_safe {
                            let (m, e) = (norm.m_mant, norm.exp);
                            for (a, &pv) in acc.iter_mut().zip(&p64) {
                                *a += (pv * m) << e;
                            }
                        } else {
                            for i in 0..rows * w {
                                let pv = if use_i32 { p32[i] as i64 } else { p64[i] };
                                acc[i] = accr.fit(acc[i] as i128 + HwLayer::denorm_term(norm, pv), &mut ovf.denorm_acc);
                            }
                        }
                    }
                    for r in 0..rows {
                        let ri = row_id[y0 + r];
                        for xx in 0..w {
                            let i = r * w + xx;
                            let mu = mu_tab[(o * nr + ri) * nc + col_id[xx]];
                            let a = if acc_safe {
                                acc[i] + mu as i64
                            } else {
                                accr.fit(acc[i] as i128 + mu, &mut ovf.denorm_acc)
                            };
                            out[(o * rows + r) * w + xx] = self.requantize(o, a, &act, &mut ovf.act_out);
                        }
                    }
                }
                (out, ovf)
            })
            .collect();

        let pixels: Vec<(usize, usize)> = bands.iter().map(|&(y0, y1)| (y0 * w, y1 * w)).collect();
        let (out, overflow) = gather_bands(self.out_c, hw, &pixels, results);
        Ok(LayerRun { out, norms, overflow, activity })
    }
}

/// Assembles per-band outputs (`out_c` rows of the band's pixels `p0..p1`
/// each) into one c×h×w plane and sums the bands' overflow counts in order.
pub(crate) fn gather_bands(out_c: usize, hw: usize, bands: &[(usize, usize)], results: Vec<(Vec<i64>, OverflowCounts)>) -> (Vec<i64>, OverflowCounts) {
    let mut out = vec![0i64; out_c * hw];
    let mut overflow = OverflowCounts::default();
    for (&(p0, p1), (band, ovf)) in bands.iter().zip(results) {
        let n = p1 - p0;
        for o in 0..out_c {
            out[o * hw + p0..o * hw + p1].copy_from_slice(&band[o * n..(o + 1) * n]);
        }
        overflow.add(&ovf);
    }
    (out, overflow)
}
