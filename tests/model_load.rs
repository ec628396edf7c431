//! Bad inputs to the model loaders: every one must be a clear `Error`
//! naming the file / key / layer, never a panic.
use sqsim::model::{self, StateDict};
use sqsim::Error;
use std::path::{Path, PathBuf};

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/float").join(name)
}

fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// Writes a state dict as f32 safetensors.
fn write_st(path: &Path, sd: &StateDict) {
    write_st_as(path, sd, safetensors::Dtype::F32)
}

/// bf16 by round-to-nearest-even of the f32 bits.
fn to_bf16(v: f32) -> u16 {
    let b = v.to_bits();
    ((b + 0x7fff + ((b >> 16) & 1)) >> 16) as u16
}

/// f16 by round-to-nearest-even (normal range: checkpoint weights and MeanShift constants).
fn to_f16(v: f32) -> u16 {
    let b = v.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let exp = ((b >> 23) & 0xff) as i32 - 127 + 15;
    let man = b & 0x7f_ffff;
    if v == 0.0 || exp <= 0 {
        return sign; // tiny weights flush to zero: fine for this test
    }
    assert!(exp < 31, "{v} overflows f16");
    let half = (man >> 13) | ((exp as u32) << 10);
    let rest = man & 0x1fff;
    let up = rest > 0x1000 || (rest == 0x1000 && half & 1 == 1);
    sign | (half + up as u32) as u16
}

/// Writes a state dict as safetensors of `dtype` (F32, F16 or BF16).
fn write_st_as(path: &Path, sd: &StateDict, dtype: safetensors::Dtype) {
    let enc = |v: &f32| -> Vec<u8> {
        match dtype {
            safetensors::Dtype::F32 => v.to_le_bytes().to_vec(),
            safetensors::Dtype::F16 => to_f16(*v).to_le_bytes().to_vec(),
            safetensors::Dtype::BF16 => to_bf16(*v).to_le_bytes().to_vec(),
            d => panic!("{d:?}"),
        }
    };
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> =
        sd.tensors.iter().map(|(k, t)| (k.clone(), t.shape.clone(), t.data.iter().flat_map(enc).collect())).collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = bytes
        .iter()
        .map(|(k, s, b)| (k.clone(), safetensors::tensor::TensorView::new(dtype, s.clone(), b).unwrap()))
        .collect();
    std::fs::write(path, safetensors::serialize(views, &None).unwrap()).unwrap();
}

fn tiny_rdn() -> StateDict {
    StateDict::read(&golden("rdn_tiny_x2.safetensors")).unwrap()
}

fn tiny_edsr() -> StateDict {
    StateDict::read(&golden("edsr_tiny_x3_zip.pt")).unwrap()
}

/// Loads a modified state dict through a real file, as a user would.
fn load_modified(sd: &StateDict) -> Result<model::Model, Error> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.safetensors");
    write_st(&p, sd);
    model::load_path(&p)
}

#[test]
fn missing_file_is_io_error() {
    for p in ["/nonexistent/edsr.pt", "/nonexistent/m.safetensors", "/nonexistent/model.json"] {
        let e = model::load_path(Path::new(p)).unwrap_err();
        assert!(matches!(&e, Error::Io { path, .. } if path == Path::new(p)), "{p}: {e}");
    }
    // A TF.js model whose weight shard is missing names the shard.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(models_dir().join("isr_rdn/x2/model.json"), dir.path().join("model.json")).unwrap();
    let e = model::load_path(dir.path()).unwrap_err();
    assert!(matches!(&e, Error::Io { path, .. } if path.ends_with("group1-shard1of1.bin")), "{e}");
}

#[test]
fn truncated_pt_is_format_error() {
    let dir = tempfile::tempdir().unwrap();
    let full = std::fs::read(models_dir().join("edsr_x2.pt")).unwrap();
    for (name, len) in [("half.pt", full.len() / 2), ("head.pt", 100), ("almost.pt", full.len() - 10)] {
        let p = dir.path().join(name);
        std::fs::write(&p, &full[..len]).unwrap();
        let e = model::load_path(&p).unwrap_err();
        assert!(matches!(&e, Error::Format { path, .. } if path == &p), "{name}: {e}");
        assert!(e.to_string().contains(name), "message names the file: {e}");
    }
}

