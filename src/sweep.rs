//! Design-space sweep of the datapath's number formats: for each candidate
//! hardware configuration, the PSNR gap of the bit-accurate output against
//! the DFSQ float reference, its overflows, and a transparent cost estimate.
use crate::config::{DenormFormat, HwConfig};
use crate::dfsq::FakeQuantExec;
use crate::eval::{score, super_resolve};
use crate::hw::HwExec;
use crate::image::RgbImage;
use crate::model::Model;
use crate::sq::UniversalSet;
use crate::Result;
use serde::{Deserialize, Serialize};

/// Area figures for the estimate (45 nm). Horowitz, "Computing's energy
/// problem", ISSCC 2014: 8-bit multiplier 282 µm², 32-bit adder 137 µm².
/// NanGate FreePDK45 Open Cell Library DFF_X1: 4.522 µm² per stored bit.
pub const MULT8_AREA_UM2: f64 = 282.0;
pub const ADD32_AREA_UM2: f64 = 137.0;
pub const DFF_AREA_UM2: f64 = 4.522;

/// Cost of one configuration, per array column (one de-normalization unit)
/// and per input channel (stored statistics).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CostEstimate {
    /// μ̂ and M̂ bits stored per channel and image (mantissas + exponent).
    pub stats_bits_per_channel: u32,
    /// De-normalization multiplier operand widths (M̂ mantissa × tap sum).
    pub denorm_mult_bits: (u32, u32),
    /// Multiplier (array-multiplier area ∝ a·b) + accumulator adder (∝ bits)
    /// + activation output register, per column.
    pub denorm_area_um2: f64,
}

pub fn estimate(cfg: &HwConfig) -> CostEstimate {
    let d = &cfg.datapath;
    let n = &cfg.denorm;
    let exp_bits = 5; // exponents up to 31 cover 25-bit activations
    let (m_bits, stats) = match n.format {
        DenormFormat::Full => (d.act_bits, 2 * d.act_bits),
        DenormFormat::Mantissa => (n.max_mant_bits, n.max_mant_bits + n.mean_mant_bits + exp_bits),
        DenormFormat::Pow2 => (0, n.mean_mant_bits + exp_bits),
    };
    let mult = if m_bits == 0 { 0.0 } else { MULT8_AREA_UM2 * (m_bits * d.tap_sum_bits) as f64 / 64.0 };
    let area = mult + ADD32_AREA_UM2 * d.denorm_acc_bits as f64 / 32.0 + DFF_AREA_UM2 * d.act_bits as f64;
    CostEstimate { stats_bits_per_channel: stats, denorm_mult_bits: (m_bits, d.tap_sum_bits), denorm_area_um2: area }
}

/// One candidate and its label.
#[derive(Clone, Debug)]
pub struct SweepPoint {
    pub label: String,
    pub cfg: HwConfig,
}

/// The axes of a sweep; `grid` expands them.
#[derive(Clone, Debug)]
pub struct Axes {
    pub formats: Vec<DenormFormat>,
    pub mant_bits: Vec<u32>,
    pub acc_bits: Vec<u32>,
    pub act_bits: Vec<u32>,
    pub act_frac_bits: Vec<u32>,
}

impl Axes {
    /// Every axis value must be valid on its own (applied alone to `base`):
    /// an out-of-range value is refused naming its flag, not dropped. Only
    /// combinations invalid together (e.g. act_frac_bits ≥ act_bits) are
    /// left out of a grid.
    pub fn validate(&self, base: &HwConfig) -> crate::Result<()> {
        let check = |flag: &str, v: u32, set: &dyn Fn(&mut HwConfig)| -> crate::Result<()> {
            let mut c = base.clone();
            set(&mut c);
            c.validate().map_err(|e| crate::Error::arg(flag, format!("{v}: {e}")))
        };
        for &m in &self.mant_bits {
            check("--mant-bits", m, &|c| {
                c.denorm.max_mant_bits = m;
                c.denorm.mean_mant_bits = m;
            })?;
        }
        for &v in &self.acc_bits {
            check("--acc-bits", v, &|c| c.datapath.denorm_acc_bits = v)?;
        }
        for &v in &self.act_bits {
            // its own fraction rule is checked with the fractions below
            check("--act-bits", v, &|c| {
                c.datapath.act_bits = v;
                c.datapath.act_frac_bits = c.datapath.act_frac_bits.min(v.saturating_sub(1));
            })?;
        }
        for &f in &self.act_frac_bits {
            if !self.act_bits.iter().chain([&base.datapath.act_bits]).any(|&a| f < a) {
                return Err(crate::Error::arg("--act-frac-bits", format!("{f}: not below any activation width")));
            }
        }
        Ok(())
    }
}

fn fmt_name(f: DenormFormat) -> &'static str {
    match f {
        DenormFormat::Full => "full",
        DenormFormat::Mantissa => "mantissa",
        DenormFormat::Pow2 => "pow2",
    }
}

