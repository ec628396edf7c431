#![no_main]
//! Provenance-carrying CSVs (sweep shards, per-image scores): the provenance
//! line parses or is refused; a parsed one written back reads the same.
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok((p, body)) = sqsim::provenance::split_csv(Path::new("fuzz.csv"), text) {
        let again = sqsim::provenance::csv_with(&p, body).expect("a parsed provenance serializes");
        let (q, b2) = sqsim::provenance::split_csv(Path::new("again.csv"), &again).expect("written back, it parses");
        assert!(q == p && b2 == body, "provenance line does not round-trip");
        assert!(p.require_same(&q, "a", "b").is_ok());
    }
});
