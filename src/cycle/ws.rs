//! Weight-stationary array, register by register. PE (r, col) holds
//! w[o = group·cols + col, c, tap r] in one of two weight banks; codes enter
//! row r at the left through r skew registers and move one column right per
//! cycle; partial sums move one row down per cycle, so column col sums the
//! taps of one pixel in row-major tap order (the functional model's order)
//! and hands P to its de-normalization unit.
use super::plan::Plan;
use super::step::{ArrayModel, Cause, CycleSnap, Shared};
use super::units::{GateTally, Item};
use crate::{Error, Result};

#[derive(Clone, Copy, Default)]
struct Tok {
    valid: bool,
    /// Tap inside the image and row mapped to a tap: the PE adds a product.
    op: bool,
    /// Last pixel of its pass (frees the weight bank behind it).
    last: bool,
    /// Term-gating class of the code (`StepArith::gate_class`).
    gate: u8,
    raw: u16,
    /// Active columns of the pass's group.
    ca: u16,
    /// pass << 32 | pixel: what the partial sum it meets must carry.
    tag: u64,
    /// `StepArith::product_mult` of the code when `exact` (kept apart from
    /// an Option so a token stays 24 bytes).
    exact: bool,
    mult: i64,
}

/// Tag of an empty partial-sum register (no pass reaches u32::MAX).
const NO_PSUM: u64 = u64::MAX;

fn tag(pass: u32, pix: u32) -> u64 {
    (pass as u64) << 32 | pix as u64
}

fn tag_pass(tag: u64) -> u32 {
    (tag >> 32) as u32
}

pub(crate) struct WsArray {
    rows: usize,
    cols: usize,
    k: usize,
    kk: usize,
    lw: u64,
    /// Codes move one column right per step: rather than copying every
    /// register, row r keeps the tokens it was fed in a ring of 2·cols
    /// (each written twice), so PE(r, col) holds `ring[r][q + col]` with q
    /// the step's write slot (`ring_slot`).
    ring: Vec<Tok>,
    steps: usize,
    /// Partial-sum registers, row-major: value and tag (NO_PSUM = empty).
    ps_v: Vec<i64>,
    ps_tag: Vec<u64>,
    wb: Vec<[i64; 2]>,
    wtag: Vec<[u32; 2]>,
    skew: Vec<Vec<Tok>>,
    /// Issue state: next pass, next pixel of it, last cycle anything entered.
    j: usize,
    i: usize,
    last_feed: Option<u64>,
    /// Window generator registers (k×k codes; None = outside the image).
    win: Vec<Option<u16>>,
    /// Weight loader: pass being loaded, row, beat; cycle each pass finished loading.
    lj: usize,
    lrow: usize,
    lbeat: u64,
    lactive: bool,
    lend: Vec<u64>,
    /// Per row and bank: highest pass whose last token left PE(row, cols − 1).
    done: Vec<[i64; 2]>,
    /// Scratch of one cycle: the tokens fed at the left (kept to avoid an
    /// allocation per cycle).
    fed: Vec<Tok>,
}

fn bug(what: String) -> Error {
    Error::arg("cycle model", what)
}

impl WsArray {
    pub fn new(plan: &Plan) -> Self {
        let (r, c, k) = (plan.rows, plan.cols, plan.shape.k);
        WsArray {
            rows: r,
            cols: c,
            k,
            kk: k * k,
            lw: plan.weight_row_beats,
            ring: vec![Tok::default(); r * 2 * c],
            steps: 0,
            ps_v: vec![0; r * c],
            ps_tag: vec![NO_PSUM; r * c],
            wb: vec![[0; 2]; r * c],
            wtag: vec![[u32::MAX; 2]; r * c],
            skew: (0..r).map(|i| vec![Tok::default(); i]).collect(),
            j: 0,
            i: 0,
            last_feed: None,
            win: vec![None; k * k],
            lj: 0,
            lrow: 0,
            lbeat: 0,
            lactive: false,
            lend: Vec::new(),
            done: vec![[-1; 2]; r],
            fed: vec![Tok::default(); r],
        }
    }

    /// Window generator: codes of pixel `i`'s k×k neighbourhood; a new
    /// output row reloads the window, otherwise one column shifts in.
    fn window(&mut self, sh: &mut Shared, tile: usize, ch: usize, i: usize) -> Result<()> {
        let plan = sh.ctx.plan;
        let tl = plan.tiles[tile];
        let seq = plan.tile_seq[tile];
        let (y, x) = plan.pixel_yx(tl.block, i);
        let (h, w, k, p) = (sh.ctx.h as isize, sh.ctx.w as isize, self.k, (self.k / 2) as isize);
        let cb = plan.buf_bits as u64;
        let read = |yy: isize, xx: isize, sh: &mut Shared| -> Result<Option<u16>> {
            if yy < 0 || yy >= h || xx < 0 || xx >= w {
                return Ok(None);
            }
            sh.c.act_buf_read_bits += cb;
            sh.c.lut_reads += plan.index_acts as u64;
            sh.act[seq % 2].read(seq, ch, yy as usize, xx as usize).map(Some)
        };
        let first_kx = if i.is_multiple_of(plan.blocks[tl.block].bw) {
            0
        } else {
            for ky in 0..k {
                self.win.copy_within(ky * k + 1..ky * k + k, ky * k);
            }
            k - 1
        };
        for kx in first_kx..k {
            for ky in 0..k {
                self.win[ky * k + kx] = read(y as isize + ky as isize - p, x as isize + kx as isize - p, sh)?;
            }
        }
        Ok(())
    }

