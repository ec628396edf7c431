//! Whole networks on the cycle model: layer shapes of a model at an image
//! size, the per-layer cost report (timing mode), and an executor that runs
//! the functional datapath and additionally steps tiles of every layer,
//! counting any stepped output that differs.
use super::cost::{Area, CostTable, Design, Energy, Widths};
use super::counters::{Counters, RunScope};
use super::plan::{LayerShape, Plan};
use super::{step_layer, timing};
use crate::config::HwConfig;
use crate::hw::{HwExec, UniformHwLayer};
use crate::model::{Conv2d, ConvExec, FloatExec, Model, QuantSite};
use crate::quant::{quantize_weights, Granularity};
use crate::sq::WordSets;
use crate::{Error, Feature, Result};
use serde::Serialize;
use std::sync::Mutex;

const PROBE: usize = 8;

/// Records each quantized conv's input size on a small probe image.
struct SizeProbe(Mutex<Vec<(usize, usize)>>);

impl ConvExec for SizeProbe {
    fn quant_conv(&self, conv: &Conv2d, site: QuantSite, x: &Feature) -> Result<Feature> {
        let mut v = self.0.lock().map_err(|_| Error::arg("size probe", "poisoned lock"))?;
        if v.len() <= site.index {
            v.resize(site.index + 1, (0, 0));
        }
        v[site.index] = (x.h, x.w);
        drop(v);
        FloatExec.quant_conv(conv, site, x)
    }
}

/// Input size of every quantized conv when the model runs on an `h`×`w` LR
/// image (found on an 8×8 probe: each layer's size must scale with the input).
pub fn layer_sizes(model: &Model, h: usize, w: usize) -> Result<Vec<(usize, usize)>> {
    if h == 0 || w == 0 {
        return Err(Error::arg("image size", format!("{w}x{h} is empty")));
    }
    let probe = SizeProbe(Mutex::new(Vec::new()));
    model.forward(&Feature::zeros(3, PROBE, PROBE), &probe)?;
    let sizes = probe.0.into_inner().map_err(|_| Error::arg("size probe", "poisoned lock"))?;
    sizes
        .into_iter()
        .map(|(ph, pw)| {
            if ph % PROBE != 0 || pw % PROBE != 0 {
                return Err(Error::arg(
                    "model",
                    format!("{}: a quantized layer runs at {ph}x{pw} on an {PROBE}x{PROBE} input", model.name),
                ));
            }
            Ok((h * ph / PROBE, w * pw / PROBE))
        })
        .collect()
}

/// Shapes of every quantized conv at `wbits`/`abits` on an `h`×`w` input.
/// The weight width is the one the datapath would use (config or measured w = q + zp).
pub fn network_shapes(
    model: &Model,
    wbits: u32,
    abits: u32,
    words: &WordSets,
    cfg: &HwConfig,
    h: usize,
    w: usize,
) -> Result<Vec<LayerShape>> {
    let sizes = layer_sizes(model, h, w)?;
    model
        .quant_layers()
        .into_iter()
        .zip(sizes)
        .map(|((conv, _), (lh, lw))| {
            let qw = quantize_weights(
                &conv.name,
                &conv.weight,
                conv.out_c,
                conv.in_c,
                conv.k,
                wbits,
                Granularity::PerOutputChannel,
            )?;
            let dims = (conv.in_c, conv.out_c, conv.k);
            Ok(LayerShape::dfsq(&conv.name, dims, (lh, lw), (cfg.datapath.weight_bits, qw.int_bits()), words, abits))
        })
        .collect()
}

/// One layer's cost on the array.
#[derive(Clone, Debug, Serialize)]
pub struct LayerCost {
    pub name: String,
    pub in_c: usize,
    pub out_c: usize,
    pub k: usize,
    pub h: usize,
    pub w: usize,
    pub counters: Counters,
    pub utilization: f64,
    /// De-normalization multiplies per useful MAC (≈ 1/k² inside, 1 for 1×1).
    pub denorm_per_mac: f64,
    pub energy_pj: Energy,
    pub baseline_energy_pj: Energy,
}

