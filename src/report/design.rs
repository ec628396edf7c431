//! The design a report is about, at one bit-width: DFSQ (or dfsq-uniform)
//! on the DFSQ datapath, or a static uniform method (minmax, percentile)
//! on the uniform-integer datapath. Each supplies its float reference, its
//! bit-accurate executor, the quantization levels of one channel and its
//! per-layer cost; `collect` treats them alike.
use crate::config::HwConfig;
use crate::cycle::cost::CostTable;
use crate::cycle::exec::{network_cost, network_shapes, uniform_network_cost, uniform_network_shapes, NetworkCost};
use crate::dfsq::FakeQuantExec;
use crate::hw::{HwExec, LayerReport, UniformHwExec};
use crate::model::{ConvExec, Model};
use crate::sq::UniversalSet;
use crate::uniform::UniformFakeQuantExec;
use crate::Result;

pub enum ReportDesign {
    /// DFSQ point sets (or dfsq-uniform's grid) decoded with `u`.
    Dfsq { u: UniversalSet, fq: FakeQuantExec },
    /// Static per-tensor ranges on the uniform-integer datapath.
    Uniform(UniformFakeQuantExec),
}

/// A design's bit-accurate executor, comparing every layer with the
/// design's float reference on the same input.
pub enum DesignHw<'a> {
    Dfsq(HwExec<'a>),
    Uniform(UniformHwExec<'a>),
}

impl DesignHw<'_> {
    pub fn exec(&self) -> &dyn ConvExec {
        match self {
            DesignHw::Dfsq(h) => h,
            DesignHw::Uniform(h) => h,
        }
    }
    pub fn reports(&self) -> Vec<LayerReport> {
        match self {
            DesignHw::Dfsq(h) => h.reports(),
            DesignHw::Uniform(h) => h.reports(),
        }
    }
}

/// Quantization levels of one channel of a layer input, and whether they
/// are in raw activation units (static ranges) or normalized ([−1, 1]).
pub struct Levels {
    pub values: Vec<f64>,
    pub raw: bool,
}

impl ReportDesign {
    pub fn float(&self) -> &dyn ConvExec {
        match self {
            ReportDesign::Dfsq { fq, .. } => fq,
            ReportDesign::Uniform(fq) => fq,
        }
    }

    pub fn hardware(&self, cfg: &HwConfig) -> Result<DesignHw<'_>> {
        Ok(match self {
            ReportDesign::Dfsq { u, fq } => DesignHw::Dfsq(HwExec::new(&fq.layers, u, cfg, Some(fq))?),
            ReportDesign::Uniform(fq) => DesignHw::Uniform(UniformHwExec::new(&fq.layers, cfg)?.with_reference(fq)),
        })
    }

    /// DFSQ: the channel's selected points (normalized). Static ranges: the
    /// layer's per-tensor grid, (k − Z)·S for every code k.
    pub fn levels(&self, layer: usize, channel: usize) -> Levels {
        match self {
            ReportDesign::Dfsq { fq, .. } => Levels {
                values: fq.layers.get(layer).and_then(|l| l.points.get(channel)).map(|p| p.values()).unwrap_or_default(),
                raw: false,
            },
            ReportDesign::Uniform(fq) => Levels {
                values: fq
                    .layers
                    .get(layer)
                    .map(|l| (0..1i64 << l.act.bits).map(|k| (k - l.act.zero_point) as f64 * l.act.scale).collect())
                    .unwrap_or_default(),
                raw: true,
            },
        }
    }

    /// The whole network's cost on an h×w LR image, through the timing
    /// model of the design's own array, and whether it has an
    /// integer-multiplier baseline of the same design (DFSQ only: a uniform
    /// array already is one).
    pub fn cost(&self, model: &Model, bits: u32, hw: &DesignHw, cfg: &HwConfig, h: usize, w: usize) -> Result<(NetworkCost, bool)> {
        let table = CostTable::default();
        match (self, hw) {
            (ReportDesign::Dfsq { u, .. }, _) => {
                let shapes = network_shapes(model, bits, bits, &u.words, cfg, h, w)?;
                Ok((network_cost(&shapes, &u.words, cfg, &table)?, true))
            }
            (ReportDesign::Uniform(_), DesignHw::Uniform(e)) => {
                let shapes = uniform_network_shapes(model, &e.layers, bits, cfg, h, w)?;
                Ok((uniform_network_cost(&shapes, bits, cfg, &table)?, false))
            }
            (ReportDesign::Uniform(_), DesignHw::Dfsq(_)) => Err(crate::Error::arg("report", "a uniform design with a DFSQ executor")),
        }
    }
}
