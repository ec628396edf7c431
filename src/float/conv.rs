//! Float 2-D convolution: stride 1, zero 'same' padding (k odd, pad k/2), bias.
//!
//! Fast path: the image is cut into fixed bands of rows; each band is
//! im2col'ed and multiplied by the weight matrix with `matrixmultiply::sgemm`.
//! Bands run in parallel on rayon. The band size depends only on the layer
//! shape, never on the thread count, and sgemm sums each output element over
//! k in a fixed order, so the result is bit-identical on any thread count.
use crate::conv::Conv2d;
use crate::{Error, Feature, Result};
use rayon::prelude::*;

/// Target im2col band size in floats (1 MiB). On the 64->64 3x3 bench
/// (single thread, shared 2-core EPYC, noisy) 1 << 15 and 1 << 16 ran at
/// ~57 GFLOP/s, 1 << 17 .. 1 << 20 at 67-82: 1 << 18 sits in that flat
/// region and bounds im2col memory per band for 256-channel RDN layers.
const BAND_FLOATS: usize = 1 << 18;

fn check_input(x: &Feature, conv: &Conv2d) -> Result<()> {
    if x.data.len() != x.c * x.h * x.w {
        return Err(Error::shape(
            format!("{} input data length", conv.name),
            x.c * x.h * x.w,
            x.data.len(),
        ));
    }
    if x.c != conv.in_c {
        return Err(Error::shape(format!("{} input channels", conv.name), conv.in_c, x.c));
    }
    let kk = conv.in_c * conv.k * conv.k;
    if conv.k.is_multiple_of(2) || conv.weight.len() != conv.out_c * kk || conv.bias.len() != conv.out_c {
        // Conv2d fields are public; re-check so a hand-built layer cannot
        // index out of bounds in the unsafe sgemm call below.
        conv.validate()?;
    }
    Ok(())
}

/// The output buffer shared by the bands; each writes only its own pixels.
struct SyncPtr(*mut f32);
// SAFETY: used only in `conv2d`, where bands write disjoint elements.
unsafe impl Sync for SyncPtr {}
impl SyncPtr {
    fn get(&self) -> *mut f32 {
        self.0
    }
}

/// Fast convolution (im2col + sgemm, rayon over pixel bands).
pub fn conv2d(x: &Feature, conv: &Conv2d) -> Result<Feature> {
    check_input(x, conv)?;
    let (h, w, k) = (x.h, x.w, conv.k);
    let hw = h * w;
    let mut out = Feature::zeros(conv.out_c, h, w);
    if hw == 0 {
        return Ok(out);
    }
    let kk = conv.in_c * k * k;
    let band = band_pixels(kk, hw);
    let bands: Vec<(usize, usize)> = (0..hw).step_by(band).map(|p0| (p0, (p0 + band).min(hw))).collect();

    for (o, plane) in out.data.chunks_exact_mut(hw).enumerate() {
        plane.fill(conv.bias[o]);
    }
    // Each band's sgemm writes its C block straight into the output (row
    // stride hw), so the output is never held twice: at DIV2K size the
    // 256-channel upsampler conv alone is 0.7 GB.
    let c_base = SyncPtr(out.data.as_mut_ptr());
    bands.par_iter().for_each(|&(p0, p1)| {
        let n = p1 - p0;
        let cols_buf;
        let (b_ptr, rsb) = if k == 1 {
            // 1x1: the input band already is the B matrix (row stride hw).
            (x.data[p0..].as_ptr(), hw as isize)
        } else {
            cols_buf = im2col_band(&x.data, x.c, x.h, x.w, k, p0, p1);
            (cols_buf.as_ptr(), n as isize)
        };
        // SAFETY: A is out_c x kk (conv.weight, length checked), B is kk x n
        // (the im2col buffer of kk*n, or for k == 1 elements c*hw + p0 + j,
        // j < n, which lie inside x.data because p1 <= hw). C is out_c x n at
        // elements o*hw + p0 + j of out.data (length out_c*hw, p1 <= hw);
        // bands are disjoint pixel ranges, so no two threads touch the same
        // element, and `out` outlives the parallel loop.
        unsafe {
            matrixmultiply::sgemm(
                conv.out_c,
                kk,
                n,
                1.0,
                conv.weight.as_ptr(),
                kk as isize,
                1,
                b_ptr,
                rsb,
                1,
                1.0,
                c_base.get().add(p0),
                hw as isize,
                1,
            );
        }
    });
    Ok(out)
}