#[derive(Clone, Debug, Serialize)]
pub struct NetworkCost {
    pub hw_config: String,
    pub rows: usize,
    pub cols: usize,
    pub clock_mhz: f64,
    pub widths: Widths,
    pub design: Design,
    pub layers: Vec<LayerCost>,
    pub total: Counters,
    pub utilization: f64,
    pub time_us: f64,
    pub energy_pj: Energy,
    pub baseline_energy_pj: Energy,
    pub area_um2: Area,
    pub baseline_area_um2: Area,
}

/// Widest datapath the layers need.
pub fn widths(shapes: &[LayerShape], words: &WordSets) -> Widths {
    Widths {
        weight_bits: shapes.iter().map(|s| s.weight_bits).max().unwrap_or(1),
        code_bits: words.code_bits(),
        n_words: words.words.len() as u32,
        word_choices: words.words.iter().map(|w| w.choices.len() as u32).max().unwrap_or(1),
        uset_frac_bits: words.exact_frac_bits(),
        levels: shapes.iter().map(|s| s.levels as u32).max().unwrap_or(2),
        ..table_widths(shapes)
    }
}

/// The per-channel tables the widest layer needs (zero elsewhere).
fn table_widths(shapes: &[LayerShape]) -> Widths {
    use super::plan::n_masks;
    Widths {
        weight_bits: 0,
        code_bits: 0,
        n_words: 0,
        word_choices: 0,
        uset_frac_bits: 0,
        levels: 0,
        max_in_c: shapes.iter().map(|s| s.in_c as u32).max().unwrap_or(1),
        max_out_c: shapes.iter().map(|s| s.out_c as u32).max().unwrap_or(1),
        max_mu_entries: shapes.iter().map(|s| (s.out_c * n_masks(s.h, s.k) * n_masks(s.w, s.k)) as u32).max().unwrap_or(1),
    }
}

/// Timing-mode cost of every layer (whole layers, memory system included).
pub fn network_cost(shapes: &[LayerShape], words: &WordSets, cfg: &HwConfig, table: &CostTable) -> Result<NetworkCost> {
    cfg.validate()?;
    let wd = widths(shapes, words);
    cost_layers(shapes, cfg, wd, Design::new(cfg, &wd, table))
}

/// Every layer through the timing mode, priced by `design`.
fn cost_layers(shapes: &[LayerShape], cfg: &HwConfig, wd: Widths, design: Design) -> Result<NetworkCost> {
    let pes = cfg.array.rows * cfg.array.cols;
    let layers: Vec<LayerCost> = shapes
        .iter()
        .map(|s| {
            let plan = Plan::new(s, cfg)?;
            let c = timing(&plan, &RunScope::whole_layer())?;
            Ok(layer_cost(s, c, &design, pes))
        })
        .collect::<Result<_>>()?;
    Ok(summarize(cfg, wd, design, layers))
}

/// Shapes of a uniform-integer design's quantized convs on an `h`×`w`
/// input: its own weight width, `abits`-bit codes in the act buffer.
pub fn uniform_network_shapes(model: &Model, layers: &[UniformHwLayer], abits: u32, cfg: &HwConfig, h: usize, w: usize) -> Result<Vec<LayerShape>> {
    let sizes = layer_sizes(model, h, w)?;
    if sizes.len() != layers.len() {
        return Err(Error::shape("uniform layers", sizes.len(), layers.len()));
    }
    if let Some(l) = layers.iter().find(|l| l.abits != abits || l.cfg != *cfg) {
        return Err(Error::arg("uniform layers", format!("{} was prepared for other bits or another config", l.name)));
    }
    Ok(layers.iter().zip(sizes).map(|(l, (lh, lw))| LayerShape::of_uniform(l, lh, lw)).collect())
}

