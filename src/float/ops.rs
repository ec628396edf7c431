//! Element-wise and reshaping ops of the SR networks, in f32 with the same
//! rounding order as PyTorch (e.g. `x + s*y` rounds the product first).
use crate::{Error, Feature, Result};

fn same_shape(what: &str, a: &Feature, b: &Feature) -> Result<()> {
    if (a.c, a.h, a.w) != (b.c, b.h, b.w) || a.data.len() != b.data.len() {
        return Err(Error::shape(
            what,
            format!("{}x{}x{}", a.c, a.h, a.w),
            format!("{}x{}x{}", b.c, b.h, b.w),
        ));
    }
    Ok(())
}

pub fn relu(x: &mut Feature) {
    for v in &mut x.data {
        *v = v.max(0.0);
    }
}

/// `dst += src`
pub fn add(dst: &mut Feature, src: &Feature) -> Result<()> {
    same_shape("add operands", dst, src)?;
    for (d, s) in dst.data.iter_mut().zip(&src.data) {
        *d += *s;
    }
    Ok(())
}

/// `dst += scale * src` (EDSR residual: `res = body(x).mul(res_scale); res += x`).
pub fn add_scaled(dst: &mut Feature, src: &Feature, scale: f32) -> Result<()> {
    same_shape("add_scaled operands", dst, src)?;
    for (d, s) in dst.data.iter_mut().zip(&src.data) {
        *d += *s * scale;
    }
    Ok(())
}

