//! SR networks (EDSR, RDN, the ISR TF.js RDN), their loaders and the
//! interpreter seam: a model runs its non-quantized convs in float and hands
//! every quantized conv (DATAPATH §1) to a [`ConvExec`], which may run it in
//! float, fake-quantize it, record calibration samples, or run the
//! bit-accurate datapath.
mod edsr;
mod isr;
pub mod load;
mod rdn;

pub use crate::conv::Conv2d;
pub use load::StateDict;

use crate::{Error, Feature, Result};
use std::path::Path;

/// Where a quantized conv sits: `index` is its position in
/// [`Model::quant_layers`]; `post_relu` says its input is a ReLU output
/// (the activation quantizer then uses μ = 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuantSite {
    pub index: usize,
    pub post_relu: bool,
}

/// Runs the quantized convs. Float = plain conv; other implementors fake-quantize,
/// record calibration samples, or run the bit-accurate datapath.
pub trait ConvExec: Sync {
    fn quant_conv(&self, conv: &Conv2d, site: QuantSite, x: &Feature) -> Result<Feature>;
}

/// The unquantized reference: every quantized conv is a plain float conv.
pub struct FloatExec;

impl ConvExec for FloatExec {
    fn quant_conv(&self, conv: &Conv2d, _site: QuantSite, x: &Feature) -> Result<Feature> {
        crate::float::conv2d(x, conv)
    }
}

/// Calls the executor and checks it returned the conv's output shape, so a
/// faulty executor fails here with the layer's name rather than downstream.
pub(crate) fn run_quant(exec: &dyn ConvExec, conv: &Conv2d, site: QuantSite, x: &Feature) -> Result<Feature> {
    let y = exec.quant_conv(conv, site, x)?;
    if (y.c, y.h, y.w) != (conv.out_c, x.h, x.w) || y.data.len() != y.c * y.h * y.w {
        return Err(Error::shape(
            format!("{} executor output", conv.name),
            format!("{}x{}x{}", conv.out_c, x.h, x.w),
            format!("{}x{}x{} ({} values)", y.c, y.h, y.w, y.data.len()),
        ));
    }
    Ok(y)
}

/// EDSR-PyTorch MeanShift (rgb_range 255, std 1).
pub const RGB_MEAN: [f32; 3] = [0.4488, 0.4371, 0.4040];

/// The pixel range a checkpoint was trained on: `--rgb-range` when given
/// (1 or 255), else read from its MeanShift bias (−range·mean), else 255
/// (EDSR-PyTorch's default; a state dict cannot say otherwise).
pub(crate) fn rgb_range(sd: &StateDict, given: Option<f32>) -> Result<f32> {
    if let Some(r) = given {
        if r != 1.0 && r != 255.0 {
            return Err(Error::arg("--rgb-range", format!("{r}: must be 1 or 255")));
        }
        return Ok(r);
    }
    Ok(match sd.get("sub_mean.bias") {
        // a bias that is neither fails the MeanShift check, which prints it
        Some(b) if b.data.len() == 3 && (-b.data[0] / RGB_MEAN[0] - 1.0).abs() < 0.01 => 1.0,
        _ => 255.0,
    })
}

