//! Activation normalizer and quantizer, float semantics (DATAPATH.md §1):
//! per image and channel, μ and M from the data, x_n = (x − μ)/(M + 1e-8),
//! nearest point (ties to the lower point), a = q·(M + 1e-8) + μ.
use crate::select::PointSet;
use crate::{Error, Feature, Result};

pub const EPS: f32 = 1e-8;

/// Per-channel normalization statistics of one image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChannelStats {
    pub mean: f32,
    pub max_abs: f32,
}

/// μ (accumulated in f64, rounded to f32) and M = max|x − μ|; post-ReLU
/// inputs use μ = 0.
pub fn channel_stats(plane: &[f32], post_relu: bool) -> ChannelStats {
    let mean = if post_relu || plane.is_empty() {
        0.0
    } else {
        (plane.iter().map(|&v| v as f64).sum::<f64>() / plane.len() as f64) as f32
    };
    let max_abs = plane.iter().fold(0f32, |m, &v| m.max((v - mean).abs()));
    ChannelStats { mean, max_abs }
}

/// Normalized samples x_n of one channel (what calibration clusters).
pub fn normalize(plane: &[f32], st: ChannelStats) -> Vec<f32> {
    let d = st.max_abs + EPS;
    plane.iter().map(|&v| (v - st.mean) / d).collect()
}

/// Midpoint thresholds of a point set, as f64 (exact: points are dyadic).
pub fn thresholds(points: &PointSet) -> Vec<f64> {
    let v = points.values();
    v.windows(2).map(|w| (w[0] + w[1]) / 2.0).collect()
}

/// Index of the nearest point: the number of thresholds strictly below x,
/// so a value exactly on a midpoint goes to the lower point.
#[inline]
pub fn nearest_index(th: &[f64], x: f32) -> usize {
    let x = x as f64;
    th.partition_point(|&t| t < x)
}

/// `nearest_index` for one point set, branch-free when the set is small:
/// for up to 32 thresholds, each exactly an f32 (midpoints of U's dyadic
/// points are), the index is a count of f32 compares against a padded
/// array (`t < x` in f32 equals it in f64 when t is an f32; +∞ padding never
/// counts; NaN counts nothing either way), which vectorizes and does not
/// mispredict. Otherwise the f64 binary search.
pub struct NearestPoint {
    small: Option<[f32; 32]>,
    th: Vec<f64>,
}

impl NearestPoint {
    pub fn new(points: &PointSet) -> Self {
        let th = thresholds(points);
        let exact = th.len() <= 32 && th.iter().all(|&t| (t as f32) as f64 == t);
        let small = exact.then(|| {
            let mut a = [f32::INFINITY; 32];
            a.iter_mut().zip(&th).for_each(|(d, &t)| *d = t as f32);
            a
        });
        NearestPoint { small, th }
    }

    #[inline]
    pub fn index(&self, x: f32) -> usize {
        match &self.small {
            Some(a) => a.iter().map(|&t| (t < x) as usize).sum(),
            None => nearest_index(&self.th, x),
        }
    }
}

/// Fake-quantizes one channel in place.
pub fn fake_quant_plane(plane: &mut [f32], post_relu: bool, points: &PointSet) {
    let st = channel_stats(plane, post_relu);
    let near = NearestPoint::new(points);
    let pv = points.values_f32();
    let d = st.max_abs + EPS;
    // two passes: the divisions vectorize apart from the table lookups
    for v in plane.iter_mut() {
        *v = (*v - st.mean) / d;
    }
    for v in plane.iter_mut() {
        *v = pv[near.index(*v)] * d + st.mean;
    }
}

/// Fake-quantizes every channel of `x` with its own point set.
pub fn fake_quant(x: &Feature, post_relu: bool, points: &[PointSet]) -> Result<Feature> {
    if points.len() != x.c {
        return Err(Error::shape("point sets per input channel", x.c, points.len()));
    }
    let mut out = x.clone();
    let hw = x.hw();
    use rayon::prelude::*;
    out.data.par_chunks_mut(hw.max(1)).zip(points.par_iter()).for_each(|(plane, p)| {
        fake_quant_plane(plane, post_relu, p);
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;
    use crate::sq::UniversalSet;

    /// The branch-free count equals the f64 binary search on every input
    /// class: thresholds exactly, their f32 neighbours, ±0, ±∞, NaN, random
    /// values; for random point sets of 2 to 256 points of U (the 256-point
    /// ones take the binary-search path).
    #[test]
    fn nearest_point_equals_the_binary_search() {
        let u = UniversalSet::default();
        let uv = u.values();
        let mut rng = SplitMix64::new(11);
        for trial in 0..400 {
            let n = [2, 4, 8, 16, 33, 64, 256][trial % 7].min(uv.len());
            let mut pick: Vec<f64> = (0..n).map(|_| uv[rng.below(uv.len() as u64) as usize]).collect();
            pick.sort_by(f64::total_cmp);
            pick.dedup();
            let ps = PointSet::from_values(&pick, &u).unwrap();
            let (near, th) = (NearestPoint::new(&ps), thresholds(&ps));
            assert_eq!(near.small.is_some(), th.len() <= 32, "{} thresholds", th.len());
            let mut xs = vec![0.0f32, -0.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN, 1.0, -1.0];
            for &t in &th {
                let t = t as f32;
                xs.extend([t, f32::from_bits(t.to_bits() + 1), f32::from_bits(t.to_bits().wrapping_sub(1))]);
            }
            xs.extend((0..64).map(|_| (rng.next_f64() * 3.0 - 1.5) as f32));
            for x in xs {
                assert_eq!(near.index(x), nearest_index(&th, x), "x = {x:e}, {} thresholds", th.len());
            }
        }
    }
}
