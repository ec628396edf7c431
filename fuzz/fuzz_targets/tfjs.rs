#![no_main]
//! TF.js layers model: input = `model.json` bytes, 0xFF, shard bytes (0xFF
//! never occurs in UTF-8, so the split is unambiguous). The JSON's manifest
//! should name the shard `w.bin`.
use libfuzzer_sys::fuzz_target;
mod common;

fuzz_target!(|data: &[u8]| {
    let (json, bin) = match data.iter().position(|&b| b == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let d = common::scratch();
    std::fs::write(d.join("model.json"), json).unwrap();
    std::fs::write(d.join("w.bin"), bin).unwrap();
    let _ = sqsim::model::load_path(&d.join("model.json"));
});
