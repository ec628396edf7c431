#![no_main]
//! `.safetensors` through `StateDict::read` and the architecture builder.
use libfuzzer_sys::fuzz_target;
mod common;

fuzz_target!(|data: &[u8]| {
    let p = common::scratch().join("m.safetensors");
    std::fs::write(&p, data).unwrap();
    if let Ok(sd) = sqsim::model::StateDict::read(&p) {
        let _ = sqsim::model::from_state_dict("fuzz", &sd);
    }
});
