//! The bit-accurate functional model of the shift-add datapath
//! (DATAPATH.md §3): fixed-point registers, the stats unit, the threshold
//! quantizer, the PE product, de-normalization and requantization — the
//! primitives the cycle model reuses — plus a naive and a fast layer kernel
//! that agree bit for bit, and the executor that runs whole models.
pub mod activity;
mod bands;
pub mod border;
pub mod exec;
pub mod fast;
pub mod fixed;
mod gemm;
pub mod layer;
pub mod quantizer;
pub mod stats;
pub mod uniform;

pub use activity::Activity;
pub use exec::{HwExec, LayerReport};
pub use fixed::{OverflowCounts, Reg};
pub use layer::{HwLayer, LayerRun};
pub use stats::{channel_norm, encode_norm, ChannelNorm, ChannelStats};
pub use uniform::{UniformHwExec, UniformHwLayer};
