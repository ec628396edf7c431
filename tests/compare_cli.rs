//! `sqsim compare` end to end on a small crop: the JSON schema scripts rely
//! on, the Pareto flags and budget against the rows, and bad input refused.
use std::path::Path;
use std::process::{Command, Output};

fn sqsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sqsim")).args(args).output().expect("binary runs")
}

/// A dataset directory holding one 64×64 crop of Set5 `bird`.
fn crop_dir(dir: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let img = sqsim::image::load_rgb(&root.join("data/Set5/bird.png")).unwrap();
    let c = sqsim::image::crop(&img, 100, 100, 64, 64).unwrap();
    std::fs::create_dir_all(dir.join("crops")).unwrap();
    sqsim::image::save_png(&dir.join("crops/bird.png"), &c).unwrap();
    dir.join("crops").to_string_lossy().into_owned()
}

fn fails_with(args: &[&str], needle: &str) -> Output {
    let o = sqsim(args);
    let e = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(!o.status.success(), "{args:?} succeeded");
    assert!(!e.contains("panicked"), "{args:?} panicked: {e}");
    assert!(e.contains("error:") && e.to_lowercase().contains(&needle.to_lowercase()), "{args:?}: {e}");
    o
}

#[test]
fn compare_json_has_the_documented_schema_and_consistent_front() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = crop_dir(tmp.path());
    let out = tmp.path().join("cmp.json");
    let o = sqsim(&[
        "compare", "--model", "edsr_x2", "--dataset", &ds, "--designs", "kmeans-4,minmax-8,w8a8,dfsq-uniform-4,percentile-6",
        "--budget-db", "0.5", "--format", "json", "--quiet", "--out", out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v, file, "--out holds the printed JSON");
    assert_eq!(v["model"], "edsr_x2");
    assert_eq!(v["datasets"][0]["images"], 1);
    let fp = v["fp"]["psnr"].as_f64().unwrap();
    let designs = v["designs"].as_array().unwrap();
    assert_eq!(designs.len(), 5);
    let methods: Vec<&str> = designs.iter().map(|d| d["method"].as_str().unwrap()).collect();
    assert_eq!(methods, ["dfsq", "minmax", "minmax", "dfsq-uniform", "percentile"]);
    for d in designs {
        for k in ["name", "bits", "options", "hw", "float", "energy_mj", "energy_breakdown_mj", "area_mm2", "cycles", "pareto"] {
            assert!(!d[k].is_null(), "{} lacks {k}", d["name"]);
        }
        let b = d["energy_breakdown_mj"].as_object().unwrap();
        let sum: f64 = b.values().map(|x| x.as_f64().unwrap()).sum();
        let e = d["energy_mj"].as_f64().unwrap();
        assert!((sum - e).abs() <= 1e-9 * e.max(1.0), "{}: breakdown {sum} vs total {e}", d["name"]);
        assert!(d["hw"]["psnr"].as_f64().unwrap() > 20.0);
    }
    // a design is on the energy front exactly when nothing dominates it
    let pe = |d: &serde_json::Value| (d["hw"]["psnr"].as_f64().unwrap(), d["energy_mj"].as_f64().unwrap());
    for a in designs {
        let (pa, ea) = pe(a);
        let dominated = designs.iter().any(|b| {
            let (pb, eb) = pe(b);
            pb >= pa && eb <= ea && (pb > pa || eb < ea)
        });
        assert_eq!(a["pareto"].as_bool().unwrap(), !dominated, "{}", a["name"]);
    }
    // the budget picks the cheapest design within 0.5 dB
    let ok: Vec<&serde_json::Value> = designs.iter().filter(|d| fp - d["hw"]["psnr"].as_f64().unwrap() <= 0.5).collect();
    let cheapest = ok.iter().min_by(|a, b| pe(a).1.total_cmp(&pe(b).1)).unwrap();
    assert_eq!(v["budget"]["design"], cheapest["name"]);
    // DFSQ pays for its stats pass; the uniform designs have none
    let stats = |n: &str| designs.iter().find(|d| d["name"] == n).unwrap()["energy_breakdown_mj"]["stats"].as_f64().unwrap();
    assert!(stats("dfsq-kmeans-w4a4") > 0.0);
    assert_eq!(stats("w8a8-int"), 0.0);

    // the front as a figure in the sign-off report, beside a design table
    let rep = tmp.path().join("rep");
    let o = sqsim(&["report", "--model", "edsr_x2", "--bits", "4", "--dataset", &ds, "--compare", out.to_str().unwrap(), "--out", rep.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let svg = std::fs::read_to_string(rep.join("front.svg")).unwrap();
    assert!(svg.contains("energy per image") && svg.contains("minmax"));
    let html = std::fs::read_to_string(rep.join("report.html")).unwrap();
    assert!(html.contains("Pareto") && html.contains("w8a8-int") && html.contains("dfsq-kmeans-w4a4"));
    // a comparison of another model is refused
    let rep2 = tmp.path().join("rep2");
    fails_with(&["report", "--model", "edsr_x4", "--bits", "4", "--dataset", &ds, "--compare", out.to_str().unwrap(), "--out", rep2.to_str().unwrap()], "edsr_x2");
}

#[test]
fn compare_refuses_bad_input_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = crop_dir(tmp.path());
    let out = tmp.path().join("cmp.json");
    let o = out.to_str().unwrap();
    fails_with(&["compare", "--dataset", &ds, "--designs", "fancy-4", "--out", o], "unknown quantization method");
    fails_with(&["compare", "--dataset", &ds, "--designs", "percentile-4", "--percentile", "0", "--out", o], "percentile");
    fails_with(&["compare", "--dataset", &ds, "--designs", "percentile-4", "--percentile", "100.5", "--out", o], "percentile");
    fails_with(&["compare", "--dataset", &ds, "--designs", "minmax-12", "--out", o], "bits");
    fails_with(&["compare", "--dataset", &ds, "--designs", "exhaustive-4", "--out", o], "exponential");
    fails_with(&["compare", "--dataset", &ds, "--designs", "minmax-4,minmax-4", "--out", o], "twice");
    fails_with(&["compare", "--dataset", &ds, "--quantize", "most", "--out", o], "--quantize");
    fails_with(&["compare", "--model", "rdn_x2", "--dataset", &ds, "--quantize", "all", "--out", o], "EDSR");
    fails_with(&["compare", "--dataset", &ds, "--budget-db=-1", "--out", o], "budget");
    assert!(!out.exists(), "nothing written for refused input");
    // a budget no design meets: a clear message naming the best reachable, exit ≠ 0
    let r = fails_with(&["compare", "--dataset", &ds, "--designs", "minmax-2", "--budget-db", "0.01", "--quiet"], "best reachable");
    assert!(String::from_utf8_lossy(&r.stderr).contains("minmax-w2a2"));
}

#[test]
fn calibrate_writes_range_files_and_a_mismatched_one_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = crop_dir(tmp.path());
    let out = tmp.path().join("r_{method}.json");
    let o = sqsim(&["calibrate", "--model", "edsr_x2", "--bits", "4", "--images", &ds, "--method", "minmax,percentile", "--out", out.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mm: sqsim::uniform::RangeCalibration = serde_json::from_slice(&std::fs::read(tmp.path().join("r_minmax.json")).unwrap()).unwrap();
    let pc: sqsim::uniform::RangeCalibration = serde_json::from_slice(&std::fs::read(tmp.path().join("r_percentile99.99.json")).unwrap()).unwrap();
    assert_eq!(mm.layers.len(), 32);
    for (k, r) in &mm.layers {
        let p = pc.layers[k];
        assert!(r.lo <= p.lo && p.hi <= r.hi && p.lo <= p.hi, "{k}: {r:?} vs {p:?}");
    }
    // the file says what made it; another model or method is refused
    let model = sqsim::model::load_builtin("edsr_x4").unwrap();
    assert!(mm.ranges(&model, "minmax", None).unwrap_err().to_string().contains("edsr_x2"));
    let m2 = sqsim::model::load_builtin("edsr_x2").unwrap();
    assert!(mm.ranges(&m2, "percentile", Some(99.99)).is_err());
    fails_with(&["calibrate", "--model", "edsr_x2", "--bits", "4", "--images", &ds, "--method", "dfsq-uniform", "--out", "x.json"], "no calibration");
}

#[test]
fn run_and_accuracy_take_the_uniform_methods() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = crop_dir(tmp.path());
    let o = sqsim(&["run", "--model", "edsr_x2", "--method", "minmax", "--bits", "8", "--dataset", &ds, "--format", "json", "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["method"], "minmax");
    let d = &v["datasets"][0];
    let (f, h) = (d["float"]["psnr"].as_f64().unwrap(), d["hw"]["psnr"].as_f64().unwrap());
    assert!((f - h).abs() < 0.15, "float {f} hw {h}"); // a 32×32 LR crop: flips dominate
    assert_eq!(d["hw"]["overflows"], 0);
    assert!(d["cost"]["energy_pj"].as_f64().unwrap() > 0.0);
    assert_eq!(d["cycle_mismatches"], 0, "stepped uniform array == functional");
    assert!(d["stepped_outputs"].as_u64().unwrap() > 0);
    let o = sqsim(&["run", "--model", "edsr_x2", "--method", "dfsq-uniform", "--bits", "4", "--dataset", &ds, "--format", "json", "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["method"], "dfsq-uniform");
    assert_eq!(v["datasets"][0]["cycle_mismatches"], 0, "the stepped cycle model runs dfsq-uniform too");
    fails_with(&["run", "--method", "minmax", "--granularity", "per-kernel", "--dataset", &ds], "per-kernel");
    fails_with(&["run", "--dataset", &ds, "--limit", "0"], "--limit");
    let o = sqsim(&["accuracy", "--model", "edsr_x2", "--method", "minmax,percentile,dfsq-uniform", "--bits", "4", "--dataset", "Set5", "--limit", "1", "--format", "json", "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let m: Vec<&str> = rows.as_array().unwrap().iter().map(|r| r["method"].as_str().unwrap()).collect();
    assert_eq!(m, ["minmax", "percentile99.99", "dfsq-uniform"]);
    assert_eq!(rows[0]["paper_drop_db"], 0.434, "the paper's Min-Max drop at W4, EDSR×2 Set5");
}

#[test]
fn sharded_compare_merges_to_the_single_run_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = crop_dir(tmp.path());
    let p = |n: &str| tmp.path().join(n).to_string_lossy().into_owned();
    let designs = "minmax-4,w8a8,dfsq-uniform-4";
    let base = ["compare", "--model", "edsr_x2", "--dataset", ds.as_str(), "--designs", designs, "--quiet", "--format", "csv"];
    let run = |extra: &[&str]| {
        let o = sqsim(&[&base[..], extra].concat());
        assert!(o.status.success(), "{extra:?}: {}", String::from_utf8_lossy(&o.stderr));
    };
    run(&["--budget-db", "0.5", "--out", &p("single.json")]);
    run(&["--shard", "0/2", "--out", &p("s0.json")]);
    run(&["--shard", "1/2", "--out", &p("s1.json")]);
    let o = sqsim(&["compare", "--merge", &p("s1.json"), &p("s0.json"), "--budget-db", "0.5", "--out", &p("merged.json"), "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (single, merged) = (std::fs::read_to_string(p("single.json")).unwrap(), std::fs::read_to_string(p("merged.json")).unwrap());
    let first_diff = single.lines().zip(merged.lines()).position(|(a, b)| a != b);
    assert!(single == merged, "merged differs from the single run at line {first_diff:?}");
    // a missing shard, a repeated one, or a shard of another request is refused
    fails_with(&["compare", "--merge", &p("s0.json"), "--out", &p("bad.json")], "missing");
    fails_with(&["compare", "--merge", &p("s0.json"), &p("s0.json"), &p("s1.json"), "--out", &p("bad.json")], "repeats");
    fails_with(&["compare", "--merge", &p("single.json"), "--out", &p("bad.json")], "not a shard");
    let o = sqsim(&["compare", "--dataset", ds.as_str(), "--designs", "minmax-6,w8a8", "--shard", "1/2", "--out", &p("other1.json"), "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    fails_with(&["compare", "--merge", &p("s0.json"), &p("other1.json"), "--out", &p("bad.json")], "another comparison");
    // a shard made from other weights (or without provenance) is refused, the field named
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p("s1.json")).unwrap()).unwrap();
    v["provenance"]["weights_sha256"] = "0".repeat(64).into();
    std::fs::write(p("w1.json"), serde_json::to_string(&v).unwrap()).unwrap();
    fails_with(&["compare", "--merge", &p("s0.json"), &p("w1.json"), "--out", &p("bad.json")], "weights_sha256");
    v.as_object_mut().unwrap().remove("provenance");
    std::fs::write(p("w1.json"), serde_json::to_string(&v).unwrap()).unwrap();
    fails_with(&["compare", "--merge", &p("s0.json"), &p("w1.json"), "--out", &p("bad.json")], "provenance");
    assert!(!tmp.path().join("bad.json").exists());
}

/// The lever variants of one DFSQ design: identical accuracy (levers change
/// cost, not numbers), each lever lowers energy where it claims to, and
/// energy-aware selection is a design of its own.
#[test]
fn lever_designs_share_numbers_and_move_cost() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = crop_dir(tmp.path());
    let o = sqsim(&[
        "compare", "--model", "edsr_x2", "--dataset", &ds, "--designs",
        "kmeans-4,kmeans-4+gate,kmeans-4+idx,kmeans-4+pstats,kmeans-4+all,optimal-energy:0.01-4",
        "--format", "json", "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let d = v["designs"].as_array().unwrap();
    let names: Vec<&str> = d.iter().map(|x| x["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["dfsq-kmeans-w4a4", "dfsq-kmeans-w4a4+gate", "dfsq-kmeans-w4a4+idx", "dfsq-kmeans-w4a4+pstats", "dfsq-kmeans-w4a4+gate+idx+pstats", "dfsq-optimal-energy-l0.01-w4a4"]
    );
    let f = |i: usize, k: &str| d[i]["energy_breakdown_mj"][k].as_f64().unwrap();
    for i in 1..5 {
        assert_eq!(d[i]["hw"], d[0]["hw"], "{}: levers must not change results", names[i]);
        assert!(d[i]["energy_mj"].as_f64().unwrap() < d[0]["energy_mj"].as_f64().unwrap(), "{} not cheaper", names[i]);
    }
    assert!(f(1, "pe") < f(0, "pe") && f(1, "dram") == f(0, "dram"), "gating: PE only");
    assert!(f(2, "act_buf") < f(0, "act_buf"), "indices: act buffer");
    assert!(f(3, "dram") < f(0, "dram") && f(3, "pe") == f(0, "pe"), "producer stats: DRAM only");
    assert_eq!(d[4]["options"]["levers"]["act_buffer"], "index");
    assert_eq!(d[5]["options"]["lambda"], 0.01);
    assert_eq!(d[5]["options"]["selection"], "optimal-energy");
}

#[test]
fn bad_lever_and_lambda_designs_are_refused_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("c.json");
    let o = out.to_str().unwrap();
    fails_with(&["compare", "--model", "edsr_x2", "--designs", "minmax-4+gate", "--out", o], "uniform-integer array has none");
    fails_with(&["compare", "--model", "edsr_x2", "--designs", "kmeans-4+turbo", "--out", o], "turbo");
    fails_with(&["compare", "--model", "edsr_x2", "--designs", "optimal-energy:-1-4", "--out", o], "lambda");
    fails_with(&["compare", "--model", "edsr_x2", "--designs", "optimal-energy-4", "--out", o], "needs its λ");
    fails_with(&["compare", "--model", "edsr_x2", "--designs", "kmeans:0.1-4", "--out", o], "only optimal-energy");
    assert!(!out.exists(), "a refused comparison wrote {}", out.display());
    let cal = tmp.path().join("cal_{method}.json");
    fails_with(&["calibrate", "--model", "edsr_x2", "--bits", "4", "--method", "optimal-energy", "--lambda", "-0.5", "--out", cal.to_str().unwrap()], "lambda");
    fails_with(&["calibrate", "--model", "edsr_x2", "--bits", "4", "--method", "kmeans", "--lambda", "0.5", "--out", cal.to_str().unwrap()], "only --method optimal-energy");
    fails_with(&["run", "--model", "edsr_x2", "--method", "kmeans", "--lambda", "0.5", "--limit", "1"], "only optimal-energy");
    fails_with(&["run", "--model", "edsr_x2", "--method", "minmax", "--lambda", "0.5", "--limit", "1"], "only optimal-energy");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0, "refused commands left files behind");
    // a hardware config with term gating cannot be priced without measured codes
    let hw = tmp.path().join("gate.toml");
    let full = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("hw/configs/default.toml")).unwrap();
    std::fs::write(&hw, full + "[levers]\nterm_gating = true\nact_buffer = \"code\"\nproducer_stats = false\n").unwrap();
    fails_with(&["cost", "--model", "edsr_x2", "--hw", hw.to_str().unwrap()], "measured");
}
