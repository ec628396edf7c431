//! MATLAB-compatible bicubic `imresize` for integer scale factors, uint8 in
//! and out. This is how every SR benchmark makes its LR inputs (and the
//! "bicubic" baseline), so matching it bit-for-bit matters for comparable PSNR.
//!
//! What reproduces the MATLAB-made `data/Set5_matlab_lr` files exactly
//! (checked by `tests/image_resize.rs`):
//! - Keys cubic (a = -0.5); when shrinking, the kernel is widened by the scale
//!   (antialiasing), `h(x) = s * cubic(s * x)`, weights normalised per output;
//! - the vertical pass (along the height, MATLAB's dimension 1) runs first,
//!   and its result is rounded to uint8 (half away from zero, saturating)
//!   before the horizontal pass, which is rounded the same way;
//! - out-of-range taps replicate the edge pixel. Mirroring (what MATLAB's
//!   source suggests) misses the files by up to 7 levels in the outer rows.
//!
//! Upscaling uses the same code with the plain width-4 kernel; its edge mode
//! only touches pixels that benchmarks shave off anyway.
use super::io::{mem_path, RgbImage};
use crate::{Error, Result};
use rayon::prelude::*;

/// Largest integer scale accepted; SR uses 2, 3, 4 and occasionally 8.
pub const MAX_SCALE: usize = 16;

/// Crop to the largest size divisible by `scale` (top-left anchored, as
/// EDSR/MATLAB `modcrop`). `scale` 0 is treated as 1.
pub fn modcrop(img: &RgbImage, scale: usize) -> RgbImage {
    let s = scale.max(1);
    let (w, h) = (img.width / s * s, img.height / s * s);
    if w == 0 || h == 0 {
        return RgbImage {
            width: w,
            height: h,
            data: Vec::new(),
        };
    }
    let mut data = Vec::with_capacity(w * h * 3);
    for row in img.data.chunks_exact(img.width * 3).take(h) {
        data.extend_from_slice(&row[..w * 3]);
    }
    RgbImage {
        width: w,
        height: h,
        data,
    }
}

/// MATLAB `imresize(img, 1/scale, 'bicubic')`: output is
/// ceil(width/scale) x ceil(height/scale). The image must be at least
/// `scale` pixels on each side.
pub fn downscale_bicubic(img: &RgbImage, scale: usize) -> Result<RgbImage> {
    check_scale(scale)?;
    img.check()?;
    if img.width < scale || img.height < scale {
        return Err(Error::ImageTooSmall {
            path: mem_path(),
            width: img.width,
            height: img.height,
            need: format!("{scale}x{scale} to downscale by {scale}"),
        });
    }
    let (ow, oh) = (img.width.div_ceil(scale), img.height.div_ceil(scale));
    Ok(resize(img, ow, oh, 1.0 / scale as f64))
}

/// MATLAB `imresize(img, scale, 'bicubic')`: output is scale times larger.
pub fn upscale_bicubic(img: &RgbImage, scale: usize) -> Result<RgbImage> {
    check_scale(scale)?;
    img.check()?;
    if img.width == 0 || img.height == 0 {
        return Err(Error::ImageTooSmall {
            path: mem_path(),
            width: img.width,
            height: img.height,
            need: "1x1".into(),
        });
    }
    let too_big = || {
        Error::arg(
            "scale",
            format!("{}x{} times {scale} overflows", img.width, img.height),
        )
    };
    let ow = img.width.checked_mul(scale).ok_or_else(too_big)?;
    let oh = img.height.checked_mul(scale).ok_or_else(too_big)?;
    ow.checked_mul(oh)
        .and_then(|n| n.checked_mul(3))
        .ok_or_else(too_big)?;
    Ok(resize(img, ow, oh, scale as f64))
}

pub(crate) fn check_scale(scale: usize) -> Result<()> {
    if !(1..=MAX_SCALE).contains(&scale) {
        return Err(Error::arg(
            "scale",
            format!("{scale} is not in 1..={MAX_SCALE}"),
        ));
    }
    Ok(())
}

/// MATLAB's `cubic` (Keys, a = -0.5), same operation order.
pub(crate) fn cubic(x: f64) -> f64 {
    let ax = x.abs();
    let ax2 = ax * ax;
    let ax3 = ax2 * ax;
    if ax <= 1.0 {
        1.5 * ax3 - 2.5 * ax2 + 1.0
    } else if ax <= 2.0 {
        -0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0
    } else {
        0.0
    }
}

