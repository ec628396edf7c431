//! The float reference of the static uniform methods: weights fake-quantized
//! per output channel, each quantized conv's input fake-quantized on its
//! layer's static per-tensor grid, then a float conv with Ŵ.
use crate::model::{ConvExec, Conv2d, Model, QuantSite};
use crate::quant::uniform::{ActQuant, Range};
use crate::quant::weight::quantize_weights_symmetric;
use crate::quant::{quantize_weights, Granularity, QuantWeights};
use crate::{Error, Feature, Result};

/// How the integer baselines quantize weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum WeightScheme {
    /// DFSQ's weight quantizer (asymmetric min/max per output channel;
    /// w = q + zp needs b + 1 bits): the paper's Min-Max baseline.
    #[default]
    Asymmetric,
    /// Symmetric per output channel, w = q in b bits (TFLite int8).
    Symmetric,
}

/// One quantized conv of a static uniform design.
#[derive(Clone, Debug)]
pub struct UniformLayer {
    pub qweights: QuantWeights,
    pub deq_conv: Conv2d,
    pub act: ActQuant,
}

/// Quantizes every quantized layer's weights at `wbits` and builds its
/// activation grid at `abits` from its static range.
pub fn quantize_uniform_model(
    model: &Model,
    ranges: &[Range],
    wbits: u32,
    abits: u32,
    scheme: WeightScheme,
) -> Result<Vec<UniformLayer>> {
    let layers = model.quant_layers();
    if ranges.len() != layers.len() {
        return Err(Error::shape("activation ranges per quantized layer", layers.len(), ranges.len()));
    }
    layers
        .iter()
        .zip(ranges)
        .map(|((conv, _), &r)| {
            let (o, i, k) = (conv.out_c, conv.in_c, conv.k);
            let qw = match scheme {
                WeightScheme::Asymmetric => {
                    quantize_weights(&conv.name, &conv.weight, o, i, k, wbits, Granularity::PerOutputChannel)?
                }
                WeightScheme::Symmetric => quantize_weights_symmetric(&conv.name, &conv.weight, o, i, k, wbits)?,
            };
            let deq_conv = Conv2d { weight: qw.dequantize(), ..(*conv).clone() };
            let act = ActQuant::new(r, abits).map_err(|e| Error::arg(format!("{} activation range", conv.name), e.to_string()))?;
            Ok(UniformLayer { qweights: qw, deq_conv, act })
        })
        .collect()
}

/// Fake-quant executor of a static uniform design.
pub struct UniformFakeQuantExec {
    pub layers: Vec<UniformLayer>,
}

impl ConvExec for UniformFakeQuantExec {
    fn quant_conv(&self, conv: &Conv2d, site: QuantSite, x: &Feature) -> Result<Feature> {
        let l = self.layers.get(site.index).ok_or_else(|| {
            Error::arg("quantized layer", format!("{} has index {} beyond {}", conv.name, site.index, self.layers.len()))
        })?;
        crate::float::conv2d(&l.act.fake_quant(x), &l.deq_conv)
    }
}
