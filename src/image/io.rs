//! 8-bit RGB images: PNG in/out, conversion to/from the CHW `Feature` the
//! networks consume, and cropping. Everything the datapath sees is RGB8, so
//! every PNG flavour is normalised here once (grey replicated, alpha dropped,
//! 16-bit rounded) and nothing downstream has to care.
use crate::{Error, Feature, Result};
use image::{DynamicImage, ImageFormat};
use std::path::{Path, PathBuf};

/// Interleaved RGB8, `data[(y * width + x) * 3 + ch]` (HWC).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RgbImage {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

/// Path used in errors for images that did not come from a file.
pub(crate) fn mem_path() -> PathBuf {
    PathBuf::from("<in-memory image>")
}

impl RgbImage {
    pub fn new(width: usize, height: usize, data: Vec<u8>) -> Result<Self> {
        let img = RgbImage {
            width,
            height,
            data,
        };
        img.check()?;
        Ok(img)
    }

    pub fn zeros(width: usize, height: usize) -> Self {
        RgbImage {
            width,
            height,
            data: vec![0; width * height * 3],
        }
    }

    /// The fields are public, so every consumer re-validates instead of
    /// trusting `data.len()` (an inconsistent image must not cause a panic).
    pub fn check(&self) -> Result<()> {
        let need = self
            .width
            .checked_mul(self.height)
            .and_then(|n| n.checked_mul(3))
            .ok_or_else(|| {
                Error::arg(
                    "image size",
                    format!("{}x{} overflows", self.width, self.height),
                )
            })?;
        if self.data.len() != need {
            return Err(Error::shape(
                format!("RGB8 data of a {}x{} image", self.width, self.height),
                need,
                self.data.len(),
            ));
        }
        Ok(())
    }

    pub fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }
}

/// Load a PNG as RGB8. Missing/unreadable file → `Error::Io`; anything that
/// does not decode as PNG → `Error::Format` naming `path`.
pub fn load_rgb(path: &Path) -> Result<RgbImage> {
    let bytes = crate::io_util::read_input(path)?;
    decode_png(&bytes, path)
}

/// As `load_rgb`, from bytes already in memory (tests, fuzzing).
pub fn load_rgb_bytes(bytes: &[u8]) -> Result<RgbImage> {
    decode_png(bytes, &mem_path())
}

fn decode_png(bytes: &[u8], path: &Path) -> Result<RgbImage> {
    let dynimg = image::load_from_memory_with_format(bytes, ImageFormat::Png)
        .map_err(|e| Error::format(path, format!("not a readable PNG image: {e}")))?;
    let (width, height) = (dynimg.width() as usize, dynimg.height() as usize);
    if width == 0 || height == 0 {
        return Err(Error::format(path, "PNG has zero width or height"));
    }
    // round(v / 257) for 16-bit samples: 65535 → 255 exactly, and the
    // integer form (v + 128) / 257 has no ties to break.
    let r16 = |v: u16| ((v as u32 + 128) / 257) as u8;
    let data: Vec<u8> = match &dynimg {
        DynamicImage::ImageRgb8(b) => b.as_raw().clone(),
        DynamicImage::ImageRgba8(b) => b
            .as_raw()
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect(),
        DynamicImage::ImageLuma8(b) => b.as_raw().iter().flat_map(|&v| [v, v, v]).collect(),
        DynamicImage::ImageLumaA8(b) => b
            .as_raw()
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0]])
            .collect(),
        DynamicImage::ImageRgb16(b) => b.as_raw().iter().map(|&v| r16(v)).collect(),
        DynamicImage::ImageRgba16(b) => b
            .as_raw()
            .chunks_exact(4)
            .flat_map(|p| [r16(p[0]), r16(p[1]), r16(p[2])])
            .collect(),
        DynamicImage::ImageLuma16(b) => b.as_raw().iter().flat_map(|&v| [r16(v); 3]).collect(),
        DynamicImage::ImageLumaA16(b) => b
            .as_raw()
            .chunks_exact(2)
            .flat_map(|p| [r16(p[0]); 3])
            .collect(),
        other => {
            return Err(Error::format(
                path,
                format!("unsupported PNG pixel type {:?}", other.color()),
            ));
        }
    };
    let img = RgbImage {
        width,
        height,
        data,
    };
    img.check()
        .map_err(|e| Error::format(path, format!("decoder returned inconsistent data: {e}")))?;
    Ok(img)
}

/// Encode `img` as an RGB8 PNG and write it atomically.
pub fn save_png(path: &Path, img: &RgbImage) -> Result<()> {
    let bytes = encode_png(img)?;
    crate::io_util::atomic_write(path, &bytes)
}

