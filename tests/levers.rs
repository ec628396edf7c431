//! DFSQ's architecture levers (hw/ARRAY.md "Architecture levers"): each one
//! does exactly what it claims, the stepped model and the timing mode agree
//! under every lever, and what cannot work is refused.
mod cycle_util;
use cycle_util::*;
use sqsim::config::{ActStore, HwConfig, LeverConfig};
use sqsim::cycle::cost::{CostTable, Design};
use sqsim::cycle::exec::widths;
use sqsim::cycle::{step_layer, timing, Counters, LayerShape, Plan, RunScope};
use sqsim::hw::{Activity, HwLayer};
use sqsim::sq::UniversalSet;

const SHAPES: [(usize, usize, usize, usize, usize); 5] =
    [(3, 5, 3, 5, 6), (2, 3, 1, 4, 3), (1, 2, 3, 2, 7), (3, 20, 3, 3, 3), (6, 9, 3, 7, 4)];

fn levers(gate: bool, idx: bool, pstats: bool) -> LeverConfig {
    LeverConfig { term_gating: gate, act_buffer: if idx { ActStore::Index } else { ActStore::Code }, producer_stats: pstats }
}

fn all_lever_sets() -> Vec<LeverConfig> {
    let mut v = Vec::new();
    for m in 0..8 {
        v.push(levers(m & 1 != 0, m & 2 != 0, m & 4 != 0));
    }
    v
}

fn arrays() -> Vec<(&'static str, HwConfig)> {
    vec![
        ("ws 9x16", cfg_with(|_| {})),
        (
            "ws 11x3 small",
            cfg_with(|c| {
                c.array.rows = 11;
                c.array.cols = 3;
                c.array.act_buffer_bytes = 160;
                c.array.psum_buffer_bytes = 400;
                c.array.weight_buffer_bytes = 700;
                c.array.dram_bytes_per_cycle = 0.37;
                c.array.buffer_bytes_per_cycle = 1;
            }),
        ),
        ("os 4x3", cfg_with(os(4, 3))),
        (
            "os 12x5 slow",
            cfg_with(|c| {
                os(12, 5)(c);
                c.array.act_buffer_bytes = 160;
                c.array.dram_bytes_per_cycle = 0.37;
                c.array.buffer_bytes_per_cycle = 1;
            }),
        ),
    ]
}

/// Whole layer, memory system modelled: stepped outputs == naive reference,
/// stepped counters == timing counters (timing priced from the reference's
/// own per-product activity count).
fn check(l: &HwLayer, p: &Problem) -> (Counters, Plan, Activity) {
    let u = UniversalSet::default();
    let reference = l.run_reference(&p.x, p.h, p.w, p.post_relu).unwrap();
    let mut shape = LayerShape::of(l, &u.words, p.abits, p.h, p.w);
    shape.activity = Some(reference.activity);
    let plan = Plan::new(&shape, &l.cfg).unwrap();
    let run = step_layer(l, &plan, &p.x, p.h, p.w, p.post_relu, &RunScope::whole_layer(), 0).unwrap();
    let got: Vec<i64> = run.out.iter().map(|v| v.expect("every output stepped")).collect();
    assert!(got == reference.out, "{}: stepped != functional under {:?}", l.name, l.cfg.levers);
    let t = timing(&plan, &RunScope::whole_layer()).unwrap();
    assert_eq!(run.counters, t, "stepped vs timing under {:?} on {:?}", l.cfg.levers, l.cfg.array);
    (t, plan, reference.activity)
}

#[test]
fn stepped_equals_timing_under_every_lever() {
    let u = UniversalSet::default();
    for (seed, (ic, oc, k, h, w)) in SHAPES.into_iter().enumerate() {
        let p = problem(seed as u64 + 40, ic, oc, k, h, w, 4, 4);
        for (_, base) in arrays() {
            for lv in all_lever_sets() {
                let mut cfg = base.clone();
                cfg.levers = lv;
                check(&HwLayer::prepare(&p.layer, &u, &cfg).unwrap(), &p);
            }
        }
    }
}