    /// Tries to put pixel `i` of pass `j` into the array this cycle.
    /// The tokens go to `self.fed`.
    fn issue(&mut self, t: u64, sh: &mut Shared) -> Result<std::result::Result<(), Option<Cause>>> {
        let Some(&(tile, ch)) = sh.passes.get(self.j) else { return Ok(Err(None)) };
        if self.i == 0 {
            if let Some(c) = sh.wait_cause(tile, ch == 0, t) {
                return Ok(Err(Some(c)));
            }
            if self.lend.get(self.j).is_none_or(|&e| e >= t) {
                return Ok(Err(Some(Cause::WeightLoad)));
            }
            if ch == 0 {
                sh.ensure_block(tile);
            }
        }
        let tl = sh.ctx.plan.tiles[tile];
        self.window(sh, tile, ch, self.i)?;
        let (i, last) = (self.i as u32, self.i + 1 == tl.npix);
        let arith = sh.ctx.arith.as_ref();
        for r in 0..self.rows {
            let code = if r < self.kk { self.win[r] } else { None };
            let raw = code.unwrap_or(0);
            let mult = code.and_then(|raw| arith.product_mult(raw));
            self.fed[r] = Tok {
                valid: true,
                op: code.is_some(),
                last,
                gate: if code.is_some() { arith.gate_class(raw) as u8 } else { 0 },
                raw,
                ca: tl.ca as u16,
                tag: tag(self.j as u32, i),
                exact: mult.is_some(),
                mult: mult.unwrap_or(0),
            };
        }
        self.i += 1;
        if last {
            if ch + 1 == sh.ctx.in_c {
                sh.tile_last_issue[tile] = Some(t);
            }
            self.j += 1;
            self.i = 0;
        }
        self.last_feed = Some(t);
        Ok(Ok(()))
    }

    fn bottom(&mut self, t: u64, sh: &mut Shared) -> Result<()> {
        let r = self.rows - 1;
        for col in 0..self.cols {
            let (pt, pv) = (self.ps_tag[r * self.cols + col], self.ps_v[r * self.cols + col]);
            let input = if pt != NO_PSUM {
                let (tile, ch) = sh.passes[tag_pass(pt) as usize];
                let tl = sh.ctx.plan.tiles[tile];
                let pix = pt as u32;
                let (y, x) = sh.ctx.plan.pixel_yx(tl.block, pix as usize);
                Some(Item {
                    tile: tile as u32,
                    o: sh.ctx.plan.out_channel(tl.group, col) as u32,
                    ch: ch as u32,
                    y: y as u32,
                    x: x as u32,
                    slot: pix,
                    v: pv as i128,
                })
            } else {
                None
            };
            let out = sh.cols[col].step(col, input, &sh.ctx, &mut sh.psum, &mut sh.ovf, &mut sh.c)?;
            if let Some(o) = out {
                sh.emit(o, t);
            }
        }
        Ok(())
    }

    /// Write slot of the current step in every row's token ring.
    fn ring_slot(&self) -> usize {
        (self.cols - self.steps % self.cols) % self.cols
    }

    /// The token PE(r, col) holds.
    fn token(&self, r: usize, col: usize) -> &Tok {
        &self.ring[r * 2 * self.cols + self.ring_slot() + col]
    }

