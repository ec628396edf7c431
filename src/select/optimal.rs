//! Exact optimal point selection: the subset of U with at most k points that
//! minimises the squared quantization error.
//!
//! Nearest-point quantization onto sorted points p_1 < … < p_t splits the
//! line at midpoints, so the error is a sum of terms that each depend on two
//! consecutive chosen points: a chain. Dynamic programming over U (sorted)
//! with f[t][j] = best error of samples ≤ u_j using t points, the last u_j,
//! is exact. Segment errors come from `SampleHist` in O(1).
//!
//! [`optimal_reference`] is that DP in full, O(k·|U|²). [`optimal`] computes
//! the same thing faster, on two exact facts:
//! - **hull**: a point below the largest u ≤ every sample (or above the
//!   smallest u ≥ every sample) is either empty — dropping it gives the same
//!   error with fewer points, which the DP prefers — or strictly beaten by
//!   that u, so the DP runs on the hull of the data only;
//! - **Monge**: the pair cost g(i, j) (samples between u_i and u_j, split at
//!   the midpoint) obeys g(a,c) + g(b,d) ≤ g(a,d) + g(b,c) for a ≤ b ≤ c ≤ d,
//!   because per sample min(s,t)² is supermodular. So each layer's leftmost
//!   argmin is non-decreasing in j, and divide and conquer finds every row's
//!   minimum in O(|U| log |U|): O(k·|U|·log |U|) in all.
//!
//! Both evaluate every candidate with the same floating-point expression, so
//! they agree exactly except where two chains tie to within rounding;
//! tests/select.rs requires the same points and error as the reference on
//! two-sided, one-sided, tied and tiny histograms at 2–8 bits.
//! The energy-charged variant keeps the full DP: λ·words breaks both facts.
use super::hist::SampleHist;

/// Returns the chosen point indices into `u` (sorted) and their SSE.
pub fn optimal(hist: &SampleHist, u: &[i64], k: usize) -> (Vec<usize>, f64) {
    let (lo, hi) = hull(hist, u);
    let sub = &u[lo..=hi];
    let seg = |l: Option<i64>, h: Option<i64>, j: usize| hist.seg_cost(l, h, sub[j]);
    let (idx, e) = chain(sub, k, &seg, Layer::Monotone);
    (idx.into_iter().map(|i| i + lo).collect(), e)
}

/// The full O(k·|U|²) DP over all of U: the naive reference of [`optimal`].
pub fn optimal_reference(hist: &SampleHist, u: &[i64], k: usize) -> (Vec<usize>, f64) {
    optimal_energy(hist, u, k, &[], 0.0)
}

/// The same DP with every sample that lands on point u_j also charged
/// `lambda · words[j]` (its code's active words): the cost stays a sum over
/// the segments nearest-point quantization makes, so the chain DP is still
/// exact. Returns the indices and the minimized cost (SSE + λ·word count).
/// `words` may be empty when `lambda` is 0.
pub fn optimal_energy(hist: &SampleHist, u: &[i64], k: usize, words: &[f64], lambda: f64) -> (Vec<usize>, f64) {
    // cost of sending the samples in (lo, hi] to u_j
    let seg = |lo: Option<i64>, hi: Option<i64>, j: usize| {
        let e = hist.seg_cost(lo, hi, u[j]);
        if lambda == 0.0 {
            e
        } else {
            e + lambda * words[j] * hist.seg_count(lo, hi)
        }
    };
    chain(u, k, &seg, Layer::Full)
}

/// Index range [lo, hi] of U that can hold an optimal point: from the
/// largest u at or below every sample to the smallest u at or above every
/// sample (the whole of U when the histogram's end cells are occupied).
fn hull(hist: &SampleHist, u: &[i64]) -> (usize, usize) {
    let Some((t_min, t_max)) = hist.occupied() else { return (0, u.len() - 1) };
    // samples lie in ((t_min − 1)/G, t_max/G]; u = v/2^F sits at 2v on the grid
    let lo = u.partition_point(|&v| 2 * v <= t_min - 1).saturating_sub(1);
    let hi = u.partition_point(|&v| 2 * v < t_max).min(u.len() - 1);
    (lo, hi.max(lo))
}

