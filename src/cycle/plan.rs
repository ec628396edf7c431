//! The static schedule of one quantized conv on the MAC array: layer shape,
//! spatial blocks, output-channel groups, tiles, passes and DMA jobs. Both
//! cycle modes (stepped and timing) walk this same loop nest; neither reads
//! times from here — when things happen is decided by each mode on its own.
//!
//! Loop nest (hw/ARRAY.md):
//! * weights resident (the layer fits the weight buffer): blocks outer,
//!   output-channel groups inner — codes come from DRAM once;
//! * otherwise: groups outer, blocks inner — each group's weights come from
//!   DRAM once into one half of the weight buffer, codes once per group.
//!
//! Within a tile (WS: one block × one group; OS: R pixels of a block × one
//! group) there is one pass per input channel, in channel order.
use crate::config::{ActStore, Dataflow, HwConfig};
use crate::hw::HwLayer;
use crate::sq::WordSets;
use crate::{Error, Result};
use serde::Serialize;

/// Which datapath a layer runs on: it decides the PE, the stats pass, the
/// accumulator and what is counted (hw/ARRAY.md "Uniform-integer array").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Arith {
    /// Shift-add PEs, stats pass, per-channel de-normalization.
    #[default]
    Dfsq,
    /// Integer multipliers on b-bit codes with a zero point; no stats pass;
    /// column sums accumulate across input channels (psum adds, no multiply).
    Uniform,
}

/// What the cycle model needs to know about a quantized conv.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LayerShape {
    pub name: String,
    pub in_c: usize,
    pub out_c: usize,
    pub k: usize,
    /// Input (= output) spatial size.
    pub h: usize,
    pub w: usize,
    /// Width of the weight register w = q + zp (signed).
    pub weight_bits: u32,
    /// SQ code width and the number of words (shifters per PE).
    pub code_bits: u32,
    pub n_words: usize,
    /// F: exact fractional bits of the universal set (baseline operand = F + 2 bits).
    pub uset_frac_bits: u32,
    /// Quantization levels per channel (2^abits): the comparator bank has levels − 1.
    pub levels: usize,
    pub arith: Arith,
    /// Measured words of the codes this layer's PEs receive on one image
    /// (from the functional model); term gating is priced from it.
    pub activity: Option<crate::hw::Activity>,
}

impl LayerShape {
    /// The shape of a prepared datapath layer on an `h`×`w` input.
    pub fn of(layer: &HwLayer, words: &WordSets, abits: u32, h: usize, w: usize) -> Self {
        Self::dfsq(&layer.name, (layer.in_c, layer.out_c, layer.k), (h, w), (layer.cfg.datapath.weight_bits, layer.weight_bits), words, abits)
    }

    /// A DFSQ conv: `words`' SQ codes in the act buffer.
    pub(crate) fn dfsq(name: &str, dims: (usize, usize, usize), hw: (usize, usize), wb: (u32, u32), words: &WordSets, abits: u32) -> Self {
        LayerShape {
            code_bits: words.code_bits(),
            n_words: words.words.len(),
            uset_frac_bits: words.exact_frac_bits(),
            ..Self::conv(name, dims, hw, wb, abits, Arith::Dfsq)
        }
    }

    /// The shape of a uniform-integer layer on an `h`×`w` input: its own
    /// weight width, `abits`-bit codes in the act buffer.
    pub fn of_uniform(layer: &crate::hw::UniformHwLayer, h: usize, w: usize) -> Self {
        LayerShape {
            code_bits: layer.abits,
            ..Self::conv(&layer.name, (layer.in_c, layer.out_c, layer.k), (h, w), (layer.cfg.datapath.weight_bits, layer.weight_bits), layer.abits, Arith::Uniform)
        }
    }

