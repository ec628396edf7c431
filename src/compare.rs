//! The accuracy–cost comparison: DFSQ against the uniform-integer designs a
//! team would otherwise build, each charged what *it* needs (hw/COST.md
//! "Uniform-integer array"). A design is a quantization method, a bit-width
//! and a weight scheme on one hardware preset; it is evaluated bit-accurately
//! image by image (hardware PSNR/SSIM beside its own float reference) and
//! costed by the cycle model at each image's size.
use crate::config::{HwConfig, LeverConfig};
use crate::cycle::cost::{CostTable, Energy};
use crate::cycle::exec::{network_cost, network_shapes, uniform_network_cost, uniform_network_shapes};
use crate::dfsq::{quantize_model, FakeQuantExec, QuantConfig};
use crate::eval::{score, super_resolve, Scores};
use crate::hw::{Activity, HwExec, UniformHwExec};
use crate::image::SrPair;
use crate::model::{ConvExec, Model};
use crate::quant::uniform::Range;
use crate::quant::Granularity;
use crate::select::PointSet;
use crate::sq::UniversalSet;
use crate::uniform::{grid_points, quantize_uniform_model, QMethod, UniformFakeQuantExec, WeightScheme};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// One design of the comparison: the numbers (method, bits, weights, λ)
/// and the DFSQ architecture levers it is built with.
#[derive(Clone, Debug, PartialEq)]
pub struct DesignSpec {
    pub name: String,
    pub method: QMethod,
    pub bits: u32,
    pub weights: WeightScheme,
    /// optimal-energy's λ (0 otherwise).
    pub lambda: f64,
    pub levers: LeverConfig,
}

impl DesignSpec {
    pub fn new(method: QMethod, bits: u32, weights: WeightScheme) -> Self {
        let mut d = DesignSpec { name: String::new(), method, bits, weights, lambda: 0.0, levers: LeverConfig::default() };
        d.name = d.make_name();
        d
    }

    pub fn with_lambda(mut self, lambda: f64) -> Self {
        self.lambda = lambda;
        self.name = self.make_name();
        self
    }

    /// The same design built with `levers` (DFSQ only; checked by `Prepared`).
    pub fn with_levers(mut self, levers: LeverConfig) -> Self {
        self.levers = levers;
        self.name = self.make_name();
        self
    }

    fn make_name(&self) -> String {
        let (m, b) = (self.method, self.bits);
        let mut name = match (m, self.weights) {
            (QMethod::MinMax, WeightScheme::Symmetric) if b == 8 => "w8a8-int".to_string(),
            (m, WeightScheme::Symmetric) => format!("{}-sym-w{b}a{b}", m.label()),
            (QMethod::Dfsq(sel), _) => format!("dfsq-{}-w{b}a{b}", sel.label(self.lambda)),
            (m, _) => format!("{}-w{b}a{b}", m.label()),
        };
        for t in self.levers.tags() {
            name.push('+');
            name.push_str(t);
        }
        name
    }

    /// Whether two designs compute the same numbers (they differ at most in
    /// architecture levers, which change cost, not results).
    pub fn same_numbers(&self, o: &DesignSpec) -> bool {
        self.method == o.method && self.bits == o.bits && self.weights == o.weights && self.lambda == o.lambda
    }

    /// Levers exist on the DFSQ datapath only.
    pub fn check_levers(&self) -> Result<()> {
        if !self.levers.is_default() && !matches!(self.method, QMethod::Dfsq(_) | QMethod::DfsqUniform) {
            return Err(Error::config(
                "levers",
                format!("{}: {} are DFSQ architecture options; the uniform-integer array has none", self.name, self.levers.tags().join(", ")),
            ));
        }
        Ok(())
    }

    /// The hardware config this design runs on: `base` with its levers.
    pub fn hw_config(&self, base: &HwConfig) -> Result<HwConfig> {
        self.check_levers()?;
        let mut c = base.clone();
        c.levers = self.levers.clone();
        if !self.levers.is_default() {
            c.name = format!("{}+{}", base.name, self.levers.tags().join("+"));
        }
        c.validate()?;
        Ok(c)
    }
}

