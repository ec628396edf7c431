//! `sqsim report` end to end on a tiny dataset (two 48×48 crops of Set5),
//! and its clean failures on bad input.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sqsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sqsim")).args(args).output().expect("binary runs")
}

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// Two 48×48 HR crops in a fresh dataset directory.
fn tiny_dataset() -> tempfile::TempDir {
    use sqsim::image::{crop, load_rgb, save_png};
    let dir = tempfile::tempdir().unwrap();
    for (name, x, y) in [("baby", 200, 180), ("bird", 100, 100)] {
        let img = load_rgb(&repo(&format!("data/Set5/{name}.png"))).unwrap();
        save_png(&dir.path().join(format!("{name}.png")), &crop(&img, x, y, 48, 48).unwrap()).unwrap();
    }
    dir
}

/// Tag names of an XML fragment balance (opening vs closing, self-closing
/// ignored); returns the first mismatch.
fn check_balanced(xml: &str) -> Result<(), String> {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find('<') {
        let tail = &rest[i + 1..];
        let end = tail.find('>').ok_or("unterminated tag")?;
        let tag = &tail[..end];
        rest = &tail[end + 1..];
        if tag.starts_with('!') || tag.starts_with('?') {
            continue;
        }
        let name: String = tag.trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
        if tag.starts_with('/') {
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
        } else if !tag.ends_with('/') {
            stack.push(name);
        }
    }
    if stack.is_empty() {
        Ok(())
    } else {
        Err(format!("unclosed {stack:?}"))
    }
}

fn count(s: &str, pat: &str) -> usize {
    s.matches(pat).count()
}

fn csv_rows(p: &Path) -> Vec<csv::StringRecord> {
    csv::Reader::from_path(p).unwrap().records().map(|r| r.unwrap()).collect()
}

/// Test-side base64 decoder (independent of the report's encoder).
fn unbase64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("bad base64 char {c}"),
    } as u32;
    let mut out = Vec::new();
    for chunk in s.as_bytes().chunks(4) {
        let pad = chunk.iter().filter(|&&c| c == b'=').count();
        let n = chunk.iter().filter(|&&c| c != b'=').enumerate().fold(0u32, |n, (k, &c)| n | val(c) << (18 - 6 * k));
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8][..3 - pad]);
    }
    out
}