    /// What both datapaths share: the conv's dimensions, the weight
    /// register (the config's width, else the layer's own), 2^abits levels.
    fn conv(name: &str, (in_c, out_c, k): (usize, usize, usize), (h, w): (usize, usize), (fixed_wb, own_wb): (u32, u32), abits: u32, arith: Arith) -> Self {
        LayerShape {
            name: name.to_string(),
            in_c,
            out_c,
            k,
            h,
            w,
            weight_bits: if fixed_wb != 0 { fixed_wb } else { own_wb },
            code_bits: 0,
            n_words: 0,
            uset_frac_bits: 0,
            levels: 1usize << abits.min(16),
            arith,
            activity: None,
        }
    }

    /// Activation bits: log2(levels).
    pub fn abits(&self) -> u32 {
        self.levels.max(2).trailing_zeros()
    }

    pub fn macs(&self) -> u64 {
        // useful products only: border taps are skipped
        let ry: u64 = (0..self.h).map(|y| inside_1d(self.h, self.k, y) as u64).sum();
        let rx: u64 = (0..self.w).map(|x| inside_1d(self.w, self.k, x) as u64).sum();
        ry * rx * (self.in_c * self.out_c) as u64
    }
}

/// Number of taps t in 0..k whose source i + t − k/2 lies in 0..n.
#[inline]
pub fn inside_1d(n: usize, k: usize, i: usize) -> usize {
    (0..k).filter(|&t| crate::hw::border::inside(i, t, n, k)).count()
}

/// An output rectangle whose input codes (with halo) fit one act-buffer half.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Block {
    pub y0: usize,
    pub x0: usize,
    pub bh: usize,
    pub bw: usize,
}

impl Block {
    pub fn pixels(&self) -> usize {
        self.bh * self.bw
    }
    /// The halo rectangle clipped to the image: (y0, y1, x0, x1), exclusive ends.
    pub fn halo(&self, k: usize, h: usize, w: usize) -> (usize, usize, usize, usize) {
        let p = k / 2;
        (
            self.y0.saturating_sub(p),
            (self.y0 + self.bh + p).min(h),
            self.x0.saturating_sub(p),
            (self.x0 + self.bw + p).min(w),
        )
    }
    pub fn halo_len(&self, k: usize, h: usize, w: usize) -> usize {
        let (a, b, c, d) = self.halo(k, h, w);
        (b - a) * (d - c)
    }
}

/// One tile: the unit whose accumulators live in the psum buffer together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Tile {
    pub block: usize,
    pub group: usize,
    /// First pixel (block raster index) and pixel count: WS the whole block,
    /// OS up to `rows` pixels.
    pub pix0: usize,
    pub npix: usize,
    /// Active columns (output channels of this group).
    pub ca: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum JobKind {
    /// Whole input through the stats unit (μ̂, M̂ of every channel).
    Stats,
    /// Weights into the weight buffer: every group (resident) or one.
    Weights { group: Option<usize> },
    /// Activations of a block (halo, clipped) through the quantizer into
    /// act-buffer half `seq % 2` (`seq` counts act loads in schedule order).
    Acts { block: usize, seq: usize },
}

/// One DRAM read, served in list order by the read channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Job {
    pub kind: JobKind,
    pub bits: u64,
    /// The buffer half this job fills is free once this tile's last pass has
    /// issued its last element.
    pub release_tile: Option<usize>,
    /// The first tile that needs the data.
    pub needed_by: usize,
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub shape: LayerShape,
    pub dataflow: Dataflow,
    pub rows: usize,
    pub cols: usize,
    pub acc_bits: u32,
    pub act_bits: u32,
    pub blocks: Vec<Block>,
    pub groups: usize,
    pub resident: bool,
    pub tiles: Vec<Tile>,
    /// Act-load sequence number of each tile (which act-buffer fill it reads).
    pub tile_seq: Vec<usize>,
    /// Per tile: taps inside the image summed over its pixels; per block:
    /// codes the WS window generator reads in one pass (both cached).
    pub tile_taps: Vec<u64>,
    pub block_window_reads: Vec<u64>,
    pub jobs: Vec<Job>,
    /// WS: cycles to write one PE row of weights (bus beats).
    pub weight_row_beats: u64,
    /// OS: cycles per step (buffer bandwidth for a row of codes and a row of weights).
    pub step_cycles: u64,
    /// DRAM bandwidth in thousandths of a byte per cycle (integer: both modes agree exactly).
    pub dram_milli_bytes: u64,
    /// Bits per activation in the act buffer (SQ code, or b-bit index).
    pub buf_bits: u32,
    /// Levers (hw/ARRAY.md "Architecture levers").
    pub term_gating: bool,
    pub index_acts: bool,
    pub producer_stats: bool,
    /// DFSQ: cycles from the last channel's statistics to thresholds and μ
    /// table ready (no act load starts and no pass issues before).
    pub setup_cycles: u64,
}

