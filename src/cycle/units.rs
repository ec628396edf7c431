//! Units the stepped model shares between dataflows: the layer context
//! (stats-unit and quantizer results, the PE's SQ decoder, the μ table), the
//! activation-code buffer halves, and the de-normalization unit under each
//! column. Every arithmetic step calls the functional model's primitives.
use super::plan::Plan;
use crate::hw::{ChannelNorm, HwLayer, OverflowCounts, Reg};
use crate::sq::Decoded;
use crate::{Error, Result};

/// Per-image constants of one layer run, made before any code streams.
pub(crate) struct Ctx<'a> {
    pub layer: &'a HwLayer,
    pub plan: &'a Plan,
    pub h: usize,
    pub w: usize,
    pub norms: Vec<ChannelNorm>,
    /// Quantizer index of every activation, [c][y][x].
    pub idx: Vec<u8>,
    /// The PE's SQ decoder: raw code → shifts (a fixed function of the code
    /// bits; tabulated from the layer's code LUTs).
    pub dec: Vec<Option<Decoded>>,
    /// μ term per (o, row mask, column mask), from `HwLayer::mu_term`.
    pub mu: Vec<i128>,
    pub row_mask: Vec<usize>,
    pub col_mask: Vec<usize>,
    pub n_col_masks: usize,
    pub mu_entries: u64,
    pub tap: Reg,
    pub acc: Reg,
    pub act: Reg,
    pub f: u32,
}

fn mask_ids(n: usize, k: usize) -> (Vec<usize>, Vec<u64>) {
    let p = (k / 2) as isize;
    let mut uniq: Vec<u64> = Vec::new();
    let ids = (0..n)
        .map(|i| {
            let m = (0..k).fold(0u64, |m, t| {
                if (0..n as isize).contains(&(i as isize + t as isize - p)) {
                    m | 1 << t
                } else {
                    m
                }
            });
            uniq.iter().position(|&u| u == m).unwrap_or_else(|| {
                uniq.push(m);
                uniq.len() - 1
            })
        })
        .collect();
    (ids, uniq)
}

impl<'a> Ctx<'a> {
    pub fn new(layer: &'a HwLayer, plan: &'a Plan, x: &[i64], h: usize, w: usize, post_relu: bool) -> Result<Self> {
        if x.len() != layer.in_c * h * w || h == 0 || w == 0 {
            return Err(Error::shape(format!("{} input", layer.name), format!("{}x{h}x{w}", layer.in_c), x.len()));
        }
        if (plan.shape.in_c, plan.shape.out_c, plan.shape.k, plan.shape.h, plan.shape.w)
            != (layer.in_c, layer.out_c, layer.k, h, w)
        {
            return Err(Error::shape(
                format!("{} cycle plan", layer.name),
                format!("{}→{} k{} {h}x{w}", layer.in_c, layer.out_c, layer.k),
                format!("{:?}", plan.shape),
            ));
        }
        // stats unit, then quantizer: both run before the first code streams
        let norms = layer.norms(x, h * w, post_relu);
        let idx = layer.indices(x, h * w, &norms);
        let n_codes = 1usize << plan.shape.code_bits.min(20);
        let mut dec = vec![None; n_codes];
        for q in &layer.quant {
            for (&raw, d) in q.codes.iter().zip(&q.decoded) {
                let slot = dec.get_mut(raw as usize).ok_or_else(|| {
                    Error::arg("SQ code", format!("0x{raw:x} wider than {} bits", plan.shape.code_bits))
                })?;
                *slot = Some(*d);
            }
        }
        let (row_mask, rm) = mask_ids(h, layer.k);
        let (col_mask, cm) = mask_ids(w, layer.k);
        let mut mu = Vec::with_capacity(layer.out_c * rm.len() * cm.len());
        for o in 0..layer.out_c {
            for &r in &rm {
                for &c in &cm {
                    mu.push(layer.mu_term(o, &norms, &|ky, kx| r >> ky & 1 == 1 && c >> kx & 1 == 1));
                }
            }
        }
        Ok(Ctx {
            layer,
            plan,
            h,
            w,
            mu_entries: mu.len() as u64,
            norms,
            idx,
            dec,
            mu,
            row_mask,
            n_col_masks: cm.len(),
            col_mask,
            tap: layer.tap_reg(),
            acc: layer.acc_reg(),
            act: layer.act_reg(),
            f: layer.cfg.datapath.pe_frac_bits,
        })
    }

    #[inline]
    pub fn decode(&self, raw: u16) -> Result<&Decoded> {
        self.dec
            .get(raw as usize)
            .and_then(|d| d.as_ref())
            .ok_or_else(|| Error::arg("cycle model", format!("PE received code 0x{raw:x} that no LUT holds")))
    }

    /// Raw SQ code the quantizer produced for activation (c, y, x).
    pub fn code_at(&self, c: usize, y: usize, x: usize) -> u16 {
        let i = self.idx[(c * self.h + y) * self.w + x] as usize;
        self.layer.quant[c].codes[i] as u16
    }

    pub fn mu_at(&self, o: usize, y: usize, x: usize) -> i128 {
        let nr = self.mu.len() / (self.layer.out_c * self.n_col_masks).max(1);
        self.mu[(o * nr + self.row_mask[y]) * self.n_col_masks + self.col_mask[x]]
    }
}

