//! Vector generator for the threshold generator: per image and channel the
//! stats unit's M̂ scales the channel's midpoints, thr_j = t_j·M̂ with
//! M̂ = m·2^e (one (F+2) × XMB multiply and a shift), the values the
//! quantizer's comparators load. Expected: `hw::quantizer::scaled_threshold`,
//! the rule `ChannelQuantizer::scaled_thresholds` applies to every midpoint.
use super::pack::{Field, Kind, Row, VectorSet};
use super::source::LayerData;
use super::stats::NORM_EXP_BITS;
use super::units::{finish, mant_bits};
use crate::hw::quantizer::scaled_threshold;
use crate::hw::{encode_norm, ChannelNorm, ChannelStats};
use crate::rng::SplitMix64;
use crate::{Error, Result};
use std::collections::BTreeMap;

/// Every midpoint of seeded random channels with that channel's real M̂,
/// then the extreme midpoints with the largest M̂ the encoder makes and
/// single-bit M̂ at every exponent that keeps the product in range.
pub fn thresh_set(ld: &LayerData, count: usize, seed: u64) -> Result<VectorSet> {
    let l = &ld.layer;
    let (a, f, xmb) = (l.cfg.datapath.act_bits, ld.u.frac_bits, mant_bits(ld));
    let (tb, tw) = (f + 2, a + f + 3);
    let inputs = vec![Field::s("t", tb), Field::u("m", xmb), Field::u("e", NORM_EXP_BITS)];
    let outputs = vec![Field::s("thr", tw)];
    let row = |kind, src: String, t: i64, norm: &ChannelNorm| -> Result<Row> {
        let thr = scaled_threshold(t, norm);
        if !(-(1i64 << (tw - 1))..1i64 << (tw - 1)).contains(&thr) {
            return Err(Error::arg("threshold vectors", format!("{src}: t·M̂ = {thr} needs more than {tw} bits")));
        }
        Ok(Row { kind, src, inputs: vec![t as i128, norm.m_mant as i128, norm.exp as i128], outputs: vec![thr as i128] })
    };
    let mut rows = Vec::new();
    let mut rng = SplitMix64::stream(seed, 8);
    while rows.len() < count {
        let c = rng.below(l.in_c as u64) as usize;
        let (q, norm) = (&l.quant[c], &ld.norms[c]);
        for (j, &t) in q.t_int.iter().enumerate().take(count - rows.len()) {
            rows.push(row(Kind::Real, format!("c{c} t{j}"), t, norm)?);
        }
    }
    let (amin, amax) = (-(1i64 << (a - 1)), (1i64 << (a - 1)) - 1);
    let big = encode_norm(&ChannelStats { sum: amax as i128 * 999 + amin as i128, n: 1000, lo: amin, hi: amax }, false, &l.cfg.denorm);
    let (tmin, tmax) = (-(1i64 << (tb - 1)), (1i64 << (tb - 1)) - 1);
    for t in [tmax, tmin, 1, -1, 0] {
        rows.push(row(Kind::Corner, format!("t {t}, largest M"), t, &big)?);
        for e in 0..=a + 1 {
            rows.push(row(Kind::Corner, format!("t {t}, M = 2^{e}"), t, &ChannelNorm { m_mant: 1, mu_mant: 0, exp: e })?);
        }
    }
    let params = BTreeMap::from([
        ("TB".to_string(), tb as i64),
        ("XMB".into(), xmb as i64),
        ("EW".into(), NORM_EXP_BITS as i64),
        ("TW".into(), tw as i64),
    ]);
    Ok(finish("thresh", inputs, outputs, rows, params))
}
