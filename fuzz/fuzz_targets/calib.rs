#![no_main]
//! Calibration JSON: parse, then validate against a tiny EDSR (the float
//! golden's 3-feature x3 model, so `point_sets` is cheap per exec).
use libfuzzer_sys::fuzz_target;
use sqsim::model::{self, Model};
use std::sync::OnceLock;
mod common;

static MODEL: OnceLock<Model> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let m = MODEL.get_or_init(|| {
        let p = common::scratch().join("tiny.pt");
        std::fs::write(&p, include_bytes!("../../tests/golden/float/edsr_tiny_x3_zip.pt")).unwrap();
        model::load_path(&p).expect("tiny EDSR loads")
    });
    let Ok(cal) = serde_json::from_slice::<sqsim::dfsq::Calibration>(data) else { return };
    if let Ok(u) = sqsim::sq::UniversalSet::new(cal.word_sets.clone()) {
        let _ = cal.point_sets(m, &u);
    }
});
