#![no_main]
//! Hardware TOML: parse + validate; a config that validates must round-trip.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(cfg) = sqsim::config::HwConfig::from_toml(text, "fuzz.toml") {
        let back = sqsim::config::HwConfig::from_toml(&cfg.to_toml(), "roundtrip");
        assert!(back.is_ok(), "valid config does not round-trip: {back:?}");
    }
});
