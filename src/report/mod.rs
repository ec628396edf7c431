//! Sign-off report: collects accuracy vs bit-width, per-layer hardware
//! error, activation distributions of one layer, per-layer cost and SR
//! crops, then renders them (`render`) as SVG figures, CSV/JSON data and
//! one self-contained HTML page.
pub mod design;
pub mod render;
pub mod stats;

use crate::config::HwConfig;
use crate::eval::{score, super_resolve, Scores};
use crate::hw::exec::total_overflow;
use crate::image::{crop, encode_png, make_pair, RgbImage};
use crate::model::Conv2d;
use crate::model::{ConvExec, FloatExec, Model, QuantSite};
use crate::paper::{paper_drop_db, paper_minmax_drop_db};
use crate::quant::act::{channel_stats, normalize};
use crate::uniform::QMethod;
pub use design::{DesignHw, Levels, ReportDesign};
use crate::{Error, Feature, Result};
use serde::Serialize;
use stats::BoxStats;
use std::path::PathBuf;
use std::sync::Mutex;

/// Channels shown in the per-channel box plot (the first N of the layer input).
pub const MAX_CHANNELS: usize = 8;
/// Side of the square SR crop (HR pixels), smaller if the image is.
pub const CROP_SIDE: usize = 96;

pub struct ReportConfig<'a> {
    pub model: &'a Model,
    pub hw: &'a HwConfig,
    /// The quantization method of every design (DFSQ, or a uniform baseline).
    pub method: QMethod,
    /// One design per bit-width (W = A bits).
    pub configs: Vec<(u32, ReportDesign)>,
    /// (dataset name, HR image paths).
    pub datasets: Vec<(String, Vec<PathBuf>)>,
    /// Quantized layer whose input distribution is plotted.
    pub layer_index: usize,
}

#[derive(Serialize, Clone, Debug)]
pub struct AccRow {
    pub dataset: String,
    pub images: usize,
    pub bits: u32,
    pub fp_psnr: f64,
    pub fp_ssim: f64,
    pub dfsq_psnr: f64,
    pub dfsq_ssim: f64,
    pub hw_psnr: f64,
    pub hw_ssim: f64,
    pub hw_overflows: u64,
    /// The paper's FP − quantized drop of this method (Tables 2/3: its DFSQ
    /// or Min-Max column), if tabulated.
    pub paper_drop_db: Option<f64>,
    /// The method (`dfsq-kmeans`, `minmax`, …): `dfsq_*` is its float reference.
    pub method: String,
}

#[derive(Serialize, Clone, Debug)]
pub struct LayerErrRow {
    pub bits: u32,
    pub index: usize,
    pub layer: String,
    pub max_abs_err: f64,
    /// Σ(hw − float)² / Σ float² over every call of the layer.
    pub rel_err_energy: f64,
    pub overflows: u64,
}

#[derive(Serialize, Clone, Debug)]
pub struct ChannelBox {
    pub channel: usize,
    pub raw: BoxStats,
    pub norm: BoxStats,
}

#[derive(Serialize, Clone, Debug)]
pub struct ImageBox {
    pub image: String,
    pub raw: BoxStats,
    pub norm: BoxStats,
}

#[derive(Serialize, Clone, Debug)]
pub struct ActDist {
    pub layer: String,
    pub layer_index: usize,
    pub post_relu: bool,
    /// Image whose channels are shown.
    pub image: String,
    pub channels: Vec<ChannelBox>,
    /// Channel shown across images (the widest raw range of those shown).
    pub channel: usize,
    pub per_image: Vec<ImageBox>,
    /// Bit-width whose selected points are drawn.
    pub points_bits: u32,
    /// Quantization levels of `channel` in that layer: DFSQ's selected
    /// points (normalized), or a static method's per-tensor grid (raw units).
    pub points: Vec<f64>,
    pub points_raw: bool,
}

#[derive(Serialize, Clone, Debug)]
pub struct CostRow {
    pub bits: u32,
    pub layer: String,
    pub lr_width: usize,
    pub lr_height: usize,
    pub cycles: u64,
    pub macs: u64,
    pub energy_uj: f64,
    /// The same design on an integer-multiplier array (DFSQ designs; a
    /// uniform design's array already is one: empty).
    pub baseline_energy_uj: Option<f64>,
    /// PEs + de-normalization (or accumulation) + output stage only (memory
    /// energy is the same for both).
    pub arith_energy_uj: f64,
    pub baseline_arith_energy_uj: Option<f64>,
}

#[derive(Serialize, Clone, Debug)]
pub struct Crop {
    pub bits: u32,
    pub image: String,
    pub x: usize,
    pub y: usize,
    pub side: usize,
    /// Whole-image Y PSNR of each output.
    pub fp_psnr: f64,
    pub dfsq_psnr: f64,
    pub hw_psnr: f64,
    #[serde(skip)]
    pub png: CropPngs,
}

#[derive(Clone, Debug, Default)]
pub struct CropPngs {
    pub hr: Vec<u8>,
    pub fp: Vec<u8>,
    pub dfsq: Vec<u8>,
    pub hw: Vec<u8>,
}

