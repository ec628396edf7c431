//! Cycle-stepped mode: the driver every dataflow shares. Each cycle the DRAM
//! read channel moves its bytes, the array (ws.rs / os.rs) moves every
//! register one step, the output write channel drains finished tiles, and an
//! idle issue slot is charged to the first unmet hand-shake condition. No
//! start time is computed ahead: everything waits on flags set by earlier
//! cycles, so the timing mode's closed forms are checked, not copied.
use super::counters::{Counters, RunScope};
use super::os::OsArray;
use super::plan::{JobKind, Plan};
use super::units::{ActHalf, Ctx, DenormCol, Output, PsumBuf};
use super::ws::WsArray;
use crate::config::Dataflow;
use crate::hw::{HwLayer, OverflowCounts, UniformHwLayer};
use crate::{Error, Result};

/// Register contents after one cycle (for hand-traced tests), row-major
/// over the array: the code each PE holds, its partial sum / P, and for OS
/// the weight passing through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CycleSnap {
    pub cycle: u64,
    pub code: Vec<Option<u16>>,
    pub psum: Vec<Option<i64>>,
    pub weight: Vec<Option<i64>>,
    /// Outputs written this cycle: (o, y, x, value).
    pub outputs: Vec<(usize, usize, usize, i64)>,
}

pub struct StepRun {
    /// [o][y][x]; `None` outside the stepped tiles.
    pub out: Vec<Option<i64>>,
    pub counters: Counters,
    pub overflow: OverflowCounts,
    pub trace: Vec<CycleSnap>,
}

/// Why an issue slot went unused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cause {
    BufferBw,
    Stats,
    DramRead,
    WeightLoad,
    DenormBound,
}

/// State the arrays share with the driver.
pub(crate) struct Shared<'a> {
    pub ctx: Ctx<'a>,
    pub mem: bool,
    /// (tile index, channel) of every pass, in issue order.
    pub passes: Vec<(usize, usize)>,
    pub c: Counters,
    pub ovf: OverflowCounts,
    pub out: Vec<Option<i64>>,
    pub act: [ActHalf; 2],
    pub psum: PsumBuf,
    pub cols: Vec<DenormCol>,
    /// Cycle each job's last transfer happened.
    pub job_done: Vec<Option<u64>>,
    /// Per tile: jobs it needs before its first pass.
    pub tile_jobs: Vec<Vec<usize>>,
    pub stats_done: Option<u64>,
    /// Per group: cycle its weights landed in the weight buffer; and which
    /// group each weight-buffer half holds (`usize::MAX` = all, resident).
    pub wready: Vec<Option<u64>>,
    pub wbuf_half: [Option<usize>; 2],
    pub tile_last_issue: Vec<Option<u64>>,
    pub tile_left: Vec<u64>,
    pub tile_done: Vec<Option<u64>>,
    pub outputs_now: Vec<(usize, usize, usize, i64)>,
}

impl Shared<'_> {
    /// Idle-slot cause for a pass of `tile` that could otherwise start.
    pub fn wait_cause(&self, tile: usize, first_pass_of_tile: bool, t: u64) -> Option<Cause> {
        if !self.mem {
            return None;
        }
        if self.setup_ready().is_none_or(|r| r > t) {
            return Some(Cause::Stats);
        }
        if first_pass_of_tile && self.tile_jobs[tile].iter().any(|&j| self.job_done[j].is_none_or(|d| d >= t)) {
            return Some(Cause::DramRead);
        }
        None
    }

    /// First cycle codes can be made (stats pass done, then the set-up);
    /// `None` while the stats pass runs.
    pub fn setup_ready(&self) -> Option<u64> {
        let plan = self.ctx.plan;
        if !plan.has_setup() {
            return Some(0);
        }
        let stats = if plan.has_stats_job() { self.stats_done? + 1 } else { 0 };
        Some(stats + plan.setup_cycles)
    }

    /// Codes of `tile`'s block must be on chip; standalone runs place them.
    pub fn ensure_block(&mut self, tile: usize) {
        let seq = self.ctx.plan.tile_seq[tile];
        if !self.mem && self.act[seq % 2].seq != Some(seq) {
            let b = self.ctx.plan.tiles[tile].block;
            self.act[seq % 2].fill(&self.ctx, seq, b);
        }
    }

    pub fn weights_ready(&self, group: usize, t: u64) -> bool {
        if !self.mem {
            return true;
        }
        let half_ok = self.ctx.plan.resident || self.wbuf_half[group % 2] == Some(group);
        half_ok && self.wready[group].is_some_and(|d| d < t)
    }

    pub fn emit(&mut self, o: Output, t: u64) {
        let (h, w) = (self.ctx.h, self.ctx.w);
        self.out[(o.o * h + o.y) * w + o.x] = Some(o.v);
        self.outputs_now.push((o.o, o.y, o.x, o.v));
        let ti = o.tile as usize;
        self.tile_left[ti] -= 1;
        if self.tile_left[ti] == 0 {
            self.tile_done[ti] = Some(t);
        }
    }
}