/// Per-channel offset a MeanShift adds (`sign` −1: sub_mean, +1: add_mean).
/// Uses the checkpoint's tensors when present (after checking they are the
/// standard MeanShift for `range`), else computes them as PyTorch does in
/// float32 (`sign * range * mean`).
pub(crate) fn mean_shift_offsets(sd: &StateDict, prefix: &str, sign: f32, range: f32) -> Result<[f32; 3]> {
    let expected: [f32; 3] = RGB_MEAN.map(|m| sign * (range * m));
    let (w, b) = (sd.get(&format!("{prefix}.weight")), sd.get(&format!("{prefix}.bias")));
    let (w, b) = match (w, b) {
        (None, None) => return Ok(expected),
        (Some(w), Some(b)) => (w, b),
        _ => {
            return Err(Error::MissingKey {
                path: sd.path.clone(),
                keys: format!("{prefix}.weight and {prefix}.bias must both be present"),
            })
        }
    };
    let eye = |i: usize| if i / 3 == i % 3 { 1.0 } else { 0.0 };
    let w_ok = w.shape == [3, 3, 1, 1] && w.data.iter().enumerate().all(|(i, v)| (v - eye(i)).abs() <= 1e-6);
    // within 1e-3, or one ulp of the dtype it was saved in (f16/bf16 cannot hold 255·mean exactly)
    let b_ok = b.shape == [3] && b.data.iter().zip(&expected).all(|(v, e)| (v - e).abs() <= 1e-3f32.max(b.ulp(*e)));
    if !(w_ok && b_ok) {
        return Err(Error::format(
            &sd.path,
            format!(
                "{prefix} is not the EDSR MeanShift (identity weight, bias {expected:?} for rgb_range {range}): weight {:?}, bias {:?}",
                w.data, b.data
            ),
        ));
    }
    Ok([b.data[0], b.data[1], b.data[2]])
}

#[derive(Clone, Debug)]
enum Arch {
    Edsr(Box<edsr::Edsr>),
    Rdn(Box<rdn::Rdn>),
    Isr(Box<isr::IsrRdn>),
}

/// A loaded SR network. Input and output are RGB 0..255 (CHW); the output
/// is not clamped.
#[derive(Clone, Debug)]
pub struct Model {
    pub name: String,
    pub scale: usize,
    arch: Arch,
    /// [`Model::weights_sha256`], computed once (the weights never change
    /// after loading; every provenance check asks for it).
    weights_hash: std::sync::OnceLock<String>,
}

impl Model {
    fn new(name: String, scale: usize, arch: Arch) -> Self {
        Model { name, scale, arch, weights_hash: std::sync::OnceLock::new() }
    }


    pub fn forward(&self, lr: &Feature, exec: &dyn ConvExec) -> Result<Feature> {
        if lr.c != 3 || lr.h == 0 || lr.w == 0 || lr.data.len() != lr.c * lr.h * lr.w {
            return Err(Error::shape(
                format!("{} input", self.name),
                "3 x H x W RGB with H, W >= 1",
                format!("{}x{}x{} ({} values)", lr.c, lr.h, lr.w, lr.data.len()),
            ));
        }
        let run = |x: &Feature| match &self.arch {
            Arch::Edsr(m) => m.forward(x, exec),
            Arch::Rdn(m) => m.forward(x, exec),
            Arch::Isr(m) => m.forward(x, exec),
        };
        // a network on [0, 1] (the ISR RDN, `rgb_range 1`) sees RGB / 255 and its output is scaled back
        let range = self.rgb_range();
        if range == 255.0 {
            return run(lr);
        }
        let mut x = lr.clone();
        crate::float::ops::scale(&mut x, range / 255.0);
        let mut y = run(&x)?;
        crate::float::ops::scale(&mut y, 255.0 / range);
        Ok(y)
    }

    /// Every conv in forward order, with its quantization site if quantized.
    pub fn all_layers(&self) -> Vec<(&Conv2d, Option<QuantSite>)> {
        match &self.arch {
            Arch::Edsr(m) => m.layers(),
            Arch::Rdn(m) => m.layers(),
            Arch::Isr(m) => m.layers(),
        }
    }

    /// The quantized convs in forward order; entry `i` has `site.index == i`.
    pub fn quant_layers(&self) -> Vec<(&Conv2d, QuantSite)> {
        self.all_layers().into_iter().filter_map(|(c, s)| s.map(|s| (c, s))).collect()
    }