#[test]
fn garbage_bytes_are_format_errors() {
    let dir = tempfile::tempdir().unwrap();
    let junk: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    for name in ["junk.pt", "junk.pth", "junk.safetensors", "model.json"] {
        let p = dir.path().join(name);
        std::fs::write(&p, &junk).unwrap();
        let e = model::load_path(&p).unwrap_err();
        assert!(matches!(&e, Error::Format { path, .. } if path == &p), "{name}: {e}");
    }
    // Empty files too.
    let p = dir.path().join("empty.pt");
    std::fs::write(&p, b"").unwrap();
    assert!(matches!(model::load_path(&p).unwrap_err(), Error::Format { .. }));
    // A pickle that is valid but holds no tensors.
    let p = dir.path().join("notensors.pt");
    std::fs::write(&p, b"\x80\x02}q\x00.").unwrap(); // pickle of {}
    let e = model::load_path(&p).unwrap_err();
    assert!(matches!(&e, Error::Format { .. }), "{e}");
}

#[test]
fn truncated_tfjs_shard_is_format_error() {
    let dir = tempfile::tempdir().unwrap();
    let src = models_dir().join("isr_rdn/x2");
    std::fs::copy(src.join("model.json"), dir.path().join("model.json")).unwrap();
    let bin = std::fs::read(src.join("group1-shard1of1.bin")).unwrap();
    std::fs::write(dir.path().join("group1-shard1of1.bin"), &bin[..bin.len() / 2]).unwrap();
    let e = model::load_path(dir.path()).unwrap_err();
    assert!(matches!(&e, Error::Format { .. }) && e.to_string().contains("need 2619635 bytes") && e.to_string().contains("hold 1309817"), "{e}");
    // Trailing bytes mean the manifest does not describe the shard.
    let mut longer = bin.clone();
    longer.extend_from_slice(&[0; 8]);
    std::fs::write(dir.path().join("group1-shard1of1.bin"), &longer).unwrap();
    let e = model::load_path(dir.path()).unwrap_err();
    assert!(matches!(&e, Error::Format { .. }) && e.to_string().contains("hold 2619643"), "{e}");
}

#[test]
fn missing_keys_are_all_named() {
    let mut sd = tiny_rdn();
    sd.tensors.remove("RDBs.1.LFF.bias").unwrap();
    sd.tensors.remove("GFF.1.weight").unwrap();
    let e = load_modified(&sd).unwrap_err();
    match &e {
        Error::MissingKey { keys, .. } => {
            assert!(keys.contains("RDBs.1.LFF.bias") && keys.contains("GFF.1.weight"), "{e}")
        }
        _ => panic!("expected MissingKey, got {e}"),
    }
    let mut sd = tiny_edsr();
    sd.tensors.remove("body.1.body.2.weight").unwrap();
    sd.tensors.remove("tail.1.bias").unwrap();
    let e = load_modified(&sd).unwrap_err();
    assert!(
        matches!(&e, Error::MissingKey { keys, .. } if keys.contains("body.1.body.2.weight") && keys.contains("tail.1.bias")),
        "{e}"
    );
}

#[test]
fn wrong_shapes_are_all_named() {
    let mut sd = tiny_edsr();
    let t = sd.tensors.get_mut("body.0.body.2.weight").unwrap();
    t.shape = vec![8, 4, 3, 3];
    t.data.truncate(8 * 4 * 9);
    sd.tensors.get_mut("tail.1.bias").unwrap().shape = vec![1, 3];
    let e = load_modified(&sd).unwrap_err();
    match &e {
        Error::Shape { what, expected, got } => {
            assert!(what.contains("body.0.body.2.weight") && what.contains("tail.1.bias"), "{e}");
            assert!(expected.contains("[8, 8, 3, 3]") && got.contains("[8, 4, 3, 3]"), "{e}");
        }
        _ => panic!("expected Shape, got {e}"),
    }
}