/// Candidates: the full product of the axes (`full_grid`), or one factor at
/// a time around `base` (each axis varied alone, the others at `base`).
/// Mantissa widths only apply to formats that use them; duplicates and
/// invalid combinations are dropped. Order is deterministic.
pub fn grid(base: &HwConfig, axes: &Axes, full_grid: bool) -> Vec<SweepPoint> {
    let make = |f: DenormFormat, m: u32, acc: u32, act: u32, frac: u32| {
        let mut c = base.clone();
        c.denorm.format = f;
        if f != DenormFormat::Full {
            c.denorm.max_mant_bits = m;
            c.denorm.mean_mant_bits = m;
        }
        c.datapath.denorm_acc_bits = acc;
        c.datapath.act_bits = act;
        c.datapath.act_frac_bits = frac;
        // mantissa: M̂ and μ̂ mantissas; pow2: only μ̂ has a mantissa (M̂ is a shift)
        let m_label = match f {
            DenormFormat::Full => String::new(),
            DenormFormat::Mantissa => m.to_string(),
            DenormFormat::Pow2 => format!("_mu{m}"),
        };
        c.name = format!("{}{m_label}_acc{acc}_act{act}.{frac}", fmt_name(f));
        c
    };
    let (b, bd) = (&base.denorm, &base.datapath);
    let mut out: Vec<HwConfig> = Vec::new();
    if full_grid {
        for &f in &axes.formats {
            for &m in &axes.mant_bits {
                for &acc in &axes.acc_bits {
                    for &act in &axes.act_bits {
                        for &fr in &axes.act_frac_bits {
                            out.push(make(f, m, acc, act, fr));
                        }
                    }
                }
            }
        }
    } else {
        out.push(make(b.format, b.max_mant_bits, bd.denorm_acc_bits, bd.act_bits, bd.act_frac_bits));
        for &f in &axes.formats {
            for &m in &axes.mant_bits {
                out.push(make(f, m, bd.denorm_acc_bits, bd.act_bits, bd.act_frac_bits));
            }
        }
        for &acc in &axes.acc_bits {
            out.push(make(b.format, b.max_mant_bits, acc, bd.act_bits, bd.act_frac_bits));
        }
        for &act in &axes.act_bits {
            for &fr in &axes.act_frac_bits {
                out.push(make(b.format, b.max_mant_bits, bd.denorm_acc_bits, act, fr));
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    out.into_iter()
        .filter(|c| c.validate().is_ok() && seen.insert(c.name.clone()))
        .map(|c| SweepPoint { label: c.name.clone(), cfg: c })
        .collect()
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SweepRow {
    /// Position in the full (unsharded) candidate list.
    pub index: usize,
    pub config: String,
    pub format: String,
    pub mant_bits: u32,
    pub acc_bits: u32,
    pub act_bits: u32,
    pub act_frac_bits: u32,
    pub hw_psnr: f64,
    pub float_psnr: f64,
    /// hw − float (negative = the hardware loses PSNR).
    pub gap_db: f64,
    pub overflows: u64,
    pub stats_bits_per_channel: u32,
    pub denorm_mult_bits: String,
    pub denorm_area_um2: f64,
}

/// An evaluation set: LR/HR pairs and the float reference's PSNR on each.
pub struct EvalSet {
    pub pairs: Vec<(RgbImage, RgbImage)>,
    pub float_psnr: Vec<f64>,
}

impl EvalSet {
    pub fn new(model: &Model, fq: &FakeQuantExec, pairs: Vec<(RgbImage, RgbImage)>) -> Result<Self> {
        let float_psnr = pairs
            .iter()
            .map(|(lr, hr)| Ok(score(&super_resolve(model, lr, fq)?.1, hr, model.scale)?.psnr))
            .collect::<Result<_>>()?;
        Ok(EvalSet { pairs, float_psnr })
    }
}

/// Runs one candidate over the evaluation set.
pub fn evaluate(model: &Model, fq: &FakeQuantExec, u: &UniversalSet, set: &EvalSet, index: usize, p: &SweepPoint) -> Result<SweepRow> {
    let hw = HwExec::new(&fq.layers, u, &p.cfg, None)?;
    let mut psnr = 0.0;
    for (lr, hr) in &set.pairs {
        psnr += score(&super_resolve(model, lr, &hw)?.1, hr, model.scale)?.psnr;
    }
    let n = set.pairs.len().max(1) as f64;
    let hw_psnr = psnr / n;
    let float_psnr = set.float_psnr.iter().sum::<f64>() / n;
    let e = estimate(&p.cfg);
    let c = &p.cfg;
    Ok(SweepRow {
        index,
        config: p.label.clone(),
        format: fmt_name(c.denorm.format).into(),
        mant_bits: if c.denorm.format == DenormFormat::Full { c.datapath.act_bits } else { c.denorm.max_mant_bits },
        acc_bits: c.datapath.denorm_acc_bits,
        act_bits: c.datapath.act_bits,
        act_frac_bits: c.datapath.act_frac_bits,
        hw_psnr,
        float_psnr,
        gap_db: hw_psnr - float_psnr,
        overflows: hw.total_overflow().total(),
        stats_bits_per_channel: e.stats_bits_per_channel,
        denorm_mult_bits: format!("{}x{}", e.denorm_mult_bits.0, e.denorm_mult_bits.1),
        denorm_area_um2: e.denorm_area_um2,
    })
}

/// The cheapest row (smallest `denorm_area_um2`, then fewest stored stats
/// bits, then label) whose gap is within `budget_db` and has no overflow.
pub fn cheapest(rows: &[SweepRow], budget_db: f64) -> Option<&SweepRow> {
    rows.iter().filter(|r| r.gap_db >= -budget_db && r.overflows == 0).min_by(|a, b| {
        a.denorm_area_um2
            .total_cmp(&b.denorm_area_um2)
            .then(a.stats_bits_per_channel.cmp(&b.stats_bits_per_channel))
            .then(a.config.cmp(&b.config))
    })
}
