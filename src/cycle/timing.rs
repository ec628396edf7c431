//! Fast timing mode: the cycle counts of the stepped model without moving a
//! value. Every pass's start cycle follows from the hand-shake rules the
//! stepped controller obeys (hw/ARRAY.md §Timing), evaluated once per pass
//! (WS) or once per tile (OS, whose passes inside a tile are periodic), so a
//! whole network costs microseconds per layer. Tests compare every counter
//! with stepping, on every layer shape of the shipped models.
use super::counters::{Counters, RunScope};
use super::plan::{n_masks, Arith, Job, JobKind, Plan, DENORM_STAGES};
use crate::config::Dataflow;
use crate::{Error, Result};

/// Read-channel state: jobs are served strictly in list order.
struct ReadChannel<'a> {
    jobs: &'a [Job],
    /// (first cycle, last cycle) of every job served so far.
    done: Vec<(u64, u64)>,
    /// Per group: cycle its weights are usable in the weight buffer.
    wready: Vec<u64>,
    /// Per tile: cycle the data of the jobs it needs is usable (filled as
    /// jobs are served; a scan of every job per tile was quadratic).
    ready_at: Vec<u64>,
}

impl ReadChannel<'_> {
    /// Serves jobs up to and including every job needed by `tile`; returns
    /// the cycle the data is usable (last transfer + 1) and the stats end.
    fn serve_for(&mut self, plan: &Plan, tile: usize, tile_release: &dyn Fn(usize) -> u64, c: &mut Counters) -> u64 {
        while self.done.len() < self.jobs.len() && self.jobs[self.done.len()].needed_by <= tile {
            let j = &self.jobs[self.done.len()];
            let prev = self.done.last().map_or(0, |d| d.1 + 1);
            let mut start = prev.max(j.release_tile.map_or(0, tile_release));
            if matches!(j.kind, JobKind::Acts { .. }) {
                start = start.max(self.setup_ready(plan));
            }
            let last = start + plan.dram_cycles(j.bits) - 1;
            self.done.push((start, last));
            account_job(plan, j, c);
            match j.kind {
                JobKind::Weights { group: None } => self.wready.iter_mut().for_each(|w| *w = last + 1),
                JobKind::Weights { group: Some(g) } => self.wready[g] = last + 1,
                _ => {}
            }
            if let Some(r) = self.ready_at.get_mut(j.needed_by) {
                *r = (*r).max(last + 1);
            }
        }
        self.ready_at.get(tile).copied().unwrap_or(0)
    }

    /// First cycle codes can be made: the stats job (if any) done, then the
    /// set-up (the stats job is first in the list, so it is served by now).
    fn setup_ready(&self, plan: &Plan) -> u64 {
        if !plan.has_setup() {
            return 0;
        }
        let stats = if plan.has_stats_job() { self.done.first().map_or(0, |d| d.1 + 1) } else { 0 };
        stats + plan.setup_cycles
    }
}

/// Bits and operations a finished read job accounts for (shared with the
/// stepped model's DMA so both count one way).
pub(crate) fn account_job(plan: &Plan, j: &Job, c: &mut Counters) {
    let s = &plan.shape;
    c.dram_read_bits += j.bits;
    match j.kind {
        JobKind::Stats => {}
        JobKind::Weights { .. } => c.weight_buf_write_bits += j.bits,
        JobKind::Acts { block, .. } => account_acts(plan, (s.in_c * plan.blocks[block].halo_len(s.k, s.h, s.w)) as u64, c),
    }
}

/// The per-image set-up of a DFSQ layer, from the shape (the stepped model
/// counts its own from the tables it builds): every input value through the
/// stats unit (here, or at the producer's output path), one μ division and
/// levels − 1 threshold multiplies per channel, the μ table.
fn account_setup(plan: &Plan, c: &mut Counters) {
    let s = &plan.shape;
    c.stats_values += (s.in_c * s.h * s.w) as u64;
    c.stats_divides += s.in_c as u64;
    c.threshold_mults += (s.in_c * (s.levels - 1)) as u64;
    c.mu_table_mults += (s.out_c * n_masks(s.h, s.k) * n_masks(s.w, s.k) * s.in_c) as u64;
}

