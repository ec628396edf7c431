//! `sqsim cost` end to end: the JSON report is consistent (totals are the
//! sums of the layers, energies the sums of their parts, the baseline differs
//! only in the PE), shipped presets load, and bad arguments fail cleanly.
use std::process::Command;

fn sqsim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sqsim")).args(args).output().unwrap()
}

fn json(args: &[&str]) -> serde_json::Value {
    let o = sqsim(args);
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn cost_report_is_consistent() {
    for hw in ["hw/configs/ws_9x16.toml", "hw/configs/ws_9x64.toml", "hw/configs/os_9x16.toml"] {
        let hw = format!("{}/{hw}", env!("CARGO_MANIFEST_DIR"));
        let r = json(&["cost", "--model", "edsr_x2", "--size", "20x13", "--hw", &hw, "--format", "json"]);
        let layers = r["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 32);
        let sum = |key: &str| layers.iter().map(|l| l["counters"][key].as_u64().unwrap()).sum::<u64>();
        for key in ["cycles", "macs", "denorm_mults", "dram_read_bits", "psum_write_bits"] {
            assert_eq!(sum(key), r["total"][key].as_u64().unwrap(), "{hw}: total {key}");
        }
        // every useful product of a 3x3 conv on 20x13: (Σ_y taps)(Σ_x taps)·64·64
        let taps = |n: u64| 3 * n - 2;
        assert_eq!(r["total"]["macs"].as_u64().unwrap(), 32 * taps(13) * taps(20) * 64 * 64);
        assert_eq!(r["total"]["denorm_mults"].as_u64().unwrap(), 32 * 13 * 20 * 64 * 64);
        let (e, b) = (&r["energy_pj"], &r["baseline_energy_pj"]);
        let parts = ["pe", "denorm", "output", "quantizer", "stats", "weight_buf", "act_buf", "psum_buf", "dram"];
        let total: f64 = parts.iter().map(|p| e[p].as_f64().unwrap()).sum();
        assert!((total - e["total"].as_f64().unwrap()).abs() < 1e-6 * total);
        for p in &parts[1..] {
            assert_eq!(e[p], b[p], "{hw}: baseline differs outside the PE in {p}");
        }
        assert_ne!(e["pe"], b["pe"]);
        let u = r["utilization"].as_f64().unwrap();
        assert!(u > 0.0 && u <= 1.0, "{hw}: utilization {u}");
    }
}

#[test]
fn cost_table_and_csv_formats() {
    let o = sqsim(&["cost", "--model", "rdn_x2", "--size", "9x7"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = String::from_utf8(o.stdout).unwrap();
    assert!(t.contains("TOTAL") && t.contains("int-mult baseline") && t.contains("1x1 convs"), "{t}");
    let o = sqsim(&["cost", "--model", "edsr_x2", "--size", "9x7", "--format", "csv"]);
    let csv = String::from_utf8(o.stdout).unwrap();
    assert_eq!(csv.lines().count(), 1 + 32 + 1);
}

#[test]
fn cost_rejects_bad_arguments() {
    for (args, needle) in [
        (vec!["cost", "--size", "0x5"], "--size"),
        (vec!["cost", "--size", "12"], "WxH"),
        (vec!["cost", "--model", "nope", "--size", "8x8"], "nope"),
        (vec!["cost", "--bits", "1", "--size", "8x8"], "bits"),
        (vec!["cost", "--image", "/nonexistent.png"], "nonexistent"),
    ] {
        let o = sqsim(&args);
        assert!(!o.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{args:?}: `{err}` does not mention {needle}");
    }
}

#[test]
fn ws_9x16_preset_is_the_default_array() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("hw/configs");
    let mut p = sqsim::config::HwConfig::load(&dir.join("ws_9x16.toml")).unwrap();
    assert_eq!(p.name, "ws_9x16");
    p.name = "default".into();
    assert_eq!(p, sqsim::config::HwConfig::default());
}
