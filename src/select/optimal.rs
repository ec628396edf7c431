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
    let m = u.len();
    let k = k.min(m).max(1);
    // gain[i][j] (i < j): error of samples in (u_i, u_j] split at the midpoint.
    let pair = |i: usize, j: usize| {
        let mid = u[i] + u[j];
        hist.seg_cost(Some(2 * u[i]), Some(mid), u[i]) + hist.seg_cost(Some(mid), Some(2 * u[j]), u[j])
    };
    let mut g = vec![0f64; m * m];
    for i in 0..m {
        for j in i + 1..m {
            g[i * m + j] = pair(i, j);
        }
    }
    let left: Vec<f64> = (0..m).map(|j| hist.seg_cost(None, Some(2 * u[j]), u[j])).collect();
    let right: Vec<f64> = (0..m).map(|j| hist.seg_cost(Some(2 * u[j]), None, u[j])).collect();

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