/// Timing-mode cost of a uniform-integer design (hw/COST.md "Uniform-integer array").
pub fn uniform_network_cost(shapes: &[LayerShape], abits: u32, cfg: &HwConfig, table: &CostTable) -> Result<NetworkCost> {
    cfg.validate()?;
    let wd = Widths {
        weight_bits: shapes.iter().map(|s| s.weight_bits).max().unwrap_or(1),
        code_bits: abits,
        n_words: 0,
        word_choices: 0,
        uset_frac_bits: 0,
        levels: 1 << abits,
        ..table_widths(shapes)
    };
    cost_layers(shapes, cfg, wd, Design::uniform(cfg, &wd, abits, table))
}

pub fn layer_cost(s: &LayerShape, c: Counters, design: &Design, pes: usize) -> LayerCost {
    LayerCost {
        name: s.name.clone(),
        in_c: s.in_c,
        out_c: s.out_c,
        k: s.k,
        h: s.h,
        w: s.w,
        utilization: c.utilization(pes),
        denorm_per_mac: c.denorm_mults as f64 / c.macs.max(1) as f64,
        energy_pj: design.energy(&c, false),
        baseline_energy_pj: design.energy(&c, true),
        counters: c,
    }
}

pub fn summarize(cfg: &HwConfig, widths: Widths, design: Design, layers: Vec<LayerCost>) -> NetworkCost {
    let mut total = Counters::default();
    let (mut e, mut b) = (Energy::default(), Energy::default());
    for l in &layers {
        total.add(&l.counters);
        e.add(&l.energy_pj);
        b.add(&l.baseline_energy_pj);
    }
    let a = &cfg.array;
    NetworkCost {
        hw_config: cfg.name.clone(),
        rows: a.rows,
        cols: a.cols,
        clock_mhz: a.clock_mhz,
        widths,
        utilization: total.utilization(a.rows * a.cols),
        time_us: total.cycles as f64 / a.clock_mhz,
        area_um2: design.area(false),
        baseline_area_um2: design.area(true),
        design,
        layers,
        total,
        energy_pj: e,
        baseline_energy_pj: b,
    }
}

/// (stepped outputs, those that differ from the functional output `y`,
/// which holds activations of `frac_bits` fractional bits as f32).
fn count_mismatches(stepped: &[Option<i64>], y: &[f32], frac_bits: u32) -> (u64, u64) {
    let scale = (1u64 << frac_bits) as f64;
    let (mut n, mut bad) = (0u64, 0u64);
    for (v, &f) in stepped.iter().zip(y) {
        if let Some(v) = v {
            n += 1;
            bad += u64::from((f as f64 * scale).round() as i64 != *v);
        }
    }
    (n, bad)
}

/// Per-layer totals of a [`CycleCheckExec`].
#[derive(Clone, Debug, Default, Serialize)]
pub struct CheckReport {
    /// Stepped outputs compared with the functional model, and how many differed.
    pub stepped_outputs: u64,
    pub mismatches: u64,
    /// Timing-mode counters of every call (whole layers).
    pub counters: Vec<Counters>,
    pub shapes: Vec<Option<LayerShape>>,
    /// Wall seconds in the timing model (plans, counters); busy seconds of
    /// the stepping (on its own thread, overlapping the next layers'
    /// hardware pass) and seconds the hardware pass waited for it.
    pub cost_s: f64,
    pub stepped_s: f64,
    pub stepped_wait_s: f64,
}

/// A layer's stepping, running beside the rest of the forward pass:
/// (stepped outputs, mismatches, busy seconds).
type Stepping = std::thread::JoinHandle<Result<(u64, u64, f64)>>;