/// `n` activations quantized into the act buffer (both modes count one way):
/// the buffer words written, for DFSQ levels − 1 comparisons each and, when
/// the buffer holds codes, one LUT look-up each.
pub(crate) fn account_acts(plan: &Plan, n: u64, c: &mut Counters) {
    let s = &plan.shape;
    c.act_buf_write_bits += n * plan.buf_bits as u64;
    c.quantized_acts += n;
    if s.arith == Arith::Dfsq {
        c.comparisons += n * (s.levels - 1) as u64;
        if !plan.index_acts {
            c.lut_reads += n;
        }
    }
}

/// Term gating from the layer's measured activity (whole layers only: the
/// measure is per layer and image).
fn account_gating(plan: &Plan, whole: bool, c: &mut Counters) -> Result<()> {
    if !plan.term_gating {
        return Ok(());
    }
    let s = &plan.shape;
    let a = s.activity.ok_or_else(|| {
        Error::arg("term gating", format!("layer {}: priced from measured codes; run the bit-accurate model first (`sqsim run`, `compare`)", s.name))
    })?;
    if !whole {
        return Err(Error::arg("term gating", format!("layer {}: the measured activity covers whole layers only", s.name)));
    }
    c.word_ops += a.word_ops();
    c.zero_code_macs += a.zero_macs();
    Ok(())
}

/// Per-pass counts that do not depend on time.
pub(crate) fn account_pass(plan: &Plan, tile: usize, ch: usize, c: &mut Counters) {
    let s = &plan.shape;
    let t = &plan.tiles[tile];
    let (n, ca) = (t.npix as u64, t.ca as u64);
    let kk = (s.k * s.k) as u64;
    let taps = plan.tile_taps[tile];
    c.macs += taps * ca;
    match s.arith {
        Arith::Dfsq => c.denorm_mults += n * ca,
        Arith::Uniform => c.psum_adds += n * ca,
    }
    c.weight_buf_read_bits += kk * ca * s.weight_bits as u64;
    let reads = match plan.dataflow {
        Dataflow::WeightStationary => plan.block_window_reads[t.block],
        Dataflow::OutputStationary => taps,
    };
    c.act_buf_read_bits += plan.buf_bits as u64 * reads;
    if plan.index_acts {
        c.lut_reads += reads;
    }
    let acc = n * ca * plan.acc_bits as u64;
    if ch > 0 {
        c.psum_read_bits += acc;
    }
    if ch + 1 < s.in_c {
        c.psum_write_bits += acc;
    } else {
        c.outputs += n * ca;
    }
}

