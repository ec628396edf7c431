//! Bounded resources and no half-written results (issue #16, classes 3 and
//! 6): every input above a documented limit (src/limits.rs, README
//! "Limits") is refused before the work starts, every image of a dataset is
//! checked before the first is processed, and a rerun leaves no stale file
//! of its own beside its new ones.
use sqsim::image::RgbImage;
use std::path::{Path, PathBuf};
mod common;
use common::*;
use std::time::{Duration, Instant};


/// Fails unless the command is refused, promptly, with `needle` in its error.
fn refused(args: &[&str], needle: &str) {
    let t = Instant::now();
    let o = sqsim(args);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{args:?} succeeded");
    assert!(!e.contains("panicked"), "{args:?} panicked: {e}");
    assert!(e.contains("error:") && e.contains(needle), "{args:?}: expected `{needle}` in: {e}");
    assert!(t.elapsed() < Duration::from_secs(60), "{args:?}: refused only after {:?}", t.elapsed());
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn crop_png(path: &Path, x: usize, y: usize) {
    let img = sqsim::image::load_rgb(&root().join("data/Set5/bird.png")).unwrap();
    sqsim::image::save_png(path, &sqsim::image::crop(&img, x, y, 40, 36).unwrap()).unwrap();
}

#[test]
fn flags_above_their_limits_are_refused_before_work() {
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n).to_string_lossy().into_owned();
    refused(&["run", "--steps", "33", "--limit", "1"], "--steps: 33 exceeds the limit of 32");
    refused(&["vectors", "--unit", "pe", "--layer", "body.0.body.0", "--count", "1000001", "--out", &p("v")], "--count");
    refused(&["cost", "--size", "2049x1024"], "exceeds the limit of 2097152 px");
    // a sweep whose axes multiply past the candidate limit
    refused(
        &[
            "sweep", "--full-grid", "--mant-bits", "2,3,4,5,6,7,8,9,10,11,12", "--acc-bits", "30,32,34,36,38,40,42,44,46,48",
            "--act-bits", "16,18,20,22,24", "--formats", "mantissa,pow2", "--quiet",
        ],
        "configurations",
    );
    // samples: an endless device is refused at the byte cap, not drained
    refused(&["select", "--samples", "/dev/zero"], "more than 268435456 bytes");
    std::fs::write(p("s.txt"), "0.5 -0.25 1.5\n").unwrap();
    refused(&["select", "--samples", &p("s.txt")], "sample 3 is 1.5, outside [-1, 1]");
    assert!(!Path::new(&p("v")).exists(), "a refused command wrote output");
}

#[test]
fn exhaustive_selection_estimates_its_work() {
    let u: Vec<f64> = (0..30).map(|i| i as f64 / 30.0).collect();
    let samples = vec![0.1f32; 1_000_000];
    let t = Instant::now();
    let e = sqsim::select::exhaustive::exhaustive(&samples, &u, 4).unwrap_err().to_string();
    assert!(e.contains("exceeds the limit") && e.contains("optimal"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(1), "refused after {:?}", t.elapsed());
    // the same search on few samples runs
    assert!(sqsim::select::exhaustive::exhaustive(&samples[..100], &u, 4).is_ok());
}

#[test]
fn an_oversized_or_truncated_image_fails_the_run_before_any_output() {
    let d = tempfile::tempdir().unwrap();
    let ds = d.path().join("ds");
    std::fs::create_dir(&ds).unwrap();
    crop_png(&ds.join("a.png"), 60, 60);
    // b.png: truncated after its header
    crop_png(&ds.join("b.png"), 70, 60);
    let bytes = std::fs::read(ds.join("b.png")).unwrap();
    std::fs::write(ds.join("b.png"), &bytes[..bytes.len() / 2]).unwrap();
    let imgs = d.path().join("imgs");
    let (s, i) = (ds.to_str().unwrap(), imgs.to_str().unwrap());
    refused(&["run", "--dataset", s, "--no-hw", "--quiet", "--save-images", i], "b.png");
    assert_eq!(std::fs::read_dir(&imgs).map(|r| r.count()).unwrap_or(0), 0, "a.png's outputs were written before b.png failed");
    refused(&["accuracy", "--dataset", s, "--bits", "4", "--quiet", "--per-image", &d.path().join("pi.csv").to_string_lossy()], "b.png");
    assert!(!d.path().join("pi.csv").exists());
    // an LR above the pixel limit (HR 4200×2100 at ×2: LR 2100×1050)
    std::fs::remove_file(ds.join("b.png")).unwrap();
    let big = RgbImage { width: 4200, height: 2100, data: vec![0; 4200 * 2100 * 3] };
    sqsim::image::save_png(&ds.join("b.png"), &big).unwrap();
    refused(&["run", "--dataset", s, "--no-hw", "--quiet", "--save-images", i], "exceeds the limit of 2097152 px");
    refused(&["cost", "--image", &ds.join("b.png").to_string_lossy()], "2097152 px");
    assert_eq!(std::fs::read_dir(&imgs).map(|r| r.count()).unwrap_or(0), 0);
}

#[test]
fn a_rerun_removes_its_own_stale_files_and_no_others() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("report");
    let mut w = sqsim::io_util::OwnedDir::begin(&dir).unwrap();
    w.write("report.html", b"1").unwrap();
    w.write("layer_a.svg", b"a").unwrap();
    w.finish().unwrap();
    std::fs::write(dir.join("notes.txt"), b"mine").unwrap();
    let mut w = sqsim::io_util::OwnedDir::begin(&dir).unwrap();
    w.write("report.html", b"2").unwrap();
    w.write("layer_b.svg", b"b").unwrap();
    w.finish().unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, [".sqsim-owned", "layer_b.svg", "notes.txt", "report.html"], "stale figure kept or a user file removed");
    assert!(w_rejects_paths(&dir));
    // run --save-images: a hardware image from an earlier run goes when this run has none
    let ds = d.path().join("ds");
    std::fs::create_dir(&ds).unwrap();
    crop_png(&ds.join("a.png"), 60, 60);
    let imgs = d.path().join("imgs");
    let (s, i) = (ds.to_str().unwrap(), imgs.to_str().unwrap());
    let o = sqsim(&["run", "--dataset", s, "--quiet", "--steps", "0", "--save-images", i]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let hw = imgs.join("ds/a_hw.png");
    assert!(hw.exists());
    let o = sqsim(&["run", "--dataset", s, "--quiet", "--no-hw", "--save-images", i]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!hw.exists() && imgs.join("ds/a_fp.png").exists(), "stale hardware image left beside a --no-hw run's images");
}

fn w_rejects_paths(dir: &Path) -> bool {
    let mut w = sqsim::io_util::OwnedDir::begin(dir).unwrap();
    w.write("../escape.txt", b"x").is_err() && w.write(".sqsim-owned", b"x").is_err()
}