pub(crate) trait ArrayModel {
    /// One cycle: de-normalization units, issue, PE registers, loaders.
    /// Returns whether an element was issued, or why not (None: nothing left).
    fn cycle(&mut self, t: u64, sh: &mut Shared) -> Result<Result<(), Option<Cause>>>;
    fn snapshot(&self, t: u64, sh: &Shared) -> CycleSnap;
    fn all_issued(&self, sh: &Shared) -> bool;
}

/// Steps `scope` of one layer on input `x` (activation units, [c][y][x]);
/// `trace_cycles` register snapshots are kept from cycle 0.
#[allow(clippy::too_many_arguments)]
pub fn step_layer(
    layer: &HwLayer,
    plan: &Plan,
    x: &[i64],
    h: usize,
    w: usize,
    post_relu: bool,
    scope: &RunScope,
    trace_cycles: usize,
) -> Result<StepRun> {
    if plan.shape.arith != super::plan::Arith::Dfsq {
        return Err(Error::arg("cycle model", format!("{}: a uniform-array plan for a DFSQ layer", layer.name)));
    }
    run(Ctx::dfsq(layer, plan, x, h, w, post_relu)?, scope, trace_cycles)
}

/// `step_layer` for the uniform-integer datapath on its own plan
/// (`Arith::Uniform`: no stats job, codes q, products w·(q − Z)).
pub fn step_uniform_layer(layer: &UniformHwLayer, plan: &Plan, x: &[i64], h: usize, w: usize, scope: &RunScope, trace_cycles: usize) -> Result<StepRun> {
    if plan.shape.arith != super::plan::Arith::Uniform {
        return Err(Error::arg("cycle model", format!("{}: a DFSQ plan for a uniform layer", layer.name)));
    }
    run(Ctx::uniform(layer, plan, x, h, w)?, scope, trace_cycles)
}

fn run(ctx: Ctx, scope: &RunScope, trace_cycles: usize) -> Result<StepRun> {
    let (plan, h, w) = (ctx.plan, ctx.h, ctx.w);
    let (in_c, out_c) = (plan.shape.in_c, plan.shape.out_c);
    let name = ctx.arith.name().to_string();
    let tiles = scope.tile_list(plan.tiles.len());
    let mem = scope.memory && tiles.len() == plan.tiles.len();
    if scope.memory && !mem {
        return Err(Error::arg("cycle scope", "the memory system can only be modeled over the whole layer"));
    }
    let passes: Vec<(usize, usize)> = tiles.iter().flat_map(|&t| (0..in_c).map(move |c| (t, c))).collect();
    let slots = plan.tiles.iter().map(|t| t.npix).max().unwrap_or(1).max(plan.rows);
    let mut tile_jobs = vec![Vec::new(); plan.tiles.len()];
    for (i, j) in plan.jobs.iter().enumerate() {
        tile_jobs[j.needed_by].push(i);
    }
    let mut tile_left = vec![0u64; plan.tiles.len()];
    for &t in &tiles {
        tile_left[t] = (plan.tiles[t].npix * plan.tiles[t].ca) as u64;
    }
    let mut sh = Shared {
        ctx,
        mem,
        passes,
        c: Counters::default(),
        ovf: OverflowCounts::default(),
        out: vec![None; out_c * h * w],
        act: [ActHalf::default(), ActHalf::default()],
        psum: PsumBuf {
            cols: plan.cols,
            val: vec![0; slots * plan.cols],
            tag: vec![(u32::MAX, u32::MAX); slots * plan.cols],
        },
        cols: vec![DenormCol::default(); plan.cols],
        job_done: vec![None; plan.jobs.len()],
        tile_jobs,
        stats_done: None,
        wready: vec![None; plan.groups],
        wbuf_half: [None, None],
        tile_last_issue: vec![None; plan.tiles.len()],
        tile_left,
        tile_done: vec![None; plan.tiles.len()],
        outputs_now: Vec::new(),
    };
    let mut array: Box<dyn ArrayModel> = match plan.dataflow {
        Dataflow::WeightStationary => Box::new(WsArray::new(plan)),
        Dataflow::OutputStationary => Box::new(OsArray::new(plan)),
    };
    let guard = cycle_guard(plan, &sh);
    let mut dma = Channel::default();
    let mut wr = Channel::default();
    let mut trace = Vec::new();
    let mut t: u64 = 0;
    if mem && plan.has_setup() {
        // the set-up this layer's tables took (counted from the tables themselves)
        let s = &plan.shape;
        sh.c.stats_values += (s.in_c * s.h * s.w) as u64;
        sh.c.stats_divides += sh.ctx.norms_made;
        sh.c.threshold_mults += sh.ctx.threshold_mults;
        sh.c.mu_table_mults += sh.ctx.mu_entries * s.in_c as u64;
    }
    loop {
        if t > guard {
            return Err(Error::arg(
                "cycle model",
                format!("{name}: no progress after {guard} cycles (deadlock)"),
            ));
        }
        let outputs_pending = tiles.iter().any(|&ti| sh.tile_done[ti].is_none());
        if mem {
            read_channel(&mut dma, t, &mut sh);
        }
        sh.outputs_now.clear();
        match array.cycle(t, &mut sh)? {
            Ok(()) => sh.c.issue_cycles += 1,
            Err(Some(cause)) => {
                let s = &mut sh.c.stalls;
                match cause {
                    Cause::BufferBw => s.buffer_bw += 1,
                    Cause::Stats => s.stats += 1,
                    Cause::DramRead => s.dram_read += 1,
                    Cause::WeightLoad => s.weight_load += 1,
                    Cause::DenormBound => s.denorm_bound += 1,
                }
            }
            Err(None) => {
                if outputs_pending {
                    sh.c.stalls.drain += 1;
                } else {
                    sh.c.stalls.dram_write += 1;
                }
            }
        }
        let writes_done = if mem { write_channel(&mut wr, t, &tiles, &mut sh) } else { true };
        if trace.len() < trace_cycles {
            trace.push(array.snapshot(t, &sh));
        }
        if array.all_issued(&sh) && tiles.iter().all(|&ti| sh.tile_done[ti].is_some()) && writes_done {
            break;
        }
        t += 1;
    }
    sh.c.cycles = t + 1;
    Ok(StepRun { out: sh.out, counters: sh.c, overflow: sh.ovf, trace })
}

