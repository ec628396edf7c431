//! Stepped mode == functional model bit for bit, and == timing mode in every
//! counter, on random layers: both dataflows, k = 1 and 3, tiny images,
//! narrow saturating / wrapping registers, small buffers (many blocks,
//! non-resident weights), narrow buses and slow DRAM (every stall cause).
mod cycle_util;
use cycle_util::*;
use sqsim::config::{HwConfig, OverflowPolicy};
use sqsim::cycle::Counters;
use sqsim::hw::HwLayer;
use sqsim::sq::UniversalSet;

const SHAPES: [(usize, usize, usize, usize, usize); 7] = [
    (3, 5, 3, 5, 6),
    (2, 3, 1, 4, 3),
    (2, 17, 3, 1, 1),
    (1, 2, 3, 2, 7),
    (4, 3, 1, 1, 5),
    (3, 20, 3, 3, 3),
    (6, 9, 3, 7, 4),
];

fn arrays() -> Vec<(&'static str, HwConfig)> {
    let small_mem = |c: &mut HwConfig| {
        c.array.act_buffer_bytes = 160; // a few pixels of codes per half
        c.array.psum_buffer_bytes = 400;
        c.array.weight_buffer_bytes = 700; // too small for most layers' weights
        c.array.dram_bytes_per_cycle = 0.37;
        c.array.buffer_bytes_per_cycle = 1; // multi-beat weight rows, spaced OS steps
    };
    vec![
        ("ws 9x16", cfg_with(|_| {})),
        ("ws 9x4", cfg_with(|c| c.array.cols = 4)),
        (
            "ws 11x3 small",
            cfg_with(|c| {
                c.array.rows = 11;
                c.array.cols = 3;
                small_mem(c)
            }),
        ),
        ("os 9x16", cfg_with(os(9, 16))),
        ("os 4x3", cfg_with(os(4, 3))),
        (
            "os 12x5 small",
            cfg_with(|c| {
                os(12, 5)(c);
                small_mem(c)
            }),
        ),
    ]
}

#[test]
fn stepped_equals_functional_and_timing_on_random_layers() {
    let u = UniversalSet::default();
    let mut seen = Counters::default();
    for (seed, (ic, oc, k, h, w)) in SHAPES.into_iter().enumerate() {
        let p = problem(seed as u64, ic, oc, k, h, w, 4, 4);
        for (name, arr) in arrays() {
            let l = match HwLayer::prepare(&p.layer, &u, &arr) {
                Ok(l) => l,
                Err(e) => panic!("{name}: {e}"),
            };
            let c = check_layer(&l, &p.x, p.h, p.w, p.post_relu, p.abits);
            seen.stalls.add(&c.stalls);
        }
    }
    // the configurations above must exercise every stall cause
    let s = seen.stalls;
    for (cause, n) in [
        ("stats", s.stats),
        ("dram_read", s.dram_read),
        ("weight_load", s.weight_load),
        ("buffer_bw", s.buffer_bw),
        ("denorm_bound", s.denorm_bound),
        ("drain", s.drain),
        ("dram_write", s.dram_write),
    ] {
        assert!(n > 0, "no test exercised stall cause {cause}: {s:?}");
    }
}

#[test]
fn stepped_equals_functional_with_narrow_overflowing_registers() {
    let u = UniversalSet::default();
    let p = problem(5, 4, 6, 3, 5, 5, 8, 4);
    let mut total = 0;
    for pol in [OverflowPolicy::Saturate, OverflowPolicy::Wrap] {
        for (tap, acc, act, fb) in [(8, 48, 24, 10), (24, 14, 24, 10), (24, 48, 6, 7), (10, 16, 10, 3)] {
            for arr in [cfg_with(|_| {}), cfg_with(os(9, 4))] {
                let mut c = arr;
                c.datapath.tap_sum_bits = tap;
                c.datapath.denorm_acc_bits = acc;
                c.datapath.act_bits = act;
                c.datapath.act_frac_bits = 4.min(act - 1);
                c.datapath.pe_frac_bits = fb;
                c.datapath.overflow = pol;
                c.validate().unwrap();
                let l = HwLayer::prepare(&p.layer, &u, &c).unwrap();
                check_layer(&l, &p.x, p.h, p.w, p.post_relu, p.abits);
                total += l.run_reference(&p.x, p.h, p.w, p.post_relu).unwrap().overflow.total();
            }
        }
    }
    assert!(total > 0, "narrow registers must overflow somewhere");
}

/// The per-tile closed forms of hw/ARRAY.md, written out here, against stepping.
#[test]
fn standalone_tile_cycles_follow_the_documented_closed_forms() {
    use sqsim::config::Dataflow;
    use sqsim::cycle::{step_layer, LayerShape, Plan, RunScope};
    let u = UniversalSet::default();
    let p = problem(9, 5, 16, 3, 5, 6, 4, 4);
    for cfg in [
        cfg_with(|_| {}),
        cfg_with(|c| c.array.cols = 4),
        cfg_with(|c| c.array.rows = 12),
        cfg_with(os(9, 16)),
        cfg_with(os(12, 5)),
        cfg_with(os(4, 16)),
    ] {
        let l = HwLayer::prepare(&p.layer, &u, &cfg).unwrap();
        let plan = Plan::new(&LayerShape::of(&l, &u.words, 4, p.h, p.w), &cfg).unwrap();
        let t = plan.tiles[0];
        let run = step_layer(&l, &plan, &p.x, p.h, p.w, p.post_relu, &RunScope::first_tiles(1), 0).unwrap();
        let (r, c, kk, ic) = (cfg.array.rows as u64, cfg.array.cols as u64, 9u64, 5u64);
        let (n, ca) = (t.npix as u64, t.ca as u64);
        let expect = match cfg.array.dataflow {
            Dataflow::WeightStationary => {
                assert!(n >= kk.max(c - 1 + kk - 1), "closed form needs N large enough");
                kk + ic * n + (r - 1) + (ca - 1) + 4
            }
            Dataflow::OutputStationary => (ic - 1) * kk.max(r) + (kk - 1) + (n - 1) + (ca - 1) + 5,
        };
        assert_eq!(run.counters.cycles, expect, "{:?}", cfg.array);
    }
}