/// Runs every quantized conv on the functional datapath (through `hw`) and
/// steps its first `steps` tiles on the cycle model, comparing outputs.
pub struct CycleCheckExec<'a> {
    pub hw: &'a HwExec<'a>,
    pub words: WordSets,
    pub abits: u32,
    pub steps: usize,
    report: Mutex<CheckReport>,
    /// The previous layer's stepping, if still running: one in flight, so
    /// the stepping (one core) overlaps the next layer's hardware pass and
    /// holds one layer's input and output at most.
    pending: Mutex<Option<Stepping>>,
}

impl<'a> CycleCheckExec<'a> {
    pub fn new(hw: &'a HwExec<'a>, words: WordSets, abits: u32, steps: usize) -> Self {
        let n = hw.layers.len();
        let report =
            CheckReport { counters: vec![Counters::default(); n], shapes: vec![None; n], ..Default::default() };
        CycleCheckExec { hw, words, abits, steps, report: Mutex::new(report), pending: Mutex::new(None) }
    }
    /// Every call's results so far (waits for a stepping still running;
    /// its error, if it failed, is this call's).
    pub fn report(&self) -> Result<CheckReport> {
        self.join_pending()?;
        self.report.lock().map(|r| r.clone()).map_err(|_| Error::arg("cycle check", "poisoned lock"))
    }

    /// Waits for the stepping in flight and adds its results, in call order.
    fn join_pending(&self) -> Result<()> {
        let poisoned = || Error::arg("cycle check", "poisoned lock");
        let Some(h) = self.pending.lock().map_err(|_| poisoned())?.take() else { return Ok(()) };
        let t = std::time::Instant::now();
        let (n, bad, busy) = h.join().map_err(|_| Error::arg("cycle check", "the stepping thread panicked"))??;
        let mut r = self.report.lock().map_err(|_| poisoned())?;
        r.stepped_wait_s += t.elapsed().as_secs_f64();
        r.stepped_s += busy;
        r.stepped_outputs += n;
        r.mismatches += bad;
        Ok(())
    }
}

impl ConvExec for CycleCheckExec<'_> {
    fn quant_conv(&self, conv: &Conv2d, site: QuantSite, x: &Feature) -> Result<Feature> {
        let y = self.hw.quant_conv(conv, site, x)?;
        let l = &self.hw.layers[site.index];
        let mut shape = LayerShape::of(l, &self.words, self.abits, x.h, x.w);
        // the host → fixed input, only when gating or stepping needs it
        let xf = if l.cfg.levers.term_gating || self.steps > 0 { self.hw.to_fixed(x, &mut 0) } else { Vec::new() };
        if l.cfg.levers.term_gating {
            shape.activity = Some(crate::hw::Activity::of_input(l, &xf, x.h, x.w, site.post_relu));
        }
        let t0 = std::time::Instant::now();
        let plan = Plan::new(&shape, &l.cfg)?;
        let counters = timing(&plan, &RunScope::whole_layer())?;
        let cost_s = t0.elapsed().as_secs_f64();
        self.join_pending()?;
        if self.steps > 0 {
            let (layer, out, steps, (h, w), post_relu) = (l.clone(), y.data.clone(), self.steps, (x.h, x.w), site.post_relu);
            let plan = plan.clone();
            let job = std::thread::spawn(move || {
                let t = std::time::Instant::now();
                let run = step_layer(&layer, &plan, &xf, h, w, post_relu, &RunScope::first_tiles(steps), 0)?;
                let (n, bad) = count_mismatches(&run.out, &out, layer.cfg.datapath.act_frac_bits);
                Ok((n, bad, t.elapsed().as_secs_f64()))
            });
            *self.pending.lock().map_err(|_| Error::arg("cycle check", "poisoned lock"))? = Some(job);
        }
        let mut r = self.report.lock().map_err(|_| Error::arg("cycle check", "poisoned lock"))?;
        r.cost_s += cost_s;
        r.counters[site.index].add(&counters);
        r.shapes[site.index] = Some(shape);
        Ok(y)
    }
}