    /// One cycle of every PE, fed `self.fed` at the left: tokens advance one
    /// column (a new write slot in each row's ring), partial sums one row
    /// (rows bottom-up so each reads the row above as it was last cycle).
    fn pes(&mut self, t: u64, sh: &mut Shared) -> Result<()> {
        let (rows, cols) = (self.rows, self.cols);
        self.steps += 1;
        let q = self.ring_slot();
        for r in 0..rows {
            let edge = if r == 0 {
                self.fed[0]
            } else {
                let s = (t % r as u64) as usize;
                std::mem::replace(&mut self.skew[r][s], self.fed[r])
            };
            self.ring[r * 2 * cols + q] = edge;
            self.ring[r * 2 * cols + q + cols] = edge;
        }
        let ctx = &sh.ctx;
        let (mut macs, mut gates) = (0u64, GateTally::default());
        for r in (0..rows).rev() {
            let toks = &self.ring[r * 2 * cols + q..][..cols];
            let last = toks[cols - 1];
            if last.valid && last.last && r < self.kk {
                self.done[r][(tag_pass(last.tag) & 1) as usize] = tag_pass(last.tag) as i64;
            }
            for (col, tin) in toks.iter().enumerate() {
                let idx = r * cols + col;
                if !tin.valid || col >= tin.ca as usize {
                    self.ps_tag[idx] = NO_PSUM;
                    continue;
                }
                let pin = if r == 0 {
                    0
                } else if self.ps_tag[idx - cols] == tin.tag {
                    self.ps_v[idx - cols]
                } else {
                    return Err(self.psum_slip(t, r, col, tin.tag));
                };
                let v = if tin.op {
                    let pass = tag_pass(tin.tag);
                    let bank = (pass & 1) as usize;
                    if self.wtag[idx][bank] != pass {
                        return Err(bug(format!(
                            "PE({r},{col}) cycle {t}: bank {bank} holds pass {}, token is pass {pass}",
                            self.wtag[idx][bank]
                        )));
                    }
                    macs += 1;
                    gates.add(tin.gate);
                    let w = self.wb[idx][bank];
                    let prod = if tin.exact { w * tin.mult } else { ctx.arith.product(w, tin.raw)? };
                    ctx.tap.fit(pin as i128 + prod as i128, &mut sh.ovf.tap_sum)
                } else {
                    pin
                };
                self.ps_v[idx] = v;
                self.ps_tag[idx] = tin.tag;
            }
        }
        sh.c.macs += macs;
        gates.commit(ctx.plan, &mut sh.c);
        Ok(())
    }

    fn psum_slip(&self, t: u64, r: usize, col: usize, want: u64) -> Error {
        let got = self.ps_tag[(r - 1) * self.cols + col];
        let show = |g: u64| if g == NO_PSUM { "none".to_string() } else { format!("pass {} pixel {}", tag_pass(g), g as u32) };
        bug(format!("PE({r},{col}) cycle {t}: code of {} met psum of {}", show(want), show(got)))
    }

    /// Writes weight rows of the next pass into its bank, `lw` bus beats per row.
    fn loader(&mut self, t: u64, sh: &mut Shared) {
        let Some(&(tile, ch)) = sh.passes.get(self.lj) else { return };
        let tl = sh.ctx.plan.tiles[tile];
        if !self.lactive {
            let prev_done = self.lj == 0 || self.lend[self.lj - 1] < t;
            if !(prev_done && sh.weights_ready(tl.group, t)) {
                return;
            }
            self.lactive = true;
            self.lrow = 0;
            self.lbeat = 0;
        }
        self.lbeat += 1;
        if self.lbeat < self.lw {
            return;
        }
        let bank = self.lj & 1;
        if self.lj >= 2 && self.done[self.lrow][bank] < self.lj as i64 - 2 {
            self.lbeat = self.lw - 1; // bank still in use: hold the final beat
            return;
        }
        for col in 0..tl.ca {
            let idx = self.lrow * self.cols + col;
            let o = sh.ctx.plan.out_channel(tl.group, col);
            self.wb[idx][bank] = sh.ctx.arith.weight(o, ch, self.lrow);
            self.wtag[idx][bank] = self.lj as u32;
        }
        sh.c.weight_buf_read_bits += (tl.ca as u64) * sh.ctx.plan.shape.weight_bits as u64;
        self.lrow += 1;
        self.lbeat = 0;
        if self.lrow == self.kk {
            self.lend.push(t);
            self.lj += 1;
            self.lactive = false;
        }
    }
}

impl ArrayModel for WsArray {
    fn cycle(&mut self, t: u64, sh: &mut Shared) -> Result<std::result::Result<(), Option<Cause>>> {
        self.bottom(t, sh)?;
        let issued = self.issue(t, sh)?;
        let busy = self.last_feed.is_some_and(|f| t <= f + (self.rows + self.cols) as u64 + 1);
        match &issued {
            Ok(()) => self.pes(t, sh)?,
            Err(_) if busy => {
                self.fed.fill(Tok::default());
                self.pes(t, sh)?
            }
            Err(_) => {}
        }
        self.loader(t, sh);
        Ok(issued)
    }

    fn snapshot(&self, t: u64, sh: &Shared) -> CycleSnap {
        CycleSnap {
            cycle: t,
            code: (0..self.rows * self.cols)
                .map(|i| {
                    let k = self.token(i / self.cols, i % self.cols);
                    k.valid.then_some(k.raw)
                })
                .collect(),
            psum: self.ps_tag.iter().zip(&self.ps_v).map(|(&g, &v)| (g != NO_PSUM).then_some(v)).collect(),
            weight: vec![None; self.ps_v.len()],
            outputs: sh.outputs_now.clone(),
        }
    }

    fn all_issued(&self, sh: &Shared) -> bool {
        self.j >= sh.passes.len()
    }
}
