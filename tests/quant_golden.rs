//! Weight and activation quantizers against the independent numpy
//! implementation in tests/golden/quant/gen_quant.py.
use serde::Deserialize;
use sqsim::quant::{act::fake_quant, quantize_weights, Granularity};
use sqsim::select::PointSet;
use sqsim::sq::UniversalSet;
use sqsim::Feature;

#[derive(Deserialize)]
struct WCase {
    name: String,
    shape: Vec<usize>,
    bits: u32,
    per_kernel: bool,
    w: Vec<f64>,
    q: Vec<i32>,
    zp: Vec<i32>,
    delta: Vec<f64>,
    deq: Vec<f64>,
}
#[derive(Deserialize)]
struct ACase {
    name: String,
    shape: Vec<usize>,
    post_relu: bool,
    points: Vec<Vec<f64>>,
    x: Vec<f64>,
    y: Vec<f64>,
}
#[derive(Deserialize)]
struct Golden {
    weights: Vec<WCase>,
    acts: Vec<ACase>,
}

fn golden() -> Golden {
    let s = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/quant/quant_golden.json"))
        .expect("golden file present");
    serde_json::from_str(&s).expect("golden file parses")
}

#[test]
fn weight_quantizer_matches_numpy_bit_for_bit() {
    for c in golden().weights {
        let w: Vec<f32> = c.w.iter().map(|&v| v as f32).collect();
        let g = if c.per_kernel { Granularity::PerKernel } else { Granularity::PerOutputChannel };
        let qw = quantize_weights(&c.name, &w, c.shape[0], c.shape[1], c.shape[2], c.bits, g).unwrap();
        assert_eq!(qw.q, c.q, "{}: q", c.name);
        assert_eq!(qw.zp, c.zp, "{}: zp", c.name);
        let d: Vec<f32> = c.delta.iter().map(|&v| v as f32).collect();
        assert_eq!(qw.delta, d, "{}: delta", c.name);
        let deq = qw.dequantize();
        for (i, (&a, &b)) in deq.iter().zip(&c.deq).enumerate() {
            assert_eq!(a, b as f32, "{}: deq[{i}]", c.name);
        }
        // w = q + zp must fit the width the datapath is sized for
        assert!(qw.int_bits() <= c.bits + 2, "{}: {} bits", c.name, qw.int_bits());
    }
}

#[test]
fn activation_quantizer_matches_numpy() {
    let u = UniversalSet::default();
    for c in golden().acts {
        let x = Feature::from_vec(c.shape[0], c.shape[1], c.shape[2], c.x.iter().map(|&v| v as f32).collect()).unwrap();
        let pts: Vec<PointSet> = c.points.iter().map(|p| PointSet::from_values(p, &u).unwrap()).collect();
        let y = fake_quant(&x, c.post_relu, &pts).unwrap();
        let mut max = 0f64;
        for (&a, &b) in y.data.iter().zip(&c.y) {
            max = max.max((a as f64 - b).abs() / b.abs().max(1.0));
        }
        assert!(max <= 1e-6, "{}: max rel diff {max}", c.name);
    }
}

#[test]
fn bad_weights_are_rejected() {
    let w = vec![0.1f32, f32::NAN, 0.2, 0.3];
    let e = quantize_weights("body.0.body.0", &w, 1, 1, 2, 4, Granularity::PerOutputChannel).unwrap_err();
    assert!(e.to_string().contains("body.0.body.0.weight[1]"), "{e}");
    assert!(quantize_weights("l", &[0.0; 4], 1, 1, 2, 1, Granularity::PerOutputChannel).is_err());
    assert!(quantize_weights("l", &[0.0; 3], 1, 1, 2, 4, Granularity::PerOutputChannel).is_err());
}
