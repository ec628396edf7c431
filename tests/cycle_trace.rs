//! A hand-traced run of the weight-stationary array: 2×2 PEs, a 1×1 conv
//! with one input and two output channels on a 1×2 image. Every expected
//! value below is derived by hand in the comments, not taken from the code.
use sqsim::config::HwConfig;
use sqsim::cycle::{step_layer, timing, LayerShape, Plan, RunScope};
use sqsim::hw::quantizer::ChannelQuantizer;
use sqsim::hw::HwLayer;
use sqsim::select::PointSet;
use sqsim::sq::UniversalSet;

fn layer() -> (HwLayer, UniversalSet) {
    let u = UniversalSet::default();
    let mut cfg = HwConfig::default();
    cfg.array.rows = 2;
    cfg.array.cols = 2;
    cfg.validate().unwrap();
    // points {0, 0.5} at F = 10: s = 0 and 512
    let q = ChannelQuantizer::new(&PointSet { frac_bits: 10, ints: vec![0, 512] }, &u).unwrap();
    let l = HwLayer {
        name: "hand".into(),
        in_c: 1,
        out_c: 2,
        k: 1,
        w: vec![3, -2], // w[o][c][tap]
        weight_bits: 3,
        // Δ = 1/4 = 32768 / 2^17 (16-bit mantissa in [2^15, 2^16))
        delta_mult: vec![32768, 32768],
        delta_shift: vec![17, 17],
        bias_fix: vec![0, 5],
        quant: vec![q],
        cfg,
    };
    (l, u)
}

#[test]
fn two_by_two_ws_array_matches_a_hand_trace() {
    let (l, u) = layer();
    // SQ codes (sign | sel1..sel4, sel 0 = shift 2, 3 = off): 0.5 = 1/4 + 1/4
    // is two words at shift 2 → 0|00|00|11|11 = 15; 0 = all off → 0|11|11|11|11 = 255.
    assert_eq!(l.quant[0].codes, vec![255, 15]);
    // Input (activation units 2^-8), post-ReLU so μ = 0: x = [1.0, 0.25].
    // Stats: M' = 256; 8-bit mantissa rounded up: e = 1, m = 128 (256 needs 9 bits).
    // Threshold between 0 and 0.5: t = 0.25 → t_int·M̂ = 512·256 = 131072;
    // x·2^11: 524288 > 131072 → index 1 (0.5); 131072 is not > 131072 → index 0 (tie → lower).
    let x = vec![256, 64];
    let shape = LayerShape::of(&l, &u.words, 1, 1, 2);
    let plan = Plan::new(&shape, &l.cfg).unwrap();
    assert_eq!(plan.tiles.len(), 1);
    let run = step_layer(&l, &plan, &x, 1, 2, true, &RunScope::first_tiles(1), 12).unwrap();
    let tr = &run.trace;
    let at = |cyc: usize, r: usize, c: usize| (tr[cyc].code[r * 2 + c], tr[cyc].psum[r * 2 + c]);
    // cycle 0: the loader writes row 0's weights (3, −2); nothing may issue yet.
    assert_eq!(tr[0].code, vec![None; 4]);
    // cycle 1: pixel 0 (code 15) enters PE(0,0): P = 0 + 3·512 = 1536 (3<<8 + 3<<8).
    assert_eq!(at(1, 0, 0), (Some(15), Some(1536)));
    assert_eq!((at(1, 0, 1), at(1, 1, 0), at(1, 1, 1)), ((None, None), (None, None), (None, None)));
    // cycle 2: pixel 1 (code 255 = 0) in PE(0,0): P = 0. Pixel 0 moved right to
    // PE(0,1): −2·512 = −1024; row 1 (no tap: 1×1 conv) passes 1536 down in PE(1,0),
    // its token having waited one cycle in row 1's skew register.
    assert_eq!(at(2, 0, 0), (Some(255), Some(0)));
    assert_eq!(at(2, 0, 1), (Some(15), Some(-1024)));
    assert_eq!(at(2, 1, 0), (Some(0), Some(1536)));
    assert_eq!(at(2, 1, 1), (None, None));
    // cycle 3: PE(0,1) pixel 1 → 0; PE(1,0) pixel 1 → 0; PE(1,1) pixel 0 → −1024.
    assert_eq!(at(3, 0, 0), (None, None));
    assert_eq!(at(3, 0, 1), (Some(255), Some(0)));
    assert_eq!(at(3, 1, 0), (Some(0), Some(0)));
    assert_eq!(at(3, 1, 1), (Some(0), Some(-1024)));
    // De-normalization: term = (128·P) << 1; acc = term (one channel); μ = 0;
    // y = round(acc·32768 / 2^(17+10)) + bias = acc/4096 + bias:
    //   (o0, p0): 128·1536·2 = 393216 → 96; (o1, p0): −262144 → −64 + 5 = −59;
    //   pixel 1: 0 → 0 and 5.
    // P leaves PE(1, col) in cycle c0, enters the unit at c0 + 1, leaves at c0 + 4:
    // column 0 computed pixel 0 in cycle 2 → out in cycle 6; column 1 one cycle later.
    type Outs = Vec<(usize, usize, usize, i64)>;
    let outs: Vec<(usize, Outs)> =
        tr.iter().enumerate().filter(|(_, s)| !s.outputs.is_empty()).map(|(i, s)| (i, s.outputs.clone())).collect();
    assert_eq!(outs, vec![(6, vec![(0, 0, 0, 96)]), (7, vec![(0, 0, 1, 0), (1, 0, 0, -59)]), (8, vec![(1, 0, 1, 5)])]);
    assert_eq!(run.out, vec![Some(96), Some(0), Some(-59), Some(5)]);
    // 9 cycles: 1 weight-load stall, 2 issues, 6 drain (last issue in cycle 2, last output in 8).
    let c = run.counters;
    assert_eq!((c.cycles, c.issue_cycles, c.stalls.weight_load, c.stalls.drain), (9, 2, 1, 6));
    // pixel 1's code is 0: its product still passes through the PE (op), so 4 MACs
    assert_eq!((c.macs, c.denorm_mults, c.outputs), (4, 4, 4));
    assert_eq!(c, timing(&plan, &RunScope::first_tiles(1)).unwrap());
    // and the functional model agrees
    assert_eq!(l.run_reference(&x, 1, 2, true).unwrap().out, vec![96, 0, -59, 5]);
}