impl CheckReport {
    /// The cost report of every call so far (sizes: the last call's).
    pub fn network_cost(&self, cfg: &HwConfig, words: &WordSets, table: &CostTable) -> NetworkCost {
        let shapes: Vec<LayerShape> = self.shapes.iter().flatten().cloned().collect();
        let wd = widths(&shapes, words);
        let design = Design::new(cfg, &wd, table);
        let pes = cfg.array.rows * cfg.array.cols;
        let layers = self
            .shapes
            .iter()
            .zip(&self.counters)
            .filter_map(|(s, c)| s.as_ref().map(|s| layer_cost(s, *c, &design, pes)))
            .collect();
        summarize(cfg, wd, design, layers)
    }
}

/// The cost summary `sqsim run` reports per dataset.
#[derive(Clone, Debug, Serialize)]
pub struct RunCost {
    pub cycles: u64,
    pub utilization: f64,
    pub energy_pj: f64,
    pub baseline_energy_pj: f64,
    pub area_um2: f64,
    pub baseline_area_um2: f64,
    /// Outputs the cycle-stepped model produced and compared.
    pub stepped_outputs: u64,
}

impl CycleCheckExec<'_> {
    /// Stepped-vs-functional mismatches and the timing-mode cost so far.
    pub fn summary(&self, cfg: &HwConfig) -> Result<(u64, RunCost)> {
        let r = self.report()?;
        let c = r.network_cost(cfg, &self.words, &CostTable::default());
        let cost = RunCost {
            cycles: c.total.cycles,
            utilization: c.utilization,
            energy_pj: c.energy_pj.total,
            baseline_energy_pj: c.baseline_energy_pj.total,
            area_um2: c.area_um2.total,
            baseline_area_um2: c.baseline_area_um2.total,
            stepped_outputs: r.stepped_outputs,
        };
        Ok((r.mismatches, cost))
    }
}

/// The uniform-integer datapath (through `hw`) with the first `steps` tiles
/// of every layer stepped on the uniform array and compared, output by output.
pub struct UniformCycleCheckExec<'a> {
    pub hw: &'a crate::hw::UniformHwExec<'a>,
    pub steps: usize,
    /// (stepped outputs, mismatches, wall seconds spent stepping).
    counts: Mutex<(u64, u64, f64)>,
}

impl<'a> UniformCycleCheckExec<'a> {
    pub fn new(hw: &'a crate::hw::UniformHwExec<'a>, steps: usize) -> Self {
        UniformCycleCheckExec { hw, steps, counts: Mutex::new((0, 0, 0.0)) }
    }
    /// (stepped outputs, mismatches) so far.
    pub fn counts(&self) -> (u64, u64) {
        self.counts.lock().map(|c| (c.0, c.1)).unwrap_or_default()
    }
    /// Wall seconds spent stepping so far.
    pub fn stepped_s(&self) -> f64 {
        self.counts.lock().map(|c| c.2).unwrap_or_default()
    }
}

impl ConvExec for UniformCycleCheckExec<'_> {
    fn quant_conv(&self, conv: &Conv2d, site: QuantSite, x: &Feature) -> Result<Feature> {
        let y = self.hw.quant_conv(conv, site, x)?;
        if self.steps == 0 {
            return Ok(y);
        }
        let t = std::time::Instant::now();
        let l = &self.hw.layers[site.index];
        let plan = Plan::new(&LayerShape::of_uniform(l, x.h, x.w), &l.cfg)?;
        let xf = l.to_fixed(&x.data, &mut 0);
        let run = super::step_uniform_layer(l, &plan, &xf, x.h, x.w, &RunScope::first_tiles(self.steps), 0)?;
        let (n, bad) = count_mismatches(&run.out, &y.data, l.cfg.datapath.act_frac_bits);
        let mut c = self.counts.lock().map_err(|_| Error::arg("cycle check", "poisoned lock"))?;
        c.0 += n;
        c.1 += bad;
        c.2 += t.elapsed().as_secs_f64();
        Ok(y)
    }
}