/// Input positions and weights of 1-based output coordinate `x1` (MATLAB's
/// `contributions` for one row), edges replicated. `scale` = out/in.
pub(crate) fn taps_for(x1: usize, in_len: usize, scale: f64) -> Vec<(usize, f64)> {
    let antialias = scale < 1.0;
    let kernel_width = if antialias { 4.0 / scale } else { 4.0 };
    let u = x1 as f64 / scale + 0.5 * (1.0 - 1.0 / scale);
    let left = (u - kernel_width / 2.0).floor();
    let p = kernel_width.ceil() as usize + 2;
    let mut taps: Vec<(usize, f64)> = (0..p)
        .map(|k| {
            let j = left + k as f64; // 1-based, may be out of range
            let d = u - j;
            let w = if antialias {
                scale * cubic(scale * d)
            } else {
                cubic(d)
            };
            let idx = (j.max(1.0).min(in_len as f64) as usize) - 1;
            (idx, w)
        })
        .collect();
    let sum: f64 = taps.iter().map(|t| t.1).sum();
    for t in &mut taps {
        t.1 /= sum;
    }
    taps
}

/// All output coordinates' taps, flattened to `p` per output.
struct Taps {
    p: usize,
    idx: Vec<usize>,
    w: Vec<f64>,
}

impl Taps {
    fn new(in_len: usize, out_len: usize, scale: f64) -> Taps {
        let mut t = Taps {
            p: 0,
            idx: Vec::new(),
            w: Vec::new(),
        };
        for o in 0..out_len {
            let taps = taps_for(o + 1, in_len, scale);
            t.p = taps.len();
            t.idx.extend(taps.iter().map(|x| x.0));
            t.w.extend(taps.iter().map(|x| x.1));
        }
        t
    }
    fn of(&self, o: usize) -> (&[usize], &[f64]) {
        (
            &self.idx[o * self.p..(o + 1) * self.p],
            &self.w[o * self.p..(o + 1) * self.p],
        )
    }
}

/// MATLAB's double → uint8: round half away from zero, saturate.
fn to_u8(v: f64) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

