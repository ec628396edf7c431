//! The uniform-integer PTQ baselines a team would build instead of DFSQ
//! (paper §4, Table 2): static per-tensor activation ranges from
//! calibration (`minmax`, `percentile`), and `dfsq-uniform` — DFSQ's
//! per-image, per-channel normalization followed by a uniform grid instead
//! of SQ points, which separates what the normalization buys from what the
//! SQ points buy. The float references live here; the bit-accurate integer
//! datapath is `hw::uniform`.
pub mod calib;
pub mod exec;

pub use calib::{collect_ranges, RangeCalibration, RangeStats};
pub use exec::{quantize_uniform_model, UniformFakeQuantExec, UniformLayer, WeightScheme};

use crate::model::Model;

use crate::select::{Method, PointSet};
use crate::sq::{UniversalSet, WordSets};
use crate::{Error, Result};

/// Default clipping percentile of `percentile`.
pub const DEFAULT_PERCENTILE: f64 = 99.99;

/// How a design quantizes activations.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum QMethod {
    /// DFSQ with the given point selection.
    Dfsq(Method),
    /// Per-tensor asymmetric, static range = calibration min/max.
    MinMax,
    /// Per-tensor asymmetric, static range clipped at the given percentile.
    Percentile(f64),
    /// DFSQ normalization + the uniform grid of [`WordSets::binary`].
    DfsqUniform,
}

impl QMethod {
    /// Parses `kmeans`, `optimal`, `minmax`, `percentile` (with `pct`),
    /// `dfsq-uniform`.
    pub fn parse(s: &str, pct: f64) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "minmax" | "min-max" => Ok(QMethod::MinMax),
            "percentile" => {
                if !(pct > 0.0 && pct <= 100.0) {
                    return Err(Error::arg("--percentile", format!("{pct} not in (0, 100]")));
                }
                Ok(QMethod::Percentile(pct))
            }
            "dfsq-uniform" | "dfsq_uniform" => Ok(QMethod::DfsqUniform),
            other => other.parse::<Method>().map(QMethod::Dfsq).map_err(|_| Error::Unknown {
                kind: "quantization method".into(),
                name: s.into(),
                known: "kmeans, optimal, minmax, percentile, dfsq-uniform".into(),
            }),
        }
    }

    /// `dfsq`, `minmax`, `percentile`, `dfsq-uniform` (the JSON `method`).
    pub fn family(&self) -> &'static str {
        match self {
            QMethod::Dfsq(_) => "dfsq",
            QMethod::MinMax => "minmax",
            QMethod::Percentile(_) => "percentile",
            QMethod::DfsqUniform => "dfsq-uniform",
        }
    }

    /// A short label: `dfsq-kmeans`, `minmax`, `percentile99.99`, `dfsq-uniform`.
    pub fn label(&self) -> String {
        match self {
            QMethod::Dfsq(m) => format!("dfsq-{}", m.name()),
            QMethod::Percentile(p) => format!("percentile{p}"),
            m => m.family().to_string(),
        }
    }

    /// The clipping percentile of `percentile`, else None.
    pub fn percentile(&self) -> Option<f64> {
        if let QMethod::Percentile(p) = self {
            Some(*p)
        } else {
            None
        }
    }

    /// Static per-tensor ranges (the integer datapath) rather than DFSQ's
    /// per-image normalization.
    pub fn is_static(&self) -> bool {
        matches!(self, QMethod::MinMax | QMethod::Percentile(_))
    }
}

/// `dfsq-uniform` at `bits` on `model`: its universal set (the grid) and,
/// for every input channel of every quantized layer, the whole grid as the
/// point set.
pub fn grid_points(model: &Model, bits: u32) -> Result<(UniversalSet, Vec<Vec<PointSet>>)> {
    let u = UniversalSet::new(WordSets::binary(bits)?)?;
    let p = PointSet::from_values(&u.values(), &u)?;
    let points = model.quant_layers().iter().map(|(c, _)| vec![p.clone(); c.in_c]).collect();
    Ok((u, points))
}
