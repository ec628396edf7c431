//! The DFSQ method in float: calibration and the fake-quant reference.
pub mod calib;
pub mod exec;

pub use calib::{Calibration, CalibStats};
pub use exec::{quantize_model, FakeQuantExec, QuantConfig, QuantLayer};