#[test]
fn report_on_tiny_dataset_is_complete_and_self_contained() {
    let data = tiny_dataset();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("a/b/report"); // parents created as needed
    let o = sqsim(&[
        "report",
        "--model",
        "edsr_x2",
        "--bits",
        "8,4",
        "--dataset",
        data.path().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let n_layers = sqsim::model::load_builtin("edsr_x2").unwrap().quant_layers().len();

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    check_balanced(&html).unwrap();
    // every figure inlined, none referenced
    let svgs = ["accuracy_", "layer_error.svg", "act_channels.svg", "act_images.svg", "cost.svg"];
    assert_eq!(count(&html, "<svg"), svgs.len());
    assert_eq!(count(&html, "</svg>"), svgs.len());
    let ext = html.matches("http://").count() + html.matches("https://").count();
    assert_eq!(ext, count(&html, "xmlns=\"http://www.w3.org/2000/svg\""), "external references in report.html");
    assert_eq!(count(&html, "src=\""), count(&html, "src=\"data:image/png;base64,"));
    assert!(!html.contains("href="));
    // 2 bit-widths × (HR, FP, DFSQ, hw) crops, each a decodable 48×48 PNG
    assert_eq!(count(&html, "data:image/png;base64,"), 8);
    let b64 = html.split("data:image/png;base64,").nth(1).unwrap().split('"').next().unwrap();
    let img = sqsim::image::load_rgb_bytes(&unbase64(b64)).unwrap();
    assert_eq!((img.width, img.height), (48, 48));

    // each figure on disk is balanced SVG with its data drawn
    let svg = |name: &str| {
        let s = std::fs::read_to_string(out.join(name)).unwrap();
        check_balanced(&s).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"), "{name}");
        s
    };
    let acc_files: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("accuracy_") && n.ends_with(".svg"))
        .collect();
    assert_eq!(acc_files.len(), 1);
    let acc = svg(&acc_files[0]);
    assert!(count(&acc, "<circle") >= 2 * 2 * 2, "FP and DFSQ markers at 2 bit-widths in 2 panels");
    let le = svg("layer_error.svg");
    assert!(count(&le, "<circle") >= 2 * 2 * n_layers, "a marker per layer, bit-width and panel");
    let ac = svg("act_channels.svg");
    assert!(count(&ac, "<rect") >= 2 * 2 * 8, "8 channel boxes (fill + outline) in 2 panels");
    let ai = svg("act_images.svg");
    assert!(count(&ai, "<rect") >= 2 * 2 * 2, "2 image boxes in 2 panels");
    // 4-bit point lines (≤ 16) on top of 5 box lines per box
    assert!(count(&ai, "<polyline") >= 2 * 2 * 5 + 2, "box lines and point lines");
    let co = svg("cost.svg");
    assert!(count(&co, "<rect") >= 3 * n_layers, "cycles + 2 energy bars per layer");

    // data files
    let acc = csv_rows(&out.join("accuracy.csv"));
    assert_eq!(acc.len(), 2);
    for r in &acc {
        let f = |i: usize| r[i].parse::<f64>().unwrap();
        // columns: dataset,images,bits,fp_psnr,fp_ssim,dfsq_psnr,dfsq_ssim,hw_psnr,hw_ssim,hw_overflows,paper_drop_db
        assert_eq!(&r[1], "2");
        assert!(f(3) > 30.0 && f(5) > 30.0, "PSNR in range: {r:?}");
        assert!((f(7) - f(5)).abs() < 0.5, "hardware tracks the float reference: {r:?}");
        assert!(&r[10] == "", "no paper number for a custom dataset");
    }
    assert_eq!(csv_rows(&out.join("layer_error.csv")).len(), 2 * n_layers);
    assert_eq!(csv_rows(&out.join("cost.csv")).len(), 2 * n_layers);
    assert_eq!(csv_rows(&out.join("act_channels.csv")).len(), 2 * 8);
    let ai = csv_rows(&out.join("act_images.csv"));
    assert_eq!(ai.len(), 2 * 2);
    for r in ai.iter().filter(|r| &r[2] == "normalized") {
        // (x − μ)/(M + ε) with M = max|x − μ|: inside [−1, 1], touching one end
        let (lo, hi) = (r[3].parse::<f64>().unwrap(), r[7].parse::<f64>().unwrap());
        assert!(lo >= -1.0 - 1e-6 && hi <= 1.0 + 1e-6 && (lo <= -0.999 || hi >= 0.999), "{r:?}");
    }
    let j: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(j["activations"]["points_bits"], 4);
    let pts = j["activations"]["points"].as_array().unwrap();
    assert!(!pts.is_empty() && pts.len() <= 16);
}

fn fails_with(args: &[&str], needle: &str) {
    let o = sqsim(args);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{args:?} succeeded");
    assert!(!e.contains("panicked"), "{args:?} panicked: {e}");
    assert!(e.contains("error") && e.to_lowercase().contains(&needle.to_lowercase()), "{args:?}: {e}");
}

#[test]
fn report_bad_input_fails_cleanly_without_output() {
    let data = tiny_dataset();
    let ds = data.path().to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = out.to_str().unwrap();
    fails_with(&["report", "--bits", "4", "--dataset", ds, "--layer", "no.such.layer", "--out", o], "unknown layer `no.such.layer`");
    assert!(!out.exists(), "no output for a bad layer name");
    fails_with(&["report", "--bits", "4,9", "--dataset", ds, "--out", o], "bits");
    assert!(!out.exists());
    // out under a regular file: the directory cannot be created
    let file = tmp.path().join("file.txt");
    std::fs::write(&file, b"x").unwrap();
    let under = file.join("sub");
    fails_with(&["report", "--bits", "4", "--dataset", ds, "--out", under.to_str().unwrap()], "--out");
    fails_with(&["report", "--bits", "4", "--dataset", ds, "--out", file.to_str().unwrap()], "not a directory");
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
    fails_with(&["report", "--bits", "4", "--dataset", "NoSuchSet", "--out", o], "NoSuchSet");
    fails_with(&["report", "--bits", "4", "--dataset", ds, "--method", "nosuch", "--out", o], "unknown quantization method");
    fails_with(&["report", "--bits", "4", "--dataset", ds, "--method", "percentile", "--percentile", "0", "--out", o], "(0, 100]");
    assert!(!out.exists(), "no output for a bad method");
}

/// `report --method minmax` reports the uniform design on its own datapath
/// and array: the same hardware PSNR and energy as `run --method minmax`
/// (the command that prints that design's numbers), its float reference
/// under the method's name, the per-tensor grid as the plotted levels, and
/// no multiplier baseline (the array already is one).
#[test]
fn report_for_a_uniform_method_is_that_designs_report() {
    let data = tiny_dataset();
    let ds = data.path().to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("mm");
    let o = sqsim(&["report", "--method", "minmax", "--bits", "6,4", "--dataset", ds, "--out", out.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = sqsim(&["run", "--method", "minmax", "--bits", "4", "--dataset", ds, "--format", "json", "--quiet"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let run: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let d = &run["datasets"][0];

    let acc = csv_rows(&out.join("accuracy.csv"));
    assert_eq!(acc.len(), 2);
    let w4 = acc.iter().find(|r| &r[2] == "4").unwrap();
    assert_eq!(&w4[11], "minmax", "{w4:?}");
    let f = |i: usize| w4[i].parse::<f64>().unwrap();
    assert!((f(7) - d["hw"]["psnr"].as_f64().unwrap()).abs() < 1e-9, "hardware PSNR {} vs run {}", f(7), d["hw"]["psnr"]);
    assert!((f(5) - d["float"]["psnr"].as_f64().unwrap()).abs() < 1e-9, "float PSNR {} vs run {}", f(5), d["float"]["psnr"]);
    assert!((f(7) - f(5)).abs() < 0.5, "hardware tracks its float reference: {w4:?}");

    let cost = csv_rows(&out.join("cost.csv"));
    let e4: f64 = cost.iter().filter(|r| &r[0] == "4").map(|r| r[6].parse::<f64>().unwrap()).sum();
    let run_e = d["cost"]["energy_pj"].as_f64().unwrap() / 1e6 / 2.0; // two images of one size
    assert!((e4 - run_e).abs() <= 1e-6 * run_e, "energy {e4} µJ vs run {run_e} µJ");
    assert!(cost.iter().all(|r| r[7].is_empty() && r[9].is_empty()), "no multiplier baseline for a uniform design");

    let j: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(j["method"], "minmax");
    assert_eq!(j["activations"]["points_raw"], true);
    let pts: Vec<f64> = j["activations"]["points"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert_eq!(pts.len(), 16, "the 4-bit grid");
    assert!(pts.windows(2).all(|w| w[1] > w[0]) && pts.contains(&0.0), "ascending, with an exact zero: {pts:?}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("minmax float") && html.contains("uniform-integer array"), "method named in the page");
    assert!(!html.contains("DFSQ float"));
}
