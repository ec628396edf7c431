//! Vector generators for the stages after the last input channel: the μ
//! term (one μ-table entry built as a channel-by-channel MAC, then the D3
//! add into the accumulator) and the output requantization D4. Expected
//! outputs come from the functional model (`HwLayer::mu_term`, `Reg::fit`,
//! `hw::layer::requant`); real rows follow real output elements of the
//! captured layer, then corner cases.
use super::pack::{Field, Kind, Row, VectorSet};
use super::source::LayerData;
use super::units::{finish, fit, sat_param, tap_sum, Window};
use crate::hw::layer::requant;
use crate::hw::{border, HwLayer};
use crate::rng::SplitMix64;
use crate::{Error, Result};
use std::collections::BTreeMap;

/// Bits of the signed shift field of the requantizer.
pub const REQ_SHIFT_BITS: u32 = 8;
/// Left shifts (s < 0) the requantizer supports: Δ ≥ 2^(mult bits − 1 − F)
/// would need them, which no weight scale of a trained SR network reaches.
pub const REQ_LEFT_MAX: u32 = 16;

fn ceil_log2(n: usize) -> u32 {
    usize::BITS - n.saturating_sub(1).leading_zeros()
}

/// Signed width of Σ of the k² weights of one channel (any border mask).
pub fn weight_sum_bits(w_bits: u32, k: usize) -> u32 {
    w_bits + ceil_log2(k * k)
}

/// Signed width of a μ-table entry Σ_c μ̂_c·Σw·2^F and of every partial
/// sum of it: the static bound the μ table is sized by (at least one
/// carry bit above the product, so a 1-channel layer has one too).
pub fn mu_term_bits(ld: &LayerData) -> u32 {
    let l = &ld.layer;
    let a = l.cfg.datapath.act_bits + 1; // μ̂, as the quantizer sees it
    a + weight_sum_bits(ld.weight_bits(), l.k) + l.cfg.datapath.pe_frac_bits + ceil_log2(l.in_c).max(1)
}

/// The accumulator of output (o, y, x) after the last channel's
/// de-normalization (before the μ term): the functional model's chain.
fn acc_before_mu(ld: &LayerData, o: usize, y: usize, x: usize) -> i64 {
    let l = &ld.layer;
    let accr = l.acc_reg();
    let mut n = 0;
    let mut acc = 0i64;
    for c in 0..l.in_c {
        acc = accr.fit(acc as i128 + HwLayer::denorm_term(&ld.norms[c], tap_sum(ld, o, c, y, x)), &mut n);
    }
    acc
}

/// Taps of (y, x) inside the image, as the μ table's masks select them.
fn inside_fn(ld: &LayerData, y: usize, x: usize) -> impl Fn(usize, usize) -> bool {
    let (h, w, k) = (ld.h, ld.w, ld.layer.k);
    move |ky, kx| border::inside(y, ky, h, k) && border::inside(x, kx, w, k)
}

