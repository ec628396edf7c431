//! Bit-accurate conv throughput (GMAC/s) against the float conv of the same
//! layer, in the same process: 64→64 3×3 on a 96×96 map, W4A4.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sqsim::config::HwConfig;
use sqsim::dfsq::QuantLayer;
use sqsim::hw::HwLayer;
use sqsim::model::Conv2d;
use sqsim::quant::{quantize_weights, Granularity};
use sqsim::rng::SplitMix64;
use sqsim::select::{select, Method, SelectConfig};
use sqsim::sq::UniversalSet;
use sqsim::Feature;

fn setup(c: usize, h: usize, w: usize) -> (QuantLayer, Vec<i64>, Feature) {
    let mut r = SplitMix64::new(3);
    let u = UniversalSet::default();
    let weight: Vec<f32> = (0..c * c * 9).map(|_| (r.next_f64() as f32 - 0.5) * 0.1).collect();
    let conv = Conv2d::new("bench", c, c, 3, weight, vec![0.5; c]).unwrap();
    let qw = quantize_weights("bench", &conv.weight, c, c, 3, 4, Granularity::PerOutputChannel).unwrap();
    let samples: Vec<f32> = (0..2000).map(|_| ((r.next_f64() * 2.0 - 1.0).powi(3)) as f32).collect();
    let pts = select(&samples, &u, &SelectConfig { bits: 4, method: Method::Optimal, ..Default::default() }, 0).unwrap().points;
    let xf: Vec<f32> = (0..c * h * w).map(|_| (r.next_f64() as f32 - 0.5) * 40.0).collect();
    let x: Vec<i64> = xf.iter().map(|v| (v * 256.0).round() as i64).collect();
    let deq = Conv2d { weight: qw.dequantize(), ..conv };
    (QuantLayer { qweights: qw, deq_conv: deq, points: vec![pts; c] }, x, Feature::from_vec(c, h, w, xf).unwrap())
}

fn bench(cr: &mut Criterion) {
    let (c, h, w) = (64, 96, 96);
    let (ql, x, xf) = setup(c, h, w);
    let layer = HwLayer::prepare(&ql, &UniversalSet::default(), &HwConfig::default()).unwrap();
    let macs = (c * c * 9 * h * w) as u64;
    let mut g = cr.benchmark_group("conv_64x64_3x3_96x96");
    g.sample_size(10);
    g.throughput(Throughput::Elements(macs));
    g.bench_function("float_conv2d", |b| b.iter(|| sqsim::float::conv2d(&xf, &ql.deq_conv).unwrap()));
    g.bench_function("hw_fast", |b| b.iter(|| layer.run_fast(&x, h, w, false).unwrap()));
    g.finish();
    // the naive reference is orders slower: measure it on a small map
    let (ql, x, _) = setup(16, 16, 16);
    let layer = HwLayer::prepare(&ql, &UniversalSet::default(), &HwConfig::default()).unwrap();
    let mut g = cr.benchmark_group("conv_16x16_3x3_16x16");
    g.sample_size(10);
    g.throughput(Throughput::Elements((16 * 16 * 9 * 16 * 16) as u64));
    g.bench_function("hw_naive", |b| b.iter(|| layer.run_reference(&x, 16, 16, false).unwrap()));
    g.bench_function("hw_fast", |b| b.iter(|| layer.run_fast(&x, 16, 16, false).unwrap()));
    g.finish();
}

/// Whole network: full precision, the DFSQ float reference and the
/// bit-accurate datapath on the same LR image (Set5 bird, 144×144), in one
/// group of one process, so their ratios are measured side by side.
fn network(cr: &mut Criterion) {
    use sqsim::dfsq::{quantize_model, Calibration, FakeQuantExec, QuantConfig};
    use sqsim::hw::HwExec;
    let model = sqsim::model::load_builtin("edsr_x2").unwrap();
    let u = UniversalSet::default();
    let cal = Calibration::load(&sqsim::paths::models_dir().join("calib/edsr_x2_a4_kmeans.json")).unwrap();
    let fq = FakeQuantExec { layers: quantize_model(&model, cal.point_sets(&model, &u).unwrap(), &QuantConfig::default()).unwrap() };
    let hw = HwExec::new(&fq.layers, &u, &HwConfig::default(), None).unwrap();
    let pair = sqsim::image::make_pair(&sqsim::paths::data_dir().join("Set5/bird.png"), 2).unwrap();
    let lr = sqsim::image::to_feature(&pair.lr);
    let macs: u64 = model.all_layers().iter().map(|(c, _)| (c.macs_per_pixel() * lr.h * lr.w) as u64).sum();
    let mut g = cr.benchmark_group("edsr_x2_w4a4_bird_144x144");
    g.sample_size(10);
    g.throughput(Throughput::Elements(macs));
    g.bench_function("fp", |b| b.iter(|| model.forward(&lr, &sqsim::model::FloatExec).unwrap()));
    g.bench_function("dfsq_float_reference", |b| b.iter(|| model.forward(&lr, &fq).unwrap()));
    g.bench_function("bit_accurate_hw", |b| b.iter(|| model.forward(&lr, &hw).unwrap()));
    g.finish();
}

criterion_group!(benches, bench, network);
criterion_main!(benches);
