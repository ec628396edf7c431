//! Loader inputs that once panicked or allocated without bound, kept as small
//! files under tests/fuzz_regressions/: crashers from `cargo fuzz` (fuzz/,
//! see fuzz/README.md) go here. The TF.js cases so far were found reviewing
//! the loader while writing the fuzz targets (the fuzzer never ran on the
//! unfixed code). Each must now give a clean `Error`, or load if valid.
//! The first tests check that the fuzz seeds are valid, so the fuzzer starts
//! from inputs that reach deep into the loaders.
use sqsim::model::{self, Model};
use std::path::{Path, PathBuf};

fn case(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions").join(name)
}

/// As fuzz/fuzz_targets/tfjs.rs: `model.json` bytes, 0xFF, shard `w.bin`.
fn load_tfjs(name: &str) -> sqsim::Result<Model> {
    let data = std::fs::read(case(name)).unwrap();
    let i = data.iter().position(|&b| b == 0xFF).unwrap_or(data.len());
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("model.json"), &data[..i]).unwrap();
    std::fs::write(d.path().join("w.bin"), data.get(i + 1..).unwrap_or(&[])).unwrap();
    model::load_path(&d.path().join("model.json"))
}

fn tiny_edsr() -> Model {
    model::load_path(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/float/edsr_tiny_x3_zip.pt")).unwrap()
}

fn calib(name: &str) -> sqsim::Result<()> {
    let bytes = std::fs::read(case(name)).unwrap();
    let cal: sqsim::dfsq::Calibration = serde_json::from_slice(&bytes)
        .map_err(|e| sqsim::Error::format(case(name), e.to_string()))?;
    let u = sqsim::sq::UniversalSet::new(cal.word_sets.clone())?;
    cal.point_sets(&tiny_edsr(), &u).map(|_| ())
}

/// A clean error: displays on one line and is not a caught panic.
fn clean_err<T>(r: sqsim::Result<T>) -> String {
    let e = match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    };
    assert!(!e.contains('\n') && !e.contains("panicked"), "{e}");
    e
}

#[test]
fn fuzz_seeds_are_valid() {
    let m = load_tfjs("tfjs_tiny_valid").expect("tiny TF.js seed loads");
    assert_eq!(m.scale, 2);
    calib("calib_tiny_valid.json").expect("tiny calibration seed validates");
}

#[test]
fn tfjs_weight_shape_overflow_is_an_error() {
    // [2^32, 2^32] elements: the byte count used to wrap to 0 (or panic on
    // overflow in debug builds) and the conv builder then indexed past the data
    let e = clean_err(load_tfjs("tfjs_shape_overflow"));
    assert!(e.contains("too large") && e.contains("big"), "{e}");
}

#[test]
fn tfjs_huge_upsampling_is_refused_before_allocating() {
    // size [2^20, 2^20]: the load-time shape check would allocate 3·2^40 floats
    let e = clean_err(load_tfjs("tfjs_huge_upsample"));
    assert!(e.contains("UpSampling2D") && e.contains("UPN"), "{e}");
    // two x4 layers: each allowed, their product (x16) is not
    let e = clean_err(load_tfjs("tfjs_upsample_product"));
    assert!(e.contains("total upsampling"), "{e}");
}