/// Bits one activation occupies in the act buffer.
pub fn buf_bits(s: &LayerShape, cfg: &HwConfig) -> u32 {
    match (s.arith, cfg.levers.act_buffer) {
        (Arith::Dfsq, ActStore::Index) => s.abits(),
        _ => s.code_bits,
    }
}

/// Activations the quantizer (and the stats unit) take per cycle: one lane
/// per activation word the DRAM channel delivers.
pub fn quantizer_lanes(cfg: &HwConfig) -> u64 {
    ((cfg.array.dram_bytes_per_cycle * 8.0) / cfg.datapath.act_bits as f64).ceil().max(1.0) as u64
}

/// Set-up work of one input channel once its Σx/min/max exist: the
/// sequential divider for μ (one quotient bit per cycle over the
/// accumulator width), its thresholds t_j·M̂ on the quantizer lanes' threshold
/// multipliers, its μ-table terms μ̂_c·Σw on the columns' de-normalization
/// multipliers (idle before the first pass).
pub fn setup_cycles_per_channel(s: &LayerShape, cfg: &HwConfig) -> u64 {
    let mu_entries = (s.out_c * n_masks(s.h, s.k) * n_masks(s.w, s.k)) as u64;
    cfg.datapath.denorm_acc_bits as u64
        + ceil_div((s.levels - 1) as u64, quantizer_lanes(cfg))
        + ceil_div(mu_entries, cfg.array.cols as u64)
}

/// Pipeline depth of the de-normalization unit: a P entering it in cycle X
/// leaves as an output in cycle X + 3 (term, accumulate, μ, requantize).
pub const DENORM_STAGES: u64 = 4;

pub fn ceil_div(a: u64, b: u64) -> u64 {
    a.div_ceil(b.max(1))
}

