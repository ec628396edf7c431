//! Exact optimal point selection: the subset of U with at most k points that
//! minimises the squared quantization error, in O(n + k·|U|²).
//!
//! Nearest-point quantization onto sorted points p_1 < … < p_t splits the
//! line at midpoints, so the error is a sum of terms that each depend on two
//! consecutive chosen points: a chain. Dynamic programming over U (sorted)
//! with f[t][j] = best error of samples ≤ u_j using t points, the last u_j,
//! is exact. Segment errors come from `SampleHist` in O(1).
use super::hist::SampleHist;

/// Returns the chosen point indices into `u` (sorted) and their SSE.
pub fn optimal(hist: &SampleHist, u: &[i64], k: usize) -> (Vec<usize>, f64) {
    optimal_energy(hist, u, k, &[], 0.0)
}

/// The same DP with every sample that lands on point u_j also charged
/// `lambda · words[j]` (its code's active words): the cost stays a sum over
/// the segments nearest-point quantization makes, so the chain DP is still
/// exact. Returns the indices and the minimized cost (SSE + λ·word count).
/// `words` may be empty when `lambda` is 0.
pub fn optimal_energy(hist: &SampleHist, u: &[i64], k: usize, words: &[f64], lambda: f64) -> (Vec<usize>, f64) {
    let m = u.len();
    let k = k.min(m).max(1);
    // cost of sending the samples in (lo, hi] to u_j
    let seg = |lo: Option<i64>, hi: Option<i64>, j: usize| {
        let e = hist.seg_cost(lo, hi, u[j]);
        if lambda == 0.0 {
            e
        } else {
            e + lambda * words[j] * hist.seg_count(lo, hi)
        }
    };
    // gain[i][j] (i < j): cost of samples in (u_i, u_j] split at the midpoint.
    let pair = |i: usize, j: usize| {
        let mid = u[i] + u[j];
        seg(Some(2 * u[i]), Some(mid), i) + seg(Some(mid), Some(2 * u[j]), j)
    };
    let mut g = vec![0f64; m * m];
    for i in 0..m {
        for j in i + 1..m {
            g[i * m + j] = pair(i, j);
        }
    }
    let left: Vec<f64> = (0..m).map(|j| seg(None, Some(2 * u[j]), j)).collect();
    let right: Vec<f64> = (0..m).map(|j| seg(Some(2 * u[j]), None, j)).collect();

    let mut f = vec![vec![f64::INFINITY; m]; k];
    let mut from = vec![vec![usize::MAX; m]; k];
    f[0].clone_from(&left);
    for t in 1..k {
        let (prev, cur) = f.split_at_mut(t);
        let (prev, cur) = (&prev[t - 1], &mut cur[0]);
        for j in t..m {
            let (mut best, mut arg) = (f64::INFINITY, usize::MAX);
            for i in t - 1..j {
                let v = prev[i] + g[i * m + j];
                if v < best {
                    best = v;
                    arg = i;
                }
            }
            cur[j] = best;
            from[t][j] = arg;
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
