//! Results from mismatched pieces are refused (issue #16, class 1): the one
//! provenance check, as a property (any mismatching field is refused and
//! named), and end to end where artefacts are combined (`merge`) or reused
//! (`--calib`).
use quickcheck::{quickcheck, TestResult};
use sqsim::provenance::Provenance;
use std::path::Path;
mod common;
use common::*;

fn prov(fields: &[(u8, u8)]) -> Provenance {
    fields.iter().fold(Provenance::default(), |p, (k, v)| p.with(&format!("f{}", k % 8), v))
}

quickcheck! {
    /// Changing, dropping or adding any one field is refused, naming that field;
    /// the unchanged provenance is accepted.
    fn any_mismatching_field_is_refused(fields: Vec<(u8, u8)>, pick: usize, how: u8, value: u8) -> TestResult {
        let a = prov(&fields);
        if a.0.is_empty() {
            return TestResult::discard();
        }
        let key = a.0.keys().nth(pick % a.0.len()).unwrap().clone();
        let mut b = a.clone();
        match how % 3 {
            0 => {
                if a.get(&key) == Some(value.to_string().as_str()) {
                    return TestResult::discard();
                }
                b = b.with(&key, value);
            }
            1 => b = b.without(&key),
            _ => b = b.with("extra", value),
        }
        let named = if how % 3 == 2 { "extra".to_string() } else { key.clone() };
        let combine = b.require_same(&a, "shard", "first");
        let ok_same = a.require_same(&a.clone(), "shard", "first").is_ok();
        let refused = matches!(&combine, Err(e) if e.to_string().contains(&named));
        // reuse: the expected fields must all be present and equal (extra fields allowed)
        let reuse = b.require(&a, "calibration");
        let reuse_ok = if how % 3 == 2 { reuse.is_ok() } else { matches!(&reuse, Err(e) if e.to_string().contains(&key)) };
        TestResult::from_bool(ok_same && refused && reuse_ok)
    }
}



fn dataset(dir: &Path, name: &str, x: usize) -> String {
    let img = sqsim::image::load_rgb(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data/Set5/bird.png")).unwrap();
    let d = dir.join(name);
    std::fs::create_dir_all(&d).unwrap();
    sqsim::image::save_png(&d.join("bird.png"), &sqsim::image::crop(&img, x, 60, 40, 36).unwrap()).unwrap();
    d.to_string_lossy().into_owned()
}

#[test]
fn merge_refuses_shards_of_other_sweeps_missing_truncated_and_nan() {
    let d = tempfile::tempdir().unwrap();
    let (ds, other) = (dataset(d.path(), "ds", 60), dataset(d.path(), "other", 70));
    let p = |n: &str| d.path().join(n).to_string_lossy().into_owned();
    let sweep = |data: &str, extra: &[&str], out: &str| {
        let o = sqsim(
            &[&["sweep", "--dataset", data, "--formats", "mantissa", "--mant-bits", "4,6,8,10", "--acc-bits", "48", "--act-bits", "24"][..], extra, &["--quiet", "--out", &p(out)]]
                .concat(),
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    sweep(&ds, &["--shard", "0/2"], "a0.csv");
    sweep(&ds, &["--shard", "1/2"], "a1.csv");
    sweep(&other, &["--shard", "1/2"], "o1.csv");
    sweep(&ds, &["--shard", "1/2", "--bits", "3"], "b1.csv");
    sweep(&ds, &["--shard", "1/3"], "c1.csv");
    let merge = |a: &str, b: &str| vec!["merge".to_string(), p(a), p(b), "--out".into(), p("m.csv")];
    let ok = sqsim(&merge("a0.csv", "a1.csv").iter().map(String::as_str).collect::<Vec<_>>());
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    std::fs::remove_file(p("m.csv")).unwrap();
    let refuse = |a: &str, b: &str, needle: &str| fails_with(&merge(a, b).iter().map(String::as_str).collect::<Vec<_>>(), needle);
    refuse("a0.csv", "o1.csv", "images_sha256"); // same name, other pixels
    refuse("a0.csv", "b1.csv", "bits");
    refuse("a0.csv", "c1.csv", "another split");
    refuse("a0.csv", "a0.csv", "twice");
    // a NaN row and a truncated shard (a row lost)
    let text = std::fs::read_to_string(p("a1.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut cols: Vec<&str> = lines[2].split(',').collect();
    cols[7] = "NaN";
    let nan = [&lines[..2], &[cols.join(",").as_str()], &lines[3..]].concat().join("\n") + "\n";
    std::fs::write(p("nan.csv"), nan).unwrap();
    refuse("a0.csv", "nan.csv", "non-finite");
    let short = [&lines[..2], &lines[3..]].concat().join("\n") + "\n";
    std::fs::write(p("short.csv"), short).unwrap();
    refuse("a0.csv", "short.csv", "do not cover");
    // a CSV without provenance
    std::fs::write(p("bare.csv"), lines[1..].join("\n") + "\n").unwrap();
    refuse("a0.csv", "bare.csv", "provenance");
    assert!(!Path::new(&p("m.csv")).exists());
}

#[test]
fn calib_of_another_model_method_bits_or_weights_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let ds = dataset(d.path(), "ds", 60);
    let calib = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/calib");
    let c = |n: &str| calib.join(n).to_string_lossy().into_owned();
    let run = |file: &str, extra: &[&str]| -> Vec<String> {
        ["run", "--dataset", ds.as_str(), "--no-hw", "--quiet", "--calib", file].iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let fails_with = |args: &[String], needle: &str| fails_with(&args.iter().map(String::as_str).collect::<Vec<_>>(), needle);
    fails_with(&run(&c("edsr_x4_a4_kmeans.json"), &[]), "model `edsr_x4`");
    fails_with(&run(&c("edsr_x2_a4_optimal.json"), &[]), "method `optimal`");
    fails_with(&run(&c("edsr_x2_a3_kmeans.json"), &[]), "bits `3`");
    // the same file with another network's weights hash, or none
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(calib.join("edsr_x2_a4_kmeans.json")).unwrap()).unwrap();
    v["weights_sha256"] = "ab".repeat(32).into();
    let edited = d.path().join("c.json");
    std::fs::write(&edited, serde_json::to_vec(&v).unwrap()).unwrap();
    fails_with(&run(edited.to_str().unwrap(), &[]), "weights_sha256");
    v.as_object_mut().unwrap().remove("weights_sha256");
    std::fs::write(&edited, serde_json::to_vec(&v).unwrap()).unwrap();
    fails_with(&run(edited.to_str().unwrap(), &[]), "no weights hash");
    // the right one is accepted
    let o = sqsim(&run(&c("edsr_x2_a4_kmeans.json"), &[]).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

quickcheck! {
    /// The CSV provenance line round-trips any field values (newlines, quotes, `#`).
    fn csv_provenance_line_round_trips(fields: Vec<(String, String)>, body: String) -> bool {
        let p = fields.iter().fold(Provenance::default(), |p, (k, v)| p.with(k, v));
        let text = sqsim::provenance::csv_with(&p, &body).unwrap();
        let (q, b) = sqsim::provenance::split_csv(Path::new("t.csv"), &text).unwrap();
        q == p && b == body
    }
}
