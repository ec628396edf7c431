//! Whole-layer vectors for the layer engine `sq_layer` (hw/rtl/sq_layer.v):
//! the load stream of one layer (input activations, weights, point sets as
//! midpoints + code LUT, Δ mantissa/shift and bias per output channel) on
//! the `--tile` window of the captured layer input (the window is the
//! engine's image, zero-padded at its edges), and the expected output of
//! every element from `HwLayer::run_reference`, with its overflow counts.
//! The cycle model steps the same layer standalone (codes and weights on
//! chip): its outputs and overflows must equal the reference, and its cycle
//! count is the engine's expected array-phase count (`EXP_CYC_ARRAY`); the
//! engine's set-up phases (stats, comparator loads and quantization, μ
//! table) follow the closed forms of hw/ARRAY.md, "The layer engine".
use super::outstage::{mu_term_bits, weight_sum_bits, REQ_LEFT_MAX, REQ_SHIFT_BITS};
use super::pack::{Field, Kind, Row, VectorSet};
use super::source::LayerData;
use super::stats::{format_param, mean_bits, COUNT_BITS, NORM_EXP_BITS};
use super::units::{finish, mant_bits, sat_param, Window};
use crate::config::Dataflow;
use crate::cycle::{step_layer, LayerShape, Plan, RunScope, StepRun};
use crate::hw::quantizer::scaled_threshold;
use crate::hw::HwLayer;
use crate::{Error, Result};
use std::collections::BTreeMap;

/// Load address bits of the engine's interface.
pub const ADDR_BITS: u32 = 32;

fn bad(what: String) -> Error {
    Error::arg("layer vectors", what)
}

fn index_bits(n: usize) -> u32 {
    (usize::BITS - n.saturating_sub(1).leading_zeros()).max(1)
}

/// Engine cycles of the set-up phases (hw/ARRAY.md "The layer engine"):
/// stats, comparator loads + quantization, μ table.
pub fn setup_cycles(in_c: usize, out_c: usize, k: usize, hw: usize, bits: u32) -> (u64, u64, u64) {
    let nq = if k > 1 { 16 } else { 1 };
    let nl = 1u64 << bits;
    let (ci, co, hw) = (in_c as u64, out_c as u64, hw as u64);
    (ci * (hw + 2), ci * (nl + hw), co * nq * ci + 1)
}

fn mask(v: i64, bits: u32) -> i128 {
    (v as i128) & ((1i128 << bits) - 1)
}

/// The engine's standalone problem on a window: the layer with the window as
/// its image, the window's input activations [c][y][x], and the cycle
/// model's plan (one block: the engine holds one).
pub struct EngineProblem {
    pub layer: HwLayer,
    pub x: Vec<i64>,
    pub plan: Plan,
}

pub fn engine_problem(ld: &LayerData, win: &Window) -> Result<EngineProblem> {
    let l = &ld.layer;
    let (h, w) = (win.h, win.w);
    let layer = HwLayer { name: format!("{} window {}x{}", l.name, h, w), ..l.clone() };
    let x = ld.window_input(0..l.in_c, win)?;
    let plan = Plan::new(&LayerShape::of(&layer, &ld.u.words, ld.bits, h, w), &layer.cfg)?;
    if plan.blocks.len() != 1 {
        return Err(bad(format!("the engine holds one block; the {h}x{w} window needs {} (pick a smaller --tile)", plan.blocks.len())));
    }
    Ok(EngineProblem { layer, x, plan })
}

/// Steps the engine's problem through the cycle model (all tiles).
pub fn step_engine_problem(p: &EngineProblem, post_relu: bool) -> Result<StepRun> {
    let (h, w) = (p.plan.shape.h, p.plan.shape.w);
    step_layer(&p.layer, &p.plan, &p.x, h, w, post_relu, &RunScope::first_tiles(p.plan.tiles.len()), 0)
}

/// The engine's PEs: DFSQ's shift-add (the LUT holds SQ codes) or the
/// integer-multiplier baseline of the same array (`sq_layer` MULT = 1: the
/// LUT holds s = SQ value · 2^F and each PE multiplies). Both compute the
/// same outputs when pe_frac_bits = F (no term is floored).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnginePe {
    ShiftAdd,
    IntMult,
}

