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

/// A config runs on exactly what it says (#16 class 2): an empty file, a
/// missing section or a missing field is refused, naming each one; the
/// optional sections may be left out whole, never in part.
#[test]
fn incomplete_configs_are_refused_naming_what_is_missing() {
    let full = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/hw/configs/default.toml")).unwrap();
    assert!(HwConfig::from_toml(&full, "full.toml").is_ok());
    let e = HwConfig::from_toml("", "empty.toml").unwrap_err().to_string();
    assert!(e.contains("incomplete") && e.contains("section [datapath]") && e.contains("`name`"), "{e}");
    for line in ["tap_sum_bits = 24", "rows = 9", "format = \"mantissa\"", "name = \"default\""] {
        let text: String = full.lines().filter(|l| !l.starts_with(line)).map(|l| format!("{l}\n")).collect();
        let field = line.split(' ').next().unwrap();
        let e = HwConfig::from_toml(&text, "t.toml").unwrap_err().to_string();
        assert!(e.contains("incomplete") && e.contains(&format!("{field}`")), "without `{line}`: {e}");
    }
    let e = HwConfig::from_toml(&format!("{full}[levers]\nterm_gating = true\n"), "t.toml").unwrap_err().to_string();
    assert!(e.contains("`levers.act_buffer`") && e.contains("`levers.producer_stats`"), "{e}");
    let all = format!("{full}[levers]\nterm_gating = true\nact_buffer = \"index\"\nproducer_stats = true\n[uniform]\nacc_bits = 32\ninput_mult_bits = 24\nrequant_mult_bits = 31\n");
    assert!(HwConfig::from_toml(&all, "t.toml").unwrap().levers.term_gating);
}
