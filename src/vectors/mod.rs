//! RTL test vectors: per-cycle stimuli and expected outputs for the PE, the
//! threshold quantizer, the stats unit and its M̂/μ̂ encoder, the threshold
//! generator, the de-normalization unit, the μ term with its D3 add, the
//! output requantization D4, the line buffer (and an array tile), taken
//! from a real layer's data and the functional model's primitives, written
//! as `$readmemh` hex words + CSV + `manifest.json` (see `hw/rtl/README.md`).
pub mod array;
pub mod layer;
pub mod linebuf;
pub mod outstage;
pub mod pack;
pub mod source;
pub mod stats;
pub mod thresh;
pub mod units;
pub mod vcd;

pub use pack::{Field, Kind, Row, VectorSet};
pub use source::{capture, LayerData, SourceSpec};
pub use outstage::{mu_set, requant_set};
pub use stats::{norm_set, stats_set};
pub use thresh::thresh_set;
pub use units::{denorm_set, pe_set, quantizer_set, Window};

use crate::{Error, Result};
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Pe,
    Quantizer,
    Denorm,
    Stats,
    Norm,
    Thresh,
    Mu,
    Requant,
    Array,
    /// The activation line buffer / window generator.
    LineBuf,
    Layer,
    /// The layer engine with integer-multiplier PEs (the baseline of the same array).
    LayerInt,
}

impl Unit {
    pub const ALL: [Unit; 12] = [
        Unit::Pe,
        Unit::Quantizer,
        Unit::Denorm,
        Unit::Stats,
        Unit::Norm,
        Unit::Thresh,
        Unit::Mu,
        Unit::Requant,
        Unit::Array,
        Unit::LineBuf,
        Unit::Layer,
        Unit::LayerInt,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Unit::Pe => "pe",
            Unit::Quantizer => "quantizer",
            Unit::Denorm => "denorm",
            Unit::Stats => "stats",
            Unit::Norm => "norm",
            Unit::Thresh => "thresh",
            Unit::Mu => "mu",
            Unit::Requant => "requant",
            Unit::Array => "array",
            Unit::LineBuf => "linebuf",
            Unit::Layer => "layer",
            Unit::LayerInt => "layer_int",
        }
    }
    /// A whole layer for the engine (thousands of loads and cycles; not in `--unit all`).
    pub fn is_whole_layer(self) -> bool {
        matches!(self, Unit::Layer | Unit::LayerInt)
    }
    /// The testbench module in hw/tb that replays the unit's sets (also
    /// `hw/run_rtl.sh`'s table).
    pub fn testbench(self) -> &'static str {
        match self {
            Unit::Pe => "tb_pe",
            Unit::Quantizer => "tb_quant",
            Unit::Denorm => "tb_denorm",
            Unit::Stats => "tb_stats",
            Unit::Norm => "tb_norm",
            Unit::Thresh => "tb_thresh",
            Unit::Mu => "tb_mu",
            Unit::Requant => "tb_requant",
            Unit::Array => "tb_array",
            Unit::LineBuf => "tb_linebuf",
            Unit::Layer | Unit::LayerInt => "tb_layer",
        }
    }
}

impl std::str::FromStr for Unit {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Unit::ALL.into_iter().find(|u| u.name() == s.to_ascii_lowercase()).ok_or_else(|| Error::Unknown {
            kind: "vector unit".into(),
            name: s.into(),
            known: Unit::ALL.map(Unit::name).join(", "),
        })
    }
}

/// Builds one unit's vectors from captured layer data, with unit-specific
/// manifest notes (the array tile's shape; null otherwise). `count` is the
/// number of real rows (the array tile's length follows from its window;
/// the encoder's real rows are the layer's channels, `count` random ones follow).
pub fn build(ld: &LayerData, unit: Unit, win: &Window, count: usize, seed: u64) -> Result<(VectorSet, serde_json::Value)> {
    if count == 0 {
        return Err(Error::arg("count", "must be at least 1"));
    }
    let none = serde_json::Value::Null;
    Ok(match unit {
        Unit::Pe => (pe_set(ld, win, count, seed)?, none),
        Unit::Quantizer => (quantizer_set(ld, win, count, seed)?, none),
        Unit::Denorm => (denorm_set(ld, win, count, seed)?, none),
        Unit::Stats => (stats_set(ld, win, count, seed)?, none),
        Unit::Norm => (norm_set(ld, count, seed)?, none),
        Unit::Thresh => (thresh_set(ld, count, seed)?, none),
        Unit::Mu => (mu_set(ld, win, count, seed)?, none),
        Unit::Requant => (requant_set(ld, win, count, seed)?, none),
        Unit::Array => array::array_set(ld, win, seed)?,
        Unit::LineBuf => (linebuf::linebuf_set(ld, win, count, seed)?, none),
        Unit::Layer => layer::layer_set(ld, win, layer::EnginePe::ShiftAdd)?,
        Unit::LayerInt => layer::layer_set(ld, win, layer::EnginePe::IntMult)?,
    })
}

/// One unit's vectors to write, and the labels the manifest records.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    pub unit: Unit,
    pub window: Window,
    /// Real rows (ignored by the array tile, whose length follows from its window).
    pub count: usize,
    pub seed: u64,
    /// The image and hardware config as the manifest names them (relative to
    /// the sqsim home when inside it, so manifests do not depend on checkouts).
    pub image_label: &'a str,
    pub hw_origin: &'a str,
}

/// Manifest entries that say where the vectors came from.
pub fn provenance(ld: &LayerData, spec: &SourceSpec, req: &Request) -> serde_json::Value {
    let ws = &ld.u.words;
    let l = &ld.layer;
    let win = &req.window;
    serde_json::json!({
        "source": {
            "model": spec.model,
            "bits": spec.bits,
            "layer": spec.layer,
            "layer_shape": {"in_c": l.in_c, "out_c": l.out_c, "k": l.k, "h": ld.h, "w": ld.w},
            // differs from `layer` when --channels cut the conv
            "layer_name": l.name,
            "post_relu": ld.post_relu,
            "image": req.image_label,
            "lr_crop_xywh": spec.crop,
            "tile_yxhw": [win.y, win.x, win.h, win.w],
            "calibration": ld.calibration,
            "act_in_overflows": ld.act_in_overflows,
            "weight_bits_needed": l.weight_bits,
        },
        "seed": req.seed,
        "real_rows_requested": req.count,
        "code_layout": {
            "bits": ws.code_bits(),
            "fields": "[8] sign | [7:6] sel1 | [5:4] sel2 | [3:2] sel3 | [1:0] sel4 (MSB first)",
            "word_choices": ws.words.iter().map(|w| w.choices.iter().map(|c| c.map_or("off".to_string(), |s| format!("shift {s}"))).collect::<Vec<_>>()).collect::<Vec<_>>(),
            "exact_frac_bits": ld.u.frac_bits,
        },
        "hw_config_origin": req.hw_origin,
        "hw_config": l.cfg,
    })
}

/// Generates and writes one unit's vectors into `dir`.
pub fn write_unit(ld: &LayerData, spec: &SourceSpec, req: &Request, dir: &Path) -> Result<VectorSet> {
    let (set, info) = build(ld, req.unit, &req.window, req.count, req.seed)?;
    let mut extra = provenance(ld, spec, req);
    if let (Some(m), false) = (extra.as_object_mut(), info.is_null()) {
        m.insert("unit_info".into(), info);
    }
    set.write(dir, extra)?;
    Ok(set)
}
