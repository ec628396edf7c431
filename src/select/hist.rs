//! Exact sufficient statistics of a channel's samples for squared-error
//! quantization onto points of the universal set.
//!
//! Every decision boundary that matters — a point u = a/2^F or the midpoint
//! of two points (a+b)/2^(F+1) — lies on the grid 1/G with G = 2^(F+1). So
//! one O(n) pass that buckets samples into grid cells ((g−1)/G, g/G] and
//! keeps count, Σx and Σx² per cell gives the *exact* squared error of any
//! point set in O(1) per segment, with no sorting.
use crate::{Error, Result};

#[derive(Clone, Debug)]
pub struct SampleHist {
    /// Grid resolution exponent: G = 2^(frac_bits + 1).
    pub frac_bits: u32,
    /// Prefix sums over cells 0..=g (cell g covers ((g−1−G)/G, (g−G)/G];
    /// the end cells absorb everything beyond ±1).
    cnt: Vec<f64>,
    s1: Vec<f64>,
    s2: Vec<f64>,
    pub n: usize,
}

/// Accumulates cell sums over many sample batches (images), so calibration
/// never holds all samples in memory. Batches must be added in a fixed order
/// for bit-identical sums.
#[derive(Clone, Debug)]
pub struct HistAccum {
    pub frac_bits: u32,
    cnt: Vec<f64>,
    s1: Vec<f64>,
    s2: Vec<f64>,
    n: usize,
}

impl HistAccum {
    pub fn new(frac_bits: u32) -> Result<Self> {
        if frac_bits > 20 {
            return Err(Error::arg("frac_bits", format!("{frac_bits} > 20 makes the histogram too large")));
        }
        let cells = (2 * (1usize << (frac_bits + 1))) + 1;
        Ok(HistAccum { frac_bits, cnt: vec![0.0; cells], s1: vec![0.0; cells], s2: vec![0.0; cells], n: 0 })
    }

    pub fn add(&mut self, samples: &[f32]) -> Result<()> {
        let g = 1i64 << (self.frac_bits + 1);
        for (i, &x) in samples.iter().enumerate() {
            if !x.is_finite() {
                return Err(Error::NonFinite { what: format!("sample {} ({x})", self.n + i) });
            }
            let x = x as f64;
            // ceil(clamp(x·G)) by truncation: exact (|x·G| ≤ G ≪ 2^53) and
            // inlined, where f64::ceil is a libm call on the baseline target
            let y = (x * g as f64).clamp(-g as f64, g as f64);
            let t = y as i64;
            let cell = (t + i64::from((t as f64) < y) + g) as usize;
            self.cnt[cell] += 1.0;
            self.s1[cell] += x;
            self.s2[cell] += x * x;
        }
        self.n += samples.len();
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.n
    }
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    pub fn finish(&self) -> Result<SampleHist> {
        if self.n == 0 {
            return Err(Error::arg("samples", "empty: point selection needs at least one sample"));
        }
        let (mut cnt, mut s1, mut s2) = (self.cnt.clone(), self.s1.clone(), self.s2.clone());
        for i in 1..cnt.len() {
            cnt[i] += cnt[i - 1];
            s1[i] += s1[i - 1];
            s2[i] += s2[i - 1];
        }
        Ok(SampleHist { frac_bits: self.frac_bits, cnt, s1, s2, n: self.n })
    }
}

impl SampleHist {
    pub fn new(samples: &[f32], frac_bits: u32) -> Result<Self> {
        let mut acc = HistAccum::new(frac_bits)?;
        acc.add(samples)?;
        acc.finish()
    }

    fn g(&self) -> i64 {
        1i64 << (self.frac_bits + 1)
    }

    /// Prefix index for "all samples ≤ t/G" (t in grid units).
    fn idx(&self, t: i64) -> Option<usize> {
        let i = t + self.g();
        if i < 0 {
            None
        } else {
            Some((i as usize).min(self.cnt.len() - 1))
        }
    }

    /// Squared error of sending every sample in (lo/G, hi/G] to `p`
    /// (p = p_int / 2^F). `lo = None` means −∞, `hi = None` means +∞.
    pub fn seg_cost(&self, lo: Option<i64>, hi: Option<i64>, p_int: i64) -> f64 {
        let Some((lo_i, hi_i)) = self.span(lo, hi) else { return 0.0 };
        let take = |v: &Vec<f64>| v[hi_i] - lo_i.map_or(0.0, |l| v[l]);
        let (n, s1, s2) = (take(&self.cnt), take(&self.s1), take(&self.s2));
        if n <= 0.0 {
            return 0.0;
        }
        let p = p_int as f64 / (1u64 << self.frac_bits) as f64;
        (s2 - 2.0 * p * s1 + p * p * n).max(0.0)
    }

    /// Number of samples in (lo/G, hi/G] (`None`: unbounded), as `seg_cost` takes them.
    pub fn seg_count(&self, lo: Option<i64>, hi: Option<i64>) -> f64 {
        let Some((lo_i, hi_i)) = self.span(lo, hi) else { return 0.0 };
        (self.cnt[hi_i] - lo_i.map_or(0.0, |l| self.cnt[l])).max(0.0)
    }

    /// Prefix indices (exclusive low, inclusive high) of (lo/G, hi/G];
    /// `None` when the segment ends below every cell.
    fn span(&self, lo: Option<i64>, hi: Option<i64>) -> Option<(Option<usize>, usize)> {
        let hi_i = match hi {
            None => self.cnt.len() - 1,
            Some(h) => self.idx(h)?,
        };
        Some((lo.and_then(|l| self.idx(l)), hi_i))
    }

    /// Total squared error of nearest-point quantization (ties to the lower
    /// point) onto the sorted, distinct `points` (integers at frac_bits).
    pub fn sse(&self, points: &[i64]) -> f64 {
        let mut total = 0.0;
        for (j, &p) in points.iter().enumerate() {
            let lo = if j == 0 { None } else { Some(points[j - 1] + p) };
            let hi = points.get(j + 1).map(|&q| p + q);
            total += self.seg_cost(lo, hi, p);
        }
        total
    }

    /// Grid positions (t_min, t_max) of the first and last non-empty cells:
    /// every sample lies in ((t_min − 1)/G, t_max/G], the end cells reaching
    /// to ∓∞. `None` when there are no samples.
    pub fn occupied(&self) -> Option<(i64, i64)> {
        let first = self.cnt.iter().position(|&c| c > 0.0)?;
        let last = (1..self.cnt.len()).rev().find(|&i| self.cnt[i] > self.cnt[i - 1]).unwrap_or(first);
        Some((first as i64 - self.g(), last as i64 - self.g()))
    }

    /// Non-empty cells as (mean value, count): the weighted points k-means
    /// clusters (within one cell samples differ by < 2^-(F+1)).
    pub fn cells(&self) -> Vec<(f64, f64)> {
        let mut out = Vec::new();
        let mut prev = (0.0, 0.0);
        for i in 0..self.cnt.len() {
            let c = self.cnt[i] - prev.0;
            let s = self.s1[i] - prev.1;
            if c > 0.0 {
                out.push((s / c, c));
            }
            prev = (self.cnt[i], self.s1[i]);
        }
        out
    }
}