#[test]
fn unexpected_key_is_rejected() {
    let mut sd = tiny_rdn();
    let extra = sd.tensors["GFF.0.bias"].clone();
    sd.tensors.insert("RDBs.0.extra.weight".into(), extra);
    let e = load_modified(&sd).unwrap_err();
    assert!(matches!(&e, Error::Format { what, .. } if what.contains("RDBs.0.extra.weight")), "{e}");
}

#[test]
fn nan_weight_is_non_finite_error() {
    let mut sd = tiny_rdn();
    sd.tensors.get_mut("RDBs.0.convs.1.conv.0.weight").unwrap().data[5] = f32::NAN;
    let e = load_modified(&sd).unwrap_err();
    assert!(matches!(&e, Error::NonFinite { what } if what == "RDBs.0.convs.1.conv.0.weight"), "{e}");
    let mut sd = tiny_edsr();
    sd.tensors.get_mut("head.0.bias").unwrap().data[0] = f32::INFINITY;
    let e = load_modified(&sd).unwrap_err();
    assert!(matches!(&e, Error::NonFinite { what } if what == "head.0.bias"), "{e}");
}

#[test]
fn wrong_mean_shift_is_rejected() {
    let mut sd = tiny_edsr();
    sd.tensors.get_mut("sub_mean.bias").unwrap().data[1] = 0.0;
    let e = load_modified(&sd).unwrap_err();
    assert!(matches!(&e, Error::Format { what, .. } if what.contains("sub_mean")), "{e}");
}

#[test]
fn unknown_state_dict_and_model_name() {
    let mut sd = tiny_rdn();
    sd.tensors.retain(|k, _| k.starts_with("GFF"));
    let e = load_modified(&sd).unwrap_err();
    assert!(matches!(&e, Error::Format { what, .. } if what.contains("not an EDSR")), "{e}");

    let e = model::load_builtin("edsr_x3").unwrap_err();
    match &e {
        Error::Unknown { kind, name, known } => {
            assert_eq!((kind.as_str(), name.as_str()), ("model", "edsr_x3"));
            for n in model::builtin_names() {
                assert!(known.contains(n), "{e}");
            }
        }
        _ => panic!("expected Unknown, got {e}"),
    }
    let e = model::load_path(&models_dir().join("edsr_x2.txt")).unwrap_err();
    assert!(matches!(&e, Error::Format { what, .. } if what.contains("extension")), "{e}");
    // A JSON file that is not a TF.js model.
    let e = model::load_path(&golden("cases.json")).unwrap_err();
    assert!(matches!(&e, Error::Format { .. }), "{e}");
}

#[test]
fn wrong_input_shape_is_error() {
    let m = model::load_path(&golden("rdn_tiny_x2.safetensors")).unwrap();
    let grey = sqsim::Feature::zeros(1, 4, 4);
    assert!(matches!(m.forward(&grey, &model::FloatExec), Err(Error::Shape { .. })));
    let empty = sqsim::Feature::zeros(3, 0, 4);
    assert!(matches!(m.forward(&empty, &model::FloatExec), Err(Error::Shape { .. })));
}

#[test]
fn builtins_load_and_describe() {
    for n in model::builtin_names() {
        let m = model::load_builtin(n).unwrap();
        assert_eq!(&m.name, n);
        let d = m.describe();
        assert!(d.contains(n) && d.contains(&format!("x{}", m.scale)), "{d}");
    }
    assert_eq!(model::load_builtin("edsr_x4").unwrap().scale, 4);
    assert_eq!(model::load_builtin("rdn_x4").unwrap().scale, 4);
}

/// Every prefix of a checkpoint (zip and legacy container) must fail cleanly.
#[test]
fn every_truncation_of_tiny_checkpoints_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["edsr_tiny_x3_zip.pt", "edsr_tiny_x3_legacy.pt", "rdn_tiny_x2.safetensors"] {
        let full = std::fs::read(golden(name)).unwrap();
        let p = dir.path().join(name);
        let step = (full.len() / 97).max(1);
        for len in (0..full.len()).step_by(step).chain([full.len() - 1]) {
            std::fs::write(&p, &full[..len]).unwrap();
            let e = model::load_path(&p).expect_err(&format!("{name} cut to {len} bytes loaded"));
            assert!(matches!(e, Error::Format { .. }), "{name} cut to {len}: {e}");
        }
    }
}

