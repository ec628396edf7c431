//! Calibration: per-layer, per-input-channel point sets chosen from U on the
//! normalized activations the full-precision model produces on calibration
//! images (DATAPATH.md §1). Statistics are accumulated as exact histograms,
//! so memory does not grow with the number of images, and one pass serves
//! every bit-width and method.
use crate::model::{ConvExec, Conv2d, FloatExec, Model, QuantSite};
use crate::quant::act::{channel_stats, normalize};
use crate::select::hist::HistAccum;
use crate::select::{select_hist, Method, PointSet, SelectConfig};
use crate::sq::{UniversalSet, WordSets};
use crate::provenance::Provenance;
use crate::{Error, Feature, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

/// The calibration file: `layers` maps a layer name (checkpoint module
/// path) to one point list per input channel.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Calibration {
    pub model: String,
    /// [`Model::weights_sha256`] of the network it was made on (empty in
    /// files from before provenance was recorded: refused on reuse).
    #[serde(default)]
    pub weights_sha256: String,
    /// sqsim version that wrote it.
    #[serde(default)]
    pub tool: String,
    pub bits: u32,
    pub method: Method,
    /// optimal-energy's λ (absent for every other method).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lambda: f64,
    pub seed: u64,
    pub word_sets: WordSets,
    pub images: Vec<String>,
    pub layers: BTreeMap<String, Vec<Vec<f64>>>,
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

/// The fields a calibration is checked on, for the file and for the run alike.
fn made_from(model: &str, weights_sha256: &str, method: String, bits: u32) -> Provenance {
    Provenance::default().with("model", model).with("weights_sha256", weights_sha256).with("method", method).with("bits", bits)
}

/// Per quantized layer, per input channel: accumulated x_n statistics.
pub struct CalibStats {
    /// The network's [`Model::weights_sha256`].
    pub weights_sha256: String,
    pub layer_names: Vec<String>,
    pub hists: Vec<Vec<HistAccum>>,
    pub images: Vec<String>,
}

/// Records each quantized conv's normalized input, then runs it in float.
struct Recorder {
    frac_bits: u32,
    hists: Vec<Mutex<Option<Vec<HistAccum>>>>,
}

impl ConvExec for Recorder {
    fn quant_conv(&self, conv: &Conv2d, site: QuantSite, x: &Feature) -> Result<Feature> {
        let mut slot = self.hists[site.index].lock().map_err(|_| Error::arg("calibration", "poisoned lock"))?;
        if slot.is_none() {
            *slot = Some((0..x.c).map(|_| HistAccum::new(self.frac_bits)).collect::<Result<_>>()?);
        }
        let hs = slot.as_mut().expect("initialized above");
        if hs.len() != x.c {
            return Err(Error::shape(format!("{} input channels", conv.name), hs.len(), x.c));
        }
        hs.par_iter_mut().enumerate().try_for_each(|(c, h)| {
            let plane = x.plane(c);
            h.add(&normalize(plane, channel_stats(plane, site.post_relu)))
        })?;
        drop(slot);
        FloatExec.quant_conv(conv, site, x)
    }
}

/// Runs the full-precision model over `images` (LR inputs, RGB 0..255) in
/// order, accumulating statistics. `progress` is called after each image.
pub fn collect(
    model: &Model,
    images: &[(String, Feature)],
    u: &UniversalSet,
    progress: &dyn Fn(usize),
) -> Result<CalibStats> {
    if images.is_empty() {
        return Err(Error::arg("calibration images", "none given"));
    }
    let layers = model.quant_layers();
    let rec = Recorder { frac_bits: u.frac_bits, hists: layers.iter().map(|_| Mutex::new(None)).collect() };
    for (i, (_, img)) in images.iter().enumerate() {
        model.forward(img, &rec)?;
        progress(i + 1);
    }
    let mut hists = Vec::new();
    for (m, (conv, _)) in rec.hists.into_iter().zip(&layers) {
        let h = m.into_inner().map_err(|_| Error::arg("calibration", "poisoned lock"))?;
        hists.push(h.ok_or_else(|| Error::arg("calibration", format!("layer {} never ran", conv.name)))?);
    }
    Ok(CalibStats {
        weights_sha256: model.weights_sha256(),
        layer_names: layers.iter().map(|(c, _)| c.name.clone()).collect(),
        hists,
        images: images.iter().map(|(n, _)| n.clone()).collect(),
    })
}

/// Selects point sets for every (layer, channel) in parallel. Channel c of
/// layer l uses random stream (l << 16) + c: identical on any thread count.
pub fn select_all(
    stats: &CalibStats,
    model_name: &str,
    u: &UniversalSet,
    cfg: &SelectConfig,
) -> Result<Calibration> {
    cfg.validate()?;
    let jobs: Vec<(usize, usize)> = stats
        .hists
        .iter()
        .enumerate()
        .flat_map(|(l, hs)| (0..hs.len()).map(move |c| (l, c)))
        .collect();
    let picked: Vec<Vec<f64>> = jobs
        .par_iter()
        .map(|&(l, c)| {
            let h = stats.hists[l][c].finish()?;
            Ok(select_hist(&h, u, cfg, ((l as u64) << 16) + c as u64)?.points.values())
        })
        .collect::<Result<_>>()?;
    let mut layers: BTreeMap<String, Vec<Vec<f64>>> = BTreeMap::new();
    for (&(l, _), pts) in jobs.iter().zip(picked) {
        layers.entry(stats.layer_names[l].clone()).or_default().push(pts);
    }
    Ok(Calibration {
        model: model_name.to_string(),
        weights_sha256: stats.weights_sha256.clone(),
        tool: crate::provenance::tool_version(),
        bits: cfg.bits,
        method: cfg.method,
        lambda: cfg.lambda,
        seed: cfg.seed,
        word_sets: u.words.clone(),
        images: stats.images.clone(),
        layers,
    })
}

impl Calibration {
    pub fn save(&self, path: &Path) -> Result<()> {
        // compact: an 8-bit calibration is 32 layers × 64 channels × 256 points
        let mut json = serde_json::to_vec(self).map_err(|e| Error::format(path, e.to_string()))?;
        json.push(b'\n');
        crate::io_util::atomic_write(path, &json)
    }

    pub fn load(path: &Path) -> Result<Self> {
        let bytes = crate::io_util::read_input(path)?;
        serde_json::from_slice(&bytes).map_err(|e| Error::format(path, format!("not a calibration file: {e}")))
    }

    /// What it was made from: model, weights, method (λ), bits.
    pub fn provenance(&self) -> Provenance {
        made_from(&self.model, &self.weights_sha256, self.method.label(self.lambda), self.bits)
    }

    /// Refuses a calibration made for another model, checkpoint, method,
    /// λ or bit-width (`what` names it in the message, e.g. `--calib F`).
    pub fn check_for(&self, model: &Model, method: Method, lambda: f64, bits: u32, what: &str) -> Result<()> {
        let want = made_from(&model.name, &model.weights_sha256(), method.label(lambda), bits);
        self.provenance().require_calibration(&want, what)
    }

    /// SHA-256 of its JSON (a result's record of which calibration it used).
    pub fn sha256(&self) -> String {
        crate::provenance::json_sha256(self)
    }

    /// Point sets per quantized layer (in `model.quant_layers()` order),
    /// checked against the model: every layer present, one set per input
    /// channel, at most 2^bits values each, all in U.
    pub fn point_sets(&self, model: &Model, u: &UniversalSet) -> Result<Vec<Vec<PointSet>>> {
        if self.word_sets != u.words {
            return Err(Error::arg("calibration", "made with different word sets than the universal set in use"));
        }
        let mut out = Vec::new();
        for (conv, _) in model.quant_layers() {
            let chans = self.layers.get(&conv.name).ok_or_else(|| {
                Error::arg("calibration", format!("no point sets for layer `{}` of {}", conv.name, model.name))
            })?;
            if chans.len() != conv.in_c {
                return Err(Error::shape(format!("calibration channels of {}", conv.name), conv.in_c, chans.len()));
            }
            let sets = chans
                .iter()
                .enumerate()
                .map(|(c, p)| {
                    if p.len() > 1 << self.bits {
                        return Err(Error::arg(
                            "calibration",
                            format!("{} channel {c}: {} points exceed 2^{}", conv.name, p.len(), self.bits),
                        ));
                    }
                    PointSet::from_values(p, u)
                        .map_err(|e| Error::arg("calibration", format!("{} channel {c}: {e}", conv.name)))
                })
                .collect::<Result<Vec<_>>>()?;
            out.push(sets);
        }
        Ok(out)
    }
}
