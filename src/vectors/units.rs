//! Vector generators for the PE, the threshold quantizer and the
//! de-normalization unit. Expected outputs come from the functional model's
//! own primitives (`sq::shift_add`, `Reg::fit`, `ChannelQuantizer::index`,
//! `HwLayer::denorm_term`); stimuli are real layer data walked in the
//! datapath's order, then corner cases.
use super::pack::{Field, Kind, Row, VectorSet};
use super::source::LayerData;
use crate::config::{DenormFormat, OverflowPolicy};
use crate::hw::fixed::Reg;
use crate::hw::quantizer::ChannelQuantizer;
use crate::hw::{channel_norm, ChannelNorm, HwLayer};
use crate::rng::SplitMix64;
use crate::select::PointSet;
use crate::sq::{shift_add, SqCode, WordSets};
use crate::{Error, Result};
use std::collections::BTreeMap;

/// The spatial window of the layer's output the real rows are drawn from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Window {
    pub y: usize,
    pub x: usize,
    pub h: usize,
    pub w: usize,
}

impl Window {
    pub fn check(&self, h: usize, w: usize) -> Result<()> {
        if self.h == 0 || self.w == 0 || self.y + self.h > h || self.x + self.w > w {
            return Err(Error::arg(
                "tile",
                format!("{}x{} at (y {}, x {}) does not fit the {h}x{w} layer input", self.h, self.w, self.y, self.x),
            ));
        }
        Ok(())
    }
}

/// Width of the exponent field of the de-normalization unit: activations of
/// at most 25 bits never need e ≥ 32.
pub const EXP_BITS: u32 = 5;
/// Width of one decoded shift amount (the DFSQ word sets shift by ≤ 10).
pub const SHIFT_BITS: u32 = 4;

fn unsigned_bits(v: u64) -> u32 {
    (64 - v.leading_zeros()).max(1)
}

/// The RTL implements the DFSQ code (4 words, shifts {2, i+2, i+6, off}).
fn check_word_sets(ws: &WordSets) -> Result<()> {
    if *ws != WordSets::default() {
        return Err(Error::arg("word sets", "the RTL implements the default DFSQ word sets only"));
    }
    Ok(())
}

pub(crate) fn sat_param(p: OverflowPolicy) -> i64 {
    matches!(p, OverflowPolicy::Saturate) as i64
}

pub(crate) fn fit(reg: &Reg, v: i128) -> (i128, i128) {
    let mut n = 0;
    let out = reg.fit(v, &mut n);
    (out as i128, (n > 0) as i128)
}

pub(crate) fn finish(unit: &str, inputs: Vec<Field>, outputs: Vec<Field>, rows: Vec<Row>, mut params: BTreeMap<String, i64>) -> VectorSet {
    params.insert("NVEC".into(), rows.len() as i64);
    let mut set = VectorSet { unit: unit.into(), inputs, outputs, rows, params };
    let (s, e) = (set.stim_bits() as i64, set.expect_bits() as i64);
    set.params.insert("STIM_W".into(), s);
    set.params.insert("EXP_W".into(), e);
    set
}

// ---------------------------------------------------------------- PE

struct Pe {
    ws: WordSets,
    w_bits: u32,
    f: u32,
    tap: Reg,
}

impl Pe {
    /// (w, code, psum_in) → decoded shifts and enables, product, psum_out, ovf.
    fn row(&self, kind: Kind, src: String, w: i64, raw: u32, psum: i64) -> Result<Row> {
        let d = SqCode::from_raw(raw, &self.ws)?.decode(&self.ws)?;
        let prod = shift_add(w, &d, self.f);
        let (out, ovf) = fit(&self.tap, psum as i128 + prod as i128);
        let mut outputs = Vec::new();
        for s in &d.shifts[..d.n_words] {
            outputs.push(s.unwrap_or(0) as i128);
            outputs.push(s.is_some() as i128);
        }
        outputs.extend([prod as i128, out, ovf]);
        Ok(Row { kind, src, inputs: vec![w as i128, raw as i128, psum as i128], outputs })
    }
}