/// PyTorch `PixelShuffle(r)`: channel `c*r*r + i*r + j` goes to output
/// channel `c`, pixel `(y*r + i, x*r + j)`.
pub fn pixel_shuffle(x: &Feature, r: usize) -> Result<Feature> {
    if r == 0 || !x.c.is_multiple_of(r * r) {
        return Err(Error::shape("pixel_shuffle input channels", format!("a multiple of {r}*{r}"), x.c));
    }
    let (oc, oh, ow) = (x.c / (r * r), x.h * r, x.w * r);
    let mut out = Feature::zeros(oc, oh, ow);
    for c in 0..oc {
        for i in 0..r {
            for j in 0..r {
                let src = x.plane((c * r + i) * r + j);
                for y in 0..x.h {
                    let dst_row = &mut out.data[(c * oh + y * r + i) * ow..][..ow];
                    for (xx, v) in src[y * x.w..(y + 1) * x.w].iter().enumerate() {
                        dst_row[xx * r + j] = *v;
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Nearest-neighbour upsampling by an integer factor (Keras `UpSampling2D`).
pub fn upsample_nearest(x: &Feature, r: usize) -> Result<Feature> {
    if r == 0 {
        return Err(Error::arg("upsample factor", "must be >= 1"));
    }
    let (oh, ow) = (x.h * r, x.w * r);
    let mut out = Feature::zeros(x.c, oh, ow);
    for c in 0..x.c {
        let src = x.plane(c);
        for y in 0..oh {
            let s = &src[(y / r) * x.w..(y / r + 1) * x.w];
            let d = &mut out.data[(c * oh + y) * ow..][..ow];
            for (xx, v) in d.iter_mut().enumerate() {
                *v = s[xx / r];
            }
        }
    }
    Ok(out)
}

/// Channel concatenation (CHW, so the parts are simply appended).
pub fn concat(parts: &[&Feature]) -> Result<Feature> {
    let first = parts.first().ok_or_else(|| Error::arg("concat", "no inputs"))?;
    let mut data = Vec::with_capacity(parts.iter().map(|p| p.data.len()).sum());
    let mut c = 0;
    for p in parts {
        if (p.h, p.w) != (first.h, first.w) || p.data.len() != p.c * p.h * p.w {
            return Err(Error::shape(
                "concat spatial size",
                format!("{}x{}", first.h, first.w),
                format!("{}x{}", p.h, p.w),
            ));
        }
        data.extend_from_slice(&p.data);
        c += p.c;
    }
    Feature::from_vec(c, first.h, first.w, data)
}

/// `x[c] += offset[c]` (MeanShift: sub_mean passes negative offsets).
pub fn add_channel_const(x: &mut Feature, offset: &[f32]) -> Result<()> {
    if offset.len() != x.c {
        return Err(Error::shape("per-channel constant", x.c, offset.len()));
    }
    let hw = x.hw();
    for (plane, &o) in x.data.chunks_exact_mut(hw.max(1)).zip(offset) {
        for v in plane {
            *v += o;
        }
    }
    Ok(())
}

/// `x[c] -= mean[c]`
pub fn sub_channel_const(x: &mut Feature, mean: &[f32]) -> Result<()> {
    let neg: Vec<f32> = mean.iter().map(|m| -m).collect();
    add_channel_const(x, &neg)
}

/// `x *= s` for every element.
pub fn scale(x: &mut Feature, s: f32) {
    for v in &mut x.data {
        *v *= s;
    }
}

/// `pixel_shuffle(conv2d(x, conv), r)` without holding the whole conv output:
/// the conv runs on groups of output channels that shuffle into 16 channels
/// each, written straight into the result (at DIV2K size EDSR's ×2
/// upsampler output alone is 0.7 GB). Equal to the two-step form bit for
/// bit: each output channel of a conv does not depend on the others.
pub fn conv2d_pixel_shuffle(x: &Feature, conv: &crate::conv::Conv2d, r: usize) -> Result<Feature> {
    let rr = r * r;
    if r == 0 || !conv.out_c.is_multiple_of(rr) {
        return Err(Error::shape("pixel_shuffle input channels", format!("a multiple of {r}*{r}"), conv.out_c));
    }
    const GROUP_OUT: usize = 16;
    let per = conv.in_c * conv.k * conv.k;
    let (oc, oh, ow) = (conv.out_c / rr, x.h * r, x.w * r);
    let mut out = Feature::zeros(oc, oh, ow);
    for c0 in (0..oc).step_by(GROUP_OUT) {
        let n = GROUP_OUT.min(oc - c0);
        let (o0, o1) = (c0 * rr, (c0 + n) * rr);
        let part = crate::conv::Conv2d::new(
            conv.name.clone(),
            conv.in_c,
            o1 - o0,
            conv.k,
            conv.weight[o0 * per..o1 * per].to_vec(),
            conv.bias[o0..o1].to_vec(),
        )?;
        let y = pixel_shuffle(&super::conv2d(x, &part)?, r)?;
        out.data[c0 * oh * ow..(c0 + n) * oh * ow].copy_from_slice(&y.data);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(c: usize, h: usize, w: usize) -> Feature {
        Feature::from_vec(c, h, w, (0..c * h * w).map(|i| i as f32).collect()).unwrap()
    }

    #[test]
    fn pixel_shuffle_layout() {
        // 4 channels of 1x1 -> one 2x2 channel in row-major order of the sub-pixel index.
        let x = f(4, 1, 1);
        assert_eq!(pixel_shuffle(&x, 2).unwrap().data, vec![0.0, 1.0, 2.0, 3.0]);
        // 2x(1x2) with r=... 8 channels of 1x2, r=2 -> 2 channels of 2x4.
        let x = f(8, 1, 2);
        let y = pixel_shuffle(&x, 2).unwrap();
        assert_eq!((y.c, y.h, y.w), (2, 2, 4));
        // out[0][i][xx*2+j] = in[i*2+j][0][xx]; in[ch][0][xx] = ch*2+xx.
        assert_eq!(&y.data[..8], &[0.0, 2.0, 1.0, 3.0, 4.0, 6.0, 5.0, 7.0]);
        assert!(pixel_shuffle(&f(3, 1, 1), 2).is_err());
    }

    #[test]
    fn upsample_and_concat() {
        let x = f(1, 1, 2);
        assert_eq!(upsample_nearest(&x, 2).unwrap().data, vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0]);
        let c = concat(&[&f(1, 1, 2), &f(2, 1, 2)]).unwrap();
        assert_eq!((c.c, c.data.clone()), (3, vec![0.0, 1.0, 0.0, 1.0, 2.0, 3.0]));
        assert!(concat(&[&f(1, 1, 2), &f(1, 2, 1)]).is_err());
        assert!(concat(&[]).is_err());
    }

    #[test]
    fn arithmetic() {
        let mut a = f(2, 1, 2);
        add_scaled(&mut a, &f(2, 1, 2), 0.5).unwrap();
        assert_eq!(a.data, vec![0.0, 1.5, 3.0, 4.5]);
        add(&mut a, &f(2, 1, 2)).unwrap();
        assert_eq!(a.data, vec![0.0, 2.5, 5.0, 7.5]);
        sub_channel_const(&mut a, &[1.0, 2.0]).unwrap();
        assert_eq!(a.data, vec![-1.0, 1.5, 3.0, 5.5]);
        relu(&mut a);
        assert_eq!(a.data, vec![0.0, 1.5, 3.0, 5.5]);
        assert!(add(&mut a, &f(1, 1, 2)).is_err());
        assert!(add_channel_const(&mut a, &[1.0]).is_err());
    }

    #[test]
    fn fused_conv_pixel_shuffle_equals_the_two_steps() {
        let mut seed = 7u64;
        let mut rnd = |n: usize| -> Vec<f32> {
            (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5
                })
                .collect()
        };
        // 20 shuffled channels: one full group of 16 and a partial one
        for (r, oc, k) in [(2, 20, 3), (3, 5, 3), (2, 16, 1)] {
            let (ic, h, w) = (6, 7, 5);
            let x = Feature::from_vec(ic, h, w, rnd(ic * h * w)).unwrap();
            let conv = crate::conv::Conv2d::new("up", ic, oc * r * r, k, rnd(oc * r * r * ic * k * k), rnd(oc * r * r)).unwrap();
            let two = pixel_shuffle(&super::super::conv2d(&x, &conv).unwrap(), r).unwrap();
            let fused = conv2d_pixel_shuffle(&x, &conv, r).unwrap();
            assert_eq!((fused.c, fused.h, fused.w), (two.c, two.h, two.w));
            assert!(fused.data.iter().zip(&two.data).all(|(a, b)| a.to_bits() == b.to_bits()), "r={r} oc={oc}");
        }
        let conv = crate::conv::Conv2d::new("up", 6, 6, 3, vec![0.0; 6 * 6 * 9], vec![0.0; 6]).unwrap();
        assert!(conv2d_pixel_shuffle(&Feature::zeros(6, 2, 2), &conv, 2).is_err(), "6 is not a multiple of 4");
    }
}