#[derive(Serialize, Clone, Debug)]
pub struct ReportData {
    pub model: String,
    pub scale: usize,
    pub hw_config: String,
    /// `dfsq-kmeans`, `minmax`, `percentile99.99`, `dfsq-uniform`, …
    pub method: String,
    pub accuracy: Vec<AccRow>,
    pub layer_error: Vec<LayerErrRow>,
    pub activations: ActDist,
    pub cost: Vec<CostRow>,
    pub crops: Vec<Crop>,
    /// The accuracy–cost comparison (`sqsim compare --out`), when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compare: Option<crate::compare::CompareSummary>,
}

/// Index of a quantized layer by name; default: the middle one.
pub fn resolve_layer(model: &Model, name: Option<&str>) -> Result<usize> {
    let layers = model.quant_layers();
    match name {
        None => Ok(layers.len() / 2),
        Some(n) => layers.iter().position(|(c, _)| c.name == n).ok_or_else(|| Error::Unknown {
            kind: "layer".into(),
            name: n.into(),
            known: layers.iter().map(|(c, _)| c.name.as_str()).collect::<Vec<_>>().join(", "),
        }),
    }
}

/// Float executor that keeps a copy of one quantized layer's input.
struct Capture {
    index: usize,
    input: Mutex<Option<Feature>>,
}

impl ConvExec for Capture {
    fn quant_conv(&self, conv: &Conv2d, site: QuantSite, x: &Feature) -> Result<Feature> {
        if site.index == self.index {
            *self.input.lock().map_err(|_| Error::arg("capture", "poisoned lock"))? = Some(x.clone());
        }
        FloatExec.quant_conv(conv, site, x)
    }
}

/// Runs everything; `progress(done)` is called after each image.
pub fn collect(cfg: &ReportConfig, progress: &dyn Fn(usize)) -> Result<ReportData> {
    let model = cfg.model;
    let qlayers = model.quant_layers();
    let (conv, site) = *qlayers
        .get(cfg.layer_index)
        .ok_or_else(|| Error::arg("layer", format!("index {} of {} quantized layers", cfg.layer_index, qlayers.len())))?;
    if cfg.configs.is_empty() || cfg.datasets.iter().all(|(_, p)| p.is_empty()) {
        return Err(Error::arg("report", "needs at least one bit-width and one image"));
    }
    let hws: Vec<DesignHw> = cfg.configs.iter().map(|(_, d)| d.hardware(cfg.hw)).collect::<Result<_>>()?;
    let method = cfg.method.label();
    let paper_drop = |ds: &str, bits: u32| match cfg.method {
        QMethod::Dfsq(_) => paper_drop_db(&model.name, ds, bits),
        QMethod::MinMax => paper_minmax_drop_db(&model.name, ds, bits),
        _ => None,
    };
    let mut accuracy = Vec::new();
    let mut captured: Vec<(String, Feature)> = Vec::new();
    let mut crops = Vec::new();
    let mut lr_size = None;
    let mut done = 0;
    for (di, (dname, paths)) in cfg.datasets.iter().enumerate() {
        let nb = cfg.configs.len();
        let (mut fp, mut q, mut h) = (Vec::new(), vec![Vec::new(); nb], vec![Vec::new(); nb]);
        let mut ovf = vec![0u64; nb];
        for (ii, p) in paths.iter().enumerate() {
            let pair = make_pair(p, model.scale)?;
            lr_size.get_or_insert((pair.lr.width, pair.lr.height));
            let cap = Capture { index: cfg.layer_index, input: Mutex::new(None) };
            let (_, sr_fp) = super_resolve(model, &pair.lr, &cap)?;
            if di == 0 {
                if let Some(x) = cap.input.into_inner().ok().flatten() {
                    captured.push((pair.name.clone(), x));
                }
            }
            let s_fp = score(&sr_fp, &pair.hr, model.scale)?;
            fp.push(s_fp);
            for (bi, (bits, d)) in cfg.configs.iter().enumerate() {
                let (_, sr_q) = super_resolve(model, &pair.lr, d.float())?;
                let before = total_overflow(&hws[bi].reports()).total();
                let (_, sr_hw) = super_resolve(model, &pair.lr, hws[bi].exec())?;
                ovf[bi] += total_overflow(&hws[bi].reports()).total() - before;
                let (s_q, s_hw) = (score(&sr_q, &pair.hr, model.scale)?, score(&sr_hw, &pair.hr, model.scale)?);
                q[bi].push(s_q);
                h[bi].push(s_hw);
                if di == 0 && ii == 0 {
                    crops.push(make_crop(*bits, &pair.name, &pair.hr, [&sr_fp, &sr_q, &sr_hw], [s_fp, s_q, s_hw])?);
                }
            }
            done += 1;
            progress(done);
        }
        if paths.is_empty() {
            continue;
        }
        let f = Scores::mean(&fp);
        for (bi, (bits, _)) in cfg.configs.iter().enumerate() {
            let (sq, sh) = (Scores::mean(&q[bi]), Scores::mean(&h[bi]));
            accuracy.push(AccRow {
                dataset: dname.clone(),
                images: paths.len(),
                bits: *bits,
                method: method.clone(),
                fp_psnr: f.psnr,
                fp_ssim: f.ssim,
                dfsq_psnr: sq.psnr,
                dfsq_ssim: sq.ssim,
                hw_psnr: sh.psnr,
                hw_ssim: sh.ssim,
                hw_overflows: ovf[bi],
                paper_drop_db: paper_drop(dname, *bits),
            });
        }
    }
    let mut layer_error = Vec::new();
    for ((bits, _), hw) in cfg.configs.iter().zip(&hws) {
        for (index, r) in hw.reports().into_iter().enumerate() {
            layer_error.push(LayerErrRow {
                bits: *bits,
                index,
                rel_err_energy: r.err_energy / r.ref_energy.max(1e-30),
                max_abs_err: r.max_abs_err,
                overflows: r.overflow.total(),
                layer: r.name,
            });
        }
    }
    // the lowest bit-width has the fewest, most visible points
    let (points_bits, points_design) =
        cfg.configs.iter().min_by_key(|(b, _)| *b).map(|(b, d)| (*b, d)).ok_or_else(|| Error::arg("bits", "empty"))?;
    let activations = act_dist(&conv.name, cfg.layer_index, site.post_relu, &captured, points_bits, points_design)?;
    let (w, h) = lr_size.ok_or_else(|| Error::arg("report", "no images"))?;
    let mut cost = Vec::new();
    for ((bits, d), hw) in cfg.configs.iter().zip(&hws) {
        let (nc, has_baseline) = d.cost(model, *bits, hw, cfg.hw, h, w)?;
        for l in nc.layers {
            cost.push(CostRow {
                bits: *bits,
                layer: l.name,
                lr_width: w,
                lr_height: h,
                cycles: l.counters.cycles,
                macs: l.counters.macs,
                energy_uj: l.energy_pj.total / 1e6,
                baseline_energy_uj: has_baseline.then(|| l.baseline_energy_pj.total / 1e6),
                arith_energy_uj: arith(&l.energy_pj) / 1e6,
                baseline_arith_energy_uj: has_baseline.then(|| arith(&l.baseline_energy_pj) / 1e6),
            });
        }
    }
    Ok(ReportData {
        model: model.name.clone(),
        scale: model.scale,
        hw_config: cfg.hw.name.clone(),
        method,
        accuracy,
        layer_error,
        activations,
        cost,
        crops,
        compare: None,
    })
}

