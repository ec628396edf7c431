//! Helpers shared by the cycle-model tests: random quantized layers and the
//! stepped-vs-functional / stepped-vs-timing checks.
#![allow(dead_code)]
use sqsim::config::{Dataflow, HwConfig};
use sqsim::cycle::{step_layer, timing, LayerShape, Plan, RunScope};
use sqsim::dfsq::QuantLayer;
use sqsim::hw::HwLayer;
use sqsim::model::Conv2d;
use sqsim::quant::{quantize_weights, Granularity};
use sqsim::rng::SplitMix64;
use sqsim::select::{select, Method, SelectConfig};
use sqsim::sq::UniversalSet;

pub struct Problem {
    pub layer: QuantLayer,
    pub x: Vec<i64>,
    pub h: usize,
    pub w: usize,
    pub post_relu: bool,
    pub abits: u32,
}

#[allow(clippy::too_many_arguments)]
pub fn problem(seed: u64, in_c: usize, out_c: usize, k: usize, h: usize, w: usize, wbits: u32, abits: u32) -> Problem {
    let mut r = SplitMix64::new(seed);
    let u = UniversalSet::default();
    let n = out_c * in_c * k * k;
    let weight: Vec<f32> = (0..n).map(|_| (r.next_f64() as f32 - 0.45) * 0.2).collect();
    let bias: Vec<f32> = (0..out_c).map(|_| (r.next_f64() as f32 - 0.5) * 4.0).collect();
    let conv = Conv2d::new("rand.conv", in_c, out_c, k, weight, bias).unwrap();
    let qw = quantize_weights("rand.conv", &conv.weight, out_c, in_c, k, wbits, Granularity::PerOutputChannel).unwrap();
    let post_relu = seed.is_multiple_of(3);
    let x: Vec<i64> = (0..in_c * h * w)
        .map(|i| {
            let c = (i / (h * w)) as f64;
            let v = ((r.next_f64() - 0.5) * 4000.0 * (1.0 + c) + 300.0 * c) as i64;
            if post_relu {
                v.max(0)
            } else {
                v
            }
        })
        .collect();
    let points = (0..in_c)
        .map(|c| {
            let s: Vec<f32> = (0..300).map(|_| ((r.next_f64() * 2.0 - 1.0).powi(3)) as f32).collect();
            let cfg = SelectConfig {
                bits: abits,
                method: if c % 2 == 0 { Method::KMeans } else { Method::Optimal },
                ..Default::default()
            };
            select(&s, &u, &cfg, c as u64).unwrap().points
        })
        .collect();
    let deq_conv = Conv2d { weight: qw.dequantize(), ..conv };
    Problem { layer: QuantLayer { qweights: qw, deq_conv, points }, x, h, w, post_relu, abits }
}

pub fn cfg_with(f: impl Fn(&mut HwConfig)) -> HwConfig {
    let mut c = HwConfig::default();
    f(&mut c);
    c.validate().unwrap();
    c
}

pub fn os(rows: usize, cols: usize) -> impl Fn(&mut HwConfig) {
    move |c: &mut HwConfig| {
        c.array.dataflow = Dataflow::OutputStationary;
        c.array.rows = rows;
        c.array.cols = cols;
    }
}

/// Steps the whole layer (memory system included) and checks: outputs and
/// overflow counts equal the functional reference; every counter equals the
/// timing mode's. Returns the stepped counters.
pub fn check_layer(l: &HwLayer, x: &[i64], h: usize, w: usize, post_relu: bool, abits: u32) -> sqsim::cycle::Counters {
    let u = UniversalSet::default();
    let shape = LayerShape::of(l, &u.words, abits, h, w);
    let plan = Plan::new(&shape, &l.cfg).unwrap();
    let reference = l.run_reference(x, h, w, post_relu).unwrap();
    for scope in [RunScope { tiles: None, memory: false }, RunScope::whole_layer()] {
        let run = step_layer(l, &plan, x, h, w, post_relu, &scope, 0).unwrap();
        let got: Vec<i64> = run.out.iter().map(|v| v.expect("every output stepped")).collect();
        assert!(got == reference.out, "{}: stepped != functional ({:?})", l.name, l.cfg.array);
        let (mut a, mut b) = (run.overflow, reference.overflow);
        a.act_in = 0;
        b.act_in = 0;
        assert_eq!(a, b, "{}: overflow counts", l.name);
        let t = timing(&plan, &scope).unwrap();
        assert_eq!(
            run.counters, t,
            "{}: stepped vs timing counters ({:?}, memory {})",
            l.name, l.cfg.array, scope.memory
        );
        if scope.memory {
            return run.counters;
        }
    }
    unreachable!()
}