#[test]
fn activity_naive_fast_and_stepped_agree() {
    let u = UniversalSet::default();
    let cfg = cfg_with(|c| c.levers.term_gating = true);
    for (seed, (ic, oc, k, h, w)) in SHAPES.into_iter().enumerate() {
        let p = problem(seed as u64 + 7, ic, oc, k, h, w, 4, 3);
        let l = HwLayer::prepare(&p.layer, &u, &cfg).unwrap();
        let naive = l.run_reference(&p.x, p.h, p.w, p.post_relu).unwrap().activity;
        let fast = l.run_fast(&p.x, p.h, p.w, p.post_relu).unwrap().activity;
        assert_eq!(naive, fast, "naive vs fast activity");
        assert_eq!(naive, Activity::of_input(&l, &p.x, p.h, p.w, p.post_relu));
        let (c, _, _) = check(&l, &p);
        assert_eq!(naive.macs(), c.macs);
        assert_eq!(naive.word_ops(), c.word_ops);
        assert_eq!(naive.zero_macs(), c.zero_code_macs);
        // post-ReLU inputs hold exact zeros: the all-zero code must be seen
        if p.post_relu {
            assert!(naive.zero_macs() > 0, "post-ReLU layer without zero codes");
        }
    }
}

fn energy(c: &Counters, plan: &Plan, cfg: &HwConfig) -> sqsim::cycle::cost::Energy {
    let u = UniversalSet::default();
    let wd = widths(std::slice::from_ref(&plan.shape), &u.words);
    Design::new(cfg, &wd, &CostTable::default()).energy(c, false)
}

#[test]
fn term_gating_lowers_pe_energy_by_the_measured_off_share() {
    let u = UniversalSet::default();
    let p = problem(3, 4, 6, 3, 6, 5, 4, 4);
    let (off, on) = (cfg_with(|_| {}), cfg_with(|c| c.levers.term_gating = true));
    let (c0, plan0, _) = check(&HwLayer::prepare(&p.layer, &u, &off).unwrap(), &p);
    let (c1, plan1, act) = check(&HwLayer::prepare(&p.layer, &u, &on).unwrap(), &p);
    let wd = widths(std::slice::from_ref(&plan1.shape), &u.words);
    let d = Design::new(&on, &wd, &CostTable::default());
    let n = wd.n_words as f64;
    // the ungated MAC is exactly its gated parts with every word on
    let parts = n * d.sq_word.pj + d.sq_nonzero.pj + d.sq_code_reg.pj;
    assert!((parts - d.sq_mac.pj).abs() < 1e-12 * d.sq_mac.pj, "{parts} vs {}", d.sq_mac.pj);
    let (e0, e1) = (energy(&c0, &plan0, &off).pe, energy(&c1, &plan1, &on).pe);
    let macs = c1.macs as f64;
    assert_eq!(c0.macs, c1.macs);
    // word part: falls by exactly the measured share of off words
    let words0 = macs * n * d.sq_word.pj;
    let words1 = e1 - (macs - c1.zero_code_macs as f64) * d.sq_nonzero.pj - macs * d.sq_code_reg.pj;
    let share = act.off_word_share(wd.n_words as usize);
    assert!(share > 0.0 && share < 1.0, "share {share}");
    assert!(((words0 - words1) / words0 - share).abs() < 1e-9, "{} vs {share}", (words0 - words1) / words0);
    // and the whole PE energy by exactly that plus the zero codes' tap sums
    let expect = e0 - share * words0 - c1.zero_code_macs as f64 * d.sq_nonzero.pj;
    assert!((e1 - expect).abs() < 1e-9 * e0, "{e1} vs {expect}");
    // gating touches nothing but the PE
    let (f0, f1) = (energy(&c0, &plan0, &off), energy(&c1, &plan1, &on));
    assert_eq!((f0.dram, f0.act_buf, f0.stats), (f1.dram, f1.act_buf, f1.stats));
}

