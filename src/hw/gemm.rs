//! The exact GEMM kernel of the bit-accurate conv.
//!
//! De-normalization distributes over the tap sums:
//! Σ_c M̂_c·(Σ_t w_oct·s_c(p+t)) = Σ_(c,t) w_oct·(M̂_c·s_c(p+t)), an identity
//! of integers. So folding M̂_c into the activations turns the whole layer
//! into one GEMM — weights (out_c × in_c·k²) times im2col(M̂·s) — which runs
//! in f64 with `matrixmultiply::dgemm`. It is exact, not approximately so:
//! the caller has proven that no register can overflow and that Σ|terms| of
//! every output is below 2^53, so every operand, product and partial sum, in
//! any summation order and with or without FMA, is an integer f64 holds
//! exactly. The result then equals `HwLayer::run_reference` bit for bit.
use super::bands::gather_bands;
use super::border::MuTable;
use super::fixed::OverflowCounts;
use super::layer::HwLayer;
use super::stats::ChannelNorm;
use crate::float::conv::{band_pixels, im2col_band};
use rayon::prelude::*;

impl HwLayer {
    /// `idx` holds the quantizer index of every activation (c×h×w) and `up`
    /// the shift from F to the PE's fraction bits. Precondition (checked by `run_fast`): no tap sum
    /// or accumulator can overflow and every output's Σ|terms| < 2^53.
    pub(crate) fn run_gemm(&self, idx: &[u8], up: u32, h: usize, w: usize, norms: &[ChannelNorm], mu: &MuTable) -> (Vec<i64>, OverflowCounts) {
        let hw = h * w;
        let kk = self.in_c * self.k * self.k;
        let a = self.folded_activations(idx, up, hw, norms);
        let wf: Vec<f64> = self.w.iter().map(|&v| v as f64).collect();
        let act = self.act_reg();
        let band = band_pixels(kk, hw);
        let bands: Vec<(usize, usize)> = (0..hw).step_by(band).map(|p0| (p0, (p0 + band).min(hw))).collect();
        let results: Vec<(Vec<i64>, OverflowCounts)> = bands
            .par_iter()
            .map(|&(p0, p1)| {
                let n = p1 - p0;
                let acc = self.band_acc(&a, &wf, h, w, p0, p1);
                let mut ovf = OverflowCounts::default();
                let mut out = vec![0i64; self.out_c * n];
                // (row, column) of each band pixel, without a division per element
                let (mut y, mut x) = (p0 / w, p0 % w);
                let mut mask_at = Vec::with_capacity(n);
                for _ in 0..n {
                    mask_at.push(mu.mask_index(y, x));
                    x += 1;
                    if x == w {
                        (y, x) = (y + 1, 0);
                    }
                }
                for o in 0..self.out_c {
                    let tab = mu.channel(o);
                    for ((d, &v), &mi) in out[o * n..(o + 1) * n].iter_mut().zip(&acc[o * n..(o + 1) * n]).zip(&mask_at) {
                        *d = self.requantize(o, v as i64 + tab[mi] as i64, &act, &mut ovf.act_out);
                    }
                }
                (out, ovf)
            })
            .collect();
        gather_bands(self.out_c, hw, &bands, results)
    }

    /// a = M̂_c·s per activation, built straight from the indices through a
    /// per-channel table (no integer s plane).
    fn folded_activations(&self, idx: &[u8], up: u32, hw: usize, norms: &[ChannelNorm]) -> Vec<f64> {
        let mut a = vec![0f64; idx.len()];
        a.par_chunks_mut(hw).zip(idx.par_chunks(hw)).zip(norms.par_iter().zip(&self.quant)).for_each(|((ac, ic), (n, q))| {
            let lut: Vec<f64> = q.s_int.iter().map(|&v| ((v << up) * n.m_hat()) as f64).collect();
            ac.iter_mut().zip(ic).for_each(|(d, &i)| *d = lut[i as usize]);
        });
        a
    }

    /// The de-normalized accumulators (before the μ term) of band pixels
    /// `p0..p1`, out_c rows of p1 − p0.
    fn band_acc(&self, a: &[f64], wf: &[f64], h: usize, w: usize, p0: usize, p1: usize) -> Vec<f64> {
        band_gemm(a, self.in_c, wf, self.out_c, h, w, self.k, p0, p1)
    }
}

