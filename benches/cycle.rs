//! Cycle model speed: stepped-mode throughput in PE-cycles per second
//! (rows × cols × cycles simulated, register by register) on a 64→64 3×3
//! layer, the committed layer-engine set's layer (edsr_x2 body.0.body.0,
//! 64→64, 8×8 window of the Set5 baby crop) in array cycles per second —
//! the figure beside the RTL's (hw/run_rtl.sh prints the simulators' wall
//! time for the same set) — and the whole edsr_x2 cost report (timing
//! mode) for Set5 baby.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sqsim::config::{Dataflow, HwConfig};
use sqsim::cycle::cost::CostTable;
use sqsim::cycle::exec::{network_cost, network_shapes};
use sqsim::cycle::{step_layer, LayerShape, Plan, RunScope};
use sqsim::dfsq::QuantLayer;
use sqsim::hw::HwLayer;
use sqsim::model::Conv2d;
use sqsim::quant::{quantize_weights, Granularity};
use sqsim::rng::SplitMix64;
use sqsim::select::{select, Method, SelectConfig};
use sqsim::sq::UniversalSet;
use sqsim::vectors::layer::{engine_problem, step_engine_problem};
use sqsim::vectors::{capture, SourceSpec, Window};

fn layer(c: usize, h: usize, w: usize) -> (QuantLayer, Vec<i64>) {
    let mut r = SplitMix64::new(7);
    let u = UniversalSet::default();
    let weight: Vec<f32> = (0..c * c * 9).map(|_| (r.next_f64() as f32 - 0.5) * 0.1).collect();
    let conv = Conv2d::new("bench", c, c, 3, weight, vec![0.5; c]).unwrap();
    let qw = quantize_weights("bench", &conv.weight, c, c, 3, 4, Granularity::PerOutputChannel).unwrap();
    let samples: Vec<f32> = (0..2000).map(|_| ((r.next_f64() * 2.0 - 1.0).powi(3)) as f32).collect();
    let pts = select(&samples, &u, &SelectConfig { bits: 4, method: Method::Optimal, ..Default::default() }, 0)
        .unwrap()
        .points;
    let x: Vec<i64> = (0..c * h * w).map(|_| ((r.next_f64() - 0.5) * 10000.0) as i64).collect();
    let deq = Conv2d { weight: qw.dequantize(), ..conv };
    (QuantLayer { qweights: qw, deq_conv: deq, points: vec![pts; c] }, x)
}

fn bench(cr: &mut Criterion) {
    let u = UniversalSet::default();
    let (c, h, w) = (64, 16, 16);
    let (ql, x) = layer(c, h, w);
    for (name, df) in [("ws_9x16", Dataflow::WeightStationary), ("os_9x16", Dataflow::OutputStationary)] {
        let mut cfg = HwConfig::default();
        cfg.array.dataflow = df;
        let l = HwLayer::prepare(&ql, &u, &cfg).unwrap();
        let plan = Plan::new(&LayerShape::of(&l, &u.words, 4, h, w), &cfg).unwrap();
        let scope = RunScope::first_tiles(if df == Dataflow::WeightStationary { 1 } else { 8 });
        let cycles = step_layer(&l, &plan, &x, h, w, false, &scope, 0).unwrap().counters.cycles;
        let mut g = cr.benchmark_group(format!("stepped_{name}_64x64_3x3_16x16"));
        g.sample_size(10);
        g.throughput(Throughput::Elements(cycles * (cfg.array.rows * cfg.array.cols) as u64));
        g.bench_function("pe_cycles", |b| b.iter(|| step_layer(&l, &plan, &x, h, w, false, &scope, 0).unwrap()));
        g.finish();
    }
    let model = sqsim::model::load_builtin("edsr_x2").unwrap();
    // the same layer and window as vectors/layer/edsr_x2.body.0.body.0 (scripts/gen_vectors.sh)
    let image = sqsim::paths::data_dir().join("Set5/baby.png");
    let spec = SourceSpec { model: "edsr_x2".into(), bits: 4, layer: "body.0.body.0".into(), image, crop: [112, 112, 24, 24] };
    let ld = capture(&model, &spec, &HwConfig::default(), None).unwrap();
    let prob = engine_problem(&ld, &Window { y: 0, x: 0, h: 8, w: 8 }).unwrap();
    let cycles = step_engine_problem(&prob, ld.post_relu).unwrap().counters.cycles;
    let mut g = cr.benchmark_group("layer_engine_set_edsr_x2_body0_8x8");
    g.sample_size(10);
    g.throughput(Throughput::Elements(cycles));
    g.bench_function("stepped_array_cycles", |b| b.iter(|| step_engine_problem(&prob, ld.post_relu).unwrap()));
    g.finish();

    let pair = sqsim::image::make_pair(&sqsim::paths::data_dir().join("Set5/baby.png"), 2).unwrap();
    let cfg = HwConfig::default();
    let mut g = cr.benchmark_group("cost_report");
    g.sample_size(10);
    g.bench_function("edsr_x2_set5_baby_timing", |b| {
        b.iter(|| {
            let shapes = network_shapes(&model, 4, 4, &u.words, &cfg, pair.lr.height, pair.lr.width).unwrap();
            network_cost(&shapes, &u.words, &cfg, &CostTable::default()).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
