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
use super::fixed::OverflowCounts;
use super::layer::HwLayer;
use super::stats::ChannelNorm;
use crate::float::conv::{band_pixels, im2col_band};
use rayon::prelude::*;

/// μ-terms per (output channel, row mask, column mask), with each pixel's
/// row and column mask ids (see `fast::masks`).
pub(crate) struct MuTable<'a> {
    pub tab: &'a [i128],
    pub row_id: &'a [usize],
    pub col_id: &'a [usize],
    pub nr: usize,
    pub nc: usize,
}

impl HwLayer {
    /// `idx` holds the quantizer index of every activation (c×h×w) and `up`
    /// the shift from F to the PE's fraction bits. Precondition (checked by `run_fast`): no tap sum
    /// or accumulator can overflow and every output's Σ|terms| < 2^53.
    pub(crate) fn run_gemm(&self, idx: &[u8], up: u32, h: usize, w: usize, norms: &[ChannelNorm], mu: &MuTable) -> (Vec<i64>, OverflowCounts) {
        let hw = h * w;
        let kk = self.in_c * self.k * self.k;
        // a = M̂_c·s, built straight from the indices (no integer s plane)
        let mut a = vec![0f64; idx.len()];
        a.par_chunks_mut(hw).zip(idx.par_chunks(hw)).zip(norms.par_iter().zip(&self.quant)).for_each(|((ac, ic), (n, q))| {
            let lut: Vec<f64> = q.s_int.iter().map(|&v| ((v << up) * n.m_hat()) as f64).collect();
            ac.iter_mut().zip(ic).for_each(|(d, &i)| *d = lut[i as usize]);
        });
        let wf: Vec<f64> = self.w.iter().map(|&v| v as f64).collect();
        let act = self.act_reg();
        let band = band_pixels(kk, hw);
        let bands: Vec<(usize, usize)> = (0..hw).step_by(band).map(|p0| (p0, (p0 + band).min(hw))).collect();
        let results: Vec<(Vec<i64>, OverflowCounts)> = bands
            .par_iter()
            .map(|&(p0, p1)| {
                let n = p1 - p0;
                let cols;
                let (b_ptr, rsb) = if self.k == 1 {
                    (a[p0..].as_ptr(), hw as isize)
                } else {
                    cols = im2col_band(&a, self.in_c, h, w, self.k, p0, p1);
                    (cols.as_ptr(), n as isize)
                };
                let mut acc = vec![0f64; self.out_c * n];
                // SAFETY: A is out_c × kk (self.w has out_c·in_c·k² values),
                // B is kk × n (the im2col buffer, or for k == 1 elements
                // c·hw + p0 + j, j < n, inside `a` since p1 ≤ hw), C is out_c × n.
                unsafe {
                    matrixmultiply::dgemm(
                        self.out_c,
                        kk,
                        n,
                        1.0,
                        wf.as_ptr(),
                        kk as isize,
                        1,
                        b_ptr,
                        rsb,
                        1,
                        0.0,
                        acc.as_mut_ptr(),
                        n as isize,
                        1,
                    );
                }
                let mut ovf = OverflowCounts::default();
                let mut out = vec![0i64; self.out_c * n];
                // (row, column) of each band pixel, without a division per element
                let (mut y, mut x) = (p0 / w, p0 % w);
                let mut mask_at = Vec::with_capacity(n);
                for _ in 0..n {
                    mask_at.push(mu.row_id[y] * mu.nc + mu.col_id[x]);
                    x += 1;
                    if x == w {
                        (y, x) = (y + 1, 0);
                    }
                }
                for o in 0..self.out_c {
                    let tab = &mu.tab[o * mu.nr * mu.nc..(o + 1) * mu.nr * mu.nc];
                    for ((d, &v), &mi) in out[o * n..(o + 1) * n].iter_mut().zip(&acc[o * n..(o + 1) * n]).zip(&mask_at) {
                        *d = self.requantize(o, v as i64 + tab[mi] as i64, &act, &mut ovf.act_out);
                    }
                }
                (out, ovf)
            })
            .collect();
        super::fast::gather_bands(self.out_c, hw, &bands, results)
    }
}
