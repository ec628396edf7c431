//! The bicubic downscale against LR files MATLAB itself produced
//! (data/Set5_matlab_lr, see data/README.md): every value must match.
use sqsim::image::{downscale_bicubic, load_rgb, modcrop};
use std::path::PathBuf;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(rel)
}

#[test]
fn downscale_reproduces_matlab_imresize_exactly() {
    for scale in [2usize, 4] {
        let (mut equal, mut total, mut max_diff) = (0usize, 0usize, 0i32);
        for name in ["baby", "bird", "butterfly", "head", "woman"] {
            let hr = load_rgb(&data(&format!("Set5_matlab_lr/x{scale}/{name}_HR.png"))).unwrap();
            let want = load_rgb(&data(&format!("Set5_matlab_lr/x{scale}/{name}_LR.png"))).unwrap();
            let got = downscale_bicubic(&modcrop(&hr, scale), scale).unwrap();
            assert_eq!(
                (got.width, got.height),
                (want.width, want.height),
                "{name} x{scale}"
            );
            for (&g, &w) in got.data.iter().zip(&want.data) {
                equal += (g == w) as usize;
                max_diff = max_diff.max((g as i32 - w as i32).abs());
            }
            total += want.data.len();
        }
        println!("x{scale}: {equal}/{total} values equal, max |diff| {max_diff}");
        assert_eq!(equal, total, "x{scale}: max |diff| {max_diff}");
    }
}