/// How one DP layer finds, for each j, its best predecessor i.
#[derive(Clone, Copy)]
enum Layer {
    /// every i < j
    Full,
    /// divide and conquer on the monotone leftmost argmin (Monge costs)
    Monotone,
}

/// The chain DP over sorted `u` with at most `k` points; `seg(lo, hi, j)` is
/// the cost of sending the samples in (lo, hi] (grid units) to u_j.
fn chain(u: &[i64], k: usize, seg: &dyn Fn(Option<i64>, Option<i64>, usize) -> f64, layer: Layer) -> (Vec<usize>, f64) {
    let m = u.len();
    let k = k.min(m).max(1);
    // g(i, j), i < j: cost of the samples in (u_i, u_j] split at the midpoint
    let pair = |i: usize, j: usize| {
        let mid = u[i] + u[j];
        seg(Some(2 * u[i]), Some(mid), i) + seg(Some(mid), Some(2 * u[j]), j)
    };
    // stored by column (g[j·m + i]) so a row's scan over i is contiguous;
    // the monotone search touches only O(k·m·log m) pairs, so it tabulates
    // them only when that is more than the m²/2 a table costs
    let table = matches!(layer, Layer::Full) || k * (usize::BITS - m.leading_zeros()) as usize > m / 2;
    let mut g = Vec::new();
    if table {
        g = vec![0f64; m * m];
        for j in 0..m {
            for i in 0..j {
                g[j * m + i] = pair(i, j);
            }
        }
    }
    let cost = |i: usize, j: usize| if table { g[j * m + i] } else { pair(i, j) };
    let left: Vec<f64> = (0..m).map(|j| seg(None, Some(2 * u[j]), j)).collect();
    let right: Vec<f64> = (0..m).map(|j| seg(Some(2 * u[j]), None, j)).collect();

    let mut f = vec![vec![f64::INFINITY; m]; k];
    let mut from = vec![vec![usize::MAX; m]; k];
    f[0].clone_from(&left);
    for t in 1..k {
        let (prev, cur) = f.split_at_mut(t);
        let (prev, cur) = (&prev[t - 1], &mut cur[0]);
        // leftmost strict minimum of prev[i] + g(i, j) over i in [ilo, ihi]
        let best = |j: usize, ilo: usize, ihi: usize| {
            let (mut best, mut arg) = (f64::INFINITY, usize::MAX);
            for i in ilo..=ihi {
                let v = prev[i] + cost(i, j);
                if v < best {
                    best = v;
                    arg = i;
                }
            }
            (best, arg)
        };
        match layer {
            Layer::Full => {
                for j in t..m {
                    (cur[j], from[t][j]) = best(j, t - 1, j - 1);
                }
            }
            Layer::Monotone => {
                // (j range, i range) still to solve; ilo ≤ jlo − 1 throughout
                let mut todo = vec![(t, m - 1, t - 1, m - 2)];
                while let Some((jlo, jhi, ilo, ihi)) = todo.pop() {
                    if jlo > jhi {
                        continue;
                    }
                    let mid = jlo + (jhi - jlo) / 2;
                    let (v, arg) = best(mid, ilo, ihi.min(mid - 1));
                    cur[mid] = v;
                    from[t][mid] = arg;
                    if mid > jlo {
                        todo.push((jlo, mid - 1, ilo, arg));
                    }
                    todo.push((mid + 1, jhi, arg, ihi));
                }
            }
        }
    }
    let (mut best, mut bt, mut bj) = (f64::INFINITY, 0, 0);
    for (t, row) in f.iter().enumerate() {
        for j in 0..m {
            let v = row[j] + right[j];
            if v < best {
                (best, bt, bj) = (v, t, j);
            }
        }
    }
    let mut chosen = vec![bj];
    let (mut t, mut j) = (bt, bj);
    while t > 0 {
        j = from[t][j];
        t -= 1;
        chosen.push(j);
    }
    chosen.reverse();
    (chosen, best)
}