/// The default design list: DFSQ (k-means) at 3/4/6/8 bits, Min-Max,
/// percentile and dfsq-uniform at 4/6/8, the conventional W8A8 design
/// (symmetric int8 weights, per-tensor uint8 activations, int32
/// accumulators), and DFSQ W4/W3 with each architecture lever and all.
pub fn default_designs(percentile: f64) -> Vec<DesignSpec> {
    let mut d: Vec<DesignSpec> = [3, 4, 6, 8]
        .iter()
        .map(|&b| DesignSpec::new(QMethod::Dfsq(crate::select::Method::KMeans), b, WeightScheme::Asymmetric))
        .collect();
    for m in [QMethod::MinMax, QMethod::Percentile(percentile), QMethod::DfsqUniform] {
        for b in [4, 6, 8] {
            d.push(DesignSpec::new(m, b, WeightScheme::Asymmetric));
        }
    }
    d.push(DesignSpec::new(QMethod::MinMax, 8, WeightScheme::Symmetric));
    // DFSQ's architecture levers at 4 and 3 bits, each alone and all
    // together (costed from the k-means designs' runs: no extra evaluation)
    for b in [4, 3] {
        for tag in ["gate", "idx", "pstats", "all"] {
            let mut lv = LeverConfig::default();
            lv.set_tag(tag).expect("known lever tag");
            d.push(DesignSpec::new(QMethod::Dfsq(crate::select::Method::KMeans), b, WeightScheme::Asymmetric).with_levers(lv));
        }
    }
    d
}

/// Calibration a design needs: DFSQ point sets, or static ranges.
pub enum CalibInput {
    Points(Vec<Vec<PointSet>>),
    Ranges(Vec<Range>),
    /// dfsq-uniform needs none (its point set is the whole grid).
    None,
}

/// A design ready to run: its float reference and bit-accurate executors,
/// and every lever variant costed from the same run.
pub struct Prepared {
    pub spec: DesignSpec,
    pub cfg: HwConfig,
    /// (design, its hardware config): the first is `spec`.
    pub variants: Vec<(DesignSpec, HwConfig)>,
    kind: Kind,
}

