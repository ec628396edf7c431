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
use super::fixed::OverflowCounts;
use super::layer::{HwLayer, LayerRun};
use crate::sq::shift_add;
use crate::Result;
use rayon::prelude::*;

const BAND_ROWS: usize = 16;
/// Output channels computed together by the exact kernel.
const BLOCK_O: usize = 4;

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
        let f = self.cfg.datapath.pe_frac_bits;
        let ff = self.quant.first().map_or(f, |q| q.frac_bits);
        let (tap, accr, act) = (self.tap_reg(), self.acc_reg(), self.act_reg());

        // exact products as integer multiplies when f ≥ F
        let exact = f >= ff;
        let up = f.saturating_sub(ff);
        let s_plane: Vec<i64> = if exact {
            (0..x.len()).map(|p| self.quant[p / hw].s_int[idx[p] as usize] << up).collect()
        } else {
            Vec::new()
        };
        let max_w = self.w.iter().map(|v| v.unsigned_abs()).max().unwrap_or(0) as i128;
        let max_s = self.quant.iter().flat_map(|q| q.s_int.iter()).map(|v| v.unsigned_abs()).max().unwrap_or(0) as i128;
        let bound = max_w * (max_s << up) * kk as i128;
        let taps_safe = exact && bound <= tap.max as i128;
        let use_i32 = taps_safe && bound <= i32::MAX as i128;
        let s32: Vec<i32> = if use_i32 { s_plane.iter().map(|&v| v as i32).collect() } else { Vec::new() };

        // μ-terms per (o, row mask, column mask)
        let (row_id, row_masks) = masks(h, k);
        let (col_id, col_masks) = masks(w, k);
        let (nr, nc) = (row_masks.len(), col_masks.len());
        let mut mu_tab = vec![0i128; self.out_c * nr * nc];
        for o in 0..self.out_c {
            for (ri, &rm) in row_masks.iter().enumerate() {
                for (ci, &cm) in col_masks.iter().enumerate() {
                    let inside = |ky: usize, kx: usize| rm >> ky & 1 == 1 && cm >> kx & 1 == 1;
                    mu_tab[(o * nr + ri) * nc + ci] = self.mu_term(o, &norms, &inside);
                }
            }
        }

        // When no partial sum of the accumulator can leave its register, the
        // per-step fit is provably the identity and the update is plain i64.
        let tap_bound = if taps_safe { bound } else { tap.max as i128 + 1 };
        let acc_bound: i128 = norms.iter().map(|n| (n.m_mant as i128 * tap_bound) << n.exp).sum::<i128>()
            + mu_tab.iter().map(|v| v.abs()).max().unwrap_or(0);
        let acc_safe = acc_bound <= accr.max as i128;

        let bands: Vec<(usize, usize)> = (0..h).step_by(BAND_ROWS).map(|y0| (y0, (y0 + BAND_ROWS).min(h))).collect();
        // Exact float kernel: every tap sum is an integer below 2^24 (exact in
        // f32 FMAs) and every accumulator value below 2^53 (exact in f64).
        let unchecked = taps_safe && acc_safe && bound < 1 << 24 && acc_bound < 1i128 << 53 && (k == 3 || k == 1);
        let w32: Vec<f32> = if unchecked { self.w.iter().map(|&v| v as f32).collect() } else { Vec::new() };
        let sf: Vec<f32> = if unchecked { s_plane.iter().map(|&v| v as f32).collect() } else { Vec::new() };
        let mhat: Vec<f64> = norms.iter().map(|n| n.m_hat() as f64).collect();
        let zero_row = vec![0f32; w];
        let results: Vec<(Vec<i64>, OverflowCounts)> = bands
            .par_iter()
            .map(|&(y0, y1)| {
                if unchecked {
                    let rows = y1 - y0;
                    let mut out = vec![0i64; self.out_c * rows * w];
                    let acc = vec![0f64; rows * w];
                    let mut ovf = OverflowCounts::default();
                    let g = Geom { k, h, w, hw, y0, rows, in_c: self.in_c };
                    // four output channels per pass share every activation load
                    let mut accs = [acc.clone(), acc.clone(), acc.clone(), acc];
                    let mut o0 = 0;
                    while o0 < self.out_c {
                        let n = (self.out_c - o0).min(BLOCK_O);
                        let wos: [&[f32]; BLOCK_O] = std::array::from_fn(|j| {
                            let o = o0 + j.min(n - 1);
                            &w32[o * self.in_c * kk..(o + 1) * self.in_c * kk]
                        });
                        acc_band(&g, &sf, wos, &mhat, &zero_row, &mut accs);
                        for (j, acc) in accs.iter().enumerate().take(n) {
                            let o = o0 + j;
                            for r in 0..rows {
                                let ri = row_id[y0 + r];
                                for xx in 0..w {
                                    let a = acc[r * w + xx] as i64 + mu_tab[(o * nr + ri) * nc + col_id[xx]] as i64;
                                    out[(o * rows + r) * w + xx] = self.requantize(o, a, &act, &mut ovf.act_out);
                                }
                            }
                        }
                        o0 += n;
                    }
                    return (out, ovf);
                }
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

        let mut out = vec![0i64; self.out_c * hw];
        let mut overflow = OverflowCounts::default();
        for (&(y0, y1), (band, ovf)) in bands.iter().zip(results) {
            let rows = y1 - y0;
            for o in 0..self.out_c {
                out[o * hw + y0 * w..o * hw + y1 * w].copy_from_slice(&band[o * rows * w..(o + 1) * rows * w]);
            }
            overflow.add(&ovf);
        }
        Ok(LayerRun { out, norms, overflow })
    }
}


