//! PSNR and SSIM on the luma channel, the SR-literature convention the DFSQ
//! paper reports: Y from MATLAB `rgb2ycbcr` on 0..255 values (kept in f64,
//! not rounded), `shave` pixels cut from every border, peak 255. SSIM is
//! Wang et al.'s `ssim_index`: 11x11 Gaussian (sigma 1.5), K1 0.01, K2 0.03,
//! 'valid' filtering, mean of the map.
use super::io::{mem_path, RgbImage};
use crate::{Error, Result};
use rayon::prelude::*;

pub const SSIM_WIN: usize = 11;
pub const SSIM_SIGMA: f64 = 1.5;
const C1: f64 = (0.01 * 255.0) * (0.01 * 255.0);
const C2: f64 = (0.03 * 255.0) * (0.03 * 255.0);

/// MATLAB rgb2ycbcr's Y on 0..255 inputs: 16 + (65.481 R + 128.553 G + 24.966 B) / 255.
pub fn y_plane(img: &RgbImage) -> Result<Vec<f64>> {
    img.check()?;
    Ok(img.data.chunks_exact(3).map(luma).collect())
}

/// Y planes of both images with `shave` pixels cut from every side, and
/// their (width, height). Needs equal sizes and a shaved size >= `min`.
fn shaved_pair(
    sr: &RgbImage,
    hr: &RgbImage,
    shave: usize,
    min: usize,
) -> Result<(Vec<f64>, Vec<f64>, usize, usize)> {
    sr.check()?;
    hr.check()?;
    if (sr.width, sr.height) != (hr.width, hr.height) {
        return Err(Error::shape(
            "SR image vs HR image",
            format!("{}x{}", hr.width, hr.height),
            format!("{}x{}", sr.width, sr.height),
        ));
    }
    let (w, h) = (sr.width, sr.height);
    let inner = |len: usize| len.checked_sub(2 * shave).filter(|&n| n >= min);
    let (Some(sw), Some(sh)) = (inner(w), inner(h)) else {
        return Err(Error::ImageTooSmall {
            path: mem_path(),
            width: w,
            height: h,
            need: format!("{min}x{min} left after shaving {shave} px per border"),
        });
    };
    // Y of the kept window only, row by row.
    let cut = |img: &RgbImage| -> Vec<f64> {
        let mut out = Vec::with_capacity(sw * sh);
        for r in shave..shave + sh {
            let row = &img.data[(r * w + shave) * 3..(r * w + shave + sw) * 3];
            out.extend(row.chunks_exact(3).map(luma));
        }
        out
    };
    Ok((cut(sr), cut(hr), sw, sh))
}

fn luma(p: &[u8]) -> f64 {
    16.0 + (65.481 * p[0] as f64 + 128.553 * p[1] as f64 + 24.966 * p[2] as f64) / 255.0
}

/// PSNR in dB of the shaved Y planes, peak 255. Identical planes give
/// `f64::INFINITY` (MSE 0), which callers averaging over a set should expect.
pub fn psnr_y(sr: &RgbImage, hr: &RgbImage, shave: usize) -> Result<f64> {
    let (a, b, _, _) = shaved_pair(sr, hr, shave, 1)?;
    let mse = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        / a.len() as f64;
    if mse == 0.0 {
        return Ok(f64::INFINITY);
    }
    Ok(10.0 * (255.0 * 255.0 / mse).log10())
}

/// Mean SSIM of the shaved Y planes ('valid' filtering: the map is
/// (w-10)x(h-10)). The shaved image must be at least 11x11.
pub fn ssim_y(sr: &RgbImage, hr: &RgbImage, shave: usize) -> Result<f64> {
    let (a, b, w, h) = shaved_pair(sr, hr, shave, SSIM_WIN)?;
    Ok(ssim_plane(&a, &b, w, h))
}

/// Normalised 1-D Gaussian; its outer product is MATLAB's
/// `fspecial('gaussian', 11, 1.5)`.
pub(crate) fn gaussian_1d() -> [f64; SSIM_WIN] {
    let r = (SSIM_WIN / 2) as f64;
    let mut g = [0.0; SSIM_WIN];
    for (i, v) in g.iter_mut().enumerate() {
        let x = i as f64 - r;
        *v = (-(x * x) / (2.0 * SSIM_SIGMA * SSIM_SIGMA)).exp();
    }
    let s: f64 = g.iter().sum();
    g.map(|v| v / s)
}

fn ssim_at(mu_a: f64, mu_b: f64, aa: f64, bb: f64, ab: f64) -> f64 {
    let (va, vb, cov) = (aa - mu_a * mu_a, bb - mu_b * mu_b, ab - mu_a * mu_b);
    ((2.0 * mu_a * mu_b + C1) * (2.0 * cov + C2))
        / ((mu_a * mu_a + mu_b * mu_b + C1) * (va + vb + C2))
}

