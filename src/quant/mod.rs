//! Quantizers: weights (asymmetric, zero point) and activations (DFSQ
//! per-channel normalization + subset quantization), float semantics.
pub mod act;
pub mod uniform;
pub mod weight;

pub use act::{channel_stats, fake_quant, ChannelStats};
pub use weight::{quantize_weights, Granularity, QuantWeights};