impl Plan {
    pub fn new(shape: &LayerShape, cfg: &HwConfig) -> Result<Self> {
        let a = &cfg.array;
        let s = shape;
        let kk = s.k * s.k;
        if s.in_c == 0 || s.out_c == 0 || s.k == 0 || s.h == 0 || s.w == 0 {
            return Err(Error::shape(format!("{} layer", s.name), "non-empty in_c, out_c, k, h, w", format!("{s:?}")));
        }
        let (rows, cols) = (a.rows, a.cols);
        let acc_bits = plan_acc_bits(s, cfg);
        let lv = &cfg.levers;
        if s.arith == Arith::Uniform && !lv.is_default() {
            return Err(Error::config(
                "levers",
                format!("{} are DFSQ architecture options; the uniform-integer array has none (layer {})", lv.tags().join(", "), s.name),
            ));
        }
        if lv.term_gating && s.activity.is_some_and(|a| a.macs() != s.macs()) {
            return Err(Error::arg(
                "term gating",
                format!("layer {}: measured activity covers {} MACs, the layer has {}", s.name, s.activity.map_or(0, |a| a.macs()), s.macs()),
            ));
        }
        if s.arith == Arith::Uniform && a.dataflow != Dataflow::WeightStationary {
            return Err(Error::config(
                "array.dataflow",
                "the uniform-integer array is modelled weight-stationary only (hw/ARRAY.md)",
            ));
        }
        let bus_bits = (a.buffer_bytes_per_cycle * 8) as u64;
        let psum_bits = (a.psum_buffer_bytes * 8) as u64;
        if a.dataflow == Dataflow::WeightStationary && rows < kk {
            return Err(Error::config(
                "array.rows",
                format!(
                    "{rows} rows cannot hold the {kk} taps of layer {} (weight-stationary maps one tap per row)",
                    s.name
                ),
            ));
        }
        if a.dataflow == Dataflow::OutputStationary && (rows * cols) as u64 * acc_bits as u64 > psum_bits {
            return Err(Error::config("array.psum_buffer_bytes", format!("too small for {rows}×{cols} accumulators")));
        }
        let (bh, bw) = block_dims(s, cfg)?;
        let mut blocks = Vec::new();
        for y0 in (0..s.h).step_by(bh) {
            for x0 in (0..s.w).step_by(bw) {
                blocks.push(Block { y0, x0, bh: bh.min(s.h - y0), bw: bw.min(s.w - x0) });
            }
        }
        let groups = s.out_c.div_ceil(cols);
        let ca = |g: usize| cols.min(s.out_c - g * cols);
        let wbuf_bits = (a.weight_buffer_bytes * 8) as u64;
        let layer_w_bits = (s.out_c * s.in_c * kk) as u64 * s.weight_bits as u64;
        let resident = layer_w_bits <= wbuf_bits;
        let group_w_bits = |g: usize| (ca(g) * s.in_c * kk) as u64 * s.weight_bits as u64;
        if !resident && 2 * group_w_bits(0) > wbuf_bits {
            return Err(Error::config(
                "array.weight_buffer_bytes",
                format!(
                    "layer {} needs {} bytes for two output-channel groups of weights",
                    s.name,
                    (2 * group_w_bits(0)).div_ceil(8)
                ),
            ));
        }
        // tiles in schedule order, with the act-buffer "sequence" they belong to
        let mut tiles = Vec::new();
        let mut seq_of_tile = Vec::new();
        let order: Vec<(usize, usize)> = if resident {
            (0..blocks.len()).flat_map(|b| (0..groups).map(move |g| (b, g))).collect()
        } else {
            (0..groups).flat_map(|g| (0..blocks.len()).map(move |b| (b, g))).collect()
        };
        for (i, &(b, g)) in order.iter().enumerate() {
            let n = blocks[b].pixels();
            let step = if a.dataflow == Dataflow::WeightStationary { n } else { rows };
            for pix0 in (0..n).step_by(step) {
                tiles.push(Tile { block: b, group: g, pix0, npix: step.min(n - pix0), ca: ca(g) });
                seq_of_tile.push(if resident { b } else { i });
            }
        }
        // DMA jobs, in channel order
        let act_bits = cfg.datapath.act_bits;
        // first and last tile of each act sequence and each group, in one pass
        // (a search per job was quadratic in the tiles)
        let (seq_span, group_span) = (spans(seq_of_tile.iter().copied()), spans(tiles.iter().map(|t| t.group)));
        let first_tile = |span: &[Option<(usize, usize)>], i: usize| span.get(i).copied().flatten().map_or(0, |f| f.0);
        let last_tile = |span: &[Option<(usize, usize)>], i: usize| span.get(i).copied().flatten().map(|f| f.1);
        let act_job = |seq: usize, b: usize| Job {
            kind: JobKind::Acts { block: b, seq },
            bits: (s.in_c * blocks[b].halo_len(s.k, s.h, s.w)) as u64 * act_bits as u64,
            release_tile: if seq >= 2 { last_tile(&seq_span, seq - 2) } else { None },
            needed_by: first_tile(&seq_span, seq),
        };
        // DFSQ: the whole input through the stats unit first; uniform: none
        let mut jobs = Vec::new();
        if s.arith == Arith::Dfsq && !lv.producer_stats {
            jobs.push(Job {
                kind: JobKind::Stats,
                bits: (s.in_c * s.h * s.w) as u64 * act_bits as u64,
                release_tile: None,
                needed_by: 0,
            });
        }
        if resident {
            jobs.push(Job {
                kind: JobKind::Weights { group: None },
                bits: layer_w_bits,
                release_tile: None,
                needed_by: 0,
            });
            for b in 0..blocks.len() {
                jobs.push(act_job(b, b));
            }
        } else {
            for g in 0..groups {
                jobs.push(Job {
                    kind: JobKind::Weights { group: Some(g) },
                    bits: group_w_bits(g),
                    release_tile: if g >= 2 { last_tile(&group_span, g - 2) } else { None },
                    needed_by: first_tile(&group_span, g),
                });
                for b in 0..blocks.len() {
                    jobs.push(act_job(g * blocks.len() + b, b));
                }
            }
        }
        let weight_row_beats = ceil_div(cols as u64 * s.weight_bits as u64, bus_bits).max(1);
        let bb = buf_bits(s, cfg);
        let step_cycles = ceil_div(cols as u64 * s.weight_bits as u64, bus_bits)
            .max(ceil_div(rows as u64 * bb as u64, bus_bits))
            .max(1);
        let dram_milli_bytes = ((a.dram_bytes_per_cycle * 1000.0).round() as u64).max(1);
        let mut plan = Plan {
            shape: s.clone(),
            dataflow: a.dataflow,
            rows,
            cols,
            acc_bits,
            act_bits,
            blocks,
            groups,
            resident,
            tiles,
            tile_seq: seq_of_tile,
            tile_taps: Vec::new(),
            block_window_reads: Vec::new(),
            jobs,
            weight_row_beats,
            step_cycles,
            dram_milli_bytes,
            buf_bits: bb,
            term_gating: lv.term_gating,
            index_acts: s.arith == Arith::Dfsq && lv.act_buffer == ActStore::Index,
            producer_stats: lv.producer_stats,
            setup_cycles: 0,
        };
        if s.arith == Arith::Dfsq {
            plan.setup_cycles = plan.exposed_setup(setup_cycles_per_channel(s, cfg));
        }
        let in_x: Vec<usize> = std::iter::once(0)
            .chain((0..s.w).scan(0, |acc, x| {
                *acc += inside_1d(s.w, s.k, x);
                Some(*acc)
            }))
            .collect();
        plan.tile_taps = plan.tiles.iter().map(|t| plan.count_tile_taps(t, &in_x)).collect();
        plan.block_window_reads = (0..plan.blocks.len()).map(|b| plan.count_window_reads(b)).collect();
        Ok(plan)
    }

