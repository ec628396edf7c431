//! Static activation ranges of every quantized conv's input over the
//! calibration images (full-precision forward): exact min/max in a first
//! pass, then a histogram on [min, max] for percentiles in a second. The
//! range calibration file records which method, percentile and images made it.
use crate::model::{ConvExec, Conv2d, FloatExec, Model, QuantSite};
use crate::quant::uniform::Range;
use crate::provenance::Provenance;
use crate::{Error, Feature, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

/// Histogram bins per layer for percentiles (bin width = (max − min)/BINS).
pub const BINS: usize = 1 << 16;

/// Per quantized layer: min, max and a histogram of its input values.
pub struct RangeStats {
    pub layer_names: Vec<String>,
    pub min: Vec<f64>,
    pub max: Vec<f64>,
    pub hist: Vec<Vec<u64>>,
    pub images: Vec<String>,
}

struct MinMaxRec(Vec<Mutex<(f64, f64)>>);
impl ConvExec for MinMaxRec {
    fn quant_conv(&self, conv: &Conv2d, site: QuantSite, x: &Feature) -> Result<Feature> {
        let (lo, hi) = x
            .data
            .par_iter()
            .fold(|| (f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v as f64), b.max(v as f64)))
            .reduce(|| (f64::INFINITY, f64::NEG_INFINITY), |p, q| (p.0.min(q.0), p.1.max(q.1)));
        if !lo.is_finite() || !hi.is_finite() {
            return Err(Error::NonFinite { what: format!("calibration input of {}", conv.name) });
        }
        let mut m = self.0[site.index].lock().map_err(|_| Error::arg("calibration", "poisoned lock"))?;
        *m = (m.0.min(lo), m.1.max(hi));
        drop(m);
        FloatExec.quant_conv(conv, site, x)
    }
}

struct HistRec<'a> {
    min: &'a [f64],
    max: &'a [f64],
    hist: Vec<Mutex<Vec<u64>>>,
}
impl ConvExec for HistRec<'_> {
    fn quant_conv(&self, conv: &Conv2d, site: QuantSite, x: &Feature) -> Result<Feature> {
        let (lo, hi) = (self.min[site.index], self.max[site.index]);
        let k = if hi > lo { BINS as f64 / (hi - lo) } else { 0.0 };
        let local = x
            .data
            .par_chunks(1 << 16)
            .map(|c| {
                let mut h = vec![0u64; BINS];
                for &v in c {
                    h[(((v as f64 - lo) * k) as usize).min(BINS - 1)] += 1;
                }
                h
            })
            .reduce(|| vec![0u64; BINS], |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                a
            });
        let mut h = self.hist[site.index].lock().map_err(|_| Error::arg("calibration", "poisoned lock"))?;
        h.iter_mut().zip(&local).for_each(|(x, y)| *x += y);
        drop(h);
        FloatExec.quant_conv(conv, site, x)
    }
}

/// Two full-precision passes over `images`; `progress(i)` after each image
/// of each pass (1..=2·n).
pub fn collect_ranges(model: &Model, images: &[(String, Feature)], progress: &dyn Fn(usize)) -> Result<RangeStats> {
    if images.is_empty() {
        return Err(Error::arg("calibration images", "none given"));
    }
    let layers = model.quant_layers();
    let rec = MinMaxRec(layers.iter().map(|_| Mutex::new((f64::INFINITY, f64::NEG_INFINITY))).collect());
    for (i, (_, img)) in images.iter().enumerate() {
        model.forward(img, &rec)?;
        progress(i + 1);
    }
    let mm: Vec<(f64, f64)> = rec.0.into_iter().map(|m| m.into_inner().unwrap_or((0.0, 0.0))).collect();
    let (min, max): (Vec<f64>, Vec<f64>) = mm.into_iter().unzip();
    let hr = HistRec { min: &min, max: &max, hist: layers.iter().map(|_| Mutex::new(vec![0u64; BINS])).collect() };
    for (i, (_, img)) in images.iter().enumerate() {
        model.forward(img, &hr)?;
        progress(images.len() + i + 1);
    }
    let hist = hr.hist.into_iter().map(|m| m.into_inner().unwrap_or_default()).collect();
    Ok(RangeStats {
        layer_names: layers.iter().map(|(c, _)| c.name.clone()).collect(),
        min,
        max,
        hist,
        images: images.iter().map(|(n, _)| n.clone()).collect(),
    })
}