/// Output pixels per band: about `BAND_FLOATS` im2col values, a multiple of
/// 16 (sgemm's column tile), at least 16. Depends only on the layer shape.
pub(crate) fn band_pixels(kk: usize, hw: usize) -> usize {
    ((BAND_FLOATS / kk.max(1)) / 16 * 16).max(16).min(hw)
}

/// im2col for output pixels `p0..p1` (flat `y*w + x`) of a CHW tensor
/// `data` (c×h×w): row `(c*k + ky)*k + kx` holds, per pixel of the band, the
/// input tap at offset (ky-p, kx-p), zero outside the image. Generic so the
/// bit-accurate datapath's exact f64 GEMM path shares it.
pub(crate) fn im2col_band<T: Copy + Default>(
    data: &[T],
    channels: usize,
    h: usize,
    w: usize,
    k: usize,
    p0: usize,
    p1: usize,
) -> Vec<T> {
    let p = k / 2;
    let n = p1 - p0;
    let mut cols = vec![T::default(); channels * k * k * n];
    let (y0, y1) = (p0 / w, (p1 - 1) / w + 1);
    for c in 0..channels {
        let plane = &data[c * h * w..(c + 1) * h * w];
        for ky in 0..k {
            for kx in 0..k {
                let dst_row = &mut cols[((c * k + ky) * k + kx) * n..][..n];
                // Valid xx for this tap: xx + kx - p inside 0..w.
                let lo = p.saturating_sub(kx);
                let hi = (w + p).saturating_sub(kx).min(w);
                for y in y0..y1 {
                    let sy = y as isize + ky as isize - p as isize;
                    if sy < 0 || sy >= h as isize {
                        continue; // stays zero
                    }
                    // Part of row y inside the band, intersected with the valid taps.
                    let xa = (p0.max(y * w) - y * w).max(lo);
                    let xb = (p1.min((y + 1) * w) - y * w).min(hi);
                    if xa >= xb {
                        continue;
                    }
                    let src = &plane[sy as usize * w..(sy as usize + 1) * w];
                    let d0 = y * w + xa - p0;
                    dst_row[d0..d0 + (xb - xa)].copy_from_slice(&src[xa + kx - p..xb + kx - p]);
                }
            }
        }
    }
    cols
}