/// Errors name the real key (#16 class 7): a middle block's first conv, a
/// whole middle RDB; half-precision checkpoints load (their MeanShift holds
/// 255·mean only to the dtype's precision); a network nested under a
/// training wrapper is found and the rest reported as outside it.
#[test]
fn messages_name_the_real_key_and_wrapped_or_half_checkpoints_load() {
    let mut sd = tiny_edsr();
    sd.tensors.remove("body.0.body.0.weight").unwrap();
    let e = load_modified(&sd).unwrap_err();
    assert!(matches!(&e, Error::MissingKey { keys, .. } if keys.starts_with("body.0.body.0.weight (")), "{e}");
    let mut sd = tiny_rdn();
    sd.tensors.retain(|k, _| !k.starts_with("RDBs.0."));
    let e = load_modified(&sd).unwrap_err();
    assert!(matches!(&e, Error::MissingKey { keys, .. } if keys.starts_with("RDBs.0.")), "{e}");
    // f16 / bf16
    let flat = model::load_path(&golden("edsr_tiny_x3_zip.pt")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (dt, name) in [(safetensors::Dtype::F16, "h.safetensors"), (safetensors::Dtype::BF16, "b.safetensors")] {
        let p = dir.path().join(name);
        write_st_as(&p, &tiny_edsr(), dt);
        let m = model::load_path(&p).unwrap_or_else(|e| panic!("{dt:?}: {e}"));
        assert_eq!(m.param_count(), flat.param_count());
    }
    // nested under params_ema (preferred over params) beside optimizer state
    let base = tiny_edsr();
    let mut wrapped = StateDict { tensors: Default::default(), ..base.clone() };
    for (k, t) in &base.tensors {
        wrapped.tensors.insert(format!("params_ema.{k}"), t.clone());
        let mut other = t.clone();
        other.data.iter_mut().for_each(|v| *v += 1.0);
        wrapped.tensors.insert(format!("params.{k}"), other);
    }
    wrapped.tensors.insert("optimizer.state.0.exp_avg".into(), base.tensors["head.0.bias"].clone());
    let p = dir.path().join("w.safetensors");
    write_st(&p, &wrapped);
    let sd = StateDict::read(&p).unwrap();
    assert_eq!(sd.nested_under.as_deref(), Some("params_ema"));
    assert!(sd.outside.contains(&"optimizer.state.0.exp_avg".to_string()) && sd.outside.iter().any(|k| k.starts_with("params.")));
    let m = model::load_path(&p).unwrap();
    let mut want = flat.clone();
    want.name = m.name.clone();
    assert_eq!(m.weights_sha256(), flat.weights_sha256(), "the params_ema copy, not params");
    // a wrapper holding no network is refused naming the wrappers searched
    let mut junk = StateDict { tensors: Default::default(), ..base.clone() };
    junk.tensors.insert("model.fc.weight".into(), base.tensors["head.0.bias"].clone());
    write_st(&p, &junk);
    let e = model::load_path(&p).unwrap_err().to_string();
    assert!(e.contains("params_ema") && e.contains("model.fc.weight"), "{e}");
}

/// Tensors outside the network's modules (another task's head, optimizer
/// state) are left out and reported; inside them, an unknown key is refused.
#[test]
fn keys_outside_the_network_are_left_out_and_reported() {
    let mut sd = tiny_edsr();
    sd.tensors.insert("discriminator.fc.weight".into(), sd.tensors["head.0.bias"].clone());
    let m = load_modified(&sd).unwrap();
    assert_eq!(m.ignored_keys(), ["discriminator.fc.weight"]);
    sd.tensors.insert("body.0.body.1.weight".into(), sd.tensors["head.0.bias"].clone());
    let e = load_modified(&sd).unwrap_err().to_string();
    assert!(e.contains("body.0.body.1.weight") && e.contains("another architecture"), "{e}");
}