/// Each design's executors are prepared once and serve every image.
enum Kind {
    Dfsq { u: UniversalSet, fq: FakeQuantExec, hw: HwExec<'static> },
    Uniform { fq: UniformFakeQuantExec, hw: UniformHwExec<'static> },
}

impl Prepared {
    pub fn new(model: &Model, spec: DesignSpec, calib: CalibInput, u: &UniversalSet, base: &HwConfig) -> Result<Self> {
        let cfg = spec.hw_config(base)?;
        let qcfg = QuantConfig { wbits: spec.bits, abits: spec.bits, granularity: Granularity::PerOutputChannel };
        let kind = match (spec.method, calib) {
            (QMethod::Dfsq(_), CalibInput::Points(p)) => Self::dfsq(model, u.clone(), p, &qcfg, &cfg)?,
            (QMethod::DfsqUniform, _) => {
                let (gu, pts) = grid_points(model, spec.bits)?;
                Self::dfsq(model, gu, pts, &qcfg, &cfg)?
            }
            (m, CalibInput::Ranges(r)) if m.is_static() => {
                let layers = quantize_uniform_model(model, &r, spec.bits, spec.bits, spec.weights)?;
                Kind::Uniform { hw: UniformHwExec::new(&layers, &cfg)?, fq: UniformFakeQuantExec { layers } }
            }
            _ => return Err(Error::arg("design", format!("{}: calibration of the wrong kind", spec.name))),
        };
        Ok(Prepared { variants: vec![(spec.clone(), cfg.clone())], spec, cfg, kind })
    }

    /// Adds a design that computes the same numbers with other levers: it
    /// is costed from this design's runs.
    pub fn add_variant(&mut self, spec: DesignSpec, base: &HwConfig) -> Result<()> {
        if !spec.same_numbers(&self.spec) {
            return Err(Error::arg("design", format!("{} does not compute the numbers of {}", spec.name, self.spec.name)));
        }
        let cfg = spec.hw_config(base)?;
        self.variants.push((spec, cfg));
        Ok(())
    }

    fn dfsq(model: &Model, u: UniversalSet, points: Vec<Vec<PointSet>>, qcfg: &QuantConfig, cfg: &HwConfig) -> Result<Kind> {
        let fq = FakeQuantExec { layers: quantize_model(model, points, qcfg)? };
        Ok(Kind::Dfsq { hw: HwExec::new(&fq.layers, &u, cfg, None)?, u, fq })
    }

    /// Float reference, bit-accurate hardware scores and the cost of one
    /// image, per variant (one hardware run serves them all).
    pub fn eval(&self, model: &Model, pair: &SrPair, table: &CostTable) -> Result<Vec<ImageEval>> {
        let (h, w) = (pair.lr.height, pair.lr.width);
        let run = |exec: &dyn ConvExec| -> Result<Scores> {
            let (_, sr) = super_resolve(model, &pair.lr, exec)?;
            score(&sr, &pair.hr, model.scale)
        };
        let b = self.spec.bits;
        let mut words = Activity::default();
        let (float, hw, overflows, costs) = match &self.kind {
            Kind::Dfsq { u, fq, hw } => {
                let before = hw.reports();
                let s = run(hw)?;
                let after = hw.reports();
                // one set of shapes serves every variant: levers do not change them
                let mut shapes = network_shapes(model, b, b, &u.words, &self.cfg, h, w)?;
                // this image's measured code words, layer by layer (images run one at a time)
                for ((sh, a), z) in shapes.iter_mut().zip(&after).zip(&before) {
                    sh.activity = Some(a.activity.sub(&z.activity));
                }
                let costs = self.variants.iter().map(|(_, cfg)| network_cost(&shapes, &u.words, cfg, table)).collect::<Result<Vec<_>>>()?;
                let ovf = |r: &[crate::hw::LayerReport]| r.iter().map(|l| l.overflow.total()).sum::<u64>();
                for (a, z) in after.iter().zip(&before) {
                    words.add(&a.activity.sub(&z.activity));
                }
                (run(fq)?, s, ovf(&after) - ovf(&before), costs)
            }
            Kind::Uniform { fq, hw } => {
                let before = hw.total_overflow().total();
                let s = run(hw)?;
                let shapes = uniform_network_shapes(model, &hw.layers, b, &self.cfg, h, w)?;
                let cost = uniform_network_cost(&shapes, b, &self.cfg, table)?;
                (run(fq)?, s, hw.total_overflow().total() - before, vec![cost])
            }
        };
        Ok(costs
            .into_iter()
            .map(|cost| ImageEval {
                float,
                hw,
                overflows,
                energy_pj: cost.energy_pj,
                cycles: cost.total.cycles,
                area_um2: cost.area_um2.total,
                activity: words,
            })
            .collect())
    }
}

/// One design on one image.
#[derive(Clone, Copy, Debug)]
pub struct ImageEval {
    pub float: Scores,
    pub hw: Scores,
    pub overflows: u64,
    pub energy_pj: Energy,
    pub cycles: u64,
    pub area_um2: f64,
    /// DFSQ: the words of the codes the PEs received, whole network.
    pub activity: Activity,
}

/// How many words of the codes a DFSQ design's PEs receive are on (the
/// measure term gating is priced from), over every MAC of every image.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CodeWords {
    /// Share of MACs whose code has 0 (all-zero code), 1, 2, … active words.
    pub mac_share_by_words: Vec<f64>,
    pub mean_active_words: f64,
}

impl CodeWords {
    pub fn of(a: &Activity) -> Option<Self> {
        let n = a.macs();
        if n == 0 {
            return None;
        }
        let last = a.macs_by_words.iter().rposition(|&x| x > 0).unwrap_or(0);
        Some(CodeWords {
            mac_share_by_words: a.macs_by_words[..=last].iter().map(|&x| x as f64 / n as f64).collect(),
            mean_active_words: a.word_ops() as f64 / n as f64,
        })
    }
}

/// Energy of one image by component, mJ (the JSON `energy_breakdown_mj`).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct BreakdownMj {
    pub pe: f64,
    /// DFSQ: de-normalization multiply-accumulates; uniform: accumulate adds.
    pub denorm: f64,
    pub output: f64,
    pub quantizer: f64,
    pub stats: f64,
    pub weight_buf: f64,
    pub act_buf: f64,
    pub psum_buf: f64,
    pub dram: f64,
}

impl BreakdownMj {
    /// `e` (pJ) in mJ, divided by `n` (images).
    pub fn from_pj(e: &Energy, n: f64) -> Self {
        let m = 1e-9 / n;
        BreakdownMj {
            pe: e.pe * m,
            denorm: e.denorm * m,
            output: e.output * m,
            quantizer: e.quantizer * m,
            stats: e.stats * m,
            weight_buf: e.weight_buf * m,
            act_buf: e.act_buf * m,
            psum_buf: e.psum_buf * m,
            dram: e.dram * m,
        }
    }
}

/// A design's results over every image: means per image.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DesignRow {
    pub name: String,
    pub method: String,
    pub bits: u32,
    pub options: serde_json::Value,
    pub hw: Scores,
    pub float: Scores,
    pub overflows: u64,
    pub energy_mj: f64,
    pub energy_breakdown_mj: BreakdownMj,
    pub area_mm2: f64,
    pub cycles: f64,
    pub pareto: bool,
    pub pareto_area: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_words: Option<CodeWords>,
}

