//! Array-tile vectors: a small weight-stationary tile (rows = the k·k taps,
//! `TILE_COLS` output channels, `TILE_IN_C` input channels, the `--tile`
//! window of the real layer input) stepped by the cycle model
//! (`cycle::step_layer`, the default dataflow of hw/ARRAY.md). Expected
//! outputs are the cycle model's own register contents every cycle: the code
//! token and the partial sum held by every PE.
//!
//! Stimuli are what enters the array each cycle: the issued token (valid,
//! bank = pass & 1, and per row the tap's SQ code and whether the tap is
//! inside the image) before the row skew, and one weight-row write. The
//! tokens are rebuilt from the schedule's issue order and checked against
//! the model's column-0 registers (row r sees the token issued r cycles
//! earlier); weight rows are written at the earliest free cycle after the
//! bank's previous pass has left that row and before the new pass reaches it.
use super::pack::{Field, Kind, Row, VectorSet};
use super::source::LayerData;
use super::units::Window;
use crate::config::Dataflow;
use crate::cycle::{step_layer, LayerShape, Plan, RunScope};
use crate::hw::HwLayer;
use crate::rng::SplitMix64;
use crate::{Error, Result};
use std::collections::BTreeMap;

pub const TILE_COLS: usize = 4;
pub const TILE_IN_C: usize = 3;

fn bad(what: String) -> Error {
    Error::arg("array vectors", what)
}

/// Bits to address `n` rows.
fn index_bits(n: usize) -> u32 {
    (usize::BITS - n.saturating_sub(1).leading_zeros()).max(1)
}

/// One issued token: per row the raw code and whether the tap is inside.
struct Tok {
    bank: bool,
    code: Vec<u32>,
    op: Vec<bool>,
}