/// μ-term vectors: for random output elements, the entry of their border
/// mask built channel by channel (term_out = term_in + (μ̂_c·Σ_inside w) << F,
/// the last equal to `HwLayer::mu_term`) and added to the element's real
/// accumulator (D3: acc_out = fit(acc + term)); then extremes and edges.
pub fn mu_set(ld: &LayerData, win: &Window, count: usize, seed: u64) -> Result<VectorSet> {
    win.check(ld.h, ld.w)?;
    let l = &ld.layer;
    let dp = &l.cfg.datapath;
    let (f, d, a1) = (dp.pe_frac_bits, dp.denorm_acc_bits, dp.act_bits + 1);
    let (swb, mw) = (weight_sum_bits(ld.weight_bits(), l.k), mu_term_bits(ld));
    let inputs = vec![Field::s("term_in", mw), Field::s("mu", a1), Field::s("sw", swb), Field::s("acc", d)];
    let outputs = vec![Field::s("term_out", mw), Field::s("acc_out", d), Field::u("ovf", 1)];
    let accr = l.acc_reg();
    let row = |kind, src: String, term: i128, mu: i64, sw: i64, acc: i64| -> Row {
        let t = term + ((mu as i128 * sw as i128) << f);
        let (out, ovf) = fit(&accr, acc as i128 + t);
        Row { kind, src, inputs: vec![term, mu as i128, sw as i128, acc as i128], outputs: vec![t, out, ovf] }
    };
    let mut rows = Vec::new();
    let mut rng = SplitMix64::stream(seed, 4);
    while rows.len() < count {
        let o = rng.below(l.out_c as u64) as usize;
        let y = win.y + rng.below(win.h as u64) as usize;
        let x = win.x + rng.below(win.w as u64) as usize;
        let inside = inside_fn(ld, y, x);
        let acc = acc_before_mu(ld, o, y, x);
        let mut term = 0i128;
        for c in 0..l.in_c {
            let sw: i64 = (0..l.k * l.k).filter(|&t| inside(t / l.k, t % l.k)).map(|t| l.weight(o, c, t)).sum();
            let r = row(Kind::Real, format!("o{o} y{y} x{x} c{c}"), term, ld.norms[c].mu_hat(), sw, acc);
            term = r.outputs[0];
            if rows.len() < count {
                rows.push(r);
            }
        }
        let want = l.mu_term(o, &ld.norms, &inside);
        if term != want {
            return Err(Error::arg("mu vectors", format!("o{o} y{y} x{x}: entry {term} != HwLayer::mu_term {want}")));
        }
    }
    let (amin, amax) = (accr.min, accr.max);
    let (mumin, mumax) = (-(1i64 << (a1 - 1)), (1i64 << (a1 - 1)) - 1);
    let (swmin, swmax) = (-(1i64 << (swb - 1)), (1i64 << (swb - 1)) - 1);
    let tmax = (1i128 << (mw - 1)) - 1 - ((mumin as i128 * swmin as i128) << f);
    for (term, mu, sw, acc, what) in [
        (0, mumax, swmax, 0, "mu max, sw max"),
        (0, mumin, swmin, 0, "mu min, sw min"),
        (0, mumin, swmax, 0, "mu min, sw max"),
        (tmax, mumin, swmin, 0, "term reaches its largest value"),
        (-tmax, mumin, swmax, 0, "term near its smallest value"),
        (0, 1, 1, amax - (1 << f), "exactly acc max"),
        (0, 1, 1, amax - (1 << f) + 1, "acc max + 1"),
        (0, -1, 1, amin + (1 << f), "exactly acc min"),
        (0, -1, 1, amin + (1 << f) - 1, "acc min - 1"),
        (0, mumax, swmax, amax, "acc max + pos"),
        (0, mumin, swmax, amin, "acc min + neg"),
        (0, 0, swmax, amin, "mu = 0"),
    ] {
        rows.push(row(Kind::Corner, what.into(), term, mu, sw, acc));
    }
    let params = BTreeMap::from([
        ("MW".to_string(), mw as i64),
        ("A1".into(), a1 as i64),
        ("SWB".into(), swb as i64),
        ("F".into(), f as i64),
        ("D".into(), d as i64),
        ("SAT".into(), sat_param(dp.overflow)),
    ]);
    Ok(finish("mu", inputs, outputs, rows, params))
}