/// Reference: direct nested loops with f64 accumulation.
pub fn conv2d_naive(x: &Feature, conv: &Conv2d) -> Result<Feature> {
    check_input(x, conv)?;
    let (h, w, k) = (x.h as isize, x.w as isize, conv.k);
    let p = (k / 2) as isize;
    let mut out = Feature::zeros(conv.out_c, x.h, x.w);
    for o in 0..conv.out_c {
        for y in 0..h {
            for xx in 0..w {
                let mut acc = conv.bias[o] as f64;
                for c in 0..conv.in_c {
                    for ky in 0..k {
                        let sy = y + ky as isize - p;
                        if sy < 0 || sy >= h {
                            continue;
                        }
                        for kx in 0..k {
                            let sx = xx + kx as isize - p;
                            if sx < 0 || sx >= w {
                                continue;
                            }
                            acc += conv.w(o, c, ky, kx) as f64 * x.at(c, sy as usize, sx as usize) as f64;
                        }
                    }
                }
                out.data[(o * x.h + y as usize) * x.w + xx as usize] = acc as f32;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rng(crate::rng::SplitMix64);
    impl Rng {
        fn new(seed: u64) -> Self {
            Rng(crate::rng::SplitMix64::new(seed))
        }
        /// Uniform in [-1, 1).
        fn vec(&mut self, n: usize) -> Vec<f32> {
            (0..n).map(|_| (self.0.next_f64() * 2.0 - 1.0) as f32).collect()
        }
    }

    fn random_case(rng: &mut Rng, c: usize, o: usize, k: usize, h: usize, w: usize) -> (Feature, Conv2d) {
        let x = Feature::from_vec(c, h, w, rng.vec(c * h * w)).unwrap();
        let conv = Conv2d::new("t", c, o, k, rng.vec(o * c * k * k), rng.vec(o)).unwrap();
        (x, conv)
    }

    fn assert_close(fast: &Feature, naive: &Feature, what: &str) {
        assert_eq!((fast.c, fast.h, fast.w), (naive.c, naive.h, naive.w));
        let scale = naive.data.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
        let worst = fast.data.iter().zip(&naive.data).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst <= 1e-5 * scale, "{what}: max diff {worst} vs scale {scale}");
    }

    #[test]
    fn fast_matches_naive() {
        let mut rng = Rng::new(7);
        // (in_c, out_c, k, h, w): 1x1, 3x3, 5x5, odd sizes, c = 1, 1-pixel maps.
        let shapes = [
            (1, 1, 3, 5, 7),
            (1, 4, 3, 1, 1),
            (3, 8, 3, 9, 13),
            (8, 3, 1, 11, 6),
            (5, 7, 5, 7, 3),
            (16, 16, 3, 17, 19),
            (64, 64, 3, 8, 8),
            (40, 9, 1, 1, 33),
            (2, 5, 3, 2, 1),
        ];
        for &(c, o, k, h, w) in &shapes {
            let (x, conv) = random_case(&mut rng, c, o, k, h, w);
            let fast = conv2d(&x, &conv).unwrap();
            let naive = conv2d_naive(&x, &conv).unwrap();
            assert_close(&fast, &naive, &format!("c{c} o{o} k{k} {h}x{w}"));
        }
    }

    #[test]
    fn multi_band_matches_naive() {
        // Bands spanning several rows and starting mid-row; bands shorter
        // than a row; several 1x1 bands.
        let mut rng = Rng::new(11);
        for (c, k, h, w) in [(24, 3, 40, 37), (256, 3, 3, 300), (2000, 1, 9, 31)] {
            let band = band_pixels(c * k * k, h * w);
            assert!(band < h * w && !band.is_multiple_of(w), "{c} {k} {h}x{w}: band {band} must split mid-row");
            let (x, conv) = random_case(&mut rng, c, 3, k, h, w);
            assert_close(&conv2d(&x, &conv).unwrap(), &conv2d_naive(&x, &conv).unwrap(), "banded");
        }
    }

    #[test]
    fn identical_on_any_thread_count() {
        let mut rng = Rng::new(3);
        let (x, conv) = random_case(&mut rng, 64, 32, 3, 70, 90);
        let run = |n: usize| {
            rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap().install(|| conv2d(&x, &conv).unwrap())
        };
        let one = run(1);
        for n in [2, 3, 4] {
            assert!(one.data.iter().zip(&run(n).data).all(|(a, b)| a.to_bits() == b.to_bits()), "{n} threads");
        }
    }

    #[test]
    fn rejects_wrong_input() {
        let mut rng = Rng::new(5);
        let (x, conv) = random_case(&mut rng, 3, 2, 3, 4, 4);
        let bad = Feature::zeros(4, 4, 4);
        assert!(matches!(conv2d(&bad, &conv), Err(Error::Shape { .. })));
        assert!(matches!(conv2d_naive(&bad, &conv), Err(Error::Shape { .. })));
        let mut broken = conv.clone();
        broken.weight.pop();
        assert!(matches!(conv2d(&x, &broken), Err(Error::Shape { .. })));
        let mut inconsistent = x.clone();
        inconsistent.data.pop();
        assert!(matches!(conv2d(&inconsistent, &conv), Err(Error::Shape { .. })));
    }

    #[test]
    fn zero_padding_at_borders() {
        // All-ones 3x3 kernel on all-ones 3x3 image: corner sees 4 taps, edge 6, centre 9.
        let x = Feature::from_vec(1, 3, 3, vec![1.0; 9]).unwrap();
        let conv = Conv2d::new("ones", 1, 1, 3, vec![1.0; 9], vec![0.5]).unwrap();
        let y = conv2d(&x, &conv).unwrap();
        assert_eq!(y.data, vec![4.5, 6.5, 4.5, 6.5, 9.5, 6.5, 4.5, 6.5, 4.5]);
    }
}