/// Separable 'valid' SSIM: per output row, a vertical 11-tap pass builds the
/// five moment rows (a, b, a², b², ab), then a horizontal pass finishes them.
/// Rows run in parallel; the per-row sums are added in row order, so the
/// result does not depend on the thread count.
pub(crate) fn ssim_plane(a: &[f64], b: &[f64], w: usize, h: usize) -> f64 {
    let g = gaussian_1d();
    let (ow, oh) = (w - SSIM_WIN + 1, h - SSIM_WIN + 1);
    let row_sums: Vec<f64> = (0..oh)
        .into_par_iter()
        .map(|r| {
            let mut m = vec![[0f64; 5]; w];
            for (k, &gk) in g.iter().enumerate() {
                let (ra, rb) = (
                    &a[(r + k) * w..(r + k + 1) * w],
                    &b[(r + k) * w..(r + k + 1) * w],
                );
                for ((mx, &x), &y) in m.iter_mut().zip(ra).zip(rb) {
                    mx[0] += gk * x;
                    mx[1] += gk * y;
                    mx[2] += gk * (x * x);
                    mx[3] += gk * (y * y);
                    mx[4] += gk * (x * y);
                }
            }
            let mut sum = 0.0;
            for x in 0..ow {
                let mut s = [0f64; 5];
                for (k, &gk) in g.iter().enumerate() {
                    for q in 0..5 {
                        s[q] += gk * m[x + k][q];
                    }
                }
                sum += ssim_at(s[0], s[1], s[2], s[3], s[4]);
            }
            sum
        })
        .collect();
    row_sums.iter().sum::<f64>() / (ow * oh) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct 2-D window, kernel built as MATLAB's fspecial does.
    fn ssim_naive(a: &[f64], b: &[f64], w: usize, h: usize) -> f64 {
        let r = (SSIM_WIN / 2) as f64;
        let mut k2 = vec![0.0; SSIM_WIN * SSIM_WIN];
        for i in 0..SSIM_WIN {
            for j in 0..SSIM_WIN {
                let (y, x) = (i as f64 - r, j as f64 - r);
                k2[i * SSIM_WIN + j] = (-(x * x + y * y) / (2.0 * SSIM_SIGMA * SSIM_SIGMA)).exp();
            }
        }
        let s: f64 = k2.iter().sum();
        k2.iter_mut().for_each(|v| *v /= s);
        let (ow, oh) = (w - SSIM_WIN + 1, h - SSIM_WIN + 1);
        let mut total = 0.0;
        for oy in 0..oh {
            for ox in 0..ow {
                let mut m = [0.0; 5];
                for i in 0..SSIM_WIN {
                    for j in 0..SSIM_WIN {
                        let (x, y) = (a[(oy + i) * w + ox + j], b[(oy + i) * w + ox + j]);
                        let k = k2[i * SSIM_WIN + j];
                        m[0] += k * x;
                        m[1] += k * y;
                        m[2] += k * x * x;
                        m[3] += k * y * y;
                        m[4] += k * x * y;
                    }
                }
                total += ssim_at(m[0], m[1], m[2], m[3], m[4]);
            }
        }
        total / (ow * oh) as f64
    }

    fn noise(n: usize, seed: u64) -> Vec<u8> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (s >> 56) as u8
            })
            .collect()
    }

    fn img(w: usize, h: usize, data: Vec<u8>) -> RgbImage {
        RgbImage::new(w, h, data).unwrap()
    }

    #[test]
    fn fast_ssim_matches_naive() {
        let (w, h) = (37, 29);
        let a: Vec<f64> = noise(w * h, 1).iter().map(|&v| v as f64).collect();
        // b = a plus structured noise, so SSIM is neither ~0 nor ~1.
        let b: Vec<f64> = a
            .iter()
            .zip(noise(w * h, 2))
            .map(|(&x, n)| x * 0.7 + n as f64 * 0.3)
            .collect();
        let (fast, naive) = (ssim_plane(&a, &b, w, h), ssim_naive(&a, &b, w, h));
        assert!((fast - naive).abs() < 1e-12, "{fast} vs {naive}");
        assert!(fast > 0.1 && fast < 0.95, "{fast}");
    }

    #[test]
    fn y_plane_matches_rgb2ycbcr_corners() {
        let im = img(3, 1, vec![0, 0, 0, 255, 255, 255, 255, 0, 0]);
        let y = y_plane(&im).unwrap();
        assert!((y[0] - 16.0).abs() < 1e-12);
        assert!((y[1] - 235.0).abs() < 1e-12);
        assert!((y[2] - (16.0 + 65.481)).abs() < 1e-12);
    }

    #[test]
    fn psnr_of_known_error() {
        // Every pixel differs by +1 in G only: dY = 128.553/255 everywhere.
        let a = img(4, 4, vec![100; 48]);
        let mut bd = vec![100u8; 48];
        bd.iter_mut().skip(1).step_by(3).for_each(|v| *v = 101);
        let b = img(4, 4, bd);
        let dy = 128.553 / 255.0;
        let want = 10.0 * (255.0f64 * 255.0 / (dy * dy)).log10();
        assert!((psnr_y(&a, &b, 1).unwrap() - want).abs() < 1e-9);
        assert_eq!(psnr_y(&a, &a, 0).unwrap(), f64::INFINITY);
    }

    #[test]
    fn ssim_identical_is_one() {
        let a = img(20, 16, noise(20 * 16 * 3, 9));
        assert!((ssim_y(&a, &a, 2).unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let a = img(20, 16, noise(20 * 16 * 3, 3));
        let b = img(16, 20, noise(20 * 16 * 3, 4));
        assert!(matches!(psnr_y(&a, &b, 0), Err(Error::Shape { .. })));
        assert!(matches!(ssim_y(&a, &b, 0), Err(Error::Shape { .. })));
        assert!(matches!(
            psnr_y(&a, &a, 8),
            Err(Error::ImageTooSmall { .. })
        ));
        assert!(matches!(
            ssim_y(&a, &a, 3),
            Err(Error::ImageTooSmall { .. })
        )); // 14x10 < 11x11
        assert!(ssim_y(&a, &a, 2).is_ok()); // 16x12
        let broken = RgbImage {
            width: 20,
            height: 16,
            data: vec![0; 7],
        };
        assert!(matches!(psnr_y(&broken, &a, 0), Err(Error::Shape { .. })));
    }
}
