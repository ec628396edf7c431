//! Band-parallel kernels split a layer's output into bands of pixels; this
//! puts the bands back together (shared by every band kernel).
use super::fixed::OverflowCounts;

/// Assembles per-band outputs (`out_c` rows of the band's pixels `p0..p1`
/// each) into one c×h×w plane and sums the bands' overflow counts in order.
pub(crate) fn gather_bands(out_c: usize, hw: usize, bands: &[(usize, usize)], results: Vec<(Vec<i64>, OverflowCounts)>) -> (Vec<i64>, OverflowCounts) {
    let mut out = vec![0i64; out_c * hw];
    let mut overflow = OverflowCounts::default();
    for (&(p0, p1), (band, ovf)) in bands.iter().zip(results) {
        let n = p1 - p0;
        for o in 0..out_c {
            out[o * hw + p0..o * hw + p1].copy_from_slice(&band[o * n..(o + 1) * n]);
        }
        overflow.add(&ovf);
    }
    (out, overflow)
}
