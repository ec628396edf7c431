//! Output-stationary array, register by register. PE (r, col) owns output
//! pixel r of the tile for output channel group·cols + col. Each step (one
//! tap of one input channel) a code per row enters at the left and a weight
//! per column at the top, both skewed; the PE accumulates P over the k·k
//! taps of the channel in row-major order, then hands P to its column's
//! de-normalization unit over a shared bus. The skew serializes the rows,
//! so the bus carries one P per cycle if channels are at least `rows` steps apart.
use super::plan::Plan;
use super::step::{ArrayModel, Cause, CycleSnap, Shared};
use super::units::{count_gating, Item};
use crate::{Error, Result};

#[derive(Clone, Copy, Default)]
struct CTok {
    valid: bool,
    op: bool,
    raw: u16,
    pass: u32,
    step: u16,
}

#[derive(Clone, Copy, Default)]
struct WTok {
    valid: bool,
    w: i64,
    pass: u32,
    step: u16,
}

pub(crate) struct OsArray {
    rows: usize,
    cols: usize,
    k: usize,
    kk: usize,
    q: u64,
    ctok: Vec<CTok>,
    wtok: Vec<WTok>,
    acc: Vec<i64>,
    acc_pass: Vec<u32>,
    cskew: Vec<Vec<CTok>>,
    wskew: Vec<Vec<WTok>>,
    /// P on each column's bus, written this cycle / read by the unit next cycle.
    bus: Vec<Option<Item>>,
    j: usize,
    m: usize,
    last_feed: Option<u64>,
    last_step: Option<u64>,
    pass_start: Option<u64>,
}

fn bug(what: String) -> Error {
    Error::arg("cycle model", what)
}

impl OsArray {
    pub fn new(plan: &Plan) -> Self {
        let (r, c, k) = (plan.rows, plan.cols, plan.shape.k);
        OsArray {
            rows: r,
            cols: c,
            k,
            kk: k * k,
            q: plan.step_cycles,
            ctok: vec![CTok::default(); r * c],
            wtok: vec![WTok::default(); r * c],
            acc: vec![0; r * c],
            acc_pass: vec![u32::MAX; r * c],
            cskew: (0..r).map(|i| vec![CTok::default(); i]).collect(),
            wskew: (0..c).map(|i| vec![WTok::default(); i]).collect(),
            bus: vec![None; c],
            j: 0,
            m: 0,
            last_feed: None,
            last_step: None,
            pass_start: None,
        }
    }

    #[allow(clippy::type_complexity)]
    fn issue(&mut self, t: u64, sh: &mut Shared) -> Result<std::result::Result<(Vec<CTok>, Vec<WTok>), Option<Cause>>> {
        let Some(&(tile, ch)) = sh.passes.get(self.j) else { return Ok(Err(None)) };
        if self.last_step.is_some_and(|l| t < l + self.q) {
            return Ok(Err(Some(Cause::BufferBw)));
        }
        if self.m == 0 {
            if let Some(c) = sh.wait_cause(tile, ch == 0, t) {
                return Ok(Err(Some(c)));
            }
            // the bus takes one P per cycle: channels at least `rows` steps apart
            if self.pass_start.is_some_and(|s| t < s + self.rows as u64) {
                return Ok(Err(Some(Cause::DenormBound)));
            }
            if ch == 0 {
                sh.ensure_block(tile);
            }
            self.pass_start = Some(t);
        }
        let plan = sh.ctx.plan;
        let tl = plan.tiles[tile];
        let seq = plan.tile_seq[tile];
        let (ky, kx) = ((self.m / self.k) as isize, (self.m % self.k) as isize);
        let p = (self.k / 2) as isize;
        let (h, w) = (sh.ctx.h as isize, sh.ctx.w as isize);
        let mut codes = vec![CTok::default(); self.rows];
        for (r, ct) in codes.iter_mut().enumerate().take(tl.npix) {
            let (y, x) = plan.pixel_yx(tl.block, tl.pix0 + r);
            let (yy, xx) = (y as isize + ky - p, x as isize + kx - p);
            let inside = yy >= 0 && yy < h && xx >= 0 && xx < w;
            let raw = if inside {
                sh.c.act_buf_read_bits += plan.buf_bits as u64;
                sh.c.lut_reads += plan.index_acts as u64;
                sh.act[seq % 2].read(seq, ch, yy as usize, xx as usize)?
            } else {
                0
            };
            *ct = CTok { valid: true, op: inside, raw, pass: self.j as u32, step: self.m as u16 };
        }
        let mut weights = vec![WTok::default(); self.cols];
        for (col, wt) in weights.iter_mut().enumerate().take(tl.ca) {
            let o = plan.out_channel(tl.group, col);
            *wt = WTok { valid: true, w: sh.ctx.arith.weight(o, ch, self.m), pass: self.j as u32, step: self.m as u16 };
        }
        sh.c.weight_buf_read_bits += tl.ca as u64 * plan.shape.weight_bits as u64;
        self.m += 1;
        if self.m == self.kk {
            if ch + 1 == sh.ctx.in_c {
                sh.tile_last_issue[tile] = Some(t);
            }
            self.m = 0;
            self.j += 1;
        }
        self.last_feed = Some(t);
        self.last_step = Some(t);
        Ok(Ok((codes, weights)))
    }

