//! Weight-stationary array, register by register. PE (r, col) holds
//! w[o = group·cols + col, c, tap r] in one of two weight banks; codes enter
//! row r at the left through r skew registers and move one column right per
//! cycle; partial sums move one row down per cycle, so column col sums the
//! taps of one pixel in row-major tap order (the functional model's order)
//! and hands P to its de-normalization unit.
use super::plan::Plan;
use super::step::{ArrayModel, Cause, CycleSnap, Shared};
use super::units::{count_gating, Item};
use crate::{Error, Result};

#[derive(Clone, Copy, Default)]
struct Tok {
    valid: bool,
    /// Tap inside the image and row mapped to a tap: the PE adds a product.
    op: bool,
    /// Last pixel of its pass (frees the weight bank behind it).
    last: bool,
    raw: u16,
    /// Active columns of the pass's group.
    ca: u16,
    pass: u32,
    pix: u32,
}

#[derive(Clone, Copy, Default)]
struct Ps {
    valid: bool,
    v: i64,
    pass: u32,
    pix: u32,
}

pub(crate) struct WsArray {
    rows: usize,
    cols: usize,
    k: usize,
    kk: usize,
    lw: u64,
    tok: Vec<Tok>,
    ps: Vec<Ps>,
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
    /// Scratch of one cycle: the tokens fed at the left, the tokens leaving
    /// the skew registers (kept to avoid two allocations per cycle).
    fed: Vec<Tok>,
    edge: Vec<Tok>,
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
            tok: vec![Tok::default(); r * c],
            ps: vec![Ps::default(); r * c],
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
            edge: vec![Tok::default(); r],
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
        for r in 0..self.rows {
            let code = if r < self.kk { self.win[r] } else { None };
            self.fed[r] = Tok {
                valid: true,
                op: code.is_some(),
                last,
                raw: code.unwrap_or(0),
                ca: tl.ca as u16,
                pass: self.j as u32,
                pix: i,
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
            let p = self.ps[r * self.cols + col];
            let input = if p.valid {
                let (tile, ch) = sh.passes[p.pass as usize];
                let tl = sh.ctx.plan.tiles[tile];
                let (y, x) = sh.ctx.plan.pixel_yx(tl.block, p.pix as usize);
                Some(Item {
                    tile: tile as u32,
                    o: sh.ctx.plan.out_channel(tl.group, col) as u32,
                    ch: ch as u32,
                    y: y as u32,
                    x: x as u32,
                    slot: p.pix,
                    v: p.v as i128,
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

    /// One cycle of every PE, fed `self.fed` at the left.
    fn pes(&mut self, t: u64, sh: &mut Shared) -> Result<()> {
        let (rows, cols) = (self.rows, self.cols);
        for r in 0..rows {
            self.edge[r] = if r == 0 {
                self.fed[0]
            } else {
                let s = (t % r as u64) as usize;
                std::mem::replace(&mut self.skew[r][s], self.fed[r])
            };
        }
        let edge = &self.edge;
        let ctx = &sh.ctx;
        for r in (0..rows).rev() {
            for col in (0..cols).rev() {
                let idx = r * cols + col;
                let tin = if col == 0 { edge[r] } else { self.tok[idx - 1] };
                self.tok[idx] = tin;
                if !tin.valid {
                    self.ps[idx].valid = false;
                    continue;
                }
                let bank = (tin.pass & 1) as usize;
                if col == cols - 1 && tin.last && r < self.kk {
                    self.done[r][bank] = tin.pass as i64;
                }
                if col >= tin.ca as usize {
                    self.ps[idx].valid = false;
                    continue;
                }
                let pin = if r == 0 {
                    0
                } else {
                    let p = self.ps[idx - cols];
                    if !p.valid || p.pass != tin.pass || p.pix != tin.pix {
                        return Err(bug(format!(
                            "PE({r},{col}) cycle {t}: code of pass {} pixel {} met psum of pass {} pixel {}",
                            tin.pass, tin.pix, p.pass, p.pix
                        )));
                    }
                    p.v
                };
                let v = if tin.op {
                    if self.wtag[idx][bank] != tin.pass {
                        return Err(bug(format!(
                            "PE({r},{col}) cycle {t}: bank {bank} holds pass {}, token is pass {}",
                            self.wtag[idx][bank], tin.pass
                        )));
                    }
                    sh.c.macs += 1;
                    count_gating(ctx.plan, ctx.arith.as_ref(), tin.raw, &mut sh.c);
                    let prod = ctx.arith.product(self.wb[idx][bank], tin.raw)?;
                    ctx.tap.fit(pin as i128 + prod as i128, &mut sh.ovf.tap_sum)
                } else {
                    pin
                };
                self.ps[idx] = Ps { valid: true, v, pass: tin.pass, pix: tin.pix };
            }
        }
        Ok(())
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
            code: self.tok.iter().map(|k| k.valid.then_some(k.raw)).collect(),
            psum: self.ps.iter().map(|p| p.valid.then_some(p.v)).collect(),
            weight: vec![None; self.tok.len()],
            outputs: sh.outputs_now.clone(),
        }
    }

    fn all_issued(&self, sh: &Shared) -> bool {
        self.j >= sh.passes.len()
    }
}
