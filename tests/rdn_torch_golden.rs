//! Bring-your-own RDN checkpoints written by PyTorch itself (#17):
//! `tests/golden/rdn_torch/gen_rdn_torch.py` builds EDSR-PyTorch's
//! `model/rdn.py` layout in small config-B and config-A versions at ×2, ×3
//! and ×4 (the ×3 config-B one a training checkpoint nesting the net under
//! `params_ema`), saves them with `torch.save` and records PyTorch's
//! forward. sqsim infers each configuration from the file alone and must
//! match PyTorch within 1e-3 on the 0..255 scale.
use sqsim::model::{self, FloatExec};
use sqsim::Feature;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/rdn_torch")
}

fn read_f32(p: &Path) -> Vec<f32> {
    std::fs::read(p).unwrap().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

#[test]
fn torch_saved_rdns_are_inferred_and_match_pytorch() {
    let cases: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir().join("cases.json")).unwrap()).unwrap();
    let cases = cases["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 6);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let m = model::load_path(&dir().join(c["checkpoint"].as_str().unwrap())).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((m.arch_name(), m.scale as u64), ("rdn", c["scale"].as_u64().unwrap()), "{name}");
        let want = format!("D={} RDBs, C={} convs, G={}, G0={}", c["d"], c["c"], c["g"], c["g0"]);
        assert!(m.describe().contains(&want), "{name}: {} lacks {want}", m.describe());
        assert_eq!(m.param_count() as u64, c["params"].as_u64().unwrap(), "{name}");
        let s: Vec<usize> = c["in_shape"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
        let x = Feature::from_vec(s[0], s[1], s[2], read_f32(&dir().join(format!("{name}_in.bin")))).unwrap();
        let y = m.forward(&x, &FloatExec).unwrap();
        let want = read_f32(&dir().join(format!("{name}_out.bin")));
        assert_eq!(y.data.len(), want.len(), "{name}");
        let d = y.data.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        eprintln!("{name}: max |sqsim - pytorch| = {d:.2e}");
        assert!(d <= 1e-3, "{name}: {d}");
    }
    // the nested training checkpoint: the EMA copy, the rest left out and listed
    let m = model::load_path(&dir().join("rdn_B_x3.pt")).unwrap();
    assert!(m.ignored_keys().iter().any(|k| k.starts_with("params.")), "{:?}", m.ignored_keys());
}
