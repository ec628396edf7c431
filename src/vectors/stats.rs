//! Vector generators for the stats unit: the streaming pass (Σx, min, max
//! of a channel, `stats`) and its end-of-channel encoder (μ = round(Σx/n),
//! then μ̂ and M̂ in the `[denorm] format`, `norm`). Expected outputs come
//! from the functional model (`ChannelStats::of`, `encode_norm`, the
//! functions `channel_norm` is made of).
use super::pack::{Field, Kind, Row, VectorSet};
use super::source::LayerData;
use super::units::{finish, mant_bits, Window};
use crate::config::DenormFormat;
use crate::hw::{encode_norm, ChannelStats};
use crate::rng::SplitMix64;
use crate::{Error, Result};
use std::collections::BTreeMap;

/// Bits of the stats unit's sample counter: channels up to 2^24 − 1 pixels
/// (a 4K LR image is 2^23).
pub const COUNT_BITS: u32 = 24;
/// Bits of the shared exponent field.
pub const NORM_EXP_BITS: u32 = 6;

/// Signed width of the μ̂ mantissa field in the configured format.
pub fn mean_bits(ld: &LayerData) -> u32 {
    let c = &ld.layer.cfg;
    match c.denorm.format {
        DenormFormat::Full => c.datapath.act_bits + 1,
        DenormFormat::Mantissa | DenormFormat::Pow2 => c.denorm.mean_mant_bits,
    }
}

pub(crate) fn format_param(f: DenormFormat) -> i64 {
    match f {
        DenormFormat::Full => 0,
        DenormFormat::Mantissa => 1,
        DenormFormat::Pow2 => 2,
    }
}

/// Stats-pass vectors: runs of up to 48 consecutive activations of random
/// channels (`clr` on a run's first sample restarts the channel), the
/// running Σx/min/max after each; then the activation extremes.
pub fn stats_set(ld: &LayerData, win: &Window, count: usize, seed: u64) -> Result<VectorSet> {
    win.check(ld.h, ld.w)?;
    let a = ld.layer.cfg.datapath.act_bits;
    let sb = a + COUNT_BITS;
    let inputs = vec![Field::u("clr", 1), Field::s("x", a)];
    let outputs = vec![Field::s("sum", sb), Field::s("lo", a), Field::s("hi", a)];
    let run_rows = |kind: Kind, what: &str, xs: &[i64], rows: &mut Vec<Row>| {
        for i in 0..xs.len() {
            let st = ChannelStats::of(&xs[..=i]);
            rows.push(Row {
                kind,
                src: format!("{what} sample {i}"),
                inputs: vec![(i == 0) as i128, xs[i] as i128],
                outputs: vec![st.sum, st.lo as i128, st.hi as i128],
            });
        }
    };
    let mut rows = Vec::new();
    let mut rng = SplitMix64::stream(seed, 6);
    while rows.len() < count {
        let c = rng.below(ld.layer.in_c as u64) as usize;
        let start = rng.below((win.h * win.w) as u64) as usize;
        let xs: Vec<i64> = (0..48.min(count - rows.len()))
            .map(|i| {
                let p = (start + i) % (win.h * win.w);
                ld.x[(c * ld.h + win.y + p / win.w) * ld.w + win.x + p % win.w]
            })
            .collect();
        run_rows(Kind::Real, &format!("c{c} from pixel {start}"), &xs, &mut rows);
    }
    let (amin, amax) = (-(1i64 << (a - 1)), (1i64 << (a - 1)) - 1);
    run_rows(Kind::Corner, "max run", &[amax; 8], &mut rows);
    run_rows(Kind::Corner, "min run", &[amin; 8], &mut rows);
    run_rows(Kind::Corner, "extremes", &[0, amax, amin, -1, 1, amin, amax], &mut rows);
    let params = BTreeMap::from([("A".to_string(), a as i64), ("NB".into(), COUNT_BITS as i64)]);
    Ok(finish("stats", inputs, outputs, rows, params))
}

