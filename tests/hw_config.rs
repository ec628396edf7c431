//! Hardware presets parse, validate, and bad configs name their field.
use sqsim::config::HwConfig;

#[test]
fn shipped_presets_load_and_default_matches_code_default() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/hw/configs");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            HwConfig::load(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            n += 1;
        }
    }
    assert!(n >= 1);
    let d = HwConfig::load(std::path::Path::new(&format!("{dir}/default.toml"))).unwrap();
    assert_eq!(d, HwConfig::default());
}

#[test]
fn bad_configs_name_the_field() {
    for (toml, field) in [
        ("[datapath]\nact_bits = 0", "datapath.act_bits"),
        ("[datapath]\nact_bits = 40", "datapath.act_bits"),
        ("[datapath]\nact_frac_bits = 30", "datapath.act_frac_bits"),
        ("[datapath]\ntap_sum_bits = 99", "datapath.tap_sum_bits"),
        ("[datapath]\ndenorm_acc_bits = 0", "datapath.denorm_acc_bits"),
        ("[denorm]\nmax_mant_bits = 0", "denorm.max_mant_bits"),
        ("[denorm]\nformat = \"log\"", "format"),
        ("[datapath]\noverflow = \"explode\"", "overflow"),
        ("[datapath]\nbogus_bits = 3", "bogus_bits"),
        ("[array]\nrows = 0", "array.rows"),
        ("[array]\nclock_mhz = -1.0", "array.clock_mhz"),
        ("[datapath\nact_bits = 8", "invalid"),
    ] {
        let e = HwConfig::from_toml(toml, "test.toml").unwrap_err().to_string();
        assert!(e.contains(field), "{toml:?}: `{e}` does not name {field}");
    }
}
