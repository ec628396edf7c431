//! Point-selection cost per channel: against sample count (must grow
//! linearly: one O(n) histogram pass, then work independent of n) and
//! against |U| for k-means, the exact optimum and exhaustive search.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sqsim::rng::SplitMix64;
use sqsim::select::{select, Method, SelectConfig};
use sqsim::sq::{UniversalSet, WordSets};

fn samples(n: usize) -> Vec<f32> {
    let mut r = SplitMix64::new(1);
    (0..n)
        .map(|_| {
            let (a, b) = (r.next_f64().max(1e-12), r.next_f64());
            let g = (-2.0 * a.ln()).sqrt() * (2.0 * std::f64::consts::PI * b).cos() * 0.2;
            (g * g * g * 10.0).clamp(-1.0, 1.0) as f32
        })
        .collect()
}

fn by_samples(c: &mut Criterion) {
    let u = UniversalSet::default();
    let mut g = c.benchmark_group("select_vs_samples_b4");
    g.sample_size(10);
    for n in [1_000usize, 10_000, 100_000, 1_000_000] {
        let s = samples(n);
        g.throughput(Throughput::Elements(n as u64));
        for m in [Method::KMeans, Method::Optimal] {
            let cfg = SelectConfig { bits: 4, method: m, ..Default::default() };
            g.bench_with_input(BenchmarkId::new(m.name(), n), &s, |b, s| b.iter(|| select(s, &u, &cfg, 0).unwrap()));
        }
    }
    g.finish();
}

fn by_uset(c: &mut Criterion) {
    let s = samples(10_000);
    let mut g = c.benchmark_group("select_vs_uset_size");
    g.sample_size(10);
    for preset in ["ws2", "ws3", "ws4", "ws5"] {
        let u = UniversalSet::new(WordSets::preset(preset).unwrap()).unwrap();
        for (m, bits) in [(Method::KMeans, 4), (Method::Optimal, 4), (Method::Exhaustive, 2)] {
            let cfg = SelectConfig { bits, method: m, ..Default::default() };
            if m == Method::Exhaustive && select(&s[..10], &u, &cfg, 0).is_err() {
                continue; // too many subsets for this |U|
            }
            let id = BenchmarkId::new(format!("{}_b{bits}", m.name()), u.len());
            g.bench_with_input(id, &s, |b, s| b.iter(|| select(s, &u, &cfg, 0).unwrap()));
        }
    }
    g.finish();
}

/// Calibration's selection phase on real statistics: edsr_x2's 2,048
/// channels (32 layers × 64) from one calib32 image, each method and
/// bit-width as `sqsim calibrate` runs it (both cores).
fn whole_model(c: &mut Criterion) {
    use sqsim::dfsq::calib;
    let model = sqsim::model::load_builtin("edsr_x2").unwrap();
    let u = UniversalSet::default();
    let imgs = sqsim::eval::load_lr_images(&[sqsim::paths::data_dir().join("calib32/108041.png")], 2).unwrap();
    let stats = calib::collect(&model, &imgs, &u, &|_| ()).unwrap();
    let mut g = c.benchmark_group("calibrate_edsr_x2_2048ch_1img");
    g.sample_size(10);
    g.bench_function("statistics_pass", |b| {
        b.iter(|| calib::collect(&model, &imgs, &u, &|_| ()).unwrap())
    });
    for m in [Method::KMeans, Method::Optimal] {
        for bits in [8u32, 6, 4, 3] {
            let cfg = SelectConfig { bits, method: m, ..Default::default() };
            g.bench_function(format!("select_{}_b{bits}", m.name()), |b| {
                b.iter(|| calib::select_all(&stats, "edsr_x2", &u, &cfg).unwrap())
            });
        }
    }
    g.finish();
}

criterion_group!(benches, by_samples, by_uset, whole_model);
criterion_main!(benches);
