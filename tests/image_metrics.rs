//! PSNR/SSIM and bicubic resize against tests/golden/metrics/metrics.json,
//! written by gen_metrics.py (numpy + scikit-image, independent of this crate).
//!
//! Tolerances: resized images must match the numpy ones byte for byte
//! (checked by checksums). PSNR and SSIM agree to 1e-9 (observed <= 2e-12 dB and 1e-15:
//! the only differences are f64 summation orders), far tighter than needed.
use serde_json::Value;
use sqsim::image::{downscale_bicubic, load_rgb, psnr_y, ssim_y, upscale_bicubic, RgbImage};
use std::path::PathBuf;

const TOL: f64 = 1e-9;

fn root(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn golden() -> Value {
    let text = std::fs::read_to_string(root("tests/golden/metrics/metrics.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn load(rel: &Value) -> RgbImage {
    load_rgb(&root(rel.as_str().unwrap())).unwrap()
}

/// Same definition as gen_metrics.py's `checksum`.
fn checksum(img: &RgbImage) -> (usize, usize, u64, u64) {
    let sum = img.data.iter().map(|&v| v as u64).sum();
    let wsum = img
        .data
        .iter()
        .enumerate()
        .map(|(i, &v)| (i as u64 + 1) * v as u64)
        .sum();
    (img.height, img.width, sum, wsum)
}

fn expected(c: &Value, prefix: &str) -> (usize, usize, u64, u64) {
    let g = |k: &str| c[format!("{prefix}{k}")].as_u64().unwrap();
    (
        g("height") as usize,
        g("width") as usize,
        g("sum"),
        g("wsum"),
    )
}

#[test]
fn resize_matches_numpy_reference() {
    let g = golden();
    for c in g["downscale"].as_array().unwrap() {
        let img = load(&c["image"]);
        let got = downscale_bicubic(&img, c["scale"].as_u64().unwrap() as usize).unwrap();
        assert_eq!(checksum(&got), expected(c, ""), "downscale {c}");
    }
    for c in g["upscale"].as_array().unwrap() {
        let img = load(&c["image"]);
        let got = upscale_bicubic(&img, c["scale"].as_u64().unwrap() as usize).unwrap();
        assert_eq!(checksum(&got), expected(c, ""), "upscale {c}");
    }
}

#[test]
fn psnr_ssim_match_scikit_image() {
    let g = golden();
    let cases = g["metrics"].as_array().unwrap();
    assert!(cases.len() >= 5);
    let (mut dp, mut ds) = (0f64, 0f64);
    for c in cases {
        let hr = load(&c["hr"]);
        let sr = if c["sr"].is_string() {
            load(&c["sr"])
        } else {
            let up = upscale_bicubic(
                &load(&c["sr_upscale"]),
                c["scale"].as_u64().unwrap() as usize,
            )
            .unwrap();
            assert_eq!(checksum(&up), expected(c, "sr_"), "SR image of {c}");
            up
        };
        let shave = c["shave"].as_u64().unwrap() as usize;
        let (p, s) = (
            psnr_y(&sr, &hr, shave).unwrap(),
            ssim_y(&sr, &hr, shave).unwrap(),
        );
        let (pw, sw) = (c["psnr"].as_f64().unwrap(), c["ssim"].as_f64().unwrap());
        assert!((p - pw).abs() < TOL, "PSNR {p} vs {pw} for {c}");
        assert!((s - sw).abs() < TOL, "SSIM {s} vs {sw} for {c}");
        (dp, ds) = (dp.max((p - pw).abs()), ds.max((s - sw).abs()));
    }
    println!("max |diff| vs scikit-image: PSNR {dp:.2e} dB, SSIM {ds:.2e}");
}

/// The whole bicubic baseline pipeline (load, modcrop, down, up, metrics).
#[test]
fn set5_bicubic_baseline() {
    let g = golden();
    for scale in [2usize, 3, 4] {
        let (mut ps, mut ss) = (0.0, 0.0);
        for path in sqsim::image::list_images(&root("data/Set5")).unwrap() {
            let pair = sqsim::image::make_pair(&path, scale).unwrap();
            let sr = upscale_bicubic(&pair.lr, scale).unwrap();
            ps += psnr_y(&sr, &pair.hr, scale).unwrap() / 5.0;
            ss += ssim_y(&sr, &pair.hr, scale).unwrap() / 5.0;
        }
        let want = &g["set5_bicubic"][format!("x{scale}")];
        println!("Set5 bicubic x{scale}: PSNR {ps:.4} dB, SSIM {ss:.4}");
        assert!(
            (ps - want["psnr"].as_f64().unwrap()).abs() < TOL,
            "x{scale} PSNR {ps}"
        );
        assert!(
            (ss - want["ssim"].as_f64().unwrap()).abs() < TOL,
            "x{scale} SSIM {ss}"
        );
        if scale == 2 {
            // DATAPATH.md §6's independent measurement with these conventions.
            assert!(
                (ps - 33.67).abs() <= 0.02,
                "Set5 x2 bicubic {ps} dB, expected 33.67"
            );
        }
    }
}
