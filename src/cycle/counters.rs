//! What one layer run on the array costs in cycles, operations and bits
//! moved. Both cycle modes fill the same struct; tests assert equality of
//! every field.
use crate::summed;
use serde::Serialize;

summed! {
@total
/// Cycles in which no new element entered the array, by cause.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stalls {
    /// Waiting for the stats pass over the whole input and the per-image
    /// set-up after it (μ̂, M̂, thresholds and μ table are needed before the
    /// first code can be made).
    pub stats: u64,
    /// Waiting for a DRAM read (codes of a block, weights).
    pub dram_read: u64,
    /// WS: waiting for the next pass's weights to be written into the PEs.
    pub weight_load: u64,
    /// OS: buffer bandwidth spaces steps apart.
    pub buffer_bw: u64,
    /// OS: one de-normalization unit per column takes one P per cycle; a
    /// channel with fewer taps than rows has to wait for it.
    pub denorm_bound: u64,
    /// After the last issue: the skewed wavefront and the de-normalization
    /// pipeline empty out.
    pub drain: u64,
    /// After the last output: outputs still being written to DRAM.
    pub dram_write: u64,
}
}

summed! {
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    pub cycles: u64,
    /// Cycles in which an element (WS: a pixel, OS: a step) entered the array.
    pub issue_cycles: u64,
    pub stalls: Stalls,
    /// Useful PE operations (shift-add products; border taps are skipped).
    pub macs: u64,
    /// De-normalization multiplies M̂_c·P, one per (o, c, pixel).
    pub denorm_mults: u64,
    /// Uniform array: column sums added into the accumulators (no multiply).
    pub psum_adds: u64,
    /// Activations through the quantizer (into the act buffer).
    pub quantized_acts: u64,
    /// Outputs requantized (one μ add, one Δ multiply, one bias add each).
    pub outputs: u64,
    /// Quantizer threshold comparisons (levels − 1 per activation quantized).
    pub comparisons: u64,
    /// Activations through the stats unit (one add, two compares each).
    pub stats_values: u64,
    /// Per-image set-up: thresholds t_j·M̂ and μ-table entries μ̂_c·Σw.
    pub threshold_mults: u64,
    pub mu_table_mults: u64,
    /// μ = Σx/n divisions (one per input channel and image).
    pub stats_divides: u64,
    /// Per-channel LUT look-ups (index → SQ code): at the quantizer, or at
    /// the act buffer's read port when it holds indices.
    pub lut_reads: u64,
    /// Term gating on: Σ active words over every MAC, and MACs whose code
    /// is all zero (0 when gating is off).
    pub word_ops: u64,
    pub zero_code_macs: u64,
    pub weight_buf_read_bits: u64,
    pub weight_buf_write_bits: u64,
    pub act_buf_read_bits: u64,
    pub act_buf_write_bits: u64,
    pub psum_read_bits: u64,
    pub psum_write_bits: u64,
    pub dram_read_bits: u64,
    pub dram_write_bits: u64,
}
}

impl Counters {

    /// Useful PE operations over PE-cycles available.
    pub fn utilization(&self, pes: usize) -> f64 {
        if self.cycles == 0 {
            return 0.0;
        }
        self.macs as f64 / (self.cycles as f64 * pes as f64)
    }
}

/// Which tiles a run covers and whether the memory system (stats pass, DMA,
/// output writes, per-image set-up) is modeled. `memory` needs every tile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunScope {
    /// Tile indices in schedule order; `None` = all.
    pub tiles: Option<Vec<usize>>,
    pub memory: bool,
}

impl RunScope {
    pub fn whole_layer() -> Self {
        RunScope { tiles: None, memory: true }
    }
    /// The first `n` tiles, standalone (codes and weights already on chip).
    pub fn first_tiles(n: usize) -> Self {
        RunScope { tiles: Some((0..n).collect()), memory: false }
    }
    pub fn tile_list(&self, n_tiles: usize) -> Vec<usize> {
        match &self.tiles {
            None => (0..n_tiles).collect(),
            Some(v) => v.iter().copied().filter(|&t| t < n_tiles).collect(),
        }
    }
}