/// PE vectors: `count` real cycles (whole tap chains P = fit(P + w·s) of
/// random (o, c, y, x) in the window), then every code with the extreme
/// weights and the tap-sum register's saturation edges.
pub fn pe_set(ld: &LayerData, win: &Window, count: usize, seed: u64) -> Result<VectorSet> {
    win.check(ld.h, ld.w)?;
    check_word_sets(&ld.u.words)?;
    let l = &ld.layer;
    let dp = &l.cfg.datapath;
    let pe = Pe { ws: ld.u.words.clone(), w_bits: ld.weight_bits(), f: dp.pe_frac_bits, tap: l.tap_reg() };
    let cw = pe.ws.code_bits();
    let t = dp.tap_sum_bits;
    let inputs = vec![Field::s("w", pe.w_bits), Field::u("code", cw), Field::s("psum_in", t)];
    let mut outputs = Vec::new();
    // sq_pe's `shift` and `en` buses hold word 1 at the top
    let nw = pe.ws.words.len() as u32;
    for i in 1..=nw {
        let hi = (nw - i + 1) * SHIFT_BITS - 1;
        outputs.push(Field::u(format!("shift{i}"), SHIFT_BITS).at(format!("dut.shift[{hi}:{}]", hi + 1 - SHIFT_BITS)));
        outputs.push(Field::u(format!("en{i}"), 1).at(format!("dut.en[{}]", nw - i)));
    }
    outputs.extend([Field::s("prod", pe.w_bits + pe.f + 1), Field::s("psum_out", t), Field::u("ovf", 1)]);

    let mut rows = Vec::new();
    let mut rng = SplitMix64::stream(seed, 1);
    let k = l.k;
    while rows.len() < count {
        let o = rng.below(l.out_c as u64) as usize;
        let c = rng.below(l.in_c as u64) as usize;
        let y = win.y + rng.below(win.h as u64) as usize;
        let x = win.x + rng.below(win.w as u64) as usize;
        let mut p = 0i64;
        for tap in 0..k * k {
            let Some((sy, sx)) = ld.inside(y, x, tap / k, tap % k) else { continue };
            if rows.len() == count {
                break;
            }
            let raw = l.quant[c].codes[ld.index_at(c, sy, sx)];
            let r = pe.row(Kind::Real, format!("o{o} c{c} y{y} x{x} tap{tap}"), l.weight(o, c, tap), raw, p)?;
            p = r.outputs[r.outputs.len() - 2] as i64;
            rows.push(r);
        }
    }
    let (wmin, wmax) = (-(1i64 << (pe.w_bits - 1)), (1i64 << (pe.w_bits - 1)) - 1);
    for w in [wmax, wmin] {
        for raw in 0..1u32 << cw {
            rows.push(pe.row(Kind::Corner, format!("w={w} code={raw:03x}"), w, raw, 0)?);
        }
    }
    // tap-sum edges: code 0x000 = +1.0, 0x100 = −1.0, 0x0ff all off, 0x1ff negative zero
    let (tmin, tmax) = (pe.tap.min, pe.tap.max);
    let one = 1i64 << pe.f; // |w·1.0| = |w|·2^f
    for (w, raw, psum, what) in [
        (wmax, 0x000, tmax, "max+pos"),
        (wmax, 0x100, tmin, "min+neg"),
        (wmin, 0x000, tmin, "min+neg"),
        (wmin, 0x100, tmax, "max+pos"),
        (wmax, 0x0ff, tmax, "max+0"),
        (wmin, 0x1ff, tmin, "min+negzero"),
        (wmax, 0x000, tmax - wmax * one, "exactly max"),
        (wmax, 0x000, tmax - wmax * one + 1, "max+1"),
        (wmax, 0x100, tmin + wmax * one, "exactly min"),
        (wmax, 0x100, tmin + wmax * one - 1, "min-1"),
    ] {
        // a narrow tap register cannot hold every edge: skip what does not fit
        if (tmin..=tmax).contains(&psum) {
            rows.push(pe.row(Kind::Corner, format!("psum edge {what}"), w, raw, psum)?);
        }
    }
    let params = BTreeMap::from([
        ("W".to_string(), pe.w_bits as i64),
        ("F".into(), pe.f as i64),
        ("T".into(), t as i64),
        ("SAT".into(), sat_param(dp.overflow)),
    ]);
    Ok(finish("pe", inputs, outputs, rows, params))
}

// ---------------------------------------------------------- quantizer

struct Quant {
    a: u32,
    f: u32,
    levels: usize,
    tw: u32,
}

impl Quant {
    /// (x, μ̂, thresholds t_j·M̂ padded to 2^b − 1, LUT padded to 2^b) → (index, code).
    fn row(&self, kind: Kind, src: String, q: &ChannelQuantizer, norm: &ChannelNorm, x: i64) -> Result<Row> {
        if q.frac_bits != self.f || q.codes.len() > self.levels {
            return Err(Error::arg("quantizer", format!("{src}: {} points at F = {}", q.codes.len(), q.frac_bits)));
        }
        let th = q.scaled_thresholds(norm);
        let idx = q.index(&th, norm, x);
        // pads sit above every reachable x − μ̂, so they never count
        let pad = (1i128 << (self.tw - 1)) - 1;
        let mut inputs = vec![x as i128, norm.mu_hat() as i128];
        inputs.extend((0..self.levels - 1).rev().map(|j| th.get(j).map_or(pad, |&t| t as i128)));
        inputs.extend((0..self.levels).rev().map(|j| q.codes.get(j).map_or(0, |&c| c as i128)));
        Ok(Row { kind, src, inputs, outputs: vec![idx as i128, q.codes[idx] as i128] })
    }
}