/// PNG bytes of `img` (RGB8, default compression).
pub fn encode_png(img: &RgbImage) -> Result<Vec<u8>> {
    use image::ImageEncoder;
    img.check()?;
    let (w, h) = (dim_u32(img.width, "width")?, dim_u32(img.height, "height")?);
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(&img.data, w, h, image::ExtendedColorType::Rgb8)
        .map_err(|e| Error::format(mem_path(), format!("PNG encoding failed: {e}")))?;
    Ok(out)
}

fn dim_u32(v: usize, what: &str) -> Result<u32> {
    u32::try_from(v)
        .map_err(|_| Error::arg(format!("image {what}"), format!("{v} does not fit a PNG")))
}

/// CHW f32 feature with values 0..255 (EDSR's rgb_range 255 convention).
/// Panics if `img.data.len() != width*height*3`, which only a hand-built
/// image can violate (loaders and `RgbImage::new` check it).
pub fn to_feature(img: &RgbImage) -> Feature {
    assert!(
        img.check().is_ok(),
        "inconsistent RgbImage {}x{} with {} bytes",
        img.width,
        img.height,
        img.data.len()
    );
    let n = img.width * img.height;
    let mut data = vec![0f32; 3 * n];
    for (i, px) in img.data.chunks_exact(3).enumerate() {
        for ch in 0..3 {
            data[ch * n + i] = px[ch] as f32;
        }
    }
    Feature {
        c: 3,
        h: img.height,
        w: img.width,
        data,
    }
}

/// Back to RGB8 the way EDSR's `quantize` does: clamp to 0..255, then round
/// half to even (torch.round). ±Inf clamps like torch; NaN is an error
/// because it can only come from a broken computation.
pub fn from_feature(f: &Feature) -> Result<RgbImage> {
    if f.c != 3 {
        return Err(Error::shape("channels of an RGB feature", 3, f.c));
    }
    let n = f.h * f.w;
    if f.data.len() != 3 * n {
        return Err(Error::shape("feature data", 3 * n, f.data.len()));
    }
    if f.data.iter().any(|v| v.is_nan()) {
        return Err(Error::NonFinite {
            what: "feature converted to an image".into(),
        });
    }
    let mut data = vec![0u8; 3 * n];
    for i in 0..n {
        for ch in 0..3 {
            data[i * 3 + ch] = f.data[ch * n + i].clamp(0.0, 255.0).round_ties_even() as u8;
        }
    }
    Ok(RgbImage {
        width: f.w,
        height: f.h,
        data,
    })
}

