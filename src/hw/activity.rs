//! What term gating saves: how many words of each SQ code a PE receives
//! are on. Measured per layer and image on the codes the quantizer really
//! produces, weighted by the MACs each activation takes part in.
use super::layer::HwLayer;
use crate::cycle::plan::inside_1d;
use crate::sq::wordset::MAX_WORDS;
use crate::sq::Decoded;
use serde::{Deserialize, Serialize};

/// MACs by the number of active words of their code; bucket 0 holds the
/// all-zero code (value 0: the gated PE does nothing at all).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub macs_by_words: [u64; MAX_WORDS + 1],
}

impl Activity {
    /// The gating class of a code: 0 for value 0, else its active words.
    #[inline]
    pub fn class(d: &Decoded) -> usize {
        if d.int_value == 0 {
            0
        } else {
            d.shifts[..d.n_words].iter().filter(|s| s.is_some()).count()
        }
    }

    pub fn macs(&self) -> u64 {
        self.macs_by_words.iter().sum()
    }
    /// Σ active words over every MAC (shifter/adder slices that toggle).
    pub fn word_ops(&self) -> u64 {
        self.macs_by_words.iter().enumerate().map(|(a, &n)| a as u64 * n).sum()
    }
    /// MACs whose code is all zero.
    pub fn zero_macs(&self) -> u64 {
        self.macs_by_words[0]
    }
    /// Share of PE words that are off, of `n_words` per MAC.
    pub fn off_word_share(&self, n_words: usize) -> f64 {
        let all = self.macs() as f64 * n_words as f64;
        if all == 0.0 {
            0.0
        } else {
            1.0 - self.word_ops() as f64 / all
        }
    }
    pub fn add(&mut self, o: &Activity) {
        for (a, b) in self.macs_by_words.iter_mut().zip(&o.macs_by_words) {
            *a += b;
        }
    }
    pub fn sub(&self, o: &Activity) -> Activity {
        let mut r = *self;
        for (a, b) in r.macs_by_words.iter_mut().zip(&o.macs_by_words) {
            *a -= b;
        }
        r
    }

    /// A layer's activity on input `x` (activation units): the stats unit
    /// and quantizer as the datapath runs them, then `of_indices`.
    pub fn of_input(layer: &HwLayer, x: &[i64], h: usize, w: usize, post_relu: bool) -> Activity {
        let norms = layer.norms(x, h * w, post_relu);
        Activity::of_indices(layer, &layer.indices(x, h * w, &norms), h, w)
    }

    /// From a layer's quantizer indices ([c][y][x]): activation (c, y, x)
    /// meets `out_c` weights at every tap whose output pixel is inside the
    /// image ('same' padding, odd k: as many as taps inside around it).
    pub fn of_indices(layer: &HwLayer, idx: &[u8], h: usize, w: usize) -> Activity {
        let mut a = Activity::default();
        let ry: Vec<u64> = (0..h).map(|y| inside_1d(h, layer.k, y) as u64).collect();
        let rx: Vec<u64> = (0..w).map(|x| inside_1d(w, layer.k, x) as u64).collect();
        for (c, plane) in idx.chunks(h * w).enumerate().take(layer.in_c) {
            let class: Vec<usize> = layer.quant[c].decoded.iter().map(Activity::class).collect();
            for (y, row) in plane.chunks(w).enumerate() {
                for (x, &i) in row.iter().enumerate() {
                    a.macs_by_words[class[i as usize]] += ry[y] * rx[x];
                }
            }
        }
        for n in a.macs_by_words.iter_mut() {
            *n *= layer.out_c as u64;
        }
        a
    }
}