    /// Whether the layer's input first goes through the stats unit (DFSQ);
    /// the uniform array and producer-side stats have no stats job.
    pub fn has_stats_job(&self) -> bool {
        self.jobs.first().is_some_and(|j| j.kind == JobKind::Stats)
    }

    /// Whether the layer has the per-image set-up (DFSQ, either stats mode).
    pub fn has_setup(&self) -> bool {
        self.shape.arith == Arith::Dfsq
    }

    /// Set-up cycles left after the last channel's statistics exist. The
    /// stats pass delivers channel planes one after another (one every
    /// `plane` cycles), so the set-up unit works behind it and only its tail
    /// shows; with producer-side stats every channel is ready at layer start
    /// and the unit runs them back to back.
    fn exposed_setup(&self, per_channel: u64) -> u64 {
        let s = &self.shape;
        let n = s.in_c as u64;
        if self.producer_stats {
            return n * per_channel;
        }
        let plane = self.dram_cycles((s.h * s.w) as u64 * self.act_bits as u64);
        if plane >= per_channel {
            per_channel
        } else {
            n * per_channel - (n - 1) * plane
        }
    }

    /// Cycles one DRAM transfer of `bits` occupies its channel.
    pub fn dram_cycles(&self, bits: u64) -> u64 {
        ceil_div(bits * 1000, 8 * self.dram_milli_bytes).max(1)
    }

    /// Output channel of column `col` in group `g`.
    pub fn out_channel(&self, g: usize, col: usize) -> usize {
        g * self.cols + col
    }

    /// (y, x) of pixel `i` (block raster order) of block `b`.
    pub fn pixel_yx(&self, b: usize, i: usize) -> (usize, usize) {
        let bl = &self.blocks[b];
        (bl.y0 + i / bl.bw, bl.x0 + i % bl.bw)
    }

