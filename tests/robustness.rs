//! Robustness matrix for every command, beyond tests/cli.rs: outputs that
//! cannot be written (directories and stdout), huge image headers, conflicting
//! flags, non-finite samples, empty datasets, images too small, and a run
//! killed midway. Every failure must be one `error: ...` line naming the
//! problem, a non-zero exit and no panic.
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sqsim"))
}

fn sqsim(args: &[&str]) -> Output {
    bin().args(args).output().expect("binary runs")
}

/// Clean failure: non-zero exit, no panic, the first stderr line is
/// `error: ...` and mentions `needle`. Our own errors are exactly one line;
/// clap usage errors add a usage hint after their first line.
fn check_fails(o: &Output, what: &str, needle: &str) {
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{what} succeeded; stderr: {e}");
    assert!(!e.contains("panicked"), "{what} panicked: {e}");
    let first = e.lines().next().unwrap_or("");
    assert!(first.starts_with("error: "), "{what}: first stderr line is not an error: {e}");
    let clap = e.contains("For more information, try '--help'");
    assert!(clap || e.trim_end().lines().count() == 1, "{what}: error is not one line: {e}");
    assert!(first.to_lowercase().contains(&needle.to_lowercase()), "{what}: `{first}` does not mention `{needle}`");
}

fn fails_with(args: &[&str], needle: &str) {
    check_fails(&sqsim(args), &format!("{args:?}"), needle);
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A directory holding one smooth RGB PNG of `w`×`h`.
fn dataset(root: &Path, name: &str, w: u32, h: u32) -> PathBuf {
    let d = root.join(name);
    std::fs::create_dir_all(&d).unwrap();
    image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 5) as u8, (y * 6) as u8, ((x + y) * 2) as u8]))
        .save(d.join("i.png"))
        .unwrap();
    d
}

/// A valid PNG whose header claims 100000×100000 RGB (30 GB decoded) with a
/// few bytes of data: loaders must refuse it from the header, not allocate.
fn huge_png() -> Vec<u8> {
    fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        let mut crc = !0u32; // CRC-32 of kind + data, as PNG defines it
        for &b in kind.iter().chain(data) {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        c.extend_from_slice(&(!crc).to_be_bytes());
        c
    }
    let mut ihdr = 100_000u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    // zlib stream of 5 zero bytes, stored (uncompressed) block
    let idat = [0x78, 0x01, 0x01, 0x05, 0x00, 0xfa, 0xff, 0, 0, 0, 0, 0, 0x00, 0x05, 0x00, 0x01];
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(b"IDAT", &idat));
    png.extend(chunk(b"IEND", &[]));
    png
}

#[test]
fn huge_png_header_is_refused_by_every_image_reader() {
    let d = tempfile::tempdir().unwrap();
    let ds = d.path().join("huge");
    std::fs::create_dir(&ds).unwrap();
    let img = ds.join("huge.png");
    std::fs::write(&img, huge_png()).unwrap();
    let t0 = std::time::Instant::now();
    fails_with(&["run", "--dataset", s(&ds), "--no-hw", "--quiet"], "huge.png");
    fails_with(&["calibrate", "--model", "edsr_x2", "--bits", "4", "--images", s(&ds), "--out", s(&d.path().join("c.json")), "--quiet"], "huge.png");
    fails_with(&["cost", "--image", s(&img)], "huge.png");
    fails_with(&["vectors", "--unit", "pe", "--layer", "body.0.body.0", "--image", s(&img), "--out", s(&d.path().join("v")), "--quiet"], "huge.png");
    fails_with(&["accuracy", "--bits", "4", "--method", "kmeans", "--dataset", s(&ds), "--quiet"], "huge.png");
    // refused from the header: no 30 GB allocation, so it is fast
    assert!(t0.elapsed().as_secs() < 60, "took {:?}", t0.elapsed());
    assert!(!d.path().join("c.json").exists());
}