impl DesignRow {
    /// Row of `spec` on `cfg` from its per-image evaluations.
    pub fn from_evals(s: &DesignSpec, cfg: &HwConfig, evals: &[ImageEval]) -> Self {
        let n = evals.len().max(1) as f64;
        let mut e = Energy::default();
        evals.iter().for_each(|x| e.add(&x.energy_pj));
        let lv = &s.levers;
        let options = serde_json::json!({
            "weights": match s.weights { WeightScheme::Asymmetric => "asymmetric", WeightScheme::Symmetric => "symmetric" },
            "selection": match s.method { QMethod::Dfsq(m) => Some(m.name()), _ => None },
            "lambda": match s.method { QMethod::Dfsq(crate::select::Method::OptimalEnergy) => Some(s.lambda), _ => None },
            "percentile": s.method.percentile(),
            "hw_config": cfg.name,
            "levers": { "term_gating": lv.term_gating, "act_buffer": lv.act_buffer, "producer_stats": lv.producer_stats },
        });
        DesignRow {
            name: s.name.clone(),
            method: s.method.family().into(),
            bits: s.bits,
            options,
            hw: Scores::mean(&evals.iter().map(|x| x.hw).collect::<Vec<_>>()),
            float: Scores::mean(&evals.iter().map(|x| x.float).collect::<Vec<_>>()),
            overflows: evals.iter().map(|x| x.overflows).sum(),
            energy_mj: e.total * 1e-9 / n,
            energy_breakdown_mj: BreakdownMj::from_pj(&e, n),
            area_mm2: evals.first().map_or(0.0, |x| x.area_um2) * 1e-6,
            cycles: evals.iter().map(|x| x.cycles as f64).sum::<f64>() / n,
            pareto: false,
            pareto_area: false,
            code_words: CodeWords::of(&evals.iter().fold(Activity::default(), |mut t, x| {
                t.add(&x.activity);
                t
            })),
        }
    }
}

/// Marks the designs no other design dominates: PSNR at least as high and
/// cost at most as high, one of them strictly.
pub fn mark_pareto(rows: &mut [DesignRow]) {
    let front = |rows: &[DesignRow], cost: &dyn Fn(&DesignRow) -> f64| -> Vec<bool> {
        rows.iter()
            .map(|a| {
                !rows.iter().any(|b| {
                    b.hw.psnr >= a.hw.psnr && cost(b) <= cost(a) && (b.hw.psnr > a.hw.psnr || cost(b) < cost(a))
                })
            })
            .collect()
    };
    let e = front(rows, &|r| r.energy_mj);
    let a = front(rows, &|r| r.area_mm2);
    for ((r, e), a) in rows.iter_mut().zip(e).zip(a) {
        r.pareto = e;
        r.pareto_area = a;
    }
}

/// The cheapest design (energy per image) whose hardware PSNR is within
/// `db` of FP and that never overflowed; equal energy goes to the higher PSNR.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Budget {
    pub db: f64,
    pub design: Option<String>,
    pub message: String,
}

pub fn budget(rows: &[DesignRow], fp_psnr: f64, db: f64) -> Budget {
    let ok = |r: &&DesignRow| fp_psnr - r.hw.psnr <= db && r.overflows == 0;
    match rows.iter().filter(ok).min_by(|a, b| a.energy_mj.total_cmp(&b.energy_mj).then(b.hw.psnr.total_cmp(&a.hw.psnr))) {
        Some(r) => Budget {
            db,
            design: Some(r.name.clone()),
            message: format!(
                "cheapest within {db} dB of FP: {} ({:.3} mJ/image, {:.3} dB below FP)",
                r.name,
                r.energy_mj,
                fp_psnr - r.hw.psnr
            ),
        },
        None => {
            let best = rows.iter().max_by(|a, b| a.hw.psnr.total_cmp(&b.hw.psnr));
            Budget {
                db,
                design: None,
                message: match best {
                    Some(b) => format!(
                        "no design is within {db} dB of FP; the best reachable is {} at {:.3} dB below FP",
                        b.name,
                        fp_psnr - b.hw.psnr
                    ),
                    None => "no designs".into(),
                },
            }
        }
    }
}

/// What `sqsim compare --out` writes, as far as a report needs it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CompareSummary {
    pub model: String,
    pub hw_config: String,
    pub fp: Scores,
    pub designs: Vec<DesignRow>,
}

impl CompareSummary {
    pub fn load(path: &std::path::Path) -> Result<Self> {
        let b = crate::io_util::read_input(path)?;
        serde_json::from_slice(&b).map_err(|e| Error::format(path, format!("not a `sqsim compare` JSON: {e}")))
    }
}