    /// Taps inside the image for the pixels of a tile (useful products per
    /// channel and column). The border is separable, Σ in(y)·in(x), so each
    /// block row the tile covers adds in(y) times a range of `in_x`, the
    /// prefix sums of the taps inside per column (`in_x[x]` = Σ_(x' < x)).
    fn count_tile_taps(&self, t: &Tile, in_x: &[usize]) -> u64 {
        let s = &self.shape;
        let bl = &self.blocks[t.block];
        let (mut i, end) = (t.pix0, t.pix0 + t.npix);
        let mut taps = 0;
        while i < end {
            let (r, c0) = (i / bl.bw, i % bl.bw);
            let c1 = (c0 + end - i).min(bl.bw);
            taps += inside_1d(s.h, s.k, bl.y0 + r) * (in_x[bl.x0 + c1] - in_x[bl.x0 + c0]);
            i += c1 - c0;
        }
        taps as u64
    }

    /// Codes the WS window generator reads for one pass over a block: each
    /// output row reads its window's in-image columns once (sliding window).
    fn count_window_reads(&self, b: usize) -> u64 {
        let s = &self.shape;
        let bl = &self.blocks[b];
        let (_, _, hx0, hx1) = bl.halo(s.k, s.h, s.w);
        (bl.y0..bl.y0 + bl.bh).map(|y| (inside_1d(s.h, s.k, y) * (hx1 - hx0)) as u64).sum()
    }
}

/// (first, last) index at which each value 0.. occurs in `ids`.
fn spans(ids: impl Iterator<Item = usize>) -> Vec<Option<(usize, usize)>> {
    let mut v: Vec<Option<(usize, usize)>> = Vec::new();
    for (t, id) in ids.enumerate() {
        if v.len() <= id {
            v.resize(id + 1, None);
        }
        v[id] = Some(v[id].map_or((t, t), |(f, _)| (f, t)));
    }
    v
}

/// Largest block: whole rows when a full-width row fits, else part of a row.
fn block_dims(s: &LayerShape, cfg: &HwConfig) -> Result<(usize, usize)> {
    let a = &cfg.array;
    let p = s.k / 2;
    let half_bits = (a.act_buffer_bytes * 8 / 2) as u64;
    let psum_bits = (a.psum_buffer_bytes * 8) as u64;
    let acc = plan_acc_bits(s, cfg) as u64;
    let ws = a.dataflow == Dataflow::WeightStationary;
    let fits = |bh: usize, bw: usize| {
        let codes = (s.in_c * (bh + 2 * p) * (bw + 2 * p)) as u64 * buf_bits(s, cfg) as u64;
        codes <= half_bits && (!ws || (bh * bw * a.cols) as u64 * acc <= psum_bits)
    };
    let largest = |n: usize, f: &dyn Fn(usize) -> bool| {
        // f is monotone: true up to some size
        let (mut lo, mut hi) = (0usize, n);
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if f(mid) {
                lo = mid
            } else {
                hi = mid - 1
            }
        }
        lo
    };
    if fits(1, s.w) {
        Ok((largest(s.h, &|bh| fits(bh, s.w)), s.w))
    } else {
        let bw = largest(s.w, &|bw| fits(1, bw));
        if bw == 0 {
            return Err(Error::config(
                "array.act_buffer_bytes",
                format!(
                    "half the act buffer cannot hold one pixel's codes with halo for layer {} ({} channels)",
                    s.name, s.in_c
                ),
            ));
        }
        Ok((1, bw))
    }
}

/// Width of a psum-buffer accumulator: the de-normalization accumulator
/// (DFSQ) or the uniform datapath's accumulator.
pub fn plan_acc_bits(s: &LayerShape, cfg: &HwConfig) -> u32 {
    match s.arith {
        Arith::Dfsq => cfg.datapath.denorm_acc_bits,
        Arith::Uniform => cfg.uniform.acc_bits,
    }
}

/// Distinct masks of inside taps along one axis of length `n` (μ-table rows).
pub fn n_masks(n: usize, k: usize) -> usize {
    crate::hw::border::AxisMasks::new(n, k).masks.len()
}