/// Quantizer vectors: runs of consecutive pixels of random channels (the
/// per-channel thresholds stay put for a run, as in hardware), then ties
/// at every threshold, the activation extremes and a padded point set.
pub fn quantizer_set(ld: &LayerData, win: &Window, count: usize, seed: u64) -> Result<VectorSet> {
    win.check(ld.h, ld.w)?;
    check_word_sets(&ld.u.words)?;
    let l = &ld.layer;
    let dp = &l.cfg.datapath;
    let bits = ld.bits;
    let qz = Quant { a: dp.act_bits, f: ld.u.frac_bits, levels: 1 << bits, tw: dp.act_bits + ld.u.frac_bits + 3 };
    let cw = ld.u.words.code_bits();
    let mut inputs = vec![Field::s("x", qz.a), Field::s("mu", qz.a + 1)];
    inputs.extend((0..qz.levels - 1).rev().map(|j| Field::s(format!("thr{j}"), qz.tw)));
    inputs.extend((0..qz.levels).rev().map(|j| Field::u(format!("lut{j}"), cw)));
    let outputs = vec![Field::u("index", bits), Field::u("code", cw)];

    let mut rows = Vec::new();
    let mut rng = SplitMix64::stream(seed, 2);
    while rows.len() < count {
        let c = rng.below(l.in_c as u64) as usize;
        let start = rng.below((win.h * win.w) as u64) as usize;
        for i in 0..16.min(count - rows.len()) {
            let p = (start + i) % (win.h * win.w);
            let (y, x) = (win.y + p / win.w, win.x + p % win.w);
            let xv = ld.x[(c * ld.h + y) * ld.w + x];
            rows.push(qz.row(Kind::Real, format!("c{c} y{y} x{x}"), &l.quant[c], &ld.norms[c], xv)?);
        }
    }
    // ties: with M̂ = 2^(F+1) the compare is x − μ̂ against t_j itself
    let q0 = &l.quant[0];
    let tie = ChannelNorm { m_mant: 1, mu_mant: 3, exp: qz.f + 1 };
    for &t in &q0.t_int {
        for d in [-1, 0, 1] {
            let x = tie.mu_hat() + t + d;
            rows.push(qz.row(Kind::Corner, format!("tie t={t} d={d}"), q0, &tie, x)?);
        }
    }
    let amax = (1i64 << (qz.a - 1)) - 1;
    let amin = -(1i64 << (qz.a - 1));
    let n0 = &ld.norms[0];
    for x in [amin, amax, n0.mu_hat(), 0] {
        rows.push(qz.row(Kind::Corner, format!("x={x} real norm"), q0, n0, x)?);
    }
    // widest x − μ̂ both ways, and the largest M̂ the stats unit can give
    // (one sample at the minimum, the rest at the maximum)
    let mut plane = vec![amax; 1000];
    plane[0] = amin;
    let m_big = channel_norm(&plane, false, &l.cfg.denorm);
    for (norm, x, what) in [
        (ChannelNorm { m_mant: 1, mu_mant: -amax - 1, exp: 0 }, amax, "x max, mu min"),
        (ChannelNorm { m_mant: 1, mu_mant: amax + 1, exp: 0 }, amin, "x min, mu max"),
        (m_big, amax, "M max, x max"),
        (m_big, amin, "M max, x min"),
    ] {
        rows.push(qz.row(Kind::Corner, what.into(), q0, &norm, x)?);
    }
    // a channel with two points: thresholds and LUT padded
    let two = ChannelQuantizer::new(&PointSet::from_values(&[-0.5, 0.25], &ld.u)?, &ld.u)?;
    for x in [-3000, -1, 0, 1, 3000, amax] {
        rows.push(qz.row(Kind::Corner, format!("2 points x={x}"), &two, &tie, x)?);
    }
    let params = BTreeMap::from([
        ("A".to_string(), qz.a as i64),
        ("F".into(), qz.f as i64),
        ("B".into(), bits as i64),
        ("CW".into(), cw as i64),
    ]);
    Ok(finish("quantizer", inputs, outputs, rows, params))
}

// ------------------------------------------------------------- denorm

/// Unsigned mantissa width of M̂ in the configured format.
pub fn mant_bits(ld: &LayerData) -> u32 {
    let n = &ld.layer.cfg.denorm;
    match n.format {
        DenormFormat::Mantissa => n.max_mant_bits,
        DenormFormat::Pow2 => 1,
        DenormFormat::Full => ld.layer.cfg.datapath.act_bits + 1,
    }
}