#[test]
fn producer_stats_removes_one_input_read_and_the_stats_pass() {
    let u = UniversalSet::default();
    for (seed, (ic, oc, k, h, w)) in SHAPES.into_iter().enumerate() {
        let p = problem(seed as u64 + 11, ic, oc, k, h, w, 4, 4);
        for (name, base) in arrays() {
            let mut ps = base.clone();
            ps.levers.producer_stats = true;
            let (c0, plan0, _) = check(&HwLayer::prepare(&p.layer, &u, &base).unwrap(), &p);
            let (c1, plan1, _) = check(&HwLayer::prepare(&p.layer, &u, &ps).unwrap(), &p);
            let input_bits = (ic * h * w) as u64 * base.datapath.act_bits as u64;
            assert_eq!(c0.dram_read_bits - c1.dram_read_bits, input_bits, "{name}: exactly one input read");
            assert!(plan0.has_stats_job() && !plan1.has_stats_job());
            // the stats pass's stall is gone; what waits now is the set-up alone
            let pass = plan0.dram_cycles(input_bits);
            assert!(c0.stalls.stats >= pass, "{name}: {} < stats pass {pass}", c0.stalls.stats);
            assert!(c1.stalls.stats <= plan1.setup_cycles, "{name}: {} > set-up {}", c1.stalls.stats, plan1.setup_cycles);
            // same work otherwise: the stats unit still sees every value
            assert_eq!((c0.macs, c0.stats_values, c0.threshold_mults, c0.mu_table_mults), (c1.macs, c1.stats_values, c1.threshold_mults, c1.mu_table_mults));
            assert_eq!(c0.dram_write_bits, c1.dram_write_bits);
        }
    }
}

#[test]
fn index_storage_scales_buffer_bits_by_abits_over_code_bits() {
    let u = UniversalSet::default();
    for abits in [3, 4] {
        // a buffer large enough for one block either way: same schedule
        let p = problem(5, 3, 7, 3, 6, 6, 4, abits);
        let (code, idx) = (cfg_with(|_| {}), cfg_with(|c| c.levers.act_buffer = ActStore::Index));
        let (c0, plan0, _) = check(&HwLayer::prepare(&p.layer, &u, &code).unwrap(), &p);
        let (c1, plan1, _) = check(&HwLayer::prepare(&p.layer, &u, &idx).unwrap(), &p);
        assert_eq!(plan0.blocks, plan1.blocks);
        let cb = u.words.code_bits() as u64;
        assert_eq!((plan0.buf_bits, plan1.buf_bits), (cb as u32, abits));
        assert_eq!(c0.act_buf_write_bits * abits as u64, c1.act_buf_write_bits * cb);
        assert_eq!(c0.act_buf_read_bits * abits as u64, c1.act_buf_read_bits * cb);
        // the LUT moves from the quantizer (one per code made) to the read port
        assert_eq!(c0.lut_reads, c0.quantized_acts);
        assert_eq!(c1.lut_reads * cb, c1.act_buf_read_bits * cb / abits as u64);
        assert_eq!((c0.dram_read_bits, c0.macs), (c1.dram_read_bits, c1.macs));
    }
    // a small buffer: indices fit bigger blocks, so halos are re-read less
    let p = problem(6, 6, 9, 3, 7, 4, 4, 4);
    let small = |idx: bool| {
        cfg_with(move |c| {
            c.array.act_buffer_bytes = 160;
            if idx {
                c.levers.act_buffer = ActStore::Index;
            }
        })
    };
    let (c0, plan0, _) = check(&HwLayer::prepare(&p.layer, &u, &small(false)).unwrap(), &p);
    let (c1, plan1, _) = check(&HwLayer::prepare(&p.layer, &u, &small(true)).unwrap(), &p);
    assert!(plan1.blocks.len() < plan0.blocks.len(), "{} vs {} blocks", plan1.blocks.len(), plan0.blocks.len());
    assert!(c1.dram_read_bits < c0.dram_read_bits);
}