pub fn layer_set(ld: &LayerData, win: &Window, pe: EnginePe) -> Result<(VectorSet, serde_json::Value)> {
    win.check(ld.h, ld.w)?;
    let l = &ld.layer;
    let (k, cin, cout) = (l.k, l.in_c, l.out_c);
    if k != 1 && k != 3 {
        return Err(bad(format!("{}: the engine takes 1x1 and 3x3 convs, not {k}x{k}", l.name)));
    }
    if l.cfg.array.dataflow != Dataflow::WeightStationary {
        return Err(bad("the layer engine RTL is weight-stationary; the output-stationary preset has no RTL".into()));
    }
    let dp = &l.cfg.datapath;
    let (h, w) = (win.h, win.w);
    let hw = h * w;
    if hw < 2 {
        // the psum read-modify-write reads a pixel the cycle after the previous
        // pass wrote it only when a pass has one pixel: no forwarding path
        return Err(bad(format!("a {h}x{w} window: the engine needs at least 2 pixels per pass")));
    }
    let kk = k * k;
    let prob = engine_problem(ld, win)?;
    let reference = prob.layer.run_reference(&prob.x, h, w, ld.post_relu)?;
    let run = step_engine_problem(&prob, ld.post_relu)?;
    if run.out.iter().zip(&reference.out).any(|(a, b)| *a != Some(*b)) || run.overflow != reference.overflow {
        return Err(bad("cycle model output or overflow counts differ from HwLayer::run_reference".into()));
    }
    let (sub, xs, plan) = (&prob.layer, &prob.x, &prob.plan);

    let fq = ld.u.frac_bits;
    if pe == EnginePe::IntMult && dp.pe_frac_bits != fq {
        return Err(bad(format!(
            "the integer-multiplier engine forms w·s in units of 2^-{fq}; pe_frac_bits {} would make the shift-add engine a different function",
            dp.pe_frac_bits
        )));
    }
    // the operand a PE receives: the SQ code, or s (|s| <= 2^F: F + 2 signed bits)
    let cw = if pe == EnginePe::IntMult { fq + 2 } else { ld.u.words.code_bits() };
    let (a, bits) = (dp.act_bits, ld.bits);
    let (wb, tb) = (ld.weight_bits(), fq + 2);
    let (nt, nl) = ((1usize << bits) - 1, 1usize << bits);
    let (mb, sw) = (dp.delta_mult_bits, REQ_SHIFT_BITS);
    let dw = [a, kk as u32 * wb, tb, cw, bits, mb, sw].into_iter().max().unwrap_or(a);
    let tw = a + fq + 3;
    let smax = (1i32 << (sw - 1)) - 1;
    for o in 0..cout {
        let s = sub.requant_shift(o);
        if s < -(REQ_LEFT_MAX as i32) || s > smax {
            return Err(bad(format!("output channel {o}: requantization shift {s} outside [-{REQ_LEFT_MAX}, {smax}]")));
        }
    }
    for (c, q) in sub.quant.iter().enumerate() {
        if q.t_int.len() > nt {
            return Err(bad(format!("channel {c}: {} midpoints for {nt} comparators", q.t_int.len())));
        }
        for &t in &q.t_int {
            let thr = scaled_threshold(t, &reference.norms[c]);
            if !(-(1i64 << (tw - 1))..1i64 << (tw - 1)).contains(&thr) {
                return Err(bad(format!("channel {c}: t·M̂ = {thr} needs more than {tw} bits")));
            }
        }
    }
    if hw as u64 >= 1u64 << COUNT_BITS || (cin.max(cout) * hw) as u64 >= 1u64 << ADDR_BITS {
        return Err(bad(format!("a {h}x{w} window does not fit the engine's counters")));
    }

    // the load stream
    let mut loads: Vec<(u32, usize, i128, String)> = Vec::new();
    for c in 0..cin {
        for p in 0..hw {
            loads.push((0, c * hw + p, mask(xs[c * hw + p], a), format!("x c{c} y{} x{}", p / w, p % w)));
        }
    }
    for o in 0..cout {
        for c in 0..cin {
            let word = (0..kk).fold(0i128, |acc, t| acc | (mask(sub.weight(o, c, t), wb) << (t as u32 * wb)));
            loads.push((1, o * cin + c, word, format!("w o{o} c{c}")));
        }
    }
    for (c, q) in sub.quant.iter().enumerate() {
        for (j, &t) in q.t_int.iter().enumerate() {
            loads.push((2, c * nt + j, mask(t, tb), format!("t c{c} j{j}")));
        }
        for j in 0..nl {
            let entry = match pe {
                EnginePe::ShiftAdd => q.codes.get(j).map_or(0, |&c| c as i128),
                EnginePe::IntMult => q.s_int.get(j).map_or(0, |&s| mask(s, cw)),
            };
            loads.push((3, c * nl + j, entry, format!("lut c{c} j{j}")));
        }
        loads.push((4, c, q.t_int.len() as i128, format!("nthr c{c}")));
    }
    for o in 0..cout {
        loads.push((5, o, sub.delta_mult[o] as i128, format!("mult o{o}")));
        loads.push((6, o, mask(sub.requant_shift(o) as i64, sw), format!("shift o{o}")));
        loads.push((7, o, mask(sub.bias_fix[o], a), format!("bias o{o}")));
    }
    let nout = cout * hw;
    let nvec = loads.len().max(nout);
    let rows: Vec<Row> = (0..nvec)
        .map(|n| {
            let (inputs, mut src) = match loads.get(n) {
                Some((sel, addr, data, s)) => (vec![1, *sel as i128, *addr as i128, *data], format!("load {s}")),
                None => (vec![0, 0, 0, 0], "idle".to_string()),
            };
            let outputs = if n < nout {
                src.push_str(&format!("; out o{} y{} x{}", n / hw, (n % hw) / w, n % w));
                vec![1, reference.out[n] as i128]
            } else {
                vec![0, 0]
            };
            Row { kind: Kind::Real, src, inputs, outputs }
        })
        .collect();
    let inputs = vec![Field::u("en", 1), Field::u("sel", 3), Field::u("addr", ADDR_BITS), Field::u("data", dw)];
    let outputs = vec![Field::u("valid", 1).at("dut.omem_valid"), Field::s("y", a).at("dut.omem")];

    let (cyc_stats, cyc_quant, cyc_mu) = setup_cycles(cin, cout, k, hw, bits);
    let ov = &reference.overflow;
    let mut params = BTreeMap::from([
        ("A".to_string(), a as i64),
        ("FQ".into(), fq as i64),
        ("B".into(), bits as i64),
        ("CW".into(), cw as i64),
        ("MULT".into(), (pe == EnginePe::IntMult) as i64),
        ("W".into(), wb as i64),
        ("F".into(), dp.pe_frac_bits as i64),
        ("T".into(), dp.tap_sum_bits as i64),
        ("D".into(), dp.denorm_acc_bits as i64),
        ("MB".into(), mb as i64),
        ("SW".into(), sw as i64),
        ("L".into(), REQ_LEFT_MAX as i64),
        ("NB".into(), COUNT_BITS as i64),
        ("MMB".into(), mean_bits(ld) as i64),
        ("XMB".into(), mant_bits(ld) as i64),
        ("EW".into(), NORM_EXP_BITS as i64),
        ("FMT".into(), format_param(sub.cfg.denorm.format)),
        ("MW".into(), mu_term_bits(ld) as i64),
        ("SWB".into(), weight_sum_bits(wb, k) as i64),
        ("SAT".into(), sat_param(dp.overflow)),
        ("RELU".into(), ld.post_relu as i64),
        ("K".into(), k as i64),
        ("CIN".into(), cin as i64),
        ("COUT".into(), cout as i64),
        ("H".into(), h as i64),
        ("WI".into(), w as i64),
        ("R".into(), plan.rows as i64),
        ("C".into(), plan.cols as i64),
        ("RB".into(), index_bits(plan.rows) as i64),
        ("LW".into(), plan.weight_row_beats as i64),
        ("DW".into(), dw as i64),
        ("AW".into(), ADDR_BITS as i64),
        ("NOUT".into(), nout as i64),
        ("EXP_OVF_TAP".into(), ov.tap_sum as i64),
        ("EXP_OVF_ACC".into(), ov.denorm_acc as i64),
        ("EXP_OVF_OUT".into(), ov.act_out as i64),
        ("EXP_CYC_STATS".into(), cyc_stats as i64),
        ("EXP_CYC_QUANT".into(), cyc_quant as i64),
        ("EXP_CYC_MU".into(), cyc_mu as i64),
        ("EXP_CYC_ARRAY".into(), run.counters.cycles as i64),
    ]);
    params.remove("NVEC");
    let set = finish(if pe == EnginePe::IntMult { "layer_int" } else { "layer" }, inputs, outputs, rows, params);
    let info = serde_json::json!({
        "layer": l.name,
        "window_yxhw": [win.y, win.x, h, w],
        "k": k, "in_c": cin, "out_c": cout,
        "array_rows_cols": [plan.rows, plan.cols],
        "pe": match pe { EnginePe::ShiftAdd => "shift-add (sq_pe_core; LUT holds SQ codes)", EnginePe::IntMult => "integer multiplier baseline (sq_int_core; LUT holds s = SQ value * 2^F)" },
        "tiles": plan.tiles.len(),
        "loads": loads.len(),
        "outputs": nout,
        "overflows": {"tap_sum": ov.tap_sum, "denorm_acc": ov.denorm_acc, "act_out": ov.act_out},
        "cycle_model_cycles": run.counters.cycles,
        "engine_setup_cycles": {"stats": cyc_stats, "quant": cyc_quant, "mu": cyc_mu},
        "rows": "row n loads word n (en = 0 past the loads) and expects output n ((o*H + y)*W + x; valid = 0 past the outputs)",
    });
    Ok((set, info))
}