/// Both passes; `img` is already checked and non-empty.
fn resize(img: &RgbImage, ow: usize, oh: usize, scale: f64) -> RgbImage {
    let (iw, ih) = (img.width, img.height);
    // Vertical pass: output row r mixes whole input rows.
    let vt = Taps::new(ih, oh, scale);
    let mut mid = vec![0u8; oh * iw * 3];
    mid.par_chunks_mut(iw * 3)
        .enumerate()
        .for_each(|(r, out_row)| {
            let (idx, w) = vt.of(r);
            let mut acc = vec![0f64; iw * 3];
            for (&i, &wk) in idx.iter().zip(w) {
                let src = &img.data[i * iw * 3..(i + 1) * iw * 3];
                for (a, &s) in acc.iter_mut().zip(src) {
                    *a += wk * s as f64;
                }
            }
            for (o, a) in out_row.iter_mut().zip(&acc) {
                *o = to_u8(*a);
            }
        });
    // Horizontal pass, row by row.
    let ht = Taps::new(iw, ow, scale);
    let mut out = vec![0u8; oh * ow * 3];
    out.par_chunks_mut(ow * 3)
        .enumerate()
        .for_each(|(r, out_row)| {
            let src = &mid[r * iw * 3..(r + 1) * iw * 3];
            for x in 0..ow {
                let (idx, w) = ht.of(x);
                let mut acc = [0f64; 3];
                for (&i, &wk) in idx.iter().zip(w) {
                    for ch in 0..3 {
                        acc[ch] += wk * src[i * 3 + ch] as f64;
                    }
                }
                for ch in 0..3 {
                    out_row[x * 3 + ch] = to_u8(acc[ch]);
                }
            }
        });
    RgbImage {
        width: ow,
        height: oh,
        data: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pixel-at-a-time reference: recompute the taps for every sample.
    fn resize_naive(img: &RgbImage, ow: usize, oh: usize, scale: f64) -> RgbImage {
        let (iw, ih) = (img.width, img.height);
        let mut mid = RgbImage::zeros(iw, oh);
        for r in 0..oh {
            for x in 0..iw {
                for ch in 0..3 {
                    let v: f64 = taps_for(r + 1, ih, scale)
                        .iter()
                        .map(|&(i, w)| w * img.pixel(x, i)[ch] as f64)
                        .sum();
                    mid.data[(r * iw + x) * 3 + ch] = to_u8(v);
                }
            }
        }
        let mut out = RgbImage::zeros(ow, oh);
        for r in 0..oh {
            for x in 0..ow {
                for ch in 0..3 {
                    let v: f64 = taps_for(x + 1, iw, scale)
                        .iter()
                        .map(|&(i, w)| w * mid.pixel(i, r)[ch] as f64)
                        .sum();
                    out.data[(r * ow + x) * 3 + ch] = to_u8(v);
                }
            }
        }
        out
    }

    fn noise_image(w: usize, h: usize, seed: u64) -> RgbImage {
        let mut s = seed;
        let data = (0..w * h * 3)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (s >> 56) as u8
            })
            .collect();
        RgbImage {
            width: w,
            height: h,
            data,
        }
    }

    #[test]
    fn fast_matches_naive() {
        for (w, h, s) in [(37, 23, 2), (40, 41, 3), (19, 33, 4), (9, 8, 8)] {
            let img = noise_image(w, h, (w * h) as u64);
            let down = downscale_bicubic(&img, s).unwrap();
            assert_eq!(
                down,
                resize_naive(&img, w.div_ceil(s), h.div_ceil(s), 1.0 / s as f64)
            );
            let up = upscale_bicubic(&img, s).unwrap();
            assert_eq!(up, resize_naive(&img, w * s, h * s, s as f64));
        }
    }

    #[test]
    fn weights_are_normalised_and_in_range() {
        for scale in [0.5, 0.25, 1.0 / 3.0, 2.0, 3.0, 4.0] {
            for o in 1..=20 {
                let t = taps_for(o, 20, scale);
                let s: f64 = t.iter().map(|x| x.1).sum();
                assert!((s - 1.0).abs() < 1e-12, "scale {scale} out {o}: sum {s}");
                assert!(t.iter().all(|x| x.0 < 20));
            }
        }
    }

    #[test]
    fn constant_image_stays_constant() {
        let img = RgbImage {
            width: 24,
            height: 16,
            data: vec![77; 24 * 16 * 3],
        };
        for s in [2, 3, 4] {
            assert!(downscale_bicubic(&img, s)
                .unwrap()
                .data
                .iter()
                .all(|&v| v == 77));
            assert!(upscale_bicubic(&img, s)
                .unwrap()
                .data
                .iter()
                .all(|&v| v == 77));
        }
    }

    #[test]
    fn scale_one_is_identity() {
        let img = noise_image(13, 7, 5);
        assert_eq!(downscale_bicubic(&img, 1).unwrap(), img);
        assert_eq!(upscale_bicubic(&img, 1).unwrap(), img);
    }

    #[test]
    fn output_sizes() {
        let img = noise_image(13, 10, 1);
        let d = downscale_bicubic(&img, 4).unwrap();
        assert_eq!((d.width, d.height), (4, 3)); // ceil, as MATLAB
        let u = upscale_bicubic(&img, 3).unwrap();
        assert_eq!((u.width, u.height), (39, 30));
    }

    #[test]
    fn modcrop_crops_top_left() {
        let img = noise_image(13, 10, 2);
        let m = modcrop(&img, 4);
        assert_eq!((m.width, m.height), (12, 8));
        assert_eq!(m.pixel(11, 7), img.pixel(11, 7));
        assert_eq!(m.pixel(0, 0), img.pixel(0, 0));
        assert_eq!(modcrop(&img, 0), img);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let img = noise_image(3, 5, 3);
        assert!(matches!(
            downscale_bicubic(&img, 4),
            Err(Error::ImageTooSmall {
                width: 3,
                height: 5,
                ..
            })
        ));
        assert!(matches!(
            downscale_bicubic(&img, 0),
            Err(Error::InvalidArg { .. })
        ));
        assert!(matches!(
            upscale_bicubic(&img, MAX_SCALE + 1),
            Err(Error::InvalidArg { .. })
        ));
        let empty = RgbImage {
            width: 0,
            height: 0,
            data: vec![],
        };
        assert!(matches!(
            upscale_bicubic(&empty, 2),
            Err(Error::ImageTooSmall { .. })
        ));
        let bad = RgbImage {
            width: 4,
            height: 4,
            data: vec![0; 5],
        };
        assert!(matches!(
            downscale_bicubic(&bad, 2),
            Err(Error::Shape { .. })
        ));
    }
}
