//! Float conv throughput: 64->64 3x3 on a 128x128 map, fast (im2col + sgemm,
//! rayon over row bands) vs the naive f64 reference, in GFLOP/s
//! (criterion reports "elements/s" = FLOP/s; 1 MAC = 2 FLOP).
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sqsim::float::{conv2d, conv2d_naive};
use sqsim::model::Conv2d;
use sqsim::rng::SplitMix64;
use sqsim::Feature;
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let (ch, k, hw) = (64usize, 3usize, 128usize);
    let mut r = SplitMix64::new(42);
    let mut v = |n: usize| (0..n).map(|_| (r.next_f64() * 2.0 - 1.0) as f32).collect::<Vec<f32>>();
    let x = Feature::from_vec(ch, hw, hw, v(ch * hw * hw)).unwrap();
    let conv = Conv2d::new("bench", ch, ch, k, v(ch * ch * k * k), v(ch)).unwrap();
    let flops = 2 * (ch * ch * k * k * hw * hw) as u64;

    let mut g = c.benchmark_group("conv_64to64_3x3_128x128");
    g.throughput(Throughput::Elements(flops));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("fast", |b| b.iter(|| conv2d(&x, &conv).unwrap()));
    g.bench_function("naive", |b| b.iter(|| conv2d_naive(&x, &conv).unwrap()));
    g.finish();
}

/// Whole-network float forward of the shipped EDSR x2 on a 256x256 LR input.
fn edsr_forward(c: &mut Criterion) {
    let m = sqsim::model::load_builtin("edsr_x2").unwrap();
    let mut r = SplitMix64::new(7);
    let x = Feature::from_vec(3, 256, 256, (0..3 * 256 * 256).map(|_| (r.next_f64() * 255.0) as f32).collect()).unwrap();
    let mut g = c.benchmark_group("edsr_x2_forward_256x256");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("float", |b| b.iter(|| m.forward(&x, &sqsim::model::FloatExec).unwrap()));
    g.finish();
}

criterion_group!(benches, bench, edsr_forward);
criterion_main!(benches);