/// One tap chain: P for output (o, y, x) and input channel c.
pub fn tap_sum(ld: &LayerData, o: usize, c: usize, y: usize, x: usize) -> i64 {
    let l = &ld.layer;
    let (tap, f, k) = (l.tap_reg(), l.cfg.datapath.pe_frac_bits, l.k);
    let mut n = 0;
    let mut p = 0i64;
    for t in 0..k * k {
        if let Some((sy, sx)) = ld.inside(y, x, t / k, t % k) {
            let d = &l.quant[c].decoded[ld.index_at(c, sy, sx)];
            p = tap.fit(p as i128 + shift_add(l.weight(o, c, t), d, f) as i128, &mut n);
        }
    }
    p
}

/// De-normalization vectors: the channel chains acc = fit(acc + (m·P) << e)
/// of random output elements, then the accumulator's edges and overflows.
pub fn denorm_set(ld: &LayerData, win: &Window, count: usize, seed: u64) -> Result<VectorSet> {
    win.check(ld.h, ld.w)?;
    check_word_sets(&ld.u.words)?;
    let l = &ld.layer;
    let dp = &l.cfg.datapath;
    let (t, mb, d) = (dp.tap_sum_bits, mant_bits(ld), dp.denorm_acc_bits);
    let inputs = vec![Field::s("p", t), Field::u("m", mb), Field::u("e", EXP_BITS), Field::s("acc_in", d)];
    let outputs = vec![Field::s("acc_out", d), Field::u("ovf", 1)];
    let accr = l.acc_reg();
    let row = |kind, src: String, p: i64, norm: &ChannelNorm, acc: i64| -> Result<Row> {
        if norm.exp >= 1 << EXP_BITS || unsigned_bits(norm.m_mant as u64) > mb {
            return Err(Error::arg("denorm", format!("{src}: exponent {} or mantissa {} too wide", norm.exp, norm.m_mant)));
        }
        let (out, ovf) = fit(&accr, acc as i128 + HwLayer::denorm_term(norm, p));
        Ok(Row { kind, src, inputs: vec![p as i128, norm.m_mant as i128, norm.exp as i128, acc as i128], outputs: vec![out, ovf] })
    };
    let mut rows = Vec::new();
    let mut rng = SplitMix64::stream(seed, 3);
    while rows.len() < count {
        let o = rng.below(l.out_c as u64) as usize;
        let y = win.y + rng.below(win.h as u64) as usize;
        let x = win.x + rng.below(win.w as u64) as usize;
        let mut acc = 0i64;
        for c in 0..l.in_c.min(count - rows.len()) {
            let r = row(Kind::Real, format!("o{o} y{y} x{x} c{c}"), tap_sum(ld, o, c, y, x), &ld.norms[c], acc)?;
            acc = r.outputs[0] as i64;
            rows.push(r);
        }
    }
    let tr = l.tap_reg();
    let (pmin, pmax) = (tr.min, tr.max);
    let (amin, amax) = (accr.min, accr.max);
    let mmax = (1i64 << mb) - 1;
    let emax = (1u32 << EXP_BITS) - 1;
    let nm = |m: i64, e: u32| ChannelNorm { m_mant: m, mu_mant: 0, exp: e };
    let mut corners = vec![
        (pmax, nm(mmax, emax), 0, "P max, m max, e max"),
        (pmin, nm(mmax, emax), 0, "P min, m max, e max"),
        (pmax, nm(mmax, 0), amax, "acc max + pos"),
        (pmin, nm(mmax, 0), amin, "acc min + neg"),
        (pmin, nm(1, 0), amax, "acc max + neg"),
        (pmax, nm(0, emax), amax, "m = 0"),
        (0, nm(mmax, emax), amin, "P = 0"),
        (1, nm(1, 0), amax - 1, "exactly max"),
        (2, nm(1, 0), amax - 1, "max + 1"),
        (-1, nm(1, 0), amin + 1, "exactly min"),
        (-2, nm(1, 0), amin + 1, "min - 1"),
        (-1, nm(1, 0), amin, "min - 1 from min"),
    ];
    // the largest exponent that still fits without overflow, and one past it
    for e in 0..=emax {
        if (pmax as i128 * mmax as i128) << e > amax as i128 {
            corners.push((pmax, nm(mmax, e), 0, "first overflowing e"));
            if e > 0 {
                corners.push((pmax, nm(mmax, e - 1), 0, "last fitting e"));
            }
            break;
        }
    }
    for (p, n, acc, what) in corners {
        rows.push(row(Kind::Corner, what.to_string(), p, &n, acc)?);
    }
    let params = BTreeMap::from([
        ("T".to_string(), t as i64),
        ("MB".into(), mb as i64),
        ("EW".into(), EXP_BITS as i64),
        ("D".into(), d as i64),
        ("SAT".into(), sat_param(dp.overflow)),
    ]);
    Ok(finish("denorm", inputs, outputs, rows, params))
}
