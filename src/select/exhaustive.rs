//! Exhaustive search over every k-subset of U — the paper's exponential
//! baseline. Kept only to verify the optimal DP on small instances; it
//! measures error directly on the raw samples (not the histogram), so it is
//! an independent check of both.
use crate::{Error, Result};

/// Upper bound on subsets enumerated before refusing.
pub const MAX_SUBSETS: u128 = 5_000_000;

pub fn n_subsets(m: usize, k: usize) -> u128 {
    let k = k.min(m);
    let mut c: u128 = 1;
    for i in 0..k {
        c = c * (m - i) as u128 / (i + 1) as u128;
        if c > u128::MAX / 1024 {
            return u128::MAX;
        }
    }
    c
}

/// Direct SSE of nearest-point quantization (ties to the lower point).
pub fn direct_sse(samples: &[f32], points: &[f64]) -> f64 {
    samples
        .iter()
        .map(|&x| {
            let x = x as f64;
            let mut best = f64::INFINITY;
            for &p in points {
                let d = (x - p) * (x - p);
                if d < best {
                    best = d;
                }
            }
            best
        })
        .sum()
}

pub fn exhaustive(samples: &[f32], u: &[f64], k: usize) -> Result<(Vec<usize>, f64)> {
    let m = u.len();
    let k = k.min(m).max(1);
    let count = n_subsets(m, k);
    if count > MAX_SUBSETS {
        return Err(Error::arg(
            "method",
            format!("exhaustive search over C({m},{k}) = {count} subsets exceeds {MAX_SUBSETS}; use `optimal`"),
        ));
    }
    let work = count.saturating_mul(samples.len() as u128).saturating_mul(k as u128);
    crate::limits::check(
        &format!("exhaustive search (C({m},{k}) subsets × {} samples × {k} points; `optimal` finds the same optimum)", samples.len()),
        work,
        crate::limits::MAX_EXHAUSTIVE_WORK,
        "distance evaluations",
    )?;
    let mut idx: Vec<usize> = (0..k).collect();
    let mut best = (idx.clone(), f64::INFINITY);
    let mut pts = vec![0f64; k];
    loop {
        for (p, &i) in pts.iter_mut().zip(&idx) {
            *p = u[i];
        }
        let e = direct_sse(samples, &pts);
        if e < best.1 {
            best = (idx.clone(), e);
        }
        // next combination in lexicographic order
        let mut i = k;
        loop {
            if i == 0 {
                return Ok(best);
            }
            i -= 1;
            if idx[i] < m - k + i {
                idx[i] += 1;
                for j in i + 1..k {
                    idx[j] = idx[j - 1] + 1;
                }
                break;
            }
        }
    }
}
