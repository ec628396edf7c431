//! The DFSQ float reference (DATAPATH.md §1): weights fake-quantized per
//! output channel, activations normalized per image and channel, snapped to
//! the layer's point set, de-normalized, zero-padded, then a float conv.
use crate::model::{ConvExec, Conv2d, Model, QuantSite};
use crate::quant::{act::fake_quant, quantize_weights, Granularity, QuantWeights};
use crate::select::PointSet;
use crate::{Error, Feature, Result};

/// Quantization settings shared by the float reference and the datapath.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuantConfig {
    pub wbits: u32,
    pub abits: u32,
    pub granularity: Granularity,
}

impl Default for QuantConfig {
    fn default() -> Self {
        QuantConfig { wbits: 4, abits: 4, granularity: Granularity::PerOutputChannel }
    }
}

/// Per quantized layer: integer weights and the float conv with Ŵ.
pub struct QuantLayer {
    pub qweights: QuantWeights,
    pub deq_conv: Conv2d,
    pub points: Vec<PointSet>,
}

/// Quantizes every quantized layer's weights and pairs it with its points.
pub fn quantize_model(model: &Model, points: Vec<Vec<PointSet>>, cfg: &QuantConfig) -> Result<Vec<QuantLayer>> {
    let layers = model.quant_layers();
    if points.len() != layers.len() {
        return Err(Error::shape("point sets per quantized layer", layers.len(), points.len()));
    }
    layers
        .iter()
        .zip(points)
        .map(|((conv, _), pts)| {
            let qw = quantize_weights(&conv.name, &conv.weight, conv.out_c, conv.in_c, conv.k, cfg.wbits, cfg.granularity)?;
            let deq_conv = Conv2d { weight: qw.dequantize(), ..(*conv).clone() };
            Ok(QuantLayer { qweights: qw, deq_conv, points: pts })
        })
        .collect()
}

/// Fake-quant executor: the float reference every hardware number is
/// judged against.
pub struct FakeQuantExec {
    pub layers: Vec<QuantLayer>,
}

impl ConvExec for FakeQuantExec {
    fn quant_conv(&self, conv: &Conv2d, site: QuantSite, x: &Feature) -> Result<Feature> {
        let l = self.layers.get(site.index).ok_or_else(|| {
            Error::arg("quantized layer", format!("{} has index {} beyond {}", conv.name, site.index, self.layers.len()))
        })?;
        let a = fake_quant(x, site.post_relu, &l.points)?;
        crate::float::conv2d(&a, &l.deq_conv)
    }
}