    /// SHA-256 over every conv's name, shape, weights and bias (f32 LE), in
    /// forward order: the same network from .pt or .safetensors hashes
    /// alike; any changed weight changes it. Provenance of calibrations and
    /// results.
    pub fn weights_sha256(&self) -> String {
        self.weights_hash
            .get_or_init(|| {
                use sha2::{Digest, Sha256};
                let mut h = Sha256::new();
                h.update(self.arch_name().as_bytes());
                for (c, _) in self.all_layers() {
                    h.update((c.name.len() as u64).to_le_bytes());
                    h.update(c.name.as_bytes());
                    for d in [c.in_c, c.out_c, c.k] {
                        h.update((d as u64).to_le_bytes());
                    }
                    for v in c.weight.iter().chain(&c.bias) {
                        h.update(v.to_le_bytes());
                    }
                }
                crate::provenance::hex(&h.finalize())
            })
            .clone()
    }

    pub fn param_count(&self) -> usize {
        self.all_layers().iter().map(|(c, _)| c.param_count()).sum()
    }

    /// `--quantize all`: every conv becomes a quantized conv (a real integer
    /// accelerator runs every layer), for every method. The model is renamed
    /// `NAME+all`, so calibrations made for the body convs alone are not
    /// reused for it. EDSR only for now.
    pub fn quantize_all(&mut self) -> Result<()> {
        match &mut self.arch {
            Arch::Edsr(m) => {
                if !m.quant_all {
                    m.quant_all = true;
                    self.name = format!("{}+all", self.name);
                }
                Ok(())
            }
            Arch::Rdn(m) => {
                if !m.quant_all {
                    m.quant_all = true;
                    self.name = format!("{}+all", self.name);
                }
                Ok(())
            }
            // its upsampler's UPN1 is 5×5: 25 taps do not fit the 9 rows of
            // a weight-stationary array that maps one tap per row
            Arch::Isr(_) => Err(Error::arg(
                "--quantize all",
                format!("{} is {}: its upsampler conv UPN1 is 5×5, and the weight-stationary array maps one tap per row (25 taps > 9 rows; tap folding is not modelled); EDSR and EDSR-PyTorch RDN checkpoints quantize every conv", self.name, self.arch_name()),
            )),
        }
    }

    /// The pixel range the network computes on: 1 for the ISR RDN and
    /// checkpoints trained with `rgb_range 1`, else 255. Picks the hardware
    /// preset (activations 255× smaller need more fractional bits).
    pub fn rgb_range(&self) -> f32 {
        match &self.arch {
            Arch::Edsr(m) => m.rgb_range,
            Arch::Rdn(m) => m.rgb_range,
            Arch::Isr(_) => 1.0,
        }
    }

    /// Checkpoint tensors left out as not part of the network (EMA or other
    /// copies outside the wrapper used, heads of other tasks, counters).
    pub fn ignored_keys(&self) -> &[String] {
        match &self.arch {
            Arch::Edsr(m) => &m.ignored,
            Arch::Rdn(m) => &m.ignored,
            Arch::Isr(_) => &[],
        }
    }

    /// `"edsr"`, `"rdn"` or `"isr_rdn"`.
    pub fn arch_name(&self) -> &'static str {
        match &self.arch {
            Arch::Edsr(_) => "edsr",
            Arch::Rdn(_) => "rdn",
            Arch::Isr(_) => "isr_rdn",
        }
    }

    /// One-line summary: architecture, blocks, features, scale, sizes.
    pub fn describe(&self) -> String {
        let arch = match &self.arch {
            Arch::Edsr(m) => format!(
                "EDSR x{}: {} residual blocks, {} feats, res_scale {}, rgb_range {}",
                m.scale, m.n_resblocks, m.n_feats, m.res_scale, m.rgb_range
            ),
            Arch::Rdn(m) => format!(
                "RDN x{}: D={} RDBs, C={} convs, G={}, G0={}, MeanShift {}, rgb_range {}",
                m.scale,
                m.d,
                m.c,
                m.g,
                m.g0,
                if m.mean.is_some() { "yes" } else { "no" },
                m.rgb_range
            ),
            Arch::Isr(m) => format!(
                "ISR RDN (TF.js) x{}: D={} RDBs, C={} convs, G={}, G0={}, {} graph nodes",
                m.scale,
                m.d,
                m.c,
                m.g,
                m.g0,
                m.n_layers()
            ),
        };
        format!(
            "{}: {arch}; {} convs ({} quantized), {} params",
            self.name,
            self.all_layers().len(),
            self.quant_layers().len(),
            self.param_count()
        )
    }
}

