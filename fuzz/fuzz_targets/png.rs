#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(img) = sqsim::image::load_rgb_bytes(data) {
        // the pixel buffer must match the header it reported
        assert_eq!(img.data.len(), img.width * img.height * 3);
        let _ = sqsim::image::to_feature(&img);
    }
});