/// Requantization (D4) vectors: real outputs (their accumulator after the
/// μ term, the channel's Δ mantissa, total shift and bias), then rounding
/// ties, left shifts, shifts past the product, and output overflows.
pub fn requant_set(ld: &LayerData, win: &Window, count: usize, seed: u64) -> Result<VectorSet> {
    win.check(ld.h, ld.w)?;
    let l = &ld.layer;
    let dp = &l.cfg.datapath;
    let (d, mb, a) = (dp.denorm_acc_bits, dp.delta_mult_bits, dp.act_bits);
    let (sw, lmax) = (REQ_SHIFT_BITS, REQ_LEFT_MAX);
    let iw = (d + mb + lmax + 2) as i32; // the RTL's internal width
    let smax = (1i32 << (sw - 1)) - 1;
    let inputs = vec![Field::s("acc", d), Field::u("mult", mb), Field::s("shift", sw), Field::s("bias", a)];
    let outputs = vec![Field::s("y", a), Field::u("ovf", 1)];
    let act = l.act_reg();
    let row = |kind, src: String, acc: i64, mult: i64, s: i32, bias: i64| -> Result<Row> {
        if s < -(lmax as i32) || s > smax {
            return Err(Error::arg("requant vectors", format!("{src}: shift {s} outside [-{lmax}, {smax}]")));
        }
        let mut n = 0;
        let y = requant(acc, mult, s, bias, &act, &mut n);
        Ok(Row { kind, src, inputs: vec![acc as i128, mult as i128, s as i128, bias as i128], outputs: vec![y as i128, (n > 0) as i128] })
    };
    let accr = l.acc_reg();
    let mut rows = Vec::new();
    let mut rng = SplitMix64::stream(seed, 5);
    while rows.len() < count {
        let o = rng.below(l.out_c as u64) as usize;
        let y = win.y + rng.below(win.h as u64) as usize;
        let x = win.x + rng.below(win.w as u64) as usize;
        let mut n = 0;
        let mu = l.mu_term(o, &ld.norms, &inside_fn(ld, y, x));
        let acc = accr.fit(acc_before_mu(ld, o, y, x) as i128 + mu, &mut n);
        // the layer's own output stage: HwLayer::requantize is requant with these
        rows.push(row(Kind::Real, format!("o{o} y{y} x{x}"), acc, l.delta_mult[o], l.requant_shift(o), l.bias_fix[o])?);
    }
    let (amin, amax) = (accr.min, accr.max);
    let (bmin, bmax) = (act.min, act.max);
    let (mlo, mhi) = (1i64 << (mb - 1), (1i64 << mb) - 1);
    let s0 = l.requant_shift(0);
    let mut corners: Vec<(i64, i64, i32, i64, String)> = vec![
        (1, mlo, mb as i32, 0, "tie +0.5 rounds up".into()),
        (-1, mlo, mb as i32, 0, "tie -0.5 rounds up to 0".into()),
        (-3, mlo, mb as i32, 0, "tie -1.5 rounds to -1".into()),
        (3, mlo, mb as i32, 0, "tie +1.5 rounds to 2".into()),
        (1, mlo, mb as i32 + 1, 0, "+0.25 rounds to 0".into()),
        (-1, mlo, mb as i32 + 1, 0, "-0.25 rounds to 0".into()),
        (0, mhi, 0, bmax, "bias max".into()),
        (0, mhi, 0, bmin, "bias min".into()),
        (1, 1, 0, bmax, "bias max + 1 overflows".into()),
        (-1, 1, 0, bmin, "bias min - 1 overflows".into()),
    ];
    for s in [-(lmax as i32), -1, 0, 1, 2, s0, iw - 3, iw - 2, iw - 1, iw, smax] {
        for (acc, mult) in [(amax, mhi), (amin, mhi), (amin, mlo), (1, mlo), (-1, mhi)] {
            for bias in [0, bmax] {
                corners.push((acc, mult, s, bias, format!("acc {acc} mult {mult} shift {s} bias {bias}")));
            }
        }
    }
    for (acc, mult, s, bias, what) in corners {
        rows.push(row(Kind::Corner, what, acc, mult, s, bias)?);
    }
    let params = BTreeMap::from([
        ("D".to_string(), d as i64),
        ("MB".into(), mb as i64),
        ("SW".into(), sw as i64),
        ("L".into(), lmax as i64),
        ("A".into(), a as i64),
        ("SAT".into(), sat_param(dp.overflow)),
    ]);
    Ok(finish("requant", inputs, outputs, rows, params))
}