/// A DRAM channel serving one transfer at a time, `dram_milli_bytes`/1000
/// bytes per cycle.
#[derive(Default)]
struct Channel {
    next: usize,
    /// (item, milli-bits moved, milli-bits needed)
    cur: Option<(usize, u64, u64)>,
}

impl Channel {
    /// Moves one cycle of data; returns the item finished this cycle.
    fn beat(&mut self, plan: &Plan) -> Option<usize> {
        let (item, moved, need) = self.cur.as_mut()?;
        *moved += 8 * plan.dram_milli_bytes;
        if *moved >= *need {
            let i = *item;
            self.cur = None;
            return Some(i);
        }
        None
    }
}

fn read_channel(ch: &mut Channel, t: u64, sh: &mut Shared) {
    let plan = sh.ctx.plan;
    if ch.cur.is_none() && ch.next < plan.jobs.len() {
        let j = &plan.jobs[ch.next];
        let mut free = j.release_tile.is_none_or(|rt| sh.tile_last_issue[rt].is_some_and(|x| x < t));
        if matches!(j.kind, JobKind::Acts { .. }) {
            free &= sh.setup_ready().is_some_and(|r| r <= t);
        }
        if free {
            ch.cur = Some((ch.next, 0, j.bits * 1000));
            ch.next += 1;
        }
    }
    let Some(ji) = ch.beat(plan) else { return };
    let j = plan.jobs[ji];
    sh.job_done[ji] = Some(t);
    sh.c.dram_read_bits += j.bits;
    match j.kind {
        JobKind::Stats => sh.stats_done = Some(t),
        JobKind::Weights { group } => {
            sh.c.weight_buf_write_bits += j.bits;
            match group {
                None => sh.wready.iter_mut().for_each(|w| *w = Some(t)),
                Some(g) => {
                    sh.wready[g] = Some(t);
                    sh.wbuf_half[g % 2] = Some(g);
                }
            }
        }
        JobKind::Acts { block, seq } => {
            let n = sh.act[seq % 2].fill(&sh.ctx, seq, block);
            super::timing::account_acts(plan, n, &mut sh.c);
        }
    }
}

/// Output writes, one tile at a time in schedule order. Returns true when all are written.
fn write_channel(ch: &mut Channel, t: u64, tiles: &[usize], sh: &mut Shared) -> bool {
    let plan = sh.ctx.plan;
    if ch.cur.is_none() && ch.next < tiles.len() {
        let ti = tiles[ch.next];
        if sh.tile_done[ti].is_some_and(|x| x < t) {
            let tl = &plan.tiles[ti];
            let bits = (tl.npix * tl.ca) as u64 * plan.act_bits as u64;
            sh.c.dram_write_bits += bits;
            ch.cur = Some((ch.next, 0, bits * 1000));
            ch.next += 1;
        }
    }
    ch.beat(plan);
    ch.next == tiles.len() && ch.cur.is_none()
}

/// Generous upper bound on a run's cycles: exceeding it means a deadlock.
fn cycle_guard(plan: &Plan, sh: &Shared) -> u64 {
    let s = &plan.shape;
    let kk = (s.k * s.k) as u64;
    let per_pass = (plan.rows + plan.cols) as u64 + kk * (plan.weight_row_beats + plan.step_cycles) + 16;
    let elems: u64 = sh.passes.iter().map(|&(t, _)| plan.tiles[t].npix as u64 + kk * plan.step_cycles).sum();
    let dram: u64 = plan.jobs.iter().map(|j| plan.dram_cycles(j.bits)).sum::<u64>()
        + plan.tiles.iter().map(|t| plan.dram_cycles((t.npix * t.ca) as u64 * plan.act_bits as u64)).sum::<u64>();
    4 * (elems + dram + sh.passes.len() as u64 * per_pass) + 1000
}
