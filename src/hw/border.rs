//! The image border, one rule for every kernel and model: tap t of a
//! k-wide kernel at coordinate i reads i + t − k/2, and is inside iff
//! 0 ≤ i + t − k/2 < n (zero 'same' padding outside). Along one axis,
//! coordinates share a mask (bit t set = tap t inside); the μ table holds
//! one μ term per (output channel, row mask, column mask), so the μ term of
//! a pixel is a lookup. Used by the naive reference, the fast and GEMM
//! kernels, the cycle model's PE arithmetic and the plan's μ-table size.
use rayon::prelude::*;

/// Whether tap `t` of a `k`-wide kernel at coordinate `i` of an axis of
/// length `n` reads a pixel inside the image.
#[inline]
pub fn inside(i: usize, t: usize, n: usize, k: usize) -> bool {
    let s = i as isize + t as isize - (k / 2) as isize;
    s >= 0 && s < n as isize
}

/// Per coordinate of one axis, the id of its mask; and the distinct masks
/// in order of first appearance.
#[derive(Clone, Debug)]
pub struct AxisMasks {
    pub id: Vec<usize>,
    pub masks: Vec<u64>,
}

impl AxisMasks {
    pub fn new(n: usize, k: usize) -> Self {
        let mut masks: Vec<u64> = Vec::new();
        let id = (0..n)
            .map(|i| {
                let m = (0..k).fold(0u64, |m, t| if inside(i, t, n, k) { m | 1 << t } else { m });
                masks.iter().position(|&u| u == m).unwrap_or_else(|| {
                    masks.push(m);
                    masks.len() - 1
                })
            })
            .collect();
        AxisMasks { id, masks }
    }
}

/// μ term per (output channel, row mask, column mask) of one layer input
/// (built by `HwLayer::mu_table` from `HwLayer::mu_term`).
#[derive(Clone, Debug)]
pub struct MuTable {
    pub tab: Vec<i128>,
    pub rows: AxisMasks,
    pub cols: AxisMasks,
}

impl MuTable {
    /// `term(o, inside)`: the μ term of output channel `o` when the taps
    /// `inside(ky, kx)` are inside the image.
    pub fn new(out_c: usize, k: usize, h: usize, w: usize, term: impl Fn(usize, &dyn Fn(usize, usize) -> bool) -> i128 + Sync) -> Self {
        let (rows, cols) = (AxisMasks::new(h, k), AxisMasks::new(w, k));
        let (nr, nc) = (rows.masks.len(), cols.masks.len());
        let mut tab = vec![0i128; out_c * nr * nc];
        tab.par_chunks_mut(nr * nc).enumerate().for_each(|(o, t)| {
            for (ri, &rm) in rows.masks.iter().enumerate() {
                for (ci, &cm) in cols.masks.iter().enumerate() {
                    t[ri * nc + ci] = term(o, &|ky, kx| rm >> ky & 1 == 1 && cm >> kx & 1 == 1);
                }
            }
        });
        MuTable { tab, rows, cols }
    }

    /// Entries per output channel.
    #[inline]
    pub fn per_channel(&self) -> usize {
        self.rows.masks.len() * self.cols.masks.len()
    }

    /// Index of pixel (y, x)'s entry inside one output channel's slice.
    #[inline]
    pub fn mask_index(&self, y: usize, x: usize) -> usize {
        self.rows.id[y] * self.cols.masks.len() + self.cols.id[x]
    }

    /// Output channel `o`'s entries.
    #[inline]
    pub fn channel(&self, o: usize) -> &[i128] {
        let n = self.per_channel();
        &self.tab[o * n..(o + 1) * n]
    }

    #[inline]
    pub fn get(&self, o: usize, y: usize, x: usize) -> i128 {
        self.tab[o * self.per_channel() + self.mask_index(y, x)]
    }

    pub fn max_abs(&self) -> i128 {
        self.tab.iter().map(|v| v.abs()).max().unwrap_or(0)
    }
}