/// Weights (out_c × in_c·k², row-major) times im2col of `a` (in_c×h×w,
/// zero padding) for band pixels `p0..p1`: out_c rows of p1 − p0. Shared by
/// the DFSQ and the uniform-integer kernels; exact when the caller has
/// bounded every output's Σ|terms| below 2^53.
#[allow(clippy::too_many_arguments)]
pub(crate) fn band_gemm(a: &[f64], in_c: usize, wf: &[f64], out_c: usize, h: usize, w: usize, k: usize, p0: usize, p1: usize) -> Vec<f64> {
    let n = p1 - p0;
    let hw = h * w;
    let kk = in_c * k * k;
    // the sizes the unsafe call below relies on
    assert!(wf.len() == out_c * kk && a.len() == in_c * hw && p0 < p1 && p1 <= hw);
    let cols;
    let (b_ptr, rsb) = if k == 1 {
        (a[p0..].as_ptr(), hw as isize)
    } else {
        cols = im2col_band(a, in_c, h, w, k, p0, p1);
        (cols.as_ptr(), n as isize)
    };
    let mut acc = vec![0f64; out_c * n];
    // SAFETY: A is out_c × kk (wf has out_c·in_c·k² values, asserted),
    // B is kk × n (the im2col buffer, or for k == 1 elements
    // c·hw + p0 + j, j < n, inside `a` since p1 ≤ hw), C is out_c × n.
    unsafe {
        matrixmultiply::dgemm(out_c, kk, n, 1.0, wf.as_ptr(), kk as isize, 1, b_ptr, rsb, 1, 0.0, acc.as_mut_ptr(), n as isize, 1);
    }
    acc
}

#[cfg(test)]
mod tests {
    use crate::config::HwConfig;
    use crate::dfsq::QuantLayer;
    use crate::hw::HwLayer;
    use crate::model::Conv2d;
    use crate::quant::{quantize_weights, Granularity};
    use crate::rng::SplitMix64;
    use crate::select::{select, Method, SelectConfig};
    use crate::sq::UniversalSet;

    /// Layer outputs are requantized, so comparing them can hide a one-LSB
    /// accumulator error; this compares the GEMM's accumulators themselves
    /// with Σ_c M̂_c·(Σ_t w·s) computed in i128 from the definition.
    #[test]
    fn gemm_accumulators_equal_the_integer_definition() {
        let u = UniversalSet::default();
        for (seed, in_c, out_c, k, h, w, bits) in [(1, 5, 7, 3, 9, 11, 4), (2, 8, 3, 1, 6, 5, 8), (3, 3, 4, 5, 7, 7, 3)] {
            let mut r = SplitMix64::new(seed);
            let wt: Vec<f32> = (0..out_c * in_c * k * k).map(|_| (r.next_f64() as f32 - 0.45) * 0.3).collect();
            let conv = Conv2d::new("t", in_c, out_c, k, wt, vec![0.1; out_c]).unwrap();
            let qw = quantize_weights("t", &conv.weight, out_c, in_c, k, bits, Granularity::PerOutputChannel).unwrap();
            let samples: Vec<f32> = (0..500).map(|_| (r.next_f64() * 2.0 - 1.0) as f32).collect();
            let pts = select(&samples, &u, &SelectConfig { bits, method: Method::KMeans, ..Default::default() }, 0).unwrap().points;
            let deq = Conv2d { weight: qw.dequantize(), ..conv };
            let ql = QuantLayer { qweights: qw, deq_conv: deq, points: vec![pts; in_c] };
            let layer = HwLayer::prepare(&ql, &u, &HwConfig::default()).unwrap();
            let hw = h * w;
            let x: Vec<i64> = (0..in_c * hw).map(|_| ((r.next_f64() - 0.4) * 9000.0) as i64).collect();
            let norms = layer.norms(&x, hw, false);
            let idx = layer.indices(&x, hw, &norms);
            let up = layer.exact_up().expect("the default preset's products are exact");
            let a = layer.folded_activations(&idx, up, hw, &norms);
            let wf: Vec<f64> = layer.w.iter().map(|&v| v as f64).collect();
            // the whole map, and two bands that split a row
            let cut = hw / 2 + 1;
            let mut got = vec![0f64; out_c * hw];
            for (p0, p1) in [(0, cut), (cut, hw)] {
                let acc = layer.band_acc(&a, &wf, h, w, p0, p1);
                for o in 0..out_c {
                    got[o * hw + p0..o * hw + p1].copy_from_slice(&acc[o * (p1 - p0)..(o + 1) * (p1 - p0)]);
                }
            }
            assert_eq!(got, layer.band_acc(&a, &wf, h, w, 0, hw), "banding changed the result");
            let pad = (k / 2) as isize;
            for o in 0..out_c {
                for y in 0..h {
                    for xx in 0..w {
                        let mut want = 0i128;
                        for c in 0..in_c {
                            let mut tap = 0i128;
                            for t in 0..k * k {
                                let (sy, sx) = (y as isize + (t / k) as isize - pad, xx as isize + (t % k) as isize - pad);
                                if sy < 0 || sx < 0 || sy >= h as isize || sx >= w as isize {
                                    continue;
                                }
                                let p = c * hw + sy as usize * w + sx as usize;
                                let s = (layer.quant[c].s_int[idx[p] as usize] << up) as i128;
                                tap += layer.weight(o, c, t) as i128 * s;
                            }
                            want += tap * norms[c].m_hat() as i128;
                        }
                        let g = got[o * hw + y * w + xx];
                        assert_eq!(g as i128, want, "seed {seed} o {o} ({y},{xx})");
                        assert_eq!(g.fract(), 0.0);
                    }
                }
            }
        }
    }
}