/// One act-buffer half: the codes of one block's halo, tagged by the
/// schedule sequence that filled it.
#[derive(Default)]
pub(crate) struct ActHalf {
    pub seq: Option<usize>,
    pub rect: (usize, usize, usize, usize),
    pub codes: Vec<u16>,
}

pub(crate) const NO_CODE: u16 = u16::MAX;

impl ActHalf {
    /// Quantizer output for block `b` (halo clipped to the image) into this half.
    pub fn fill(&mut self, ctx: &Ctx, seq: usize, b: usize) -> u64 {
        let s = &ctx.plan.shape;
        let r = ctx.plan.blocks[b].halo(s.k, s.h, s.w);
        let (hh, ww) = (r.1 - r.0, r.3 - r.2);
        self.codes.clear();
        self.codes.resize(s.in_c * hh * ww, NO_CODE);
        for c in 0..s.in_c {
            for y in r.0..r.1 {
                for x in r.2..r.3 {
                    self.codes[(c * hh + y - r.0) * ww + x - r.2] = ctx.code_at(c, y, x);
                }
            }
        }
        self.seq = Some(seq);
        self.rect = r;
        (s.in_c * hh * ww) as u64
    }

    pub fn read(&self, seq: usize, c: usize, y: usize, x: usize) -> Result<u16> {
        let r = self.rect;
        let miss =
            || Error::arg("cycle model", format!("code (c{c}, y{y}, x{x}) of sequence {seq} is not in the act buffer"));
        if self.seq != Some(seq) || y < r.0 || y >= r.1 || x < r.2 || x >= r.3 {
            return Err(miss());
        }
        let (hh, ww) = (r.1 - r.0, r.3 - r.2);
        match self.codes[(c * hh + y - r.0) * ww + x - r.2] {
            NO_CODE => Err(miss()),
            v => Ok(v),
        }
    }
}

/// A P value arriving at the de-normalization unit, with the addresses its
/// counters would generate.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Item {
    pub tile: u32,
    pub o: u32,
    pub ch: u32,
    pub y: u32,
    pub x: u32,
    /// Psum-buffer slot (WS: pixel of the block, OS: row of the array).
    pub slot: u32,
    pub v: i128,
}

/// Under each column: term = (m·P) << e; acc = fit(acc + term) in the psum
/// buffer; after the last channel acc = fit(acc + μ), then requantize.
#[derive(Default, Clone)]
pub(crate) struct DenormCol {
    d1: Option<Item>,
    d2: Option<Item>,
    d3: Option<Item>,
}

/// The psum buffer: one accumulator per (slot, column), tagged with the
/// (tile, channel) that last wrote it so a read-after-write slip is caught.
pub(crate) struct PsumBuf {
    pub cols: usize,
    pub val: Vec<i64>,
    pub tag: Vec<(u32, u32)>,
}

/// An output leaving the unit.
pub(crate) struct Output {
    pub tile: u32,
    pub o: usize,
    pub y: usize,
    pub x: usize,
    pub v: i64,
}

impl DenormCol {
    /// One cycle; `input` is the P the column delivered last cycle.
    #[allow(clippy::too_many_arguments)]
    pub fn step(
        &mut self,
        col: usize,
        input: Option<Item>,
        ctx: &Ctx,
        psum: &mut PsumBuf,
        ovf: &mut OverflowCounts,
        c: &mut super::counters::Counters,
    ) -> Result<Option<Output>> {
        let last_ch = ctx.layer.in_c as u32 - 1;
        let mut out = None;
        if let Some(it) = self.d3.take() {
            let y = ctx.layer.requantize(it.o as usize, it.v as i64, &ctx.act, &mut ovf.act_out);
            c.outputs += 1;
            out = Some(Output { tile: it.tile, o: it.o as usize, y: it.y as usize, x: it.x as usize, v: y });
        }
        if let Some(mut it) = self.d2.take() {
            let mu = ctx.mu_at(it.o as usize, it.y as usize, it.x as usize);
            it.v = ctx.acc.fit(it.v + mu, &mut ovf.denorm_acc) as i128;
            self.d3 = Some(it);
        }
        if let Some(mut it) = self.d1.take() {
            let i = it.slot as usize * psum.cols + col;
            let prev = if it.ch == 0 {
                0
            } else {
                if psum.tag[i] != (it.tile, it.ch - 1) {
                    return Err(Error::arg(
                        "cycle model",
                        format!(
                            "psum slot {i} holds {:?}, channel {} of tile {} expected it",
                            psum.tag[i], it.ch, it.tile
                        ),
                    ));
                }
                c.psum_read_bits += ctx.plan.acc_bits as u64;
                psum.val[i]
            };
            let acc = ctx.acc.fit(prev as i128 + it.v, &mut ovf.denorm_acc);
            if it.ch == last_ch {
                it.v = acc as i128;
                self.d2 = Some(it);
            } else {
                psum.val[i] = acc;
                psum.tag[i] = (it.tile, it.ch);
                c.psum_write_bits += ctx.plan.acc_bits as u64;
            }
        }
        if let Some(mut it) = input {
            let p = i64::try_from(it.v).map_err(|_| Error::arg("cycle model", "P wider than 64 bits"))?;
            it.v = HwLayer::denorm_term(&ctx.norms[it.ch as usize], p);
            c.denorm_mults += 1;
            self.d1 = Some(it);
        }
        Ok(out)
    }
}
