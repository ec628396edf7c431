//! The bit-accurate functional model against an independent implementation:
//! `HwLayer::run_reference` (and `run_fast`) equal, bit for bit and overflow
//! count for overflow count, the numpy golden of tests/golden/hw/gen_hw.py,
//! written from DATAPATH.md §3 and hw/SPEC.md, on real edsr_x2 layers (every
//! de-normalization format), a real 1×1 rdn_x2 layer on its preset, and
//! narrow-register cases in which every stage overflows (saturate and wrap,
//! PE fraction bits below the universal set's).
use serde::Deserialize;
use sqsim::config::{DatapathConfig, DenormConfig, HwConfig};
use sqsim::dfsq::QuantLayer;
use sqsim::hw::fixed::to_fixed_all;
use sqsim::hw::{HwLayer, Reg};
use sqsim::model::Conv2d;
use sqsim::quant::{quantize_weights, Granularity};
use sqsim::select::PointSet;
use sqsim::sq::UniversalSet;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct Case {
    tag: String,
    model: String,
    layer: String,
    post_relu: bool,
    in_shape: [usize; 3],
    wbits: u32,
    points: Vec<Vec<f64>>,
    datapath: serde_json::Value,
    denorm: serde_json::Value,
    weights_file: bool,
    out_channels: usize,
    k: usize,
    overflow: BTreeMap<String, u64>,
}

fn dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/hw")
}

fn read<T>(name: &str, n: usize, conv: fn([u8; 4]) -> T) -> Vec<T> {
    let b = std::fs::read(dir().join(name)).unwrap();
    assert_eq!(b.len(), 4 * n, "{name}");
    b.chunks_exact(4).map(|c| conv([c[0], c[1], c[2], c[3]])).collect()
}

/// The case's conv: the shipped weights (first `in_c` input channels), or
/// the ones the script saved (TF.js, dequantized there).
fn conv(c: &Case) -> Conv2d {
    let in_c = c.in_shape[0];
    let n = c.out_channels * in_c * c.k * c.k;
    if c.weights_file {
        let w = read(&format!("{}_weight.bin", c.tag), n, f32::from_le_bytes);
        let b = read(&format!("{}_bias.bin", c.tag), c.out_channels, f32::from_le_bytes);
        return Conv2d::new(c.layer.clone(), in_c, c.out_channels, c.k, w, b).unwrap();
    }
    let model = sqsim::model::load_builtin(&c.model).unwrap();
    let full = model.quant_layers().into_iter().map(|(l, _)| l.clone()).find(|l| l.name == c.layer).unwrap();
    let kk = full.k * full.k;
    let w: Vec<f32> = (0..full.out_c).flat_map(|o| full.weight[(o * full.in_c) * kk..(o * full.in_c + in_c) * kk].to_vec()).collect();
    Conv2d::new(c.layer.clone(), in_c, full.out_c, full.k, w, full.bias.clone()).unwrap()
}

#[test]
fn reference_datapath_equals_the_numpy_golden() {
    let cases: Vec<Case> = serde_json::from_value(
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(dir().join("hw_golden.json")).unwrap()).unwrap()["cases"].clone(),
    )
    .unwrap();
    assert!(cases.len() >= 8, "{} cases", cases.len());
    let u = UniversalSet::default();
    let mut stages_overflowed = BTreeMap::new();
    for c in &cases {
        let mut cfg = HwConfig::default();
        cfg.datapath = serde_json::from_value::<DatapathConfig>(c.datapath.clone()).unwrap();
        cfg.denorm = serde_json::from_value::<DenormConfig>(c.denorm.clone()).unwrap();
        cfg.validate().unwrap();
        let conv = conv(c);
        let qw = quantize_weights(&conv.name, &conv.weight, conv.out_c, conv.in_c, conv.k, c.wbits, Granularity::PerOutputChannel).unwrap();
        let points = c.points.iter().map(|p| PointSet::from_values(p, &u).unwrap()).collect();
        let ql = QuantLayer { deq_conv: Conv2d { weight: qw.dequantize(), ..conv.clone() }, qweights: qw, points };
        let layer = HwLayer::prepare(&ql, &u, &cfg).unwrap();
        let [in_c, h, w] = c.in_shape;
        let x = read(&format!("{}_in.bin", c.tag), in_c * h * w, f32::from_le_bytes);
        let dp = &cfg.datapath;
        let mut act_in = 0;
        let xf = to_fixed_all(&x, dp.act_frac_bits, &Reg::new(dp.act_bits, dp.overflow), &mut act_in);
        let want: Vec<i64> = read(&format!("{}_out.bin", c.tag), conv.out_c * h * w, i32::from_le_bytes).into_iter().map(i64::from).collect();
        let got = layer.run_reference(&xf, h, w, c.post_relu).unwrap();
        let diff = got.out.iter().zip(&want).filter(|(a, b)| a != b).count();
        let first = got.out.iter().zip(&want).position(|(a, b)| a != b);
        assert_eq!(diff, 0, "{}: {diff} of {} outputs differ from numpy (first at {first:?})", c.tag, want.len());
        let counts = [("act_in", act_in), ("tap_sum", got.overflow.tap_sum), ("denorm_acc", got.overflow.denorm_acc), ("act_out", got.overflow.act_out)];
        for (stage, n) in counts {
            assert_eq!(n, c.overflow[stage], "{}: {stage} overflows", c.tag);
            if n > 0 {
                *stages_overflowed.entry(stage).or_insert(0) += 1;
            }
        }
        let fast = layer.run_fast(&xf, h, w, c.post_relu).unwrap();
        assert!(fast.out == got.out && fast.overflow == got.overflow, "{}: run_fast differs", c.tag);
    }
    // the narrow cases make every stage overflow somewhere
    for stage in ["act_in", "tap_sum", "denorm_acc", "act_out"] {
        assert!(stages_overflowed.contains_key(stage), "no case overflows {stage}: {stages_overflowed:?}");
    }
}
