//! Same inputs and seed → same calibration, same datapath output, same
//! sweep, on any thread count; sharded sweeps merge to the single run.
use sqsim::config::HwConfig;
use sqsim::dfsq::{calib, quantize_model, FakeQuantExec, QuantConfig};
use sqsim::hw::HwExec;
use sqsim::image::{crop, load_rgb, to_feature};
use sqsim::model::load_builtin;
use sqsim::select::{Method, SelectConfig};
use sqsim::sq::UniversalSet;
use std::process::Command;

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(f)
}

#[test]
fn calibration_and_datapath_are_identical_on_1_and_2_threads() {
    let model = load_builtin("edsr_x2").unwrap();
    let img = load_rgb(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/Set5/head.png")).unwrap();
    let lr = to_feature(&crop(&img, 100, 90, 20, 18).unwrap());
    let u = UniversalSet::default();
    let run = || {
        let stats = calib::collect(&model, &[("c".into(), lr.clone())], &u, &|_| {}).unwrap();
        let mut out = Vec::new();
        for m in [Method::KMeans, Method::Optimal] {
            let cfg = SelectConfig { bits: 3, method: m, seed: 5, ..Default::default() };
            out.push(calib::select_all(&stats, "edsr_x2", &u, &cfg).unwrap());
        }
        let q = QuantConfig { wbits: 3, abits: 3, ..Default::default() };
        let fq = FakeQuantExec { layers: quantize_model(&model, out[0].point_sets(&model, &u).unwrap(), &q).unwrap() };
        let hw = HwExec::new(&fq.layers, &u, &HwConfig::default(), None).unwrap();
        let y_hw = model.forward(&lr, &hw).unwrap();
        let y_fq = model.forward(&lr, &fq).unwrap();
        (out, y_hw.data, y_fq.data)
    };
    let a = in_pool(1, run);
    let b = in_pool(2, run);
    assert_eq!(a.0, b.0, "calibration differs between 1 and 2 threads");
    assert!(a.1 == b.1, "hardware output differs between 1 and 2 threads");
    assert!(a.2.iter().zip(&b.2).all(|(x, y)| x.to_bits() == y.to_bits()), "float reference differs");
}

#[test]
fn sharded_sweep_merges_to_the_single_run_and_ignores_thread_count() {
    let d = tempfile::tempdir().unwrap();
    let ds = d.path().join("ds");
    std::fs::create_dir(&ds).unwrap();
    let img = load_rgb(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/Set5/bird.png")).unwrap();
    sqsim::image::save_png(&ds.join("bird.png"), &crop(&img, 60, 60, 40, 36).unwrap()).unwrap();
    let bin = env!("CARGO_BIN_EXE_sqsim");
    let sweep = |extra: &[&str], out: &str, threads: &str| {
        let o = Command::new(bin)
            .env("RAYON_NUM_THREADS", threads)
            .args(["sweep", "--dataset", ds.to_str().unwrap(), "--formats", "mantissa,pow2", "--mant-bits", "4,8"])
            .args(["--acc-bits", "30,48", "--act-bits", "24", "--quiet", "--format", "csv", "--out"])
            .arg(d.path().join(out))
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(d.path().join(out)).unwrap()
    };
    let whole = sweep(&[], "all.csv", "2");
    assert_eq!(whole, sweep(&[], "all1.csv", "1"), "sweep differs between 1 and 2 threads");
    sweep(&["--shard", "0/3"], "s0.csv", "2");
    sweep(&["--shard", "1/3"], "s1.csv", "1");
    sweep(&["--shard", "2/3"], "s2.csv", "2");
    let merged = d.path().join("merged.csv");
    let shard = |n: &str| d.path().join(n).to_string_lossy().into_owned();
    let o = Command::new(bin)
        .args(["merge", &shard("s2.csv"), &shard("s0.csv"), &shard("s1.csv"), "--out", merged.to_str().unwrap(), "--format", "csv"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read(&merged).unwrap(), whole, "merged shards differ from the single run");
    let rows = String::from_utf8(whole).unwrap().lines().count() - 1;
    assert!(rows >= 5, "{rows} rows");
    // a missing shard is refused
    let o = Command::new(bin).args(["merge", &shard("s0.csv"), &shard("s2.csv"), "--out", &shard("bad.csv")]).output().unwrap();
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("do not cover"));
    assert!(!d.path().join("bad.csv").exists());
}

#[test]
fn resumed_accuracy_equals_the_single_run_and_refuses_another_models_file() {
    let d = tempfile::tempdir().unwrap();
    let ds = d.path().join("ds");
    std::fs::create_dir(&ds).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/Set5");
    for (n, x, y) in [("bird.png", 60, 60), ("head.png", 100, 90), ("woman.png", 40, 120)] {
        let img = load_rgb(&root.join(n)).unwrap();
        sqsim::image::save_png(&ds.join(n), &crop(&img, x, y, 40, 36).unwrap()).unwrap();
    }
    let bin = env!("CARGO_BIN_EXE_sqsim");
    let acc = |model: &str, extra: &[&str]| {
        Command::new(bin)
            .args(["accuracy", "--model", model, "--bits", "6,3", "--method", "kmeans", "--quiet", "--format", "csv"])
            .arg("--dataset")
            .arg(&ds)
            .args(extra)
            .output()
            .unwrap()
    };
    let pi = d.path().join("per_image.csv");
    let pi_s = pi.to_str().unwrap();
    // a run over 2 images stands in for a run killed after its second image
    let first = acc("edsr_x2", &["--limit", "2", "--per-image", pi_s]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let partial = std::fs::read_to_string(&pi).unwrap();
    assert!(partial.starts_with("# sqsim-provenance: "), "{partial}");
    assert_eq!(partial.lines().count(), 2 + 2 * 2, "provenance + header + 2 images × 2 configs:\n{partial}");
    let resumed = acc("edsr_x2", &["--per-image", pi_s, "--resume"]);
    let fresh = acc("edsr_x2", &[]);
    assert!(resumed.status.success() && fresh.status.success());
    assert_eq!(resumed.stdout, fresh.stdout, "resumed table differs from the single run");
    let full = std::fs::read_to_string(&pi).unwrap();
    assert!(full.starts_with(&partial), "earlier rows must be kept as they were");
    assert_eq!(full.lines().count(), 2 + 3 * 2);
    // resumed scores are read, not recomputed: an edited score reaches the table
    let edited = d.path().join("edited.csv");
    let lines: Vec<String> = partial.lines().map(String::from).collect();
    let mut cols: Vec<String> = lines[2].split(',').map(String::from).collect();
    let edit = |cols: &mut Vec<String>, v: &str| {
        cols[7] = v.into(); // dfsq_psnr of the first image at the first config
        let mut l = lines.clone();
        l[2] = cols.join(",");
        std::fs::write(&edited, l.join("\n") + "\n").unwrap();
    };
    edit(&mut cols, "99");
    let e = acc("edsr_x2", &["--per-image", edited.to_str().unwrap(), "--resume"]);
    assert!(e.status.success());
    assert_ne!(e.stdout, fresh.stdout, "--resume recomputed instead of reading the file");
    // a NaN score is never reused (nor kept)
    edit(&mut cols, "NaN");
    let e = acc("edsr_x2", &["--per-image", edited.to_str().unwrap(), "--resume"]);
    assert!(!e.status.success() && String::from_utf8_lossy(&e.stderr).contains("non-finite"), "{}", String::from_utf8_lossy(&e.stderr));
    // a file without provenance (hand-made, or older) is refused
    std::fs::write(&edited, lines[1..].join("\n") + "\n").unwrap();
    let e = acc("edsr_x2", &["--per-image", edited.to_str().unwrap(), "--resume"]);
    assert!(!e.status.success() && String::from_utf8_lossy(&e.stderr).contains("provenance"), "{}", String::from_utf8_lossy(&e.stderr));
    // a per-image file of another model is refused, and left as it was
    let other = acc("edsr_x4", &["--per-image", pi_s, "--resume"]);
    assert!(!other.status.success());
    assert!(String::from_utf8_lossy(&other.stderr).contains("edsr_x2"), "{}", String::from_utf8_lossy(&other.stderr));
    assert_eq!(std::fs::read_to_string(&pi).unwrap(), full);
}
