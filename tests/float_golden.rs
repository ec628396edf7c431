//! Float models against the independent numpy implementation in
//! `tests/golden/float/gen_float.py` (float64 reference, own loaders).
use sqsim::model::{self, FloatExec, StateDict};
use sqsim::Feature;
use std::path::{Path, PathBuf};

const TOL: f32 = 1e-3; // on outputs in 0..255

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/float")
}

fn read_f32(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

fn shape(v: &serde_json::Value) -> [usize; 3] {
    let a: Vec<usize> = v.as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
    [a[0], a[1], a[2]]
}

fn load(spec: &str, rgb_range: Option<f32>) -> model::Model {
    match spec.strip_prefix("builtin:") {
        Some(name) => model::load_builtin(name).unwrap(),
        None => model::load_path_with(&golden_dir().join(spec), rgb_range).unwrap(),
    }
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn run_case(name: &str) -> f32 {
    let text = std::fs::read_to_string(golden_dir().join("cases.json")).unwrap();
    let cases: serde_json::Value = serde_json::from_str(&text).unwrap();
    let case = cases["cases"].as_array().unwrap().iter().find(|c| c["name"] == name).expect("case in cases.json");
    let [c, h, w] = shape(&case["in_shape"]);
    let x = Feature::from_vec(c, h, w, read_f32(&golden_dir().join(case["input"].as_str().unwrap()))).unwrap();
    let want = read_f32(&golden_dir().join(case["output"].as_str().unwrap()));
    let m = load(case["model"].as_str().unwrap(), case["rgb_range"].as_f64().map(|r| r as f32));
    let y = m.forward(&x, &FloatExec).unwrap();
    let [oc, oh, ow] = shape(&case["out_shape"]);
    assert_eq!((y.c, y.h, y.w), (oc, oh, ow), "{name}: output shape");
    let d = max_abs_diff(&y.data, &want);
    eprintln!("{name}: max |rust - numpy| = {d:.3e}");
    assert!(d <= TOL, "{name}: max abs diff {d:.3e} > {TOL:.0e} against numpy golden");
    d
}

#[test]
fn edsr_x2_real_weights_real_image() {
    run_case("edsr_x2_baby");
}

#[test]
fn edsr_x4_real_weights_real_image() {
    run_case("edsr_x4_baby");
}

#[test]
fn isr_rdn_x2_tfjs() {
    run_case("rdn_x2_baby");
}

#[test]
fn isr_rdn_x4_tfjs() {
    run_case("rdn_x4_baby");
}

#[test]
fn tiny_rdn_x2_official_keys() {
    run_case("rdn_tiny_x2");
}

#[test]
fn tiny_rdn_x4_with_mean_shift() {
    run_case("rdn_tiny_x4");
}

#[test]
fn tiny_edsr_x3_zip() {
    run_case("edsr_tiny_x3");
}

/// Bring your own checkpoint (#17): an RDN x3 nested under `params_ema`
/// beside a `params` copy, an optimizer tensor and an int64 counter (the EMA
/// copy is the one run); an EDSR trained on [0, 1] (range read from its
/// MeanShift); an RDN trained on [0, 1] (no MeanShift: range given).
#[test]
fn own_checkpoints_wrapped_and_on_range_1() {
    run_case("rdn_tiny_x3_wrapped");
    let m = load("rdn_tiny_x3_wrapped.safetensors", None);
    assert_eq!((m.arch_name(), m.scale), ("rdn", 3));
    assert!(m.ignored_keys().iter().any(|k| k.starts_with("iter")) && m.ignored_keys().iter().any(|k| k.starts_with("params.")));
    run_case("edsr_tiny_x2_range1");
    assert_eq!(load("edsr_tiny_x2_range1.safetensors", None).rgb_range(), 1.0);
    // an EDSR's MeanShift contradicts a wrong range
    let e = model::load_path_with(&golden_dir().join("edsr_tiny_x2_range1.safetensors"), Some(255.0)).unwrap_err().to_string();
    assert!(e.contains("sub_mean") && e.contains("rgb_range 255"), "{e}");
    run_case("rdn_tiny_x2_range1");
    // and the same RDN without the range is another function: the golden fails at 255
    let text = std::fs::read_to_string(golden_dir().join("cases.json")).unwrap();
    assert!(text.contains("\"rgb_range\": 1"));
    let x = Feature::from_vec(3, 7, 9, read_f32(&golden_dir().join("rdn_tiny_x2_range1_in.bin"))).unwrap();
    let y255 = load("rdn_tiny_x2_range1.safetensors", None).forward(&x, &FloatExec).unwrap();
    assert!(max_abs_diff(&y255.data, &read_f32(&golden_dir().join("rdn_tiny_x2_range1_out.bin"))) > 1.0);
}

/// The same tensors saved by torch in the zip and the legacy (pre-1.6) pickle
/// container must load identically, and the legacy one must run the golden.
#[test]
fn legacy_and_zip_pt_load_the_same_tensors() {
    let zip = StateDict::read(&golden_dir().join("edsr_tiny_x3_zip.pt")).unwrap();
    let legacy = StateDict::read(&golden_dir().join("edsr_tiny_x3_legacy.pt")).unwrap();
    assert_eq!(zip.tensors.len(), 2 * (1 + 2 * 2 + 1 + 1 + 1) + 4, "tensor count");
    assert_eq!(zip.tensors, legacy.tensors);
    let a = model::from_state_dict("zip", &zip).unwrap();
    let b = model::from_state_dict("legacy", &legacy).unwrap();
    assert_eq!(a.scale, 3);
    let x = Feature::from_vec(3, 5, 4, (0..60).map(|i| (i * 4) as f32).collect()).unwrap();
    assert_eq!(a.forward(&x, &FloatExec).unwrap(), b.forward(&x, &FloatExec).unwrap());
}

#[test]
fn quant_layer_names_and_sites() {
    let m = model::load_builtin("edsr_x2").unwrap();
    let q = m.quant_layers();
    assert_eq!(q.len(), 32);
    assert_eq!(q[0].0.name, "body.0.body.0");
    assert_eq!(q[1].0.name, "body.0.body.2");
    assert!(!q[0].1.post_relu && q[1].1.post_relu);
    assert!(q.iter().enumerate().all(|(i, (_, s))| s.index == i));
    assert_eq!(m.param_count(), 1_369_859); // models/edsr_x2.txt

    let r = model::load_path(&golden_dir().join("rdn_tiny_x2.safetensors")).unwrap();
    let names: Vec<&str> = r.quant_layers().iter().map(|(c, _)| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "RDBs.0.convs.0.conv.0",
            "RDBs.0.convs.1.conv.0",
            "RDBs.0.LFF",
            "RDBs.1.convs.0.conv.0",
            "RDBs.1.convs.1.conv.0",
            "RDBs.1.LFF",
            "GFF.0",
            "GFF.1"
        ]
    );
    assert!(r.quant_layers().iter().all(|(_, s)| !s.post_relu));

    let isr = model::load_builtin("rdn_x2").unwrap();
    let q = isr.quant_layers();
    assert_eq!(q.len(), 10 * 4 + 2); // 10 RDBs x (3 convs + LFF) + 2 GFF
    assert_eq!((q[0].0.name.as_str(), q[3].0.name.as_str()), ("F_1_1", "LFF_1"));
    assert_eq!((q[40].0.name.as_str(), q[41].0.name.as_str()), ("GFF_1", "GFF_2"));
    assert_eq!(isr.scale, 2);
}

/// Quantized convs must go through the executor and nothing else must.
#[test]
fn executor_sees_exactly_the_quantized_convs() {
    use std::sync::Mutex;
    struct Record(Mutex<Vec<(String, usize)>>);
    impl model::ConvExec for Record {
        fn quant_conv(&self, c: &model::Conv2d, s: model::QuantSite, x: &Feature) -> sqsim::Result<Feature> {
            self.0.lock().unwrap().push((c.name.clone(), s.index));
            sqsim::float::conv2d(x, c)
        }
    }
    for spec in ["builtin:edsr_x2", "builtin:rdn_x2", "rdn_tiny_x4.safetensors"] {
        let m = load(spec, None);
        let rec = Record(Mutex::new(Vec::new()));
        let x = Feature::from_vec(3, 4, 5, (0..60).map(|i| i as f32 * 3.0).collect()).unwrap();
        let y = m.forward(&x, &rec).unwrap();
        let want: Vec<(String, usize)> = m.quant_layers().iter().map(|(c, s)| (c.name.clone(), s.index)).collect();
        assert_eq!(*rec.0.lock().unwrap(), want, "{spec}");
        assert_eq!(y, m.forward(&x, &FloatExec).unwrap(), "{spec}");
    }
}

#[test]
fn forward_identical_on_any_thread_count() {
    for spec in ["builtin:edsr_x2", "builtin:rdn_x2"] {
        let m = load(spec, None);
        let x = Feature::from_vec(3, 23, 31, (0..3 * 23 * 31).map(|i| ((i * 37) % 256) as f32).collect()).unwrap();
        let run = |n: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap();
            pool.install(|| m.forward(&x, &FloatExec).unwrap())
        };
        let one = run(1);
        for n in [2, 5] {
            let y = run(n);
            assert!(one.data.iter().zip(&y.data).all(|(a, b)| a.to_bits() == b.to_bits()), "{spec}: {n} threads differ");
        }
    }
}
