//! RTL test vectors: per-cycle stimuli and expected outputs for the PE, the
//! threshold quantizer, the de-normalization unit (and an array tile), taken
//! from a real layer's data and the functional model's primitives, written
//! as `$readmemh` hex words + CSV + `manifest.json` (see `hw/rtl/README.md`).
pub mod pack;
pub mod source;
pub mod units;

pub use pack::{Field, Kind, Row, VectorSet};
pub use source::{capture, LayerData, SourceSpec};
pub use units::{denorm_set, pe_set, quantizer_set, Window};

use crate::config::HwConfig;
use crate::{Error, Result};
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Pe,
    Quantizer,
    Denorm,
}

impl Unit {
    pub const ALL: [Unit; 3] = [Unit::Pe, Unit::Quantizer, Unit::Denorm];
    pub fn name(self) -> &'static str {
        match self {
            Unit::Pe => "pe",
            Unit::Quantizer => "quantizer",
            Unit::Denorm => "denorm",
        }
    }
}

impl std::str::FromStr for Unit {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Unit::ALL.into_iter().find(|u| u.name() == s.to_ascii_lowercase()).ok_or_else(|| Error::Unknown {
            kind: "vector unit".into(),
            name: s.into(),
            known: "pe, quantizer, denorm".into(),
        })
    }
}

/// Builds one unit's vectors from captured layer data.
pub fn build(ld: &LayerData, unit: Unit, win: &Window, count: usize, seed: u64) -> Result<VectorSet> {
    if count == 0 {
        return Err(Error::arg("count", "must be at least 1"));
    }
    match unit {
        Unit::Pe => pe_set(ld, win, count, seed),
        Unit::Quantizer => quantizer_set(ld, win, count, seed),
        Unit::Denorm => denorm_set(ld, win, count, seed),
    }
}

/// Manifest entries that say where the vectors came from.
pub fn provenance(ld: &LayerData, spec: &SourceSpec, image_label: &str, win: &Window, count: usize, seed: u64, cfg: &HwConfig, hw_origin: &str) -> serde_json::Value {
    let ws = &ld.u.words;
    let l = &ld.layer;
    serde_json::json!({
        "source": {
            "model": spec.model,
            "bits": spec.bits,
            "layer": spec.layer,
            "layer_shape": {"in_c": l.in_c, "out_c": l.out_c, "k": l.k, "h": ld.h, "w": ld.w},
            "post_relu": ld.post_relu,
            "image": image_label,
            "lr_crop_xywh": spec.crop,
            "tile_yxhw": [win.y, win.x, win.h, win.w],
            "calibration": ld.calibration,
            "act_in_overflows": ld.act_in_overflows,
            "weight_bits_needed": l.weight_bits,
        },
        "seed": seed,
        "real_rows_requested": count,
        "code_layout": {
            "bits": ws.code_bits(),
            "fields": "[8] sign | [7:6] sel1 | [5:4] sel2 | [3:2] sel3 | [1:0] sel4 (MSB first)",
            "word_choices": ws.words.iter().map(|w| w.choices.iter().map(|c| c.map_or("off".to_string(), |s| format!("shift {s}"))).collect::<Vec<_>>()).collect::<Vec<_>>(),
            "exact_frac_bits": ld.u.frac_bits,
        },
        "hw_config_origin": hw_origin,
        "hw_config": cfg,
    })
}

/// Generates and writes one unit's vectors into `dir`.
#[allow(clippy::too_many_arguments)]
pub fn write_unit(ld: &LayerData, spec: &SourceSpec, image_label: &str, unit: Unit, win: &Window, count: usize, seed: u64, hw_origin: &str, dir: &Path) -> Result<VectorSet> {
    let set = build(ld, unit, win, count, seed)?;
    set.write(dir, provenance(ld, spec, image_label, win, count, seed, &ld.layer.cfg, hw_origin))?;
    Ok(set)
}