#[test]
fn setup_is_on_the_critical_path() {
    let u = UniversalSet::default();
    let p = problem(2, 4, 16, 3, 5, 5, 4, 4);
    let cfg = cfg_with(|c| c.levers.producer_stats = true);
    let l = HwLayer::prepare(&p.layer, &u, &cfg).unwrap();
    let (c, plan, _) = check(&l, &p);
    let per = sqsim::cycle::plan::setup_cycles_per_channel(&plan.shape, &cfg);
    // by hand: 48 divider cycles + ⌈15 thresholds / 6 lanes⌉ + ⌈16·3·3 μ entries / 16 columns⌉
    assert_eq!(per, 48 + 3 + 9);
    assert_eq!(plan.setup_cycles, 4 * per, "producer stats: every channel's set-up back to back");
    assert!(c.stalls.stats == plan.setup_cycles, "{} vs {}", c.stalls.stats, plan.setup_cycles);
    assert_eq!(c.stats_divides, 4);
}

#[test]
fn levers_are_refused_where_they_cannot_work() {
    // the uniform-integer array has no words, LUTs or stats pass
    let shape_u = LayerShape { arith: sqsim::cycle::plan::Arith::Uniform, ..shape_of(1, 2, 3, 4, 4) };
    let cfg = cfg_with(|c| c.levers.term_gating = true);
    let e = Plan::new(&shape_u, &cfg).unwrap_err().to_string();
    assert!(e.contains("levers") && e.contains("gate"), "{e}");
    // term gating is priced from measured codes: a shape without them is refused
    let plan = Plan::new(&shape_of(1, 2, 3, 4, 4), &cfg).unwrap();
    let e = timing(&plan, &RunScope::whole_layer()).unwrap_err().to_string();
    assert!(e.contains("measured"), "{e}");
    // an unknown lever in a config file names the field
    let e = HwConfig::from_toml("[levers]\nterm_gate = true\n", "t.toml").unwrap_err().to_string();
    assert!(e.contains("term_gate"), "{e}");
    let e = HwConfig::from_toml("[levers]\nact_buffer = \"bits\"\n", "t.toml").unwrap_err().to_string();
    assert!(e.contains("act_buffer") || e.contains("bits"), "{e}");
    // the defaults stay out of a written config (vectors and old files unchanged)
    assert!(!HwConfig::default().to_toml().contains("levers"));
    let mut c = HwConfig::default();
    c.levers.producer_stats = true;
    assert_eq!(HwConfig::from_toml(&c.to_toml(), "rt").unwrap(), c);
}

fn shape_of(in_c: usize, out_c: usize, k: usize, h: usize, w: usize) -> LayerShape {
    LayerShape {
        name: "t".into(),
        in_c,
        out_c,
        k,
        h,
        w,
        weight_bits: 5,
        code_bits: 9,
        n_words: 4,
        uset_frac_bits: 10,
        levels: 16,
        arith: sqsim::cycle::plan::Arith::Dfsq,
        activity: None,
    }
}

/// With a stats pass the set-up works behind it, channel by channel: the
/// exposed part follows the recurrence f_c = max(f_{c−1}, (c+1)·P) + S.
#[test]
fn setup_behind_the_stats_pass_follows_the_pipeline() {
    let u = UniversalSet::default();
    for (dram, h, w) in [(16.0, 5, 5), (4000.0, 3, 3), (0.5, 6, 4)] {
        let p = problem(8, 5, 16, 3, h, w, 4, 4);
        let cfg = cfg_with(|c| c.array.dram_bytes_per_cycle = dram);
        let l = HwLayer::prepare(&p.layer, &u, &cfg).unwrap();
        let (c, plan, _) = check(&l, &p);
        let s = sqsim::cycle::plan::setup_cycles_per_channel(&plan.shape, &cfg);
        let plane = plan.dram_cycles((h * w) as u64 * cfg.datapath.act_bits as u64);
        let mut f = 0u64;
        for ch in 0..5u64 {
            f = f.max((ch + 1) * plane) + s;
        }
        assert_eq!(plan.setup_cycles, f - 5 * plane, "DRAM {dram} B/cycle");
        // the first pass waits for exactly the stats pass and the set-up
        let pass = plan.dram_cycles((5 * h * w) as u64 * cfg.datapath.act_bits as u64);
        assert_eq!(c.stalls.stats, pass + plan.setup_cycles, "DRAM {dram} B/cycle");
    }
}