impl RangeStats {
    /// The value below which `p` % of layer `l`'s samples lie (linear within a bin).
    pub fn quantile(&self, l: usize, p: f64) -> f64 {
        let h = &self.hist[l];
        let n: u64 = h.iter().sum();
        let (lo, hi) = (self.min[l], self.max[l]);
        if n == 0 || hi <= lo {
            return lo;
        }
        let target = p / 100.0 * n as f64;
        let width = (hi - lo) / BINS as f64;
        let mut cum = 0u64;
        for (b, &c) in h.iter().enumerate() {
            if c > 0 && (cum + c) as f64 >= target {
                let frac = ((target - cum as f64) / c as f64).clamp(0.0, 1.0);
                return (lo + (b as f64 + frac) * width).clamp(lo, hi);
            }
            cum += c;
        }
        hi
    }

    /// Ranges of every layer: min/max (`percentile` None) or clipped at
    /// [100 − p, p] percent.
    pub fn calibration(&self, model: &Model, percentile: Option<f64>) -> RangeCalibration {
        let layers = (0..self.layer_names.len())
            .map(|l| {
                let r = match percentile {
                    None => Range { lo: self.min[l], hi: self.max[l] },
                    Some(p) => Range { lo: self.quantile(l, 100.0 - p), hi: self.quantile(l, p) },
                };
                (self.layer_names[l].clone(), r)
            })
            .collect();
        RangeCalibration {
            model: model.name.clone(),
            weights_sha256: model.weights_sha256(),
            tool: crate::provenance::tool_version(),
            method: if percentile.is_some() { "percentile".into() } else { "minmax".into() },
            percentile,
            images: self.images.clone(),
            layers,
        }
    }
}

/// The fields a range calibration is checked on, for the file and the run alike.
fn made_from(model: &str, weights_sha256: &str, method: &str, percentile: Option<f64>) -> Provenance {
    Provenance::default()
        .with("model", model)
        .with("weights_sha256", weights_sha256)
        .with("method", method)
        .with("percentile", format!("{percentile:?}"))
}

/// A range calibration file: one static [lo, hi] per quantized layer.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RangeCalibration {
    pub model: String,
    /// [`Model::weights_sha256`] of the network measured (empty in older
    /// files: refused).
    #[serde(default)]
    pub weights_sha256: String,
    #[serde(default)]
    pub tool: String,
    pub method: String,
    pub percentile: Option<f64>,
    pub images: Vec<String>,
    pub layers: BTreeMap<String, Range>,
}

impl RangeCalibration {
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut json = serde_json::to_vec_pretty(self).map_err(|e| Error::format(path, e.to_string()))?;
        json.push(b'\n');
        crate::io_util::atomic_write(path, &json)
    }

    pub fn load(path: &Path) -> Result<Self> {
        let bytes = crate::io_util::read_input(path)?;
        serde_json::from_slice(&bytes).map_err(|e| Error::format(path, format!("not a range calibration file: {e}")))
    }

    /// What it was made from: model, weights, method, percentile.
    pub fn provenance(&self) -> Provenance {
        made_from(&self.model, &self.weights_sha256, &self.method, self.percentile)
    }

    /// SHA-256 of its JSON (which ranges a result used).
    pub fn sha256(&self) -> String {
        crate::provenance::json_sha256(self)
    }

    /// Ranges in `model.quant_layers()` order; refuses another model's file
    /// or another method's.
    pub fn ranges(&self, model: &Model, method: &str, percentile: Option<f64>) -> Result<Vec<Range>> {
        let want = made_from(&model.name, &model.weights_sha256(), method, percentile);
        self.provenance().require_calibration(&want, "range calibration")?;
        model
            .quant_layers()
            .iter()
            .map(|(conv, _)| {
                let r = self.layers.get(&conv.name).ok_or_else(|| {
                    Error::arg("range calibration", format!("no range for layer `{}` of {}", conv.name, model.name))
                })?;
                if !(r.lo.is_finite() && r.hi.is_finite() && r.lo <= r.hi) {
                    return Err(Error::arg("range calibration", format!("{}: [{}, {}] is not a range", conv.name, r.lo, r.hi)));
                }
                Ok(*r)
            })
            .collect()
    }
}