/// Band geometry for the unchecked kernel.
struct Geom {
    k: usize,
    h: usize,
    w: usize,
    hw: usize,
    y0: usize,
    rows: usize,
    in_c: usize,
}

/// acc_j[r][x] = Σ_c (Σ_taps w_j·s)·M̂_c for BLOCK_O output channels over a
/// band, in f32 (tap sums) and f64 (accumulators). Only called when static
/// bounds prove every tap sum is an integer below 2^24 and every accumulator
/// value one below 2^53: then each float operation is exact, no register can
/// overflow, and the result equals the integer reference bit for bit.
/// Out-of-image taps read a zero row or are skipped (0, as in the reference).
type Accs = [Vec<f64>; BLOCK_O];

fn acc_band(g: &Geom, s: &[f32], wo: [&[f32]; BLOCK_O], mhat: &[f64], zero: &[f32], acc: &mut Accs) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            unsafe { acc_band_avx2(g, s, wo, mhat, zero, acc) };
            return;
        }
    }
    acc_band_generic(g, s, wo, mhat, zero, acc)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn acc_band_avx2(g: &Geom, s: &[f32], wo: [&[f32]; BLOCK_O], mhat: &[f64], zero: &[f32], acc: &mut Accs) {
    acc_band_generic(g, s, wo, mhat, zero, acc)
}

#[inline(always)]
fn acc_band_generic(g: &Geom, s: &[f32], wo: [&[f32]; BLOCK_O], mhat: &[f64], zero: &[f32], acc: &mut Accs) {
    let w = g.w;
    for a in acc.iter_mut() {
        a.iter_mut().for_each(|v| *v = 0.0);
    }
    for c in 0..g.in_c {
        let m = mhat[c];
        let plane = &s[c * g.hw..(c + 1) * g.hw];
        if g.k == 1 {
            for (j, a) in acc.iter_mut().enumerate() {
                let wm = wo[j][c] as f64 * m;
                for r in 0..g.rows {
                    let row = &plane[(g.y0 + r) * w..(g.y0 + r + 1) * w];
                    for (av, &sv) in a[r * w..(r + 1) * w].iter_mut().zip(row) {
                        *av += wm * sv as f64;
                    }
                }
            }
            continue;
        }
        let wk: [[f32; 9]; BLOCK_O] = std::array::from_fn(|j| std::array::from_fn(|t| wo[j][c * 9 + t]));
        for r in 0..g.rows {
            let y = g.y0 + r;
            let row = |ky: usize| -> &[f32] {
                let sy = y as isize + ky as isize - 1;
                if sy < 0 || sy >= g.h as isize {
                    zero
                } else {
                    &plane[sy as usize * w..(sy as usize + 1) * w]
                }
            };
            let (r0, r1, r2) = (row(0), row(1), row(2));
            for (j, a) in acc.iter_mut().enumerate() {
                let wk = &wk[j];
                let ar = &mut a[r * w..(r + 1) * w];
                // plain mul/add (no mul_add): fine out of line, and exact either way
                let tap = |x: usize, kx: usize| wk[kx] * r0[x] + wk[3 + kx] * r1[x] + wk[6 + kx] * r2[x];
                if w == 1 {
                    ar[0] += tap(0, 1) as f64 * m;
                    continue;
                }
                ar[0] += (tap(0, 1) + tap(1, 2)) as f64 * m;
                ar[w - 1] += (tap(w - 2, 0) + tap(w - 1, 1)) as f64 * m;
            }
            if w < 3 {
                continue;
            }
            let n = w - 2;
            // equal-length views so the loop has no bounds checks and vectorizes
            let (l0, c0, q0) = (&r0[..n], &r0[1..n + 1], &r0[2..n + 2]);
            let (l1, c1, q1) = (&r1[..n], &r1[1..n + 1], &r1[2..n + 2]);
            let (l2, c2, q2) = (&r2[..n], &r2[1..n + 1], &r2[2..n + 2]);
            let [a0, a1, a2, a3] = acc;
            let (o0, o1, o2, o3) = (
                &mut a0[r * w + 1..r * w + 1 + n],
                &mut a1[r * w + 1..r * w + 1 + n],
                &mut a2[r * w + 1..r * w + 1 + n],
                &mut a3[r * w + 1..r * w + 1 + n],
            );
            // a macro, not a closure: closures do not inherit `target_feature`,
            // and an out-of-line mul_add would be a libm call
            macro_rules! dot {
                ($k:expr, $i:expr) => {{
                    let (k, i) = ($k, $i);
                    k[0].mul_add(l0[i], k[1].mul_add(c0[i], k[2].mul_add(q0[i], k[3].mul_add(l1[i],
                        k[4].mul_add(c1[i], k[5].mul_add(q1[i], k[6].mul_add(l2[i], k[7].mul_add(c2[i], k[8] * q2[i]))))))))
                }};
            }
            for i in 0..n {
                o0[i] = (dot!(&wk[0], i) as f64).mul_add(m, o0[i]);
                o1[i] = (dot!(&wk[1], i) as f64).mul_add(m, o1[i]);
                o2[i] = (dot!(&wk[2], i) as f64).mul_add(m, o2[i]);
                o3[i] = (dot!(&wk[3], i) as f64).mul_add(m, o3[i]);
            }
        }
    }
}