fn arith(e: &crate::cycle::cost::Energy) -> f64 {
    e.pe + e.denorm + e.output
}

fn act_dist(layer: &str, index: usize, post_relu: bool, captured: &[(String, Feature)], bits: u32, design: &ReportDesign) -> Result<ActDist> {
    let (first_name, first) = captured.first().ok_or_else(|| Error::arg("layer", format!("{layer} was never run")))?;
    let boxes = |x: &Feature, c: usize| -> Result<(BoxStats, BoxStats)> {
        let plane = x.plane(c);
        let st = channel_stats(plane, post_relu);
        Ok((BoxStats::of(plane)?, BoxStats::of(&normalize(plane, st))?))
    };
    let mut channels = Vec::new();
    for c in 0..first.c.min(MAX_CHANNELS) {
        let (raw, norm) = boxes(first, c)?;
        channels.push(ChannelBox { channel: c, raw, norm });
    }
    let channel = channels.iter().max_by(|a, b| (a.raw.max - a.raw.min).total_cmp(&(b.raw.max - b.raw.min))).map_or(0, |b| b.channel);
    let mut per_image = Vec::new();
    for (name, x) in captured {
        let (raw, norm) = boxes(x, channel)?;
        per_image.push(ImageBox { image: name.clone(), raw, norm });
    }
    let levels = design.levels(index, channel);
    Ok(ActDist {
        layer: layer.into(),
        layer_index: index,
        post_relu,
        image: first_name.clone(),
        channels,
        channel,
        per_image,
        points_bits: bits,
        points: levels.values,
        points_raw: levels.raw,
    })
}

fn make_crop(bits: u32, name: &str, hr: &RgbImage, sr: [&RgbImage; 3], s: [Scores; 3]) -> Result<Crop> {
    let side = CROP_SIDE.min(hr.width).min(hr.height);
    let (x, y) = ((hr.width - side) / 2, (hr.height - side) / 2);
    let enc = |img: &RgbImage| -> Result<Vec<u8>> {
        // SR outputs share the HR's (modcropped) size
        encode_png(&crop(img, x.min(img.width.saturating_sub(side)), y.min(img.height.saturating_sub(side)), side, side)?)
    };
    Ok(Crop {
        bits,
        image: name.into(),
        x,
        y,
        side,
        fp_psnr: s[0].psnr,
        dfsq_psnr: s[1].psnr,
        hw_psnr: s[2].psnr,
        png: CropPngs { hr: enc(hr)?, fp: enc(sr[0])?, dfsq: enc(sr[1])?, hw: enc(sr[2])? },
    })
}
