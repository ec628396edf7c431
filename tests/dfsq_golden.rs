//! The DFSQ float reference (fake-quant forward of the real edsr_x2, W4A4,
//! fixed point sets) against the independent numpy implementation in
//! tests/golden/dfsq/gen_dfsq.py.
use serde::Deserialize;
use sqsim::dfsq::{quantize_model, FakeQuantExec, QuantConfig};
use sqsim::model::load_builtin;
use sqsim::select::PointSet;
use sqsim::sq::UniversalSet;
use sqsim::Feature;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct Probe {
    layer: String,
    post_relu: bool,
    shape: Vec<usize>,
    tag: String,
}

#[derive(Deserialize)]
struct Golden {
    probes: Vec<Probe>,
    in_shape: Vec<usize>,
    out_shape: Vec<usize>,
    layers: BTreeMap<String, Vec<Vec<f64>>>,
    #[serde(default)]
    wbits: u32,
    #[serde(default)]
    abits: u32,
}

fn read_f32(name: &str) -> Vec<f32> {
    let p = format!("{}/tests/golden/dfsq/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(p).unwrap().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

fn setup() -> (Golden, sqsim::model::Model, FakeQuantExec) {
    let g: Golden = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/dfsq/dfsq_edsr_x2.json")).unwrap(),
    )
    .unwrap();
    let u = UniversalSet::default();
    let model = load_builtin("edsr_x2").unwrap();
    let points: Vec<Vec<PointSet>> = model
        .quant_layers()
        .iter()
        .map(|(c, _)| g.layers[&c.name].iter().map(|p| PointSet::from_values(p, &u).unwrap()).collect())
        .collect();
    let fq = FakeQuantExec { layers: quantize_model(&model, points, &QuantConfig::default()).unwrap() };
    (g, model, fq)
}

/// Layer by layer, on numpy's own inputs: no cascade of rounding
/// differences, so the tolerance is float-tight.
#[test]
fn fake_quant_layers_match_numpy() {
    use sqsim::model::ConvExec;
    let (g, model, fq) = setup();
    assert_eq!(g.probes.len(), 3);
    for p in &g.probes {
        let (conv, site) = model.quant_layers().into_iter().find(|(c, _)| c.name == p.layer).unwrap();
        assert_eq!(site.post_relu, p.post_relu, "{}", p.layer);
        let x = Feature::from_vec(p.shape[0], p.shape[1], p.shape[2], read_f32(&format!("probe_{}_in.bin", p.tag))).unwrap();
        let y = fq.quant_conv(conv, site, &x).unwrap();
        let want = read_f32(&format!("probe_{}_out.bin", p.tag));
        let max = y.data.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        eprintln!("{}: max abs diff {max:.3e}", p.layer);
        assert!(max <= 1e-3, "{}: max abs diff {max}", p.layer);
    }
}

/// End to end through 32 quantized layers. A float-rounding difference of
/// ~1e-6 can move an activation across a quantization threshold, which
/// changes it by a whole step; such flips propagate, so the end-to-end
/// check bounds the PSNR between the two outputs instead of the max.
#[test]
fn fake_quant_edsr_x2_matches_numpy() {
    let (g, model, fq) = setup();
    let x = Feature::from_vec(g.in_shape[0], g.in_shape[1], g.in_shape[2], read_f32("dfsq_edsr_x2_in.bin")).unwrap();
    let y = model.forward(&x, &fq).unwrap();
    let want = read_f32("dfsq_edsr_x2_out.bin");
    assert_eq!((y.c, y.h, y.w), (g.out_shape[0], g.out_shape[1], g.out_shape[2]));
    let max = y.data.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    let mse = y.data.iter().zip(&want).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>() / want.len() as f64;
    let psnr = 10.0 * (255.0f64 * 255.0 / mse.max(1e-30)).log10();
    let within = y.data.iter().zip(&want).filter(|(a, b)| (*a - *b).abs() <= 1e-3).count() as f64 / want.len() as f64;
    eprintln!("fake-quant edsr_x2 vs numpy: max abs diff {max:.3e}, PSNR {psnr:.1} dB, {:.2}% within 1e-3", within * 100.0);
    assert!(psnr >= 50.0, "max {max}, PSNR {psnr}, within {within}");
    // and the quantization did something: FP output differs visibly
    let fp = model.forward(&x, &sqsim::model::FloatExec).unwrap();
    let mse_q = fp.data.iter().zip(&y.data).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>() / want.len() as f64;
    let psnr_q = 10.0 * (255.0f64 * 255.0 / mse_q).log10();
    eprintln!("for scale: FP vs fake-quant PSNR {psnr_q:.1} dB");
    // the two implementations agree far more closely than quantization moves the output
    assert!(psnr > psnr_q + 15.0, "golden {psnr} dB vs quantization effect {psnr_q} dB");
}

/// The DFSQ float reference on an RDN of the EDSR-PyTorch layout (#17; the
/// nested ×3 checkpoint, W3A3, 17 quantized convs: every RDB conv, each LFF,
/// both GFF convs) against the same numpy implementation.
#[test]
fn fake_quant_rdn_tiny_x3_matches_numpy() {
    rdn_case("dfsq_rdn_tiny_x3", false, 17);
}

/// The same RDN with `--quantize all`: SFENet1/2, the upsampler and the
/// output conv on the datapath too (21 convs, W4A4).
#[test]
fn fake_quant_rdn_tiny_x3_quantize_all_matches_numpy() {
    rdn_case("dfsq_rdn_tiny_x3_all", true, 21);
}

fn rdn_case(tag: &str, all: bool, n_layers: usize) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/dfsq/");
    let g: Golden = serde_json::from_str(&std::fs::read_to_string(format!("{dir}{tag}.json")).unwrap()).unwrap();
    let u = UniversalSet::default();
    let mut model = sqsim::model::load_path(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/float/rdn_tiny_x3_wrapped.safetensors"
    )))
    .unwrap();
    if all {
        model.quantize_all().unwrap();
    }
    let names: Vec<String> = model.quant_layers().iter().map(|(c, _)| c.name.clone()).collect();
    assert_eq!(names.len(), n_layers, "quantized layers: {names:?}");
    assert_eq!(names.len(), g.layers.len(), "quantized layers: {names:?}");
    assert!(model.quant_layers().iter().all(|(_, s)| !s.post_relu));
    let points: Vec<Vec<PointSet>> = names.iter().map(|n| g.layers[n].iter().map(|p| PointSet::from_values(p, &u).unwrap()).collect()).collect();
    let q = QuantConfig { wbits: g.wbits, abits: g.abits, ..Default::default() };
    let fq = FakeQuantExec { layers: quantize_model(&model, points, &q).unwrap() };
    let x = Feature::from_vec(g.in_shape[0], g.in_shape[1], g.in_shape[2], read_f32(&format!("{tag}_in.bin"))).unwrap();
    let y = model.forward(&x, &fq).unwrap();
    assert_eq!((y.c, y.h, y.w), (g.out_shape[0], g.out_shape[1], g.out_shape[2]));
    let want = read_f32(&format!("{tag}_out.bin"));
    let mse = y.data.iter().zip(&want).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>() / want.len() as f64;
    let psnr = 10.0 * (255.0f64 * 255.0 / mse.max(1e-30)).log10();
    let fp = model.forward(&x, &sqsim::model::FloatExec).unwrap();
    let mse_q = fp.data.iter().zip(&y.data).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>() / want.len() as f64;
    let psnr_q = 10.0 * (255.0f64 * 255.0 / mse_q).log10();
    eprintln!("fake-quant {tag} vs numpy: PSNR {psnr:.1} dB (FP vs fake-quant {psnr_q:.1} dB)");
    assert!(psnr >= 50.0 && psnr > psnr_q + 15.0, "golden {psnr} dB vs quantization effect {psnr_q} dB");
}