/// The `w`×`h` window whose top-left corner is (`x`, `y`); must lie inside.
pub fn crop(img: &RgbImage, x: usize, y: usize, w: usize, h: usize) -> Result<RgbImage> {
    img.check()?;
    if w == 0 || h == 0 {
        return Err(Error::arg("crop size", format!("{w}x{h} is empty")));
    }
    let fits = |o: usize, len: usize, full: usize| o.checked_add(len).is_some_and(|e| e <= full);
    if !fits(x, w, img.width) || !fits(y, h, img.height) {
        return Err(Error::arg(
            "crop window",
            format!(
                "{w}x{h} at ({x},{y}) exceeds the {}x{} image",
                img.width, img.height
            ),
        ));
    }
    let mut data = Vec::with_capacity(w * h * 3);
    for row in y..y + h {
        let start = (row * img.width + x) * 3;
        data.extend_from_slice(&img.data[start..start + w * 3]);
    }
    Ok(RgbImage {
        width: w,
        height: h,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Luma, LumaA, Rgb, Rgba};

    fn png_of(img: DynamicImage) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn greyscale_is_replicated() {
        let g = ImageBuffer::from_fn(5, 3, |x, y| Luma([(x * 40 + y) as u8]));
        let img = load_rgb_bytes(&png_of(DynamicImage::ImageLuma8(g))).unwrap();
        assert_eq!((img.width, img.height), (5, 3));
        assert_eq!(img.pixel(4, 2), [162, 162, 162]);
        let ga = ImageBuffer::from_fn(2, 2, |x, _| LumaA([x as u8 * 9, 3]));
        assert_eq!(
            load_rgb_bytes(&png_of(DynamicImage::ImageLumaA8(ga)))
                .unwrap()
                .pixel(1, 0),
            [9, 9, 9]
        );
    }

    #[test]
    fn alpha_is_dropped_not_composited() {
        let a = ImageBuffer::from_fn(2, 2, |x, y| Rgba([10 + x as u8, 20 + y as u8, 30, 0]));
        let img = load_rgb_bytes(&png_of(DynamicImage::ImageRgba8(a))).unwrap();
        assert_eq!(img.pixel(1, 1), [11, 21, 30]);
    }

    #[test]
    fn sixteen_bit_rounds_to_nearest() {
        // v/257: 65535 → 255, 128 → 0.498 → 0, 129 → 0.502 → 1, 385 → 1.498 → 1, 386 → 2.
        let vals = [65535u16, 128, 129, 385, 386, 0];
        let b = ImageBuffer::from_fn(2, 1, |x, _| {
            let i = x as usize * 3;
            Rgb([vals[i], vals[i + 1], vals[i + 2]])
        });
        let img = load_rgb_bytes(&png_of(DynamicImage::ImageRgb16(b))).unwrap();
        assert_eq!(img.data, vec![255, 0, 1, 1, 2, 0]);
        let l = ImageBuffer::from_fn(1, 1, |_, _| Luma([32896u16])); // 128.0 exactly
        assert_eq!(
            load_rgb_bytes(&png_of(DynamicImage::ImageLuma16(l)))
                .unwrap()
                .data,
            vec![128; 3]
        );
        let la = ImageBuffer::from_fn(1, 1, |_, _| Rgba([257u16, 514, 771, 7]));
        assert_eq!(
            load_rgb_bytes(&png_of(DynamicImage::ImageRgba16(la)))
                .unwrap()
                .data,
            vec![1, 2, 3]
        );
    }

    #[test]
    fn truncated_and_foreign_bytes_are_format_errors() {
        let good = png_of(DynamicImage::ImageRgb8(ImageBuffer::from_fn(
            16,
            16,
            |x, y| Rgb([x as u8, y as u8, 7]),
        )));
        for cut in [0, 8, 20, good.len() / 2, good.len() - 13] {
            let e = load_rgb_bytes(&good[..cut]).unwrap_err();
            assert!(matches!(e, Error::Format { .. }), "cut {cut}: {e}");
        }
        let e = load_rgb_bytes(b"P6\n2 2\n255\n............").unwrap_err();
        assert!(matches!(e, Error::Format { .. }), "{e}");
        let mut flipped = good.clone();
        let n = flipped.len();
        flipped[n / 2] ^= 0xff; // corrupt IDAT (CRC mismatch)
        assert!(load_rgb_bytes(&flipped).is_err());
    }

    #[test]
    fn file_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.png");
        assert!(matches!(load_rgb(&missing), Err(Error::Io { .. })));
        let junk = dir.path().join("junk.png");
        std::fs::write(&junk, b"not a png at all").unwrap();
        match load_rgb(&junk) {
            Err(Error::Format { path, .. }) => assert_eq!(path, junk),
            other => panic!("expected Format error, got {other:?}"),
        }
    }

    #[test]
    fn save_then_load_roundtrips() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..7 * 5 * 3).map(|i| (i * 37 % 256) as u8).collect();
        let img = RgbImage::new(7, 5, data).unwrap();
        let p = dir.path().join("out.png");
        save_png(&p, &img).unwrap();
        assert_eq!(load_rgb(&p).unwrap(), img);
        let bad = RgbImage {
            width: 7,
            height: 5,
            data: vec![0; 3],
        };
        assert!(matches!(save_png(&p, &bad), Err(Error::Shape { .. })));
        assert!(save_png(&dir.path().join("no/such/dir/x.png"), &img).is_err());
    }

    #[test]
    fn feature_roundtrip_and_quantize() {
        let img = RgbImage::new(3, 2, (0..18).map(|i| i as u8 * 13).collect()).unwrap();
        let f = to_feature(&img);
        assert_eq!((f.c, f.h, f.w), (3, 2, 3));
        assert_eq!(f.at(1, 1, 2), img.pixel(2, 1)[1] as f32);
        assert_eq!(from_feature(&f).unwrap(), img);
        // clamp, then round half to even (torch.round).
        let q =
            Feature::from_vec(3, 1, 2, vec![-3.0, 0.5, 1.5, 2.5, 254.5, f32::INFINITY]).unwrap();
        // CHW: pixel 0 = (-3, 1.5, 254.5), pixel 1 = (0.5, 2.5, inf).
        assert_eq!(from_feature(&q).unwrap().data, vec![0, 2, 254, 0, 2, 255]);
        let nan = Feature::from_vec(3, 1, 1, vec![0.0, f32::NAN, 1.0]).unwrap();
        assert!(matches!(from_feature(&nan), Err(Error::NonFinite { .. })));
        assert!(matches!(
            from_feature(&Feature::zeros(1, 2, 2)),
            Err(Error::Shape { .. })
        ));
    }

    #[test]
    fn crop_bounds() {
        let img = RgbImage::new(4, 3, (0..36).map(|i| i as u8).collect()).unwrap();
        let c = crop(&img, 1, 1, 3, 2).unwrap();
        assert_eq!((c.width, c.height), (3, 2));
        assert_eq!(c.pixel(0, 0), img.pixel(1, 1));
        assert_eq!(c.pixel(2, 1), img.pixel(3, 2));
        assert!(crop(&img, 2, 0, 3, 1).is_err());
        assert!(crop(&img, 0, 0, 0, 1).is_err());
        assert!(crop(&img, usize::MAX, 0, 2, 1).is_err());
    }
}
