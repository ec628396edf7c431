//! Cycle-level model of the shift-add MAC array (DATAPATH.md §4, hw/ARRAY.md).
//!
//! * [`plan`]: the tile schedule of one conv (blocks, output-channel groups,
//!   passes, DRAM jobs) for a weight-stationary or output-stationary array.
//! * [`step_layer`]: cycle-stepped mode — codes, weights and partial sums
//!   move register by register; the arithmetic is the functional model's
//!   own (`shift_add`, `Reg::fit`, `HwLayer::denorm_term` / `mu_term` /
//!   `requantize`), so outputs are bit-identical to `HwLayer::run_reference`.
//! * [`timing`]: the same cycle counts without moving data, for whole networks.
//! * [`cost`]: energy and area from a documented per-operation table, beside
//!   a conventional integer-multiplier array of the same size.
pub mod cost;
pub mod counters;
pub mod exec;
mod os;
pub mod plan;
mod step;
pub mod timing;
mod units;
mod ws;

pub use counters::{Counters, RunScope, Stalls};
pub use plan::{LayerShape, Plan};
pub use step::{step_layer, step_uniform_layer, CycleSnap, StepRun};
pub use timing::timing;