pub fn array_set(ld: &LayerData, win: &Window, seed: u64) -> Result<(VectorSet, serde_json::Value)> {
    win.check(ld.h, ld.w)?;
    let l = &ld.layer;
    let (cin, cols, k) = (TILE_IN_C.min(l.in_c), TILE_COLS.min(l.out_c), l.k);
    let kk = k * k;
    let mut rng = SplitMix64::stream(seed, 4);
    let o0 = rng.below((l.out_c - cols + 1) as u64) as usize;
    let c0 = rng.below((l.in_c - cin + 1) as u64) as usize;
    let mut cfg = l.cfg.clone();
    cfg.array.dataflow = Dataflow::WeightStationary;
    cfg.array.rows = kk;
    cfg.array.cols = cols;
    let w_bits = ld.weight_bits();
    let sub = HwLayer {
        name: format!("{} o{o0}..{} c{c0}..{}", l.name, o0 + cols, c0 + cin),
        in_c: cin,
        out_c: cols,
        k,
        w: (o0..o0 + cols).flat_map(|o| (c0..c0 + cin).flat_map(move |c| (0..kk).map(move |t| l.weight(o, c, t)))).collect(),
        weight_bits: w_bits,
        delta_mult: l.delta_mult[o0..o0 + cols].to_vec(),
        delta_shift: l.delta_shift[o0..o0 + cols].to_vec(),
        bias_fix: l.bias_fix[o0..o0 + cols].to_vec(),
        quant: l.quant[c0..c0 + cin].to_vec(),
        cfg,
    };
    let (h, w) = (win.h, win.w);
    let xs = ld.window_input(c0..c0 + cin, win)?;
    let plan = Plan::new(&LayerShape::of(&sub, &ld.u.words, ld.bits, h, w), &sub.cfg)?;
    if plan.tiles.iter().any(|t| t.ca != cols) {
        return Err(bad("the RTL tile keeps every column active".into()));
    }
    let run = step_layer(&sub, &plan, &xs, h, w, ld.post_relu, &RunScope::first_tiles(plan.tiles.len()), usize::MAX)?;
    let reference = sub.run_reference(&xs, h, w, ld.post_relu)?;
    if run.out.iter().zip(&reference.out).any(|(a, b)| *a != Some(*b)) {
        return Err(bad("cycle model output differs from HwLayer::run_reference".into()));
    }

    // tokens in issue order: passes (tile, channel), pixels in block raster order
    let (hw, p) = (h * w, (k / 2) as isize);
    let norms = sub.norms(&xs, hw, ld.post_relu);
    let idx = sub.indices(&xs, hw, &norms);
    let mut toks = Vec::new();
    let mut pass_of = Vec::new();
    let mut pass = 0usize;
    for tile in &plan.tiles {
        for ch in 0..cin {
            for i in 0..tile.npix {
                let (y, x) = plan.pixel_yx(tile.block, tile.pix0 + i);
                let mut t = Tok { bank: pass % 2 == 1, code: vec![0; kk], op: vec![false; kk] };
                for r in 0..kk {
                    let (sy, sx) = (y as isize + (r / k) as isize - p, x as isize + (r % k) as isize - p);
                    if sy >= 0 && sx >= 0 && (sy as usize) < h && (sx as usize) < w {
                        t.code[r] = sub.quant[ch].codes[idx[(ch * h + sy as usize) * w + sx as usize] as usize];
                        t.op[r] = true;
                    }
                }
                toks.push(t);
                pass_of.push(pass);
            }
            pass += 1;
        }
    }
    let cycles = run.trace.len();
    let issued: Vec<usize> = (0..cycles).filter(|&t| run.trace[t].code[0].is_some()).collect();
    if issued.len() != toks.len() {
        return Err(bad(format!("{} tokens issued, the schedule has {}", issued.len(), toks.len())));
    }
    let mut at = vec![None; cycles];
    for (n, &t) in issued.iter().enumerate() {
        at[t] = Some(n);
    }
    // row r of column 0 holds the token issued r cycles earlier
    for t in 0..cycles {
        for r in 0..kk {
            let want = t.checked_sub(r).and_then(|s| at[s]).map(|n| toks[n].code[r] as u16);
            if run.trace[t].code[r * cols] != want {
                return Err(bad(format!("cycle {t} row {r}: model holds {:?}, issue order gives {want:?}", run.trace[t].code[r * cols])));
            }
        }
    }
    // weight-row writes: pass j row r in [last use of the bank's previous pass, first use − 1]
    let first: Vec<usize> = (0..pass).map(|j| issued[pass_of.iter().position(|&q| q == j).unwrap_or(0)]).collect();
    let last: Vec<usize> = (0..pass).map(|j| issued[pass_of.iter().rposition(|&q| q == j).unwrap_or(0)]).collect();
    let mut write: Vec<Option<(usize, usize)>> = vec![None; cycles]; // (pass, row)
    for j in 0..pass {
        for r in 0..kk {
            let lo = if j >= 2 { last[j - 2] + r + cols - 1 } else { 0 };
            let hi = (first[j] + r).checked_sub(1).ok_or_else(|| bad(format!("pass {j} issues at cycle 0")))?;
            let t = (lo..=hi).find(|&t| t < cycles && write[t].is_none()).ok_or_else(|| bad(format!("no free cycle to write pass {j} row {r} in {lo}..={hi}")))?;
            write[t] = Some((j, r));
        }
    }
    let tile_of = |j: usize| j / cin;
    let weight = |j: usize, col: usize, r: usize| {
        let ch = j % cin;
        let o = plan.out_channel(plan.tiles[tile_of(j)].group, col);
        sub.weight(o, ch, r)
    };

    let dp = &sub.cfg.datapath;
    let (t_bits, cw, rb) = (dp.tap_sum_bits, ld.u.words.code_bits(), index_bits(kk));
    let mut inputs = vec![Field::u("rst", 1), Field::u("in_valid", 1), Field::u("in_bank", 1)];
    inputs.extend((0..kk).map(|r| Field::u(format!("in_op{r}"), 1)));
    inputs.extend((0..kk).map(|r| Field::u(format!("in_code{r}"), cw)));
    inputs.extend([Field::u("wr_en", 1), Field::u("wr_row", rb), Field::u("wr_bank", 1)]);
    inputs.extend((0..cols).map(|c| Field::s(format!("wr_w{c}"), w_bits)));
    let mut outputs = Vec::new();
    for r in 0..kk {
        for c in 0..cols {
            let pe = format!("dut.g_row[{r}].g_col[{c}]");
            outputs.extend([
                Field::u(format!("tv_{r}_{c}"), 1).at(format!("{pe}.tv")),
                Field::u(format!("tcode_{r}_{c}"), cw).at(format!("{pe}.tcode")),
                Field::u(format!("pv_{r}_{c}"), 1).at(format!("{pe}.pv")),
                Field::s(format!("psum_{r}_{c}"), t_bits).at(format!("{pe}.ps")),
            ]);
        }
    }
    let mut rows = vec![Row {
        kind: Kind::Corner,
        src: "reset".into(),
        inputs: std::iter::once(1).chain(std::iter::repeat(0)).take(inputs.len()).collect(),
        outputs: vec![0; outputs.len()],
    }];
    for t in 0..cycles {
        let mut i = vec![0i128, 0, 0];
        let mut src = format!("cycle {t}");
        if let Some(n) = at[t] {
            let tk = &toks[n];
            i[1] = 1;
            i[2] = tk.bank as i128;
            i.extend(tk.op.iter().map(|&o| o as i128));
            i.extend(tk.code.iter().map(|&c| c as i128));
            src.push_str(&format!(" issue pass {}", pass_of[n]));
        } else {
            i.extend(std::iter::repeat_n(0, 2 * kk));
        }
        match write[t] {
            Some((j, r)) => {
                i.extend([1, r as i128, (j % 2) as i128]);
                i.extend((0..cols).map(|c| weight(j, c, r) as i128));
                src.push_str(&format!(" write pass {j} row {r}"));
            }
            None => i.extend(std::iter::repeat_n(0, 3 + cols)),
        }
        let snap = &run.trace[t];
        let mut o = Vec::with_capacity(outputs.len());
        for pe in 0..kk * cols {
            let code = snap.code[pe];
            let ps = snap.psum[pe];
            o.extend([code.is_some() as i128, code.unwrap_or(0) as i128, ps.is_some() as i128, ps.unwrap_or(0) as i128]);
        }
        rows.push(Row { kind: Kind::Real, src, inputs: i, outputs: o });
    }
    let mut params = BTreeMap::from([
        ("R".to_string(), kk as i64),
        ("C".into(), cols as i64),
        ("RB".into(), rb as i64),
        ("W".into(), w_bits as i64),
        ("F".into(), dp.pe_frac_bits as i64),
        ("T".into(), t_bits as i64),
        ("SAT".into(), matches!(dp.overflow, crate::config::OverflowPolicy::Saturate) as i64),
    ]);
    params.insert("NVEC".into(), rows.len() as i64);
    let mut set = VectorSet { unit: "array".into(), inputs, outputs, rows, params };
    let (s, e) = (set.stim_bits() as i64, set.expect_bits() as i64);
    set.params.insert("STIM_W".into(), s);
    set.params.insert("EXP_W".into(), e);
    let info = serde_json::json!({
        "dataflow": "weight-stationary (cycle::step_layer, standalone scope: codes and weights on chip)",
        "rows_taps": kk,
        "cols_out_channels": cols,
        "out_channels": [o0, o0 + cols],
        "in_channels": [c0, c0 + cin],
        "window_yxhw": [win.y, win.x, h, w],
        "tiles": plan.tiles.len(),
        "passes": pass,
        "cycles": cycles,
        "issue_cycles": issued.len(),
        "row0": "reset (rst = 1); row n >= 1 is cycle n - 1 of the cycle model",
        "expected": "per PE (row-major r, c): token valid, token code, psum valid, psum; 0 when invalid",
    });
    Ok((set, info))
}
