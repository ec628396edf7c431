//! Resource limits: every accepted input finishes in bounded time and
//! memory on a 2-core, 24 GiB machine. Each command estimates its work
//! before it starts and refuses above these limits (README "Limits", where
//! the memory and time at each limit are measured). One table, one check.
use crate::{Error, Result};

/// Largest LR input (pixels) a forward pass (`run`, `accuracy`, `sweep`,
/// `compare`, `report`, `calibrate`) or a cost estimate (`cost`) takes:
/// 2,097,152 px, e.g. 2048×1024 (DIV2K's largest LR at ×2 is 1020×1020).
pub const MAX_LR_PIXELS: u64 = 1 << 21;

/// Tiles per quantized layer `run --steps` steps through the cycle model.
pub const MAX_STEPS: u64 = 32;

/// Real rows per unit `vectors --count` writes.
pub const MAX_VECTORS: u64 = 1_000_000;

/// Samples `select --samples` reads, and the file's size in bytes.
pub const MAX_SAMPLES: u64 = 10_000_000;
pub const MAX_SAMPLE_FILE_BYTES: u64 = 256 << 20;

/// Exhaustive selection: subsets × samples × points distance evaluations.
pub const MAX_EXHAUSTIVE_WORK: u128 = 4_000_000_000;

/// Configurations one `sweep` evaluates (all shards together).
pub const MAX_SWEEP_CANDIDATES: u64 = 1024;

/// Refuses `value` of `what` above `limit` (`unit` says what is counted).
pub fn check(what: &str, value: u128, limit: u128, unit: &str) -> Result<()> {
    if value > limit {
        return Err(Error::Limit { what: what.to_string(), value: value.to_string(), limit: format!("{limit} {unit}") });
    }
    Ok(())
}

/// An LR input of `w`×`h` for `what` (a file or flag).
pub fn check_lr_pixels(what: &str, w: usize, h: usize) -> Result<()> {
    let px = (w as u128).saturating_mul(h as u128);
    if px > MAX_LR_PIXELS as u128 {
        return Err(Error::Limit {
            what: format!("{what} (LR {w}x{h})"),
            value: format!("{px} px"),
            limit: format!("{MAX_LR_PIXELS} px"),
        });
    }
    Ok(())
}
