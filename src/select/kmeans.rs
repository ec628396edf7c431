//! DFSQ's fast selection: 1-D k-means with one centre pinned at 0, several
//! seeded restarts, every centre snapped to its nearest value of U; the
//! restart whose snapped points give the lowest squared error wins.
//!
//! Lloyd runs on the histogram cells (weighted by count, at the cell's mean)
//! rather than on raw samples: cells are 2^-(F+1) wide, half the spacing of U,
//! so the clustering differs from sample-level Lloyd only for samples within
//! one cell of a boundary, and every iteration costs O(cells), not O(n).
//! The reported error is always the exact one from the histogram.
use super::hist::SampleHist;
use crate::rng::SplitMix64;

pub struct KMeansParams {
    pub k: usize,
    pub restarts: usize,
    pub max_iter: usize,
}

/// Lloyd's algorithm on weighted 1-D points; centre 0 stays pinned at 0.
fn lloyd(cells: &[(f64, f64)], k: usize, rng: &mut SplitMix64, max_iter: usize) -> Vec<f64> {
    // k-means++ seeding with the pinned zero as the first centre.
    let mut centres = vec![0.0f64];
    let mut d2: Vec<f64> = cells.iter().map(|&(x, w)| w * x * x).collect();
    // Σ d2 in index order, kept by the update loop below (the same sequential
    // sum a separate pass would make, so the picks are unchanged)
    let mut total: f64 = d2.iter().sum();
    while centres.len() < k {
        if total <= 0.0 {
            break; // every cell already sits on a centre
        }
        let mut r = rng.next_f64() * total;
        let mut pick = cells.len() - 1;
        for (i, &d) in d2.iter().enumerate() {
            if r < d {
                pick = i;
                break;
            }
            r -= d;
        }
        let c = cells[pick].0;
        centres.push(c);
        total = 0.0;
        for (d, &(x, w)) in d2.iter_mut().zip(cells) {
            *d = d.min(w * (x - c) * (x - c));
            total += *d;
        }
    }
    for _ in 0..max_iter {
        let mut order: Vec<usize> = (0..centres.len()).collect();
        order.sort_by(|&a, &b| centres[a].total_cmp(&centres[b]));
        let mut sum = vec![0f64; centres.len()];
        let mut wsum = vec![0f64; centres.len()];
        // cells are sorted ascending, so the nearest centre index only grows
        let mut c = 0;
        for &(x, w) in cells {
            while c + 1 < order.len() && (centres[order[c + 1]] - x).abs() < (x - centres[order[c]]).abs() {
                c += 1;
            }
            sum[order[c]] += w * x;
            wsum[order[c]] += w;
        }
        let mut moved = false;
        for i in 1..centres.len() {
            if wsum[i] > 0.0 {
                let nc = sum[i] / wsum[i];
                if nc != centres[i] {
                    moved = true;
                    centres[i] = nc;
                }
            }
        }
        if !moved {
            break;
        }
    }
    centres
}

/// Returns sorted, distinct snapped point indices into `u` and their SSE.
pub fn kmeans(hist: &SampleHist, u: &[i64], p: &KMeansParams, rng: &mut SplitMix64) -> (Vec<usize>, f64) {
    let cells = hist.cells();
    let scale = (1u64 << hist.frac_bits) as f64;
    let mut best: Option<(Vec<usize>, f64)> = None;
    for _ in 0..p.restarts.max(1) {
        let centres = lloyd(&cells, p.k, rng, p.max_iter);
        let mut idx: Vec<usize> = centres.iter().map(|&c| nearest_index(u, c * scale)).collect();
        idx.sort_unstable();
        idx.dedup();
        let pts: Vec<i64> = idx.iter().map(|&i| u[i]).collect();
        let e = hist.sse(&pts);
        if best.as_ref().is_none_or(|b| e < b.1) {
            best = Some((idx, e));
        }
    }
    best.expect("at least one restart ran")
}

/// Nearest value of sorted `u` to `x` (both in integer units); ties → lower.
pub fn nearest_index(u: &[i64], x: f64) -> usize {
    let hi = u.partition_point(|&v| (v as f64) < x);
    if hi == 0 {
        return 0;
    }
    if hi == u.len() {
        return hi - 1;
    }
    if x - u[hi - 1] as f64 <= u[hi] as f64 - x {
        hi - 1
    } else {
        hi
    }
}
