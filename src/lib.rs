//! sqsim — bit-accurate, cycle-level simulator of the DFSQ shift-add
//! super-resolution datapath. Layering (data flows one way):
//! `sq`, `config` → `select`, `quant` → `model`, `float` → `dfsq` → `hw` → cycle/cost/vectors → CLI.
pub mod compare;
pub mod config;
pub mod conv;
pub mod cycle;
pub mod dfsq;
pub mod error;
pub mod eval;
pub mod float;
pub mod hw;
pub mod image;
pub mod io_util;
pub mod limits;
pub mod model;
pub mod paper;
pub mod paths;
pub mod provenance;
pub mod quant;
pub mod report;
pub mod rng;
pub mod select;
pub mod sq;
pub mod summed;
pub mod sweep;
pub mod tensor;
pub mod uniform;
pub mod vectors;

pub use error::{Error, Result};
pub use tensor::Feature;