/// Encoder vectors: every real channel's (Σx, n, min, max) from the whole
/// captured input (checked equal to the layer's own norms; these are the
/// real rows, one per input channel), then `count` seeded random statistics, and ties of μ's rounding, of M̂'s rounding, the
/// mantissa limits and the extremes.
pub fn norm_set(ld: &LayerData, count: usize, seed: u64) -> Result<VectorSet> {
    let l = &ld.layer;
    let (a, cfg) = (l.cfg.datapath.act_bits, &l.cfg.denorm);
    let (mmb, xmb) = (mean_bits(ld), mant_bits(ld));
    let sb = a + COUNT_BITS;
    let inputs = vec![Field::s("sum", sb), Field::u("n", COUNT_BITS), Field::s("lo", a), Field::s("hi", a), Field::u("relu", 1)];
    let outputs = vec![Field::s("mu_mant", mmb), Field::u("m_mant", xmb), Field::u("exp", NORM_EXP_BITS)];
    let row = |kind, src: String, st: ChannelStats, relu: bool| -> Row {
        let nm = encode_norm(&st, relu, cfg);
        Row {
            kind,
            src,
            inputs: vec![st.sum, st.n as i128, st.lo as i128, st.hi as i128, relu as i128],
            outputs: vec![nm.mu_mant as i128, nm.m_mant as i128, nm.exp as i128],
        }
    };
    let hw = ld.h * ld.w;
    let mut rows = Vec::new();
    for c in 0..l.in_c {
        let st = ChannelStats::of(&ld.x[c * hw..(c + 1) * hw]);
        let r = row(Kind::Real, format!("channel {c}"), st, ld.post_relu);
        let want = &ld.norms[c];
        if r.outputs != [want.mu_mant as i128, want.m_mant as i128, want.exp as i128] {
            return Err(Error::arg("norm vectors", format!("channel {c}: encoder differs from the layer's norms")));
        }
        rows.push(r);
    }
    let (amin, amax) = (-(1i64 << (a - 1)), (1i64 << (a - 1)) - 1);
    let st = |sum: i128, n: u64, lo: i64, hi: i64| ChannelStats { sum, lo, hi, n };
    let mut rng = SplitMix64::stream(seed, 7);
    while rows.len() < l.in_c + count {
        // lo ≤ mean ≤ hi, spread from a few units to the whole range
        let bits = 1 + rng.below(a as u64 - 1) as u32;
        let lo = (rng.next_f64() * 2.0 - 1.0) * (1i64 << (bits - 1)) as f64;
        let hi = lo + rng.next_f64() * (1i64 << (bits - 1)) as f64;
        let (lo, hi) = ((lo as i64).clamp(amin, amax), (hi as i64).clamp(amin, amax));
        let n = 1 + rng.below(100_000);
        let mean = lo as f64 + rng.next_f64() * (hi - lo) as f64;
        let sum = ((mean * n as f64) as i128).clamp(lo as i128 * n as i128, hi as i128 * n as i128);
        let relu = rng.below(4) == 0 && lo >= 0;
        rows.push(row(Kind::Corner, format!("random {bits}-bit spread, n {n}"), st(sum, n, lo, hi), relu));
    }
    let mut corners = vec![
        (st(1, 2, 0, 1), false, "mu tie +0.5 away from 0"),
        (st(-1, 2, -1, 0), false, "mu tie -0.5 away from 0"),
        (st(3, 2, 1, 2), false, "mu tie 1.5"),
        (st(-3, 2, -2, -1), false, "mu tie -1.5"),
        (st(0, 1, 0, 0), false, "all zero"),
        (st(5, 1, 5, 5), false, "constant channel"),
        (st(0, 0, 0, 0), false, "empty channel"),
        (st(-7, 1, -7, -7), true, "post-ReLU: mu forced to 0"),
        (st(amax as i128, 1, amax, amax), false, "one sample at max"),
        (st(amin as i128, 1, amin, amin), false, "one sample at min"),
        (st(amax as i128 * 999 + amin as i128, 1000, amin, amax), false, "largest M'"),
        (st(amin as i128 * 999 + amax as i128, 1000, amin, amax), false, "largest negative mean"),
        (st(amax as i128 * ((1 << COUNT_BITS) - 1), (1 << COUNT_BITS) - 1, amax, amax), false, "largest sum"),
        (st(amin as i128 * ((1 << COUNT_BITS) - 1), (1 << COUNT_BITS) - 1, amin, amin), false, "smallest sum"),
    ];
    // mantissa limits of μ̂ at exponents 0..3 and ties of M̂'s rounding
    for e in 0..4u32 {
        for mu in [((1i64 << (mmb - 1)) << e) - 1, (1i64 << (mmb - 1)) << e, -((1i64 << (mmb - 1)) << e), -((1i64 << (mmb - 1)) << e) - 1] {
            if mu < amin || mu > amax {
                continue; // the full format's μ̂ field is as wide as the samples
            }
            let (lo, hi) = ((mu - 3).max(amin), (mu + 3).min(amax));
            corners.push((st(mu as i128, 1, lo.min(mu), hi.max(mu)), false, "mu mantissa limit"));
        }
        for m in [(1i64 << (xmb + e)) - (1 << e >> 1) - 1, (1i64 << (xmb + e)) - (1 << e >> 1), 3i64 << e >> 1] {
            corners.push((st(0, 1, -m.min(-amin), m.min(amax)), false, "M rounding edge"));
        }
    }
    for (s, relu, what) in corners {
        rows.push(row(Kind::Corner, format!("{what}: sum {} n {} lo {} hi {}", s.sum, s.n, s.lo, s.hi), s, relu));
    }
    let params = BTreeMap::from([
        ("A".to_string(), a as i64),
        ("NB".into(), COUNT_BITS as i64),
        ("MMB".into(), mmb as i64),
        ("XMB".into(), xmb as i64),
        ("EW".into(), NORM_EXP_BITS as i64),
        ("FMT".into(), format_param(cfg.format)),
    ]);
    Ok(finish("norm", inputs, outputs, rows, params))
}