    fn pes(&mut self, t: u64, fc: &[CTok], fw: &[WTok], sh: &mut Shared) -> Result<()> {
        let (rows, cols) = (self.rows, self.cols);
        let cedge: Vec<CTok> = (0..rows)
            .map(|r| if r == 0 { fc[0] } else { std::mem::replace(&mut self.cskew[r][(t % r as u64) as usize], fc[r]) })
            .collect();
        let wedge: Vec<WTok> = (0..cols)
            .map(|c| if c == 0 { fw[0] } else { std::mem::replace(&mut self.wskew[c][(t % c as u64) as usize], fw[c]) })
            .collect();
        let ctx = &sh.ctx;
        let last_ch = ctx.in_c - 1;
        for r in (0..rows).rev() {
            for col in (0..cols).rev() {
                let idx = r * cols + col;
                let cin = if col == 0 { cedge[r] } else { self.ctok[idx - 1] };
                let win = if r == 0 { wedge[col] } else { self.wtok[idx - cols] };
                self.ctok[idx] = cin;
                self.wtok[idx] = win;
                if !(cin.valid && win.valid) {
                    continue;
                }
                if cin.pass != win.pass || cin.step != win.step {
                    return Err(bug(format!(
                        "PE({r},{col}) cycle {t}: code of pass {} step {} met weight of pass {} step {}",
                        cin.pass, cin.step, win.pass, win.step
                    )));
                }
                if cin.step == 0 {
                    self.acc[idx] = 0;
                    self.acc_pass[idx] = cin.pass;
                } else if self.acc_pass[idx] != cin.pass {
                    return Err(bug(format!(
                        "PE({r},{col}) cycle {t}: P of pass {} got a step of pass {}",
                        self.acc_pass[idx], cin.pass
                    )));
                }
                if cin.op {
                    sh.c.macs += 1;
                    count_gating(ctx.plan, ctx.arith.as_ref(), cin.raw, &mut sh.c);
                    let prod = ctx.arith.product(win.w, cin.raw)?;
                    self.acc[idx] = ctx.tap.fit(self.acc[idx] as i128 + prod as i128, &mut sh.ovf.tap_sum);
                }
                if cin.step as usize == self.kk - 1 {
                    if self.bus[col].is_some() {
                        return Err(bug(format!("column {col} bus collision at cycle {t}")));
                    }
                    let (tile, ch) = sh.passes[cin.pass as usize];
                    let tl = ctx.plan.tiles[tile];
                    let (y, x) = ctx.plan.pixel_yx(tl.block, tl.pix0 + r);
                    let o = ctx.plan.out_channel(tl.group, col);
                    debug_assert!(ch <= last_ch);
                    self.bus[col] = Some(Item {
                        tile: tile as u32,
                        o: o as u32,
                        ch: ch as u32,
                        y: y as u32,
                        x: x as u32,
                        slot: r as u32,
                        v: self.acc[idx] as i128,
                    });
                }
            }
        }
        Ok(())
    }
}

impl ArrayModel for OsArray {
    fn cycle(&mut self, t: u64, sh: &mut Shared) -> Result<std::result::Result<(), Option<Cause>>> {
        for col in 0..self.cols {
            let input = self.bus[col].take();
            if let Some(o) = sh.cols[col].step(col, input, &sh.ctx, &mut sh.psum, &mut sh.ovf, &mut sh.c)? {
                sh.emit(o, t);
            }
        }
        let issued = self.issue(t, sh)?;
        let busy = self.last_feed.is_some_and(|f| t <= f + (self.rows + self.cols) as u64 + 1);
        match &issued {
            Ok((c, w)) => self.pes(t, c, w, sh)?,
            Err(_) if busy => {
                let (c, w) = (vec![CTok::default(); self.rows], vec![WTok::default(); self.cols]);
                self.pes(t, &c, &w, sh)?
            }
            Err(_) => {}
        }
        Ok(issued.map(|_| ()))
    }

    fn snapshot(&self, t: u64, sh: &Shared) -> CycleSnap {
        CycleSnap {
            cycle: t,
            code: self.ctok.iter().map(|k| k.valid.then_some(k.raw)).collect(),
            psum: (0..self.acc.len())
                .map(|i| (self.ctok[i].valid && self.wtok[i].valid).then_some(self.acc[i]))
                .collect(),
            weight: self.wtok.iter().map(|w| w.valid.then_some(w.w)).collect(),
            outputs: sh.outputs_now.clone(),
        }
    }

    fn all_issued(&self, sh: &Shared) -> bool {
        self.j >= sh.passes.len()
    }
}