/// Models shipped in the repo's `models/` folder.
pub fn builtin_names() -> &'static [&'static str] {
    &["edsr_x2", "edsr_x4", "rdn_x2", "rdn_x4"]
}

/// Loads a shipped model by name from [`crate::paths::models_dir`].
/// `rdn_*` are the ISR TF.js RDNs (`models/isr_rdn/x2|x4`).
pub fn load_builtin(name: &str) -> Result<Model> {
    let dir = crate::paths::models_dir();
    let path = match name {
        "edsr_x2" => dir.join("edsr_x2.pt"),
        "edsr_x4" => dir.join("edsr_x4.pt"),
        "rdn_x2" => dir.join("isr_rdn").join("x2").join("model.json"),
        "rdn_x4" => dir.join("isr_rdn").join("x4").join("model.json"),
        _ => {
            return Err(Error::Unknown {
                kind: "model".into(),
                name: name.into(),
                known: builtin_names().join(", "),
            })
        }
    };
    let mut m = load_path(&path)?;
    m.name = name.to_string();
    Ok(m)
}

/// Loads `.pt`/`.pth`/`.safetensors` (EDSR or RDN, told apart by keys) or a
/// TF.js `model.json` (or a directory holding one).
pub fn load_path(path: &Path) -> Result<Model> {
    load_path_with(path, None)
}

/// As [`load_path`], with the pixel range given (`--rgb-range`; the ISR
/// TF.js RDN is always 1 and refuses another).
pub fn load_path_with(path: &Path, rgb_range: Option<f32>) -> Result<Model> {
    let is_json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if path.is_dir() || is_json {
        if rgb_range.is_some_and(|r| r != 1.0) {
            return Err(Error::arg("--rgb-range", "the ISR TF.js RDN computes on RGB in [0, 1]: only 1"));
        }
        let m = isr::IsrRdn::load(path)?;
        // Name a TF.js model after its directory (`x2`), not `model`.
        let dir = if path.is_dir() { Some(path) } else { path.parent() };
        let name = dir.and_then(|d| d.file_name()).map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        return Ok(Model::new(name, m.scale, Arch::Isr(Box::new(m))));
    }
    let sd = StateDict::read(path)?;
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    from_state_dict_with(name, &sd, rgb_range)
}

/// Builds EDSR (`head.0.weight`) or RDN (`SFENet1.weight`) from a state dict.
pub fn from_state_dict(name: impl Into<String>, sd: &StateDict) -> Result<Model> {
    from_state_dict_with(name, sd, None)
}

pub fn from_state_dict_with(name: impl Into<String>, sd: &StateDict, rgb_range: Option<f32>) -> Result<Model> {
    let name = name.into();
    if sd.contains("SFENet1.weight") {
        let m = rdn::Rdn::from_state_dict(sd, rgb_range)?;
        Ok(Model::new(name, m.scale, Arch::Rdn(Box::new(m))))
    } else if sd.contains("head.0.weight") {
        let m = edsr::Edsr::from_state_dict(sd, rgb_range)?;
        Ok(Model::new(name, m.scale, Arch::Edsr(Box::new(m))))
    } else {
        let first: Vec<&str> = sd.tensors.keys().take(5).map(String::as_str).collect();
        Err(Error::format(
            &sd.path,
            format!(
                "not an EDSR (head.0.weight) or RDN (SFENet1.weight) state dict, at the top level or under any of {:?}; first keys: {}",
                load::WRAPPER_KEYS,
                first.join(", ")
            ),
        ))
    }
}
