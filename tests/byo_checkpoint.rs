//! Bring your own checkpoint (#17) from the command line: `--weights`
//! alone infers family, scale and configuration and says so; a family or
//! built-in `--model` is checked against the checkpoint; conflicting
//! `--scale`/`--model` are refused naming what the checkpoint is; the
//! hardware path runs end to end on an inferred RDN.
use std::path::Path;
mod common;
use common::*;


fn golden(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/float").join(name).to_string_lossy().into_owned()
}


/// A one-image dataset: a 30×24 crop of Set5 bird (LR 10×8 at ×3).
fn dataset(dir: &Path) -> String {
    let img = sqsim::image::load_rgb(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data/Set5/bird.png")).unwrap();
    let d = dir.join("ds");
    std::fs::create_dir_all(&d).unwrap();
    sqsim::image::save_png(&d.join("bird.png"), &sqsim::image::crop(&img, 90, 90, 36, 30).unwrap()).unwrap();
    d.to_string_lossy().into_owned()
}

#[test]
fn weights_alone_infer_the_network_and_run_the_hardware() {
    let d = tempfile::tempdir().unwrap();
    let ds = dataset(d.path());
    let rdn = golden("rdn_tiny_x3_wrapped.safetensors");
    let imgs = d.path().join("imgs").to_string_lossy().into_owned();
    let o = sqsim(&["run", "--weights", &rdn, "--dataset", &ds, "--steps", "1", "--format", "json", "--save-images", &imgs]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    // calibrated on calib32 (no shipped file fits these weights), saved beside the outputs, reusable
    let cal = d.path().join("imgs/rdn_tiny_x3_wrapped_a4_kmeans.calib.json");
    assert!(err.contains("calibrating on calib32") && cal.exists(), "{err}");
    let again = sqsim(&["run", "--weights", &rdn, "--dataset", &ds, "--steps", "1", "--format", "json", "--quiet", "--calib", cal.to_str().unwrap()]);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let untimed = |out: &[u8]| {
        let mut v: serde_json::Value = serde_json::from_slice(out).unwrap();
        v.as_object_mut().unwrap().remove("timing_s").expect("run --format json reports its phases' wall time");
        v
    };
    assert_eq!(untimed(&again.stdout), untimed(&o.stdout), "the saved calibration gives another result");
    assert!(err.contains("RDN x3: D=3 RDBs, C=4 convs, G=6, G0=8"), "inferred configuration not printed: {err}");
    assert!(err.contains("left out") && err.contains("params."), "left-out tensors not reported: {err}");
    // the bit-accurate datapath on the inferred RDN: tracks its DFSQ float
    // reference, no overflow, the cycle model agrees, on the rdn preset
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ds0 = &v["datasets"][0];
    assert_eq!(v["hw_config"], "rdn", "{v}");
    let (hw, fl) = (ds0["hw"]["psnr"].as_f64().unwrap(), ds0["dfsq_float"]["psnr"].as_f64().unwrap());
    assert!((hw - fl).abs() < 0.05, "hardware {hw} dB vs float reference {fl} dB");
    assert_eq!(ds0["hw"]["overflows"], 0);
    assert_eq!(ds0["cycle_mismatches"], 0, "{ds0}");
    // a PyTorch-saved config-A RDN x4 (tests/golden/rdn_torch) through the hardware and the cycle model
    let a4 = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/rdn_torch/rdn_A_x4.pt");
    let big = d.path().join("ds4");
    std::fs::create_dir_all(&big).unwrap();
    let img = sqsim::image::load_rgb(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data/Set5/bird.png")).unwrap();
    sqsim::image::save_png(&big.join("bird.png"), &sqsim::image::crop(&img, 90, 90, 48, 40).unwrap()).unwrap();
    let o = sqsim(&["run", "--weights", a4.to_str().unwrap(), "--dataset", big.to_str().unwrap(), "--steps", "1", "--format", "json", "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let r = &v["datasets"][0];
    assert_eq!((v["scale"].as_u64(), &r["cycle_mismatches"], &r["hw"]["overflows"]), (Some(4), &0.into(), &0.into()), "{v}");
    assert!((r["hw"]["psnr"].as_f64().unwrap() - r["dfsq_float"]["psnr"].as_f64().unwrap()).abs() < 0.05, "{r}");
    // family and scale given: checked
    let ok = sqsim(&["cost", "--model", "rdn", "--weights", &rdn, "--scale", "3", "--size", "16x16"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    fails_with(&["cost", "--model", "edsr", "--weights", &rdn, "--size", "16x16"], "is an rdn checkpoint");
    fails_with(&["cost", "--model", "rdn_x2", "--weights", &rdn, "--size", "16x16"], "--model auto or --model rdn");
    fails_with(&["cost", "--weights", &rdn, "--scale", "2", "--size", "16x16"], "is a x3 network");
    fails_with(&["cost", "--model", "auto", "--size", "16x16"], "needs --weights");
    fails_with(&["cost", "--weights", &rdn, "--rgb-range", "7", "--size", "16x16"], "1 or 255");
    // an unrecognised layout names what was tried and the keys it saw
    let junk = d.path().join("vgg.safetensors");
    let data = vec![0u8; 16];
    let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![4], &data).unwrap();
    std::fs::write(&junk, safetensors::serialize(vec![("features.0.weight".to_string(), view)], &None).unwrap()).unwrap();
    fails_with(&["cost", "--weights", junk.to_str().unwrap(), "--size", "16x16"], "not an EDSR (head.0.weight) or RDN (SFENet1.weight)");
    fails_with(&["cost", "--weights", junk.to_str().unwrap(), "--size", "16x16"], "first keys: features.0.weight");
}

#[test]
fn every_model_command_takes_weights() {
    let d = tempfile::tempdir().unwrap();
    let ds = dataset(d.path());
    let edsr = golden("edsr_tiny_x2_range1.safetensors");
    let out = |n: &str| d.path().join(n).to_string_lossy().into_owned();
    for args in [
        vec!["accuracy", "--weights", &edsr, "--dataset", &ds, "--bits", "4", "--method", "minmax", "--quiet"],
        vec!["sweep", "--weights", &edsr, "--dataset", &ds, "--formats", "full", "--acc-bits", "48", "--act-bits", "24", "--quiet"],
        vec!["compare", "--weights", &edsr, "--dataset", &ds, "--designs", "minmax-8", "--quiet"],
    ] {
        let o = sqsim(&args);
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    }
    let c = out("c_{bits}.json");
    let o = sqsim(&["calibrate", "--weights", &edsr, "--bits", "4", "--images", &ds, "--out", &c, "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cal: serde_json::Value = serde_json::from_slice(&std::fs::read(out("c_4.json")).unwrap()).unwrap();
    assert_eq!(cal["model"], "edsr_tiny_x2_range1");
    // compare --calib-dir takes a saved calibration by name, checked: this one is used, not remade
    let cd = d.path().join("cd");
    std::fs::create_dir(&cd).unwrap();
    std::fs::copy(out("c_4.json"), cd.join("edsr_tiny_x2_range1_a4_kmeans.calib.json")).unwrap();
    let o = sqsim(&["compare", "--weights", &edsr, "--dataset", &ds, "--designs", "kmeans-4", "--calib-dir", cd.to_str().unwrap()]);
    assert!(o.status.success() && !String::from_utf8_lossy(&o.stderr).contains("calibrating"), "{}", String::from_utf8_lossy(&o.stderr));
    // a file of other bits under that name is refused, naming the field
    let o = sqsim(&["calibrate", "--weights", &edsr, "--bits", "3", "--images", &ds, "--out", &out("c3.json"), "--quiet"]);
    assert!(o.status.success());
    std::fs::copy(out("c3.json"), cd.join("edsr_tiny_x2_range1_a4_kmeans.calib.json")).unwrap();
    fails_with(&["compare", "--weights", &edsr, "--dataset", &ds, "--designs", "kmeans-4", "--calib-dir", cd.to_str().unwrap()], "bits `3` (expected `4`)");
    // a --calib-dir that does not exist yet is made, and the fresh calibration saved in it
    let fresh = d.path().join("new/cal");
    let o = sqsim(&["compare", "--weights", &edsr, "--dataset", &ds, "--designs", "kmeans-4", "--calib-dir", fresh.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(fresh.join("edsr_tiny_x2_range1_a4_kmeans.calib.json").exists());
    fails_with(&["compare", "--weights", &edsr, "--dataset", &ds, "--designs", "kmeans-4", "--calib-dir", &out("c3.json")], "--calib-dir");
    let o = sqsim(&["vectors", "--weights", &edsr, "--unit", "pe", "--layer", "body.0.body.0", "--crop", "0,0,8,8", "--image", &format!("{ds}/bird.png"), "--calib", &out("c_4.json"), "--count", "8", "--out", &out("v"), "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // a range-1 network gets the rdn_isr preset (16 fractional bits)
    let o = sqsim(&["cost", "--weights", &edsr, "--size", "16x16"]);
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains("rdn_isr"), "{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
}

/// `--quantize all` on an EDSR-PyTorch RDN: SFENet1/2, the upsampler and
/// the output conv join the datapath (as an integer accelerator runs
/// them), the hardware tracks its float reference with the cycle model
/// agreeing; the ISR RDN, whose 5×5 upsampler conv does not map onto the
/// 9-row array, is refused with the reason.
#[test]
fn quantize_all_runs_every_rdn_conv_on_the_datapath() {
    let d = tempfile::tempdir().unwrap();
    let ds = dataset(d.path());
    let rdn = golden("rdn_tiny_x3_wrapped.safetensors");
    let imgs = d.path().join("imgs").to_string_lossy().into_owned();
    let o = sqsim(&["run", "--weights", &rdn, "--quantize", "all", "--dataset", &ds, "--steps", "1", "--format", "json", "--save-images", &imgs]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["model"], "rdn_tiny_x3_wrapped+all", "{v}");
    let names: Vec<&str> = v["datasets"][0]["layers"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    for n in ["SFENet1", "SFENet2", "GFF.1", "UPNet.0", "UPNet.2"] {
        assert!(names.contains(&n), "{n} not on the datapath: {names:?}");
    }
    let r = &v["datasets"][0];
    assert_eq!((&r["cycle_mismatches"], &r["hw"]["overflows"]), (&0.into(), &0.into()), "{r}");
    assert!((r["hw"]["psnr"].as_f64().unwrap() - r["dfsq_float"]["psnr"].as_f64().unwrap()).abs() < 0.1, "{r}");
    assert!(d.path().join("imgs/rdn_tiny_x3_wrapped+all_a4_kmeans.calib.json").exists(), "{err}");
    fails_with(&["cost", "--model", "rdn_x2", "--quantize", "all", "--size", "16x16"], "UPN1 is 5×5");
}
