//! Real layer data for the vectors: the model's float forward on a small LR
//! crop, the named quantized layer's input captured on the way, converted
//! to the activation format and run through the stats unit and quantizer.
use crate::config::HwConfig;
use crate::dfsq::{calib, quantize_model, Calibration, QuantConfig};
use crate::hw::fixed::{to_fixed_all, Reg};
use crate::hw::{ChannelNorm, HwLayer};
use crate::image::{crop, make_pair, to_feature};
use crate::model::{ConvExec, Conv2d, FloatExec, Model, QuantSite};
use crate::quant::Granularity;
use crate::select::{Method, SelectConfig};
use crate::sq::UniversalSet;
use crate::{Error, Feature, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Where the vectors' data comes from.
#[derive(Clone, Debug, Serialize)]
pub struct SourceSpec {
    pub model: String,
    /// Weight and activation bits.
    pub bits: u32,
    pub layer: String,
    /// HR image; the LR is its MATLAB-bicubic downscale at the model's scale.
    pub image: PathBuf,
    /// LR crop: x, y, width, height (pixels).
    pub crop: [usize; 4],
}

/// A captured layer ready to feed the unit generators.
pub struct LayerData {
    pub layer: HwLayer,
    /// Activation (and weight) bits: the quantizer has 2^bits levels.
    pub bits: u32,
    pub post_relu: bool,
    pub h: usize,
    pub w: usize,
    /// Input in the activation format, [c][y][x].
    pub x: Vec<i64>,
    pub norms: Vec<ChannelNorm>,
    /// Quantizer index of every input activation, [c][y][x].
    pub idx: Vec<u8>,
    pub act_in_overflows: u64,
    /// `shipped:<file>` or `crop` (calibrated on the crop itself).
    pub calibration: String,
    pub u: UniversalSet,
}

/// Records the input of one quantized conv, runs every conv in float.
struct Capture {
    target: usize,
    got: Mutex<Option<(Feature, bool)>>,
}

impl ConvExec for Capture {
    fn quant_conv(&self, conv: &Conv2d, site: QuantSite, x: &Feature) -> Result<Feature> {
        if site.index == self.target {
            let mut g = self.got.lock().map_err(|_| Error::arg("vectors", "poisoned lock"))?;
            *g = Some((x.clone(), site.post_relu));
        }
        FloatExec.quant_conv(conv, site, x)
    }
}

/// The shipped calibration for a model and activation bit-width.
pub fn shipped_calibration(model: &str, bits: u32) -> PathBuf {
    crate::paths::models_dir().join("calib").join(format!("{model}_a{bits}_kmeans.json"))
}

fn lr_crop(spec: &SourceSpec, scale: usize) -> Result<Feature> {
    let pair = make_pair(&spec.image, scale)?;
    let [x, y, w, h] = spec.crop;
    Ok(to_feature(&crop(&pair.lr, x, y, w, h)?))
}

/// Runs the capture. `calib_file` overrides the shipped calibration.
pub fn capture(model: &Model, spec: &SourceSpec, cfg: &HwConfig, calib_file: Option<&Path>) -> Result<LayerData> {
    cfg.validate()?;
    let layers = model.quant_layers();
    let target = layers.iter().position(|(c, _)| c.name == spec.layer).ok_or_else(|| Error::Unknown {
        kind: format!("quantized layer of {}", model.name),
        name: spec.layer.clone(),
        known: layers.iter().map(|(c, _)| c.name.as_str()).collect::<Vec<_>>().join(", "),
    })?;
    let lr = lr_crop(spec, model.scale)?;
    let u = UniversalSet::default();
    let shipped = shipped_calibration(&model.name, spec.bits);
    let (cal, origin) = match calib_file {
        Some(p) => (Calibration::load(p)?, format!("file:{}", p.display())),
        None if shipped.exists() => {
            let name = shipped.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            (Calibration::load(&shipped)?, format!("shipped:models/calib/{name}"))
        }
        None => {
            // quick fallback: calibrate on the crop itself (k-means, seed 0)
            let stats = calib::collect(model, &[("crop".into(), lr.clone())], &u, &|_| {})?;
            let sc = SelectConfig { bits: spec.bits, method: Method::KMeans, seed: 0, ..Default::default() };
            (calib::select_all(&stats, &model.name, &u, &sc)?, "crop (k-means, seed 0)".into())
        }
    };
    // another model's, checkpoint's or bit-width's calibration is refused
    cal.check_for(model, cal.method, cal.lambda, spec.bits, &format!("calibration {origin}"))?;
    let points = cal.point_sets(model, &u)?;
    let qcfg = QuantConfig { wbits: spec.bits, abits: spec.bits, granularity: Granularity::PerOutputChannel };
    let qls = quantize_model(model, points, &qcfg)?;
    let layer = HwLayer::prepare(&qls[target], &u, cfg)?;

    let cap = Capture { target, got: Mutex::new(None) };
    model.forward(&lr, &cap)?;
    let (xf, post_relu) = cap
        .got
        .into_inner()
        .map_err(|_| Error::arg("vectors", "poisoned lock"))?
        .ok_or_else(|| Error::arg("vectors", format!("layer {} never ran", spec.layer)))?;
    let dp = &cfg.datapath;
    let reg = Reg::new(dp.act_bits, dp.overflow);
    let mut act_in_overflows = 0;
    let x = to_fixed_all(&xf.data, dp.act_frac_bits, &reg, &mut act_in_overflows);
    let hw = xf.h * xf.w;
    let norms = layer.norms(&x, hw, post_relu);
    let idx = layer.indices(&x, hw, &norms);
    Ok(LayerData { layer, bits: spec.bits, post_relu, h: xf.h, w: xf.w, x, norms, idx, act_in_overflows, calibration: origin, u })
}

impl LayerData {
    /// Whether tap (ky, kx) of output pixel (y, x) falls inside the image.
    pub fn inside(&self, y: usize, x: usize, ky: usize, kx: usize) -> Option<(usize, usize)> {
        let pad = self.layer.k / 2;
        let sy = (y + ky).checked_sub(pad)?;
        let sx = (x + kx).checked_sub(pad)?;
        (sy < self.h && sx < self.w).then_some((sy, sx))
    }
    /// Quantizer index at (c, y, x).
    pub fn index_at(&self, c: usize, y: usize, x: usize) -> usize {
        self.idx[(c * self.h + y) * self.w + x] as usize
    }
    /// Input activations of channels `chans` inside `win`, [c][y][x] (the
    /// window is then the layer's whole image).
    pub fn window_input(&self, chans: std::ops::Range<usize>, win: &super::Window) -> Result<Vec<i64>> {
        win.check(self.h, self.w)?;
        let (h, w) = (self.h, self.w);
        Ok(chans.flat_map(|c| (win.y..win.y + win.h).flat_map(move |y| (win.x..win.x + win.w).map(move |x| self.x[(c * h + y) * w + x]))).collect())
    }
    /// Weight register width: the config's, or the model's need (0 = auto).
    pub fn weight_bits(&self) -> u32 {
        match self.layer.cfg.datapath.weight_bits {
            0 => self.layer.weight_bits,
            b => b,
        }
    }
    /// The layer cut to its first `in_c` input and `out_c` output channels: a
    /// smaller conv with the same per-channel point sets, norms, weights, Δ and
    /// bias (its outputs are not the full layer's: fewer channels are summed).
    /// For sets a simulator replays in seconds.
    pub fn first_channels(&self, in_c: usize, out_c: usize) -> Result<LayerData> {
        let l = &self.layer;
        if in_c == 0 || out_c == 0 || in_c > l.in_c || out_c > l.out_c {
            return Err(Error::arg("channels", format!("{in_c},{out_c} is not within {},{} ({} has {} inputs and {} outputs)", l.in_c, l.out_c, l.name, l.in_c, l.out_c)));
        }
        let kk = l.k * l.k;
        let hw = self.h * self.w;
        let w = (0..out_c).flat_map(|o| (0..in_c).flat_map(move |c| (0..kk).map(move |t| l.weight(o, c, t)))).collect();
        let layer = HwLayer {
            name: format!("{} channels {in_c}->{out_c}", l.name),
            in_c,
            out_c,
            w,
            delta_mult: l.delta_mult[..out_c].to_vec(),
            delta_shift: l.delta_shift[..out_c].to_vec(),
            bias_fix: l.bias_fix[..out_c].to_vec(),
            quant: l.quant[..in_c].to_vec(),
            ..l.clone()
        };
        Ok(LayerData {
            layer,
            x: self.x[..in_c * hw].to_vec(),
            norms: self.norms[..in_c].to_vec(),
            idx: self.idx[..in_c * hw].to_vec(),
            u: self.u.clone(),
            calibration: self.calibration.clone(),
            ..*self
        })
    }
}
