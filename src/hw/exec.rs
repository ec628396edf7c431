//! Runs a whole model with every quantized conv on the bit-accurate
//! datapath; the host keeps the float layers. At each quantized conv the
//! host's f32 input is converted to the activation format (round half to
//! even, fit), and the datapath's output converted back exactly.
//! Optionally the float reference runs the same conv on the same input so
//! every layer's own error is measured.
use super::fixed::{to_fixed_all, OverflowCounts, Reg};
use super::layer::HwLayer;
use crate::config::HwConfig;
use crate::dfsq::{FakeQuantExec, QuantLayer};
use crate::model::{ConvExec, Conv2d, QuantSite};
use crate::sq::UniversalSet;
use crate::{Error, Feature, Result};
use rayon::prelude::*;
use serde::Serialize;
use std::sync::Mutex;

/// Per-layer totals over every image run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LayerReport {
    pub name: String,
    pub weight_bits: u32,
    pub calls: u64,
    pub macs: u64,
    pub overflow: OverflowCounts,
    /// Max |hw − float reference| of this layer's output (activation units
    /// converted to float), given identical inputs.
    pub max_abs_err: f64,
    /// Σ (hw − float)² and Σ float², for a relative error energy.
    pub err_energy: f64,
    pub ref_energy: f64,
    /// Words of the codes the PEs received, summed over calls.
    pub activity: super::Activity,
}

impl LayerReport {
    /// A layer's report before its first call.
    pub fn new(name: &str, weight_bits: u32) -> Self {
        LayerReport { name: name.to_string(), weight_bits, ..Default::default() }
    }

    /// One call of the layer: its MACs, input-conversion and datapath
    /// overflows, and its output's error against the float reference's
    /// output for the same input (when one ran). Every executor's report.
    pub fn record(&mut self, macs: u64, act_in: u64, overflow: &OverflowCounts, y: &Feature, reference: Option<&Feature>) {
        self.calls += 1;
        self.macs += macs;
        self.overflow.act_in += act_in;
        self.overflow.add(&OverflowCounts { act_in: 0, ..*overflow });
        if let Some(yr) = reference {
            // this call's sums first, then into the totals (a fixed order per call)
            let (mut max, mut err, mut energy) = (0f64, 0f64, 0f64);
            for (&a, &b) in y.data.iter().zip(&yr.data) {
                let d = (a as f64 - b as f64).abs();
                max = max.max(d);
                err += d * d;
                energy += b as f64 * b as f64;
            }
            self.max_abs_err = self.max_abs_err.max(max);
            self.err_energy += err;
            self.ref_energy += energy;
        }
    }
}

/// The sum of every layer's overflow counts.
pub fn total_overflow(reports: &[LayerReport]) -> OverflowCounts {
    let mut t = OverflowCounts::default();
    for r in reports {
        t.add(&r.overflow);
    }
    t
}

pub struct HwExec<'a> {
    pub layers: Vec<HwLayer>,
    /// The float reference to compare each layer against (same input).
    pub reference: Option<&'a FakeQuantExec>,
    /// Run the naive kernel instead of the fast one (tests, debugging).
    pub naive: bool,
    reports: Mutex<Vec<LayerReport>>,
    /// Time spent in `reference` (the per-layer comparison), so callers can
    /// report it apart from the datapath itself.
    pub reference_time: Stopwatch,
}

/// Wall time summed over calls from any thread.
#[derive(Default)]
pub struct Stopwatch(std::sync::atomic::AtomicU64);

impl Stopwatch {
    pub fn time<T>(&self, f: impl FnOnce() -> T) -> T {
        let t0 = std::time::Instant::now();
        let v = f();
        self.0.fetch_add(t0.elapsed().as_nanos() as u64, std::sync::atomic::Ordering::Relaxed);
        v
    }
    pub fn seconds(&self) -> f64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed) as f64 * 1e-9
    }
}

impl<'a> HwExec<'a> {
    pub fn new(qlayers: &[QuantLayer], u: &UniversalSet, cfg: &HwConfig, reference: Option<&'a FakeQuantExec>) -> Result<Self> {
        cfg.validate()?;
        let layers: Vec<HwLayer> = qlayers.iter().map(|q| HwLayer::prepare(q, u, cfg)).collect::<Result<_>>()?;
        let reports = layers.iter().map(|l| LayerReport::new(&l.name, l.weight_bits)).collect();
        Ok(HwExec { layers, reference, naive: false, reports: Mutex::new(reports), reference_time: Stopwatch::default() })
    }

    pub fn reports(&self) -> Vec<LayerReport> {
        self.reports.lock().map(|r| r.clone()).unwrap_or_default()
    }

    pub fn total_overflow(&self) -> OverflowCounts {
        total_overflow(&self.reports())
    }

    /// Host → datapath conversion of one conv input.
    pub fn to_fixed(&self, x: &Feature, count: &mut u64) -> Vec<i64> {
        let dp = &self.layers.first().map(|l| l.cfg.datapath.clone()).unwrap_or_default();
        to_fixed_all(&x.data, dp.act_frac_bits, &Reg::new(dp.act_bits, dp.overflow), count)
    }
}

impl ConvExec for HwExec<'_> {
    fn quant_conv(&self, conv: &Conv2d, site: QuantSite, x: &Feature) -> Result<Feature> {
        let l = self.layers.get(site.index).ok_or_else(|| {
            Error::arg("quantized layer", format!("{} has index {} beyond {}", conv.name, site.index, self.layers.len()))
        })?;
        let mut act_in = 0u64;
        let xf = self.to_fixed(x, &mut act_in);
        let run = if self.naive {
            l.run_reference(&xf, x.h, x.w, site.post_relu)?
        } else {
            l.run_fast(&xf, x.h, x.w, site.post_relu)?
        };
        let scale = 1.0 / (1u64 << l.cfg.datapath.act_frac_bits) as f64;
        let y = Feature::from_vec(l.out_c, x.h, x.w, run.out.par_iter().map(|&v| (v as f64 * scale) as f32).collect())?;
        let yr = self.reference_time.time(|| self.reference.map(|r| r.quant_conv(conv, site, x)).transpose())?;
        let mut reps = self.reports.lock().map_err(|_| Error::arg("hw report", "poisoned lock"))?;
        let macs = (conv.macs_per_pixel() * x.h * x.w) as u64;
        reps[site.index].record(macs, act_in, &run.overflow, &y, yr.as_ref());
        reps[site.index].activity.add(&run.activity);
        Ok(y)
    }
}