#[test]
fn unwritable_output_directories_are_named() {
    let d = tempfile::tempdir().unwrap();
    let ds = dataset(d.path(), "ds", 40, 36);
    // a regular file where a directory is needed: fails even for root
    let file = d.path().join("plain");
    std::fs::write(&file, b"x").unwrap();
    let under = |name: &str| file.join(name).to_string_lossy().into_owned();
    fails_with(&["run", "--dataset", s(&ds), "--no-hw", "--quiet", "--save-images", &under("imgs")], "plain");
    fails_with(&["calibrate", "--model", "edsr_x2", "--bits", "4", "--images", s(&ds), "--out", &under("c.json"), "--quiet"], "plain");
    fails_with(
        &[
            "sweep", "--dataset", s(&ds), "--formats", "full", "--acc-bits", "32", "--act-bits", "24", "--quiet",
            "--out", &under("s.csv"),
        ],
        "plain",
    );
    fails_with(&["accuracy", "--bits", "4", "--method", "kmeans", "--dataset", s(&ds), "--quiet", "--out", &under("a.csv")], "plain");
    fails_with(&["vectors", "--unit", "pe", "--layer", "body.0.body.0", "--count", "4", "--out", &under("v"), "--quiet"], "plain");
    let shard = d.path().join("shard.csv");
    let o = sqsim(&[
        "sweep", "--dataset", s(&ds), "--formats", "full", "--acc-bits", "32", "--act-bits", "24", "--quiet", "--out", s(&shard),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    fails_with(&["merge", s(&shard), "--out", &under("m.csv")], "plain");
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 3, "only ds, plain and shard.csv");
}

#[test]
fn full_stdout_is_an_error_not_a_panic() {
    let d = tempfile::tempdir().unwrap();
    let samples = d.path().join("s.txt");
    std::fs::write(&samples, "0.1 0.2 0.3 0.5\n").unwrap();
    for args in [
        vec!["uset"],
        vec!["uset", "--format", "json"],
        vec!["select", "--samples", s(&samples), "--bits", "2"],
        vec!["cost", "--size", "8x8"],
        vec!["cost", "--size", "8x8", "--format", "json"],
    ] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let o = bin().args(&args).stdout(Stdio::from(full)).output().unwrap();
        check_fails(&o, &format!("{args:?} > /dev/full"), "standard output");
    }
}

#[test]
fn conflicting_flags_are_refused() {
    fails_with(&["run", "--no-hw", "--hw", "hw/configs/default.toml"], "--hw");
    fails_with(&["cost", "--image", "data/Set5/baby.png", "--size", "8x8"], "--size");
    fails_with(&["sweep", "--shard", "2/2"], "--shard");
    fails_with(&["sweep", "--shard", "0/0"], "--shard");
    fails_with(&["run", "--wbits", "9"], "wbits");
}

#[test]
fn non_finite_and_empty_sample_files() {
    let d = tempfile::tempdir().unwrap();
    for (name, text, needle) in [
        ("inf.txt", "0.5 inf\n", "inf"),
        ("ninf.txt", "-Infinity 0.5\n", "infinity"),
        ("overflow.txt", "0.1\n1e999\n", "1e999"), // parses to +inf
        ("blank.txt", "\n\n   \n", "no samples"),
        ("empty.txt", "", "no samples"),
    ] {
        let p = d.path().join(name);
        std::fs::write(&p, text).unwrap();
        fails_with(&["select", "--samples", s(&p)], needle);
    }
    // not text at all
    let p = d.path().join("bin.txt");
    std::fs::write(&p, [0xff, 0xfe, 0x00, 0x41]).unwrap();
    fails_with(&["select", "--samples", s(&p)], "bin.txt");
}

#[test]
fn empty_datasets_and_inputs() {
    let d = tempfile::tempdir().unwrap();
    let empty = d.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = d.path().join("o");
    fails_with(&["calibrate", "--model", "edsr_x2", "--bits", "4", "--images", s(&empty), "--out", s(&out), "--quiet"], "empty");
    fails_with(&["accuracy", "--bits", "4", "--method", "kmeans", "--dataset", s(&empty), "--quiet"], "empty");
    fails_with(&["sweep", "--dataset", s(&empty), "--quiet"], "empty");
    // a directory holding only non-PNG files is empty too
    std::fs::write(empty.join("notes.txt"), b"hello").unwrap();
    fails_with(&["run", "--dataset", s(&empty), "--no-hw", "--quiet"], "empty");
    // merge of empty and header-only CSVs
    let e = d.path().join("e.csv");
    std::fs::write(&e, b"").unwrap();
    fails_with(&["merge", s(&e), "--out", s(&out)], "e.csv");
    let h = d.path().join("h.csv");
    std::fs::write(&h, b"a,b,c\n").unwrap();
    fails_with(&["merge", s(&h), "--out", s(&out)], "h.csv");
    assert!(!out.exists());
}

