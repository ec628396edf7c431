//! The command line under good and bad input: every bad input gives a clear
//! one-line error, a non-zero exit, no panic and no partial output.
use std::path::Path;
use std::process::{Command, Output};

fn sqsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sqsim")).args(args).output().expect("binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Fails the test unless the command failed cleanly with `needle` in a one-line error.
fn fails_with(args: &[&str], needle: &str) {
    let o = sqsim(args);
    let e = stderr(&o);
    assert!(!o.status.success(), "{args:?} succeeded; stderr: {e}");
    assert!(!e.contains("panicked"), "{args:?} panicked: {e}");
    let last = e.lines().filter(|l| !l.trim().is_empty()).last().unwrap_or("");
    assert!(
        e.to_lowercase().contains(&needle.to_lowercase()),
        "{args:?}: error does not mention `{needle}`: {e}"
    );
    assert!(last.starts_with("error") || e.contains("error:"), "{args:?}: no error line: {e}");
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn uset_csv_has_header_and_377_rows() {
    let o = sqsim(&["uset", "--format", "csv"]);
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 378);
    assert!(lines[0].starts_with("index,value,int,code_bin"));
    let json = sqsim(&["uset", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["values"].as_array().unwrap().len(), 377);
}

#[test]
fn select_reports_every_method_and_rejects_bad_samples() {
    let d = tempfile::tempdir().unwrap();
    let good = write(d.path(), "s.txt", b"# samples\n0.1 -0.5, 0.25\n0.9\n-1 0 0.3 0.31\n");
    let o = sqsim(&["select", "--samples", &good, "--bits", "2", "--format", "json", "--word-sets", "ws2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let methods: Vec<&str> = v["methods"].as_array().unwrap().iter().map(|m| m["method"].as_str().unwrap()).collect();
    assert_eq!(methods, ["kmeans", "optimal", "exhaustive"]);
    let sse = |i: usize| v["methods"][i]["sse"].as_f64().unwrap();
    assert!(sse(1) <= sse(0) + 1e-12 && (sse(1) - sse(2)).abs() < 1e-12);

    fails_with(&["select", "--samples", &write(d.path(), "e.txt", b"# nothing\n")], "no samples");
    fails_with(&["select", "--samples", &write(d.path(), "n.txt", b"0.1 NaN")], "non-finite");
    fails_with(&["select", "--samples", &write(d.path(), "x.txt", b"0.1\n0.2 zebra")], "2: `zebra`");
    fails_with(&["select", "--samples", &good, "--bits", "9"], "bits");
    fails_with(&["select", "--samples", &good, "--bits", "1"], "bits");
    fails_with(&["select", "--samples", &good, "--word-sets", "2,x"], "word sets");
    fails_with(&["select", "--samples", &good, "--method", "magic"], "selection method");
    fails_with(&["select", "--samples", "/nonexistent/s.txt"], "nonexistent");
}

#[test]
fn run_rejects_bad_models_data_and_configs() {
    let d = tempfile::tempdir().unwrap();
    fails_with(&["run", "--model", "vgg16"], "unknown model");
    fails_with(&["run", "--dataset", "Urban1000"], "dataset");
    fails_with(&["run", "--bits", "9"], "bits");
    fails_with(&["run", "--calib", "/nonexistent/c.json"], "/nonexistent/c.json");
    fails_with(&["run", "--calib", &write(d.path(), "c.json", b"{\"layers\": 3}")], "not a calibration file");
    // a truncated checkpoint
    let pt = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/models/edsr_x2.pt")).unwrap();
    let half = write(d.path(), "half.pt", &pt[..pt.len() / 2]);
    fails_with(&["run", "--weights", &half], "half.pt");
    fails_with(&["run", "--weights", &write(d.path(), "junk.pt", b"not a checkpoint at all")], "junk.pt");
    // an x4 checkpoint given for the x2 model
    let x4 = concat!(env!("CARGO_MANIFEST_DIR"), "/models/edsr_x4.pt");
    fails_with(&["run", "--model", "edsr_x2", "--weights", x4], "x4");
    // bad hardware configs name the field
    fails_with(&["run", "--hw", &write(d.path(), "a.toml", b"[datapath]\nact_bits = 99\n")], "datapath.act_bits");
    fails_with(&["run", "--hw", &write(d.path(), "b.toml", b"[denorm]\nformat = \"log\"\n")], "format");
    fails_with(&["run", "--hw", &write(d.path(), "c.toml", b"[array]\nrows = 0\n")], "array.rows");
    // datasets: empty dir, an image too small for the scale, a non-PNG
    let empty = d.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    fails_with(&["run", "--dataset", empty.to_str().unwrap()], "empty");
    let small = d.path().join("small");
    std::fs::create_dir(&small).unwrap();
    image::RgbImage::new(6, 6).save(small.join("tiny.png")).unwrap();
    fails_with(&["run", "--dataset", small.to_str().unwrap()], "tiny");
    let bad = d.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    std::fs::write(bad.join("fake.png"), b"\x89PNG\r\n\x1a\nnope").unwrap();
    fails_with(&["run", "--dataset", bad.to_str().unwrap()], "fake.png");
}

#[test]
fn run_on_small_images_writes_complete_outputs_only() {
    let d = tempfile::tempdir().unwrap();
    let ds = d.path().join("ds");
    std::fs::create_dir(&ds).unwrap();
    // greyscale, 16-bit RGB and RGBA inputs are all accepted
    image::GrayImage::from_fn(40, 36, |x, y| image::Luma([(x * 5 + y * 3) as u8])).save(ds.join("a_grey.png")).unwrap();
    image::ImageBuffer::<image::Rgb<u16>, _>::from_fn(36, 40, |x, y| image::Rgb([(x * 1500) as u16, (y * 1400) as u16, 30000]))
        .save(ds.join("b_rgb16.png"))
        .unwrap();
    image::RgbaImage::from_fn(38, 38, |x, y| image::Rgba([(x * 6) as u8, (y * 6) as u8, 99, 128])).save(ds.join("c_rgba.png")).unwrap();
    let out = d.path().join("out");
    let o = sqsim(&[
        "run", "--model", "edsr_x2", "--dataset", ds.to_str().unwrap(), "--format", "json", "--quiet",
        "--save-images", out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["model"], "edsr_x2");
    assert_eq!(v["bits"], 4);
    assert_eq!(v["scale"], 2);
    let ds0 = &v["datasets"][0];
    assert_eq!(ds0["images"], 3);
    for k in ["fp", "dfsq_float", "hw"] {
        assert!(ds0[k]["psnr"].as_f64().unwrap() > 20.0, "{k}");
        assert!(ds0[k]["ssim"].as_f64().unwrap() > 0.5, "{k}");
    }
    assert_eq!(ds0["hw"]["overflows"], 0);
    assert!(ds0["hw"]["max_abs_err_vs_float"].as_f64().unwrap() < 20.0);
    assert_eq!(ds0["layers"].as_array().unwrap().len(), 32);
    let files: Vec<String> = std::fs::read_dir(out.join("ds")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(files.len(), 9, "{files:?}");
    assert!(files.iter().all(|f| f.ends_with(".png") && !f.contains(".tmp")));
}

#[test]
fn calibrate_writes_a_loadable_file_and_refuses_bad_output() {
    let d = tempfile::tempdir().unwrap();
    let imgs = d.path().join("imgs");
    std::fs::create_dir(&imgs).unwrap();
    image::RgbImage::from_fn(48, 40, |x, y| image::Rgb([(x * 5) as u8, (y * 6) as u8, ((x + y) * 2) as u8])).save(imgs.join("i.png")).unwrap();
    let out = d.path().join("c_{bits}.json");
    let o = sqsim(&[
        "calibrate", "--model", "edsr_x2", "--bits", "3,4", "--images", imgs.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let c4 = d.path().join("c_4.json");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&c4).unwrap()).unwrap();
    assert_eq!(v["layers"].as_object().unwrap().len(), 32);
    assert!(v["layers"]["body.0.body.0"].as_array().unwrap().len() == 64);
    // run accepts it
    let o = sqsim(&["run", "--calib", c4.to_str().unwrap(), "--dataset", imgs.to_str().unwrap(), "--no-hw", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // and rejects it for other bits
    fails_with(&["run", "--calib", c4.to_str().unwrap(), "--bits", "3", "--dataset", imgs.to_str().unwrap()], "bits `4` (expected `3`)");
    fails_with(&["calibrate", "--model", "edsr_x2", "--bits", "4", "--images", imgs.to_str().unwrap(), "--out", "/nonexistent/dir/c.json"], "/nonexistent/dir/c.json");
    fails_with(&["calibrate", "--model", "edsr_x2", "--bits", "3,4", "--images", imgs.to_str().unwrap(), "--out", "c.json"], "{bits}");
    fails_with(&["calibrate", "--model", "edsr_x2", "--bits", "4", "--method", "exhaustive", "--out", "c.json"], "exponential");
}

/// Messages name the flag and the part that is wrong (#16 class 7); the
/// form `--help` shows as a default is the form the flag accepts.
#[test]
fn messages_name_the_flag_and_help_defaults_parse() {
    fails_with(&["sweep", "--shard", "1/2/3", "--quiet"], "--shard `1/2/3`: shard count `2/3` is not a whole number");
    fails_with(&["compare", "--shard", "x/2", "--quiet"], "shard index `x`");
    let help = String::from_utf8(sqsim(&["vectors", "--help"]).stdout).unwrap();
    assert!(help.contains("[default: 112,112,24,24]"), "{help}");
}

#[test]
fn vcd_diff_rejects_what_is_not_a_matching_vcd() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let o = sqsim(&["vectors", "--model", "edsr_x2", "--unit", "pe", "--layer", "body.0.body.0", "--count", "4", "--vcd", "--quiet", "--out", &d.join("pe").to_string_lossy()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let model = d.join("pe/model.vcd").to_string_lossy().into_owned();
    let same = sqsim(&["vcd-diff", &model, &model]);
    assert!(same.status.success() && String::from_utf8_lossy(&same.stdout).starts_with("identical: 5 signals over"), "{}", stderr(&same));
    let text = std::fs::read_to_string(&model).unwrap();
    let garbage = write(d, "g.vcd", b"\x89PNG not a vcd");
    let empty = write(d, "e.vcd", b"");
    let cut = write(d, "cut.vcd", &text.as_bytes()[..text.len() / 2]);
    let renamed = write(d, "r.vcd", text.replace(" prod ", " product ").as_bytes());
    fails_with(&["vcd-diff", &model, &garbage], "RTL VCD");
    fails_with(&["vcd-diff", &empty, &model], "no <tb>.dut signals");
    fails_with(&["vcd-diff", &model, &cut], "unexpected end");
    fails_with(&["vcd-diff", &model, &renamed], "tb_pe.dut.prod");
    fails_with(&["vcd-diff", &model, &d.join("missing.vcd").to_string_lossy()], "missing.vcd");
}

#[test]
fn layer_vectors_refuse_what_the_engine_cannot_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("l");
    let out = out.to_str().unwrap();
    let base = ["vectors", "--model", "edsr_x2", "--unit", "layer", "--layer", "body.0.body.0", "--quiet", "--out", out];
    let with = |extra: &[&str]| -> Vec<String> { base.iter().chain(extra).map(|s| s.to_string()).collect() };
    let check = |extra: &[&str], needle: &str| {
        let a = with(extra);
        fails_with(&a.iter().map(String::as_str).collect::<Vec<_>>(), needle);
        assert!(!tmp.path().join("l").exists(), "a refused set writes nothing");
    };
    check(&["--tile", "0,0,1,1", "--channels", "2,2"], "at least 2 pixels");
    check(&["--channels", "65,4"], "is not within 64,64");
    check(&["--channels", "0,4"], "is not within");
    check(&["--channels", "4"], "two comma-separated numbers");
    check(&["--tile", "0,0,4,4", "--hw", "hw/configs/os_9x16.toml"], "output-stationary preset has no RTL");
    // the integer-multiplier engine computes the shift-add engine's function only without floored terms
    let int_narrow = ["vectors", "--model", "edsr_x2", "--unit", "layer_int", "--layer", "body.1.body.0", "--tile", "0,0,2,2", "--hw", "hw/tb/narrow_wrap.toml", "--quiet", "--out", out];
    fails_with(&int_narrow, "pe_frac_bits 6 would make the shift-add engine a different function");
    assert!(!tmp.path().join("l").exists(), "a refused set writes nothing");
    // a cut set is the cut conv's reference, and says so
    let a = with(&["--tile", "0,0,2,3", "--channels", "2,3"]);
    let o = sqsim(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(tmp.path().join("l/manifest.json")).unwrap()).unwrap();
    assert_eq!(m["source"]["layer_shape"]["in_c"], 2);
    assert_eq!(m["source"]["layer_name"], "body.0.body.0 channels 2->3");
    assert_eq!(m["params"]["NOUT"], 18);
}
