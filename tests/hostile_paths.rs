//! Hostile input, classes 4 and 5 of the robustness issue: no command
//! overwrites one of its own inputs, and a path a file names never leads out
//! of that file's directory (symlinks included).
use std::path::Path;
use std::process::{Command, Output};

fn sqsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sqsim")).args(args).output().expect("binary runs")
}

fn refused(args: &[&str], needle: &str) {
    let o = sqsim(args);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{args:?} succeeded");
    assert!(!e.contains("panicked"), "{args:?} panicked: {e}");
    assert!(e.contains(needle), "{args:?}: {e}");
}

fn manifest(paths: &[&str]) -> String {
    let p: Vec<String> = paths.iter().map(|s| format!("\"{s}\"")).collect();
    format!(r#"{{"modelTopology": {{}}, "weightsManifest": [{{"paths": [{}], "weights": []}}]}}"#, p.join(","))
}

#[test]
fn tfjs_shard_paths_stay_in_the_model_directory() {
    let root = tempfile::tempdir().unwrap();
    let model = root.path().join("model");
    std::fs::create_dir_all(model.join("sub")).unwrap();
    std::fs::write(root.path().join("secret.bin"), [0u8; 64]).unwrap();
    std::fs::write(model.join("sub/w.bin"), [0u8; 8]).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(root.path().join("secret.bin"), model.join("link.bin")).unwrap();
    let abs = root.path().join("secret.bin");
    for bad in ["../secret.bin", "sub/../../secret.bin", abs.to_str().unwrap(), "link.bin"] {
        std::fs::write(model.join("model.json"), manifest(&[bad])).unwrap();
        let e = sqsim::model::load_path(&model.join("model.json")).err().expect("refused").to_string();
        assert!(e.contains("leads outside"), "{bad}: {e}");
    }
    // inside the directory is fine: the error is then about the (empty) topology
    std::fs::write(model.join("model.json"), manifest(&["sub/w.bin"])).unwrap();
    let e = sqsim::model::load_path(&model.join("model.json")).err().expect("no layers").to_string();
    assert!(!e.contains("leads outside"), "{e}");
    // a missing shard inside is reported as missing, not as outside
    std::fs::write(model.join("model.json"), manifest(&["nope.bin"])).unwrap();
    let e = sqsim::model::load_path(&model.join("model.json")).err().unwrap().to_string();
    assert!(e.contains("nope.bin") && !e.contains("leads outside"), "{e}");
}

#[test]
fn library_writes_never_replace_an_input_read_by_the_process() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("in.json");
    std::fs::write(&f, b"{}").unwrap();
    sqsim::io_util::read_input(&f).unwrap();
    // the same file under another spelling (./, a symlink) is still refused
    let e = sqsim::io_util::atomic_write(&d.path().join(".").join("in.json"), b"x").unwrap_err().to_string();
    assert!(e.contains("input of this command"), "{e}");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&f, d.path().join("alias.json")).unwrap();
        assert!(sqsim::io_util::atomic_write(&d.path().join("alias.json"), b"x").is_err());
    }
    assert_eq!(std::fs::read(&f).unwrap(), b"{}");
    sqsim::io_util::atomic_write(&d.path().join("other.json"), b"x").unwrap();
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn commands_refuse_an_output_that_is_one_of_their_inputs() {
    let d = tempfile::tempdir().unwrap();
    // a copy of an input image directory and of a preset: the originals stay untouched
    let imgs = d.path().join("imgs");
    std::fs::create_dir_all(&imgs).unwrap();
    let img = imgs.join("bird.png");
    std::fs::copy(root().join("data/Set5/bird.png"), &img).unwrap();
    let hw = d.path().join("hw.toml");
    std::fs::copy(root().join("hw/configs/default.toml"), &hw).unwrap();
    let (img_bytes, hw_bytes) = (std::fs::read(&img).unwrap(), std::fs::read(&hw).unwrap());
    let (i, h) = (img.to_str().unwrap(), hw.to_str().unwrap());
    let ids = imgs.to_str().unwrap();
    refused(&["calibrate", "--model", "edsr_x2", "--bits", "3", "--images", ids, "--method", "minmax", "--out", i, "--quiet"], "input of this command");
    refused(&["compare", "--model", "edsr_x2", "--dataset", ids, "--designs", "minmax-4", "--hw", h, "--out", h, "--quiet"], "input of this command");
    let pi = d.path().join("pi.csv");
    let p = pi.to_str().unwrap();
    refused(&["accuracy", "--model", "edsr_x2", "--bits", "4", "--dataset", ids, "--per-image", p, "--out", p], "--per-image");
    assert_eq!(std::fs::read(&img).unwrap(), img_bytes, "an input image was overwritten");
    assert_eq!(std::fs::read(&hw).unwrap(), hw_bytes, "the --hw file was overwritten");
}

/// Class 2 of the robustness issue: an invalid value is refused naming its
/// flag, never dropped or read as another value.
#[test]
fn invalid_values_are_refused_not_dropped() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("s.csv");
    let o = out.to_str().unwrap();
    for (flag, v) in [("--acc-bits", "48,70"), ("--mant-bits", "0,8"), ("--act-bits", "24,40"), ("--act-frac-bits", "30")] {
        refused(&["sweep", "--model", "edsr_x2", flag, v, "--out", o], flag);
    }
    refused(&["sweep", "--model", "edsr_x2", "--limit", "0", "--out", o], "--limit 0");
    refused(&["accuracy", "--model", "edsr_x2", "--bits", "4", "--limit", "0"], "--limit 0");
    let c = d.path().join("c.json");
    refused(&["calibrate", "--model", "edsr_x2", "--bits", "4", "--max-images", "0", "--out", c.to_str().unwrap()], "--max-images 0");
    refused(&["run", "--model", "edsr_x2", "--limit", "0"], "--limit 0");
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0, "a refused command wrote a file");
}