#[test]
fn images_smaller_than_a_patch() {
    let d = tempfile::tempdir().unwrap();
    let one = dataset(d.path(), "one", 1, 1);
    let out = d.path().join("c.json");
    fails_with(&["calibrate", "--model", "edsr_x2", "--bits", "4", "--images", s(&one), "--out", s(&out), "--quiet"], "i.png");
    fails_with(&["cost", "--image", s(&one.join("i.png"))], "i.png");
    fails_with(&["run", "--model", "edsr_x4", "--dataset", s(&dataset(d.path(), "three", 3, 3)), "--no-hw", "--quiet"], "i.png");
    // the default vectors crop (112,112 24×24 of the LR) does not fit a 60×60 image
    let small = dataset(d.path(), "small", 60, 60);
    fails_with(
        &["vectors", "--unit", "pe", "--layer", "body.0.body.0", "--image", s(&small.join("i.png")), "--out", s(&d.path().join("v")), "--quiet"],
        "crop",
    );
    assert!(!out.exists());
}

/// Files in `dir` (recursively) as (path, is_tmp).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            v.extend(files(&p));
        } else {
            v.push(p);
        }
    }
    v
}

#[test]
fn a_killed_run_leaves_no_partial_file() {
    let d = tempfile::tempdir().unwrap();
    let ds = d.path().join("ds");
    std::fs::create_dir(&ds).unwrap();
    for i in 0..12 {
        image::RgbImage::from_fn(64 + 2 * i, 60, |x, y| image::Rgb([(x * 3 + i) as u8, (y * 4) as u8, 77]))
            .save(ds.join(format!("im{i:02}.png")))
            .unwrap();
    }
    let out = d.path().join("out");
    let args = ["run", "--dataset", s(&ds), "--quiet", "--save-images", s(&out), "--format", "json"];
    for delay_ms in [700, 1500] {
        let mut child = bin().args(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL: no chance to clean up
        child.wait().unwrap();
        // every file under its final name is a complete PNG; a killed writer
        // may leave only its hidden `.NAME.tmpPID`
        for f in files(&out) {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with('.') && name.contains(".tmp") {
                continue;
            }
            assert!(name.ends_with(".png"), "{name}");
            image::open(&f).unwrap_or_else(|e| panic!("{name} is partial: {e}"));
        }
    }
    // a complete run over the same directory finishes the set and removes
    // the temporaries the killed runs left
    let o = sqsim(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let all = files(&out);
    assert!(all.iter().all(|f| !f.file_name().unwrap().to_string_lossy().contains(".tmp")), "{all:?}");
    assert_eq!(all.len(), 36, "{all:?}");
    for f in all {
        image::open(&f).unwrap();
    }
}

#[test]
fn a_killed_calibration_leaves_no_output() {
    let d = tempfile::tempdir().unwrap();
    let imgs = dataset(d.path(), "imgs", 120, 96);
    let out = d.path().join("res");
    std::fs::create_dir(&out).unwrap();
    let target = out.join("c.json");
    let mut child = bin()
        .args(["calibrate", "--model", "edsr_x2", "--bits", "8,6,4,3", "--images", s(&imgs), "--out", s(&out.join("c_{bits}.json")), "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let _ = child.kill();
    child.wait().unwrap();
    for f in files(&out) {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') && name.contains(".tmp") {
            continue;
        }
        // anything under a final name parses completely
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(v["layers"].is_object());
    }
    assert!(!target.exists());
}

#[test]
fn atomic_write_removes_temporaries_of_dead_writers_only() {
    let d = tempfile::tempdir().unwrap();
    // a PID with no process: what a SIGKILLed writer leaves behind
    let dead = (4_000_000u32..).find(|p| !Path::new(&format!("/proc/{p}")).exists()).unwrap();
    let stale = d.path().join(format!(".x.png.tmp{dead}"));
    let live = d.path().join(".x.png.tmp1"); // PID 1 always runs: a live writer's
    let other = d.path().join(format!(".y.png.tmp{dead}")); // another file's: left for its own writer
    for p in [&stale, &live, &other] {
        std::fs::write(p, b"half").unwrap();
    }
    sqsim::io_util::atomic_write(&d.path().join("x.png"), b"whole").unwrap();
    assert_eq!(std::fs::read(d.path().join("x.png")).unwrap(), b"whole");
    if Path::new("/proc/self").exists() {
        assert!(!stale.exists());
    }
    assert!(live.exists() && other.exists());
}
