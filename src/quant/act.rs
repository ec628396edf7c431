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

/// Fake-quantizes one channel in place.
pub fn fake_quant_plane(plane: &mut [f32], post_relu: bool, points: &PointSet) {
    let st = channel_stats(plane, post_relu);
    let th = thresholds(points);
    let pv = points.values_f32();
    let d = st.max_abs + EPS;
    for v in plane.iter_mut() {
        let xn = (*v - st.mean) / d;
        *v = pv[nearest_index(&th, xn)] * d + st.mean;
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