/// Cycle counts and traffic of `scope` on `plan`.
pub fn timing(plan: &Plan, scope: &RunScope) -> Result<Counters> {
    let s = &plan.shape;
    let tiles = scope.tile_list(plan.tiles.len());
    let mem = scope.memory && tiles.len() == plan.tiles.len();
    let ws = plan.dataflow == Dataflow::WeightStationary;
    let kk = (s.k * s.k) as u64;
    let (rows, cols, q) = (plan.rows as u64, plan.cols as u64, plan.step_cycles);
    let lw = plan.weight_row_beats;
    let mut c = Counters::default();
    let mut rc =
        ReadChannel { jobs: if mem { &plan.jobs } else { &[] }, done: Vec::new(), wready: vec![0; plan.groups], ready_at: vec![0; if mem { plan.tiles.len() } else { 0 }] };
    // start cycle and element count of the last two passes (WS bank rule)
    let mut hist: [(u64, u64); 2] = [(0, 0); 2];
    let mut npass: u64 = 0;
    let mut last_issue: i64 = -1; // last cycle an element entered the array
    let mut lend: i64 = -1; // last weight-load beat (WS)
    let mut stats_end = 0u64;
    let (mut compute_last, mut write_last) = (0u64, -1i64);
    // last issue cycle of each scheduled tile, for read-job releases
    let mut tile_last_issue: Vec<u64> = vec![0; plan.tiles.len()];
    for &ti in &tiles {
        let t = plan.tiles[ti];
        let n = t.npix as u64;
        let rel = |x: usize| tile_last_issue[x] + 1;
        let ready = rc.serve_for(plan, ti, &rel, &mut c);
        if mem && ti == tiles[0] && plan.has_setup() {
            stats_end = rc.setup_ready(plan);
            account_setup(plan, &mut c);
        }
        // weights of this tile's group visible in the weight buffer
        let wbuf = rc.wready.get(t.group).copied().unwrap_or(0);
        if ws {
            for ch in 0..s.in_c {
                let a = (last_issue + 1) as u64;
                let l0 = ((lend + 1) as u64).max(wbuf);
                let mut f0 = l0 + lw - 1;
                if npass >= 2 {
                    let (s2, n2) = hist[0];
                    f0 = f0.max(s2 + n2 + cols - 2);
                }
                let l_end = f0 + (kk - 1) * lw;
                let d = if ch == 0 { ready } else { 0 };
                let st = a.max(d).max(l_end + 1);
                classify(&mut c, a, a, st, stats_end, d, true);
                lend = l_end as i64;
                hist = [hist[1], (st, n)];
                npass += 1;
                last_issue = (st + n - 1) as i64;
                c.issue_cycles += n;
                account_pass(plan, ti, ch, &mut c);
            }
        } else {
            // OS: the first pass waits for data, the rest follow at a fixed period
            let gap0 = (last_issue + 1) as u64;
            let a = if npass == 0 { 0 } else { hist[1].0 + kk * q };
            let r_rule = if npass == 0 { 0 } else { hist[1].0 + rows };
            let st = a.max(ready).max(r_rule);
            classify(&mut c, gap0, a, st, stats_end, ready, false);
            let period = (kk * q).max(rows);
            let rest = s.in_c as u64 - 1;
            // later passes: (q − 1) buffer cycles after each last step, then the R rule
            c.stalls.buffer_bw += rest * (q - 1) + s.in_c as u64 * (kk - 1) * (q - 1);
            c.stalls.denorm_bound += rest * (period - kk * q);
            let st_last = st + rest * period;
            hist = [(st_last.saturating_sub(period), kk), (st_last, kk)];
            npass += s.in_c as u64;
            last_issue = (st_last + (kk - 1) * q) as i64;
            c.issue_cycles += kk * s.in_c as u64;
            for ch in 0..s.in_c {
                account_pass(plan, ti, ch, &mut c);
            }
        }
        tile_last_issue[ti] = last_issue as u64;
        let x = compute_last_of(plan, &t, hist[1].0, kk, q, rows);
        compute_last = compute_last.max(x);
        if mem {
            let bits = n * t.ca as u64 * plan.act_bits as u64;
            c.dram_write_bits += bits;
            let start = ((write_last + 1) as u64).max(x + 1);
            write_last = (start + plan.dram_cycles(bits) - 1) as i64;
        }
    }
    account_gating(plan, tiles.len() == plan.tiles.len(), &mut c)?;
    let end = if mem { compute_last.max(write_last.max(0) as u64) } else { compute_last };
    c.cycles = end + 1;
    c.stalls.drain = compute_last - last_issue as u64;
    c.stalls.dram_write = end - compute_last;
    Ok(c)
}

/// Last output cycle of a tile whose last pass started at `st`.
pub(crate) fn compute_last_of(plan: &Plan, t: &super::plan::Tile, st: u64, kk: u64, q: u64, rows: u64) -> u64 {
    match plan.dataflow {
        Dataflow::WeightStationary => st + t.npix as u64 - 1 + (rows - 1) + (t.ca as u64 - 1) + DENORM_STAGES,
        Dataflow::OutputStationary => st + (kk - 1) * q + (t.npix as u64 - 1) + (t.ca as u64 - 1) + DENORM_STAGES,
    }
}

/// Splits the idle cycles [from, st) before a pass: before `period_end`
/// the issue slot is still spaced by buffer bandwidth (OS), then the stats
/// pass, then DRAM data, then the last cause (WS weights, OS de-normalization).
fn classify(c: &mut Counters, from: u64, period_end: u64, st: u64, stats_end: u64, data: u64, ws: bool) {
    let cut = |lo: u64, hi: u64| hi.min(st).saturating_sub(lo.max(from));
    c.stalls.buffer_bw += cut(from, period_end);
    let p = period_end.max(from);
    c.stalls.stats += cut(p, stats_end);
    let p2 = p.max(stats_end);
    c.stalls.dram_read += cut(p2, data);
    let rest = st.saturating_sub(p2.max(data));
    if ws {
        c.stalls.weight_load += rest;
    } else {
        c.stalls.denorm_bound += rest;
    }
}
