//! Units the stepped model shares between dataflows: the layer context
//! (stats-unit and quantizer results, the PE's SQ decoder, the μ table), the
//! activation-code buffer halves, and the de-normalization unit under each
//! column. Every arithmetic step calls the functional model's primitives.
use super::plan::Plan;
use crate::hw::border::MuTable;
use crate::hw::{ChannelNorm, HwLayer, OverflowCounts, Reg, UniformHwLayer};
use crate::sq::shift_add;
use crate::sq::Decoded;
use crate::{Error, Result};

/// The arithmetic a datapath puts into the array: what the act buffer holds
/// per activation, the PE's product, the term a column sum becomes in the
/// accumulator, the end-of-channels term, requantization. The stepped
/// model only moves values; every step of arithmetic is the functional
/// model's own, behind this seam (DFSQ: `HwLayer`; uniform: `UniformHwLayer`).
pub(crate) trait StepArith {
    fn name(&self) -> &str;
    fn weight(&self, o: usize, c: usize, tap: usize) -> i64;
    /// The act-buffer word of activation (c, y, x).
    fn code_at(&self, c: usize, y: usize, x: usize) -> u16;
    /// The PE's product of a weight and an act-buffer word.
    fn product(&self, w: i64, raw: u16) -> Result<i64>;
    /// Some(m) when `product(w, raw)` is exactly w·m for every weight (the
    /// array then multiplies by m, taken once per code as it enters).
    fn product_mult(&self, raw: u16) -> Option<i64>;
    /// Term gating: active words of the code (0 = all-zero code).
    fn gate_class(&self, raw: u16) -> usize;
    /// A column's tap sum P of channel `ch` as an accumulator term; counts
    /// the operation it takes.
    fn column_term(&self, ch: usize, p: i64, c: &mut super::counters::Counters) -> i128;
    /// Added once after the last channel (DFSQ: the μ term).
    fn finish_term(&self, o: usize, y: usize, x: usize) -> i128;
    fn requantize(&self, o: usize, acc: i64, act: &Reg, ovf: &mut OverflowCounts) -> i64;
    /// The accumulator register and the overflow counter it charges.
    fn acc_fit(&self, reg: &Reg, v: i128, ovf: &mut OverflowCounts) -> i64;
}

/// Per-image constants of one layer run, made before any code streams.
pub(crate) struct Ctx<'a> {
    pub plan: &'a Plan,
    pub h: usize,
    pub w: usize,
    pub in_c: usize,
    pub tap: Reg,
    pub acc: Reg,
    pub act: Reg,
    /// Per-image set-up counted with the stats job (DFSQ only).
    pub threshold_mults: u64,
    pub mu_entries: u64,
    /// Channels the stats unit normalized (one μ division each).
    pub norms_made: u64,
    pub arith: Box<dyn StepArith + 'a>,
}

fn check_shape(name: &str, dims: (usize, usize, usize), plan: &Plan, x: &[i64], h: usize, w: usize) -> Result<()> {
    let (in_c, out_c, k) = dims;
    crate::hw::layer::check_conv_input(name, in_c, x, h, w)?;
    if (plan.shape.in_c, plan.shape.out_c, plan.shape.k, plan.shape.h, plan.shape.w) != (in_c, out_c, k, h, w) {
        return Err(Error::shape(format!("{name} cycle plan"), format!("{in_c}→{out_c} k{k} {h}x{w}"), format!("{:?}", plan.shape)));
    }
    Ok(())
}

/// DFSQ: stats unit and quantizer results, the PE's SQ decoder, the μ table.
struct DfsqArith<'a> {
    layer: &'a HwLayer,
    h: usize,
    w: usize,
    norms: Vec<ChannelNorm>,
    /// Quantizer index of every activation, [c][y][x].
    idx: Vec<u8>,
    /// The PE's SQ decoder: raw code → shifts (a fixed function of the code
    /// bits; tabulated from the layer's code LUTs).
    dec: Vec<Option<Decoded>>,
    /// μ term per (o, row mask, column mask), from `HwLayer::mu_term`.
    mu: MuTable,
    f: u32,
    /// `HwLayer::exact_up`: products as one exact multiply when Some.
    up: Option<u32>,
}

impl DfsqArith<'_> {
    /// The PE's SQ decoder: the shifts of a raw code, if any LUT holds it.
    fn decoded(&self, raw: u16) -> Option<&Decoded> {
        self.dec.get(raw as usize).and_then(|d| d.as_ref())
    }
}

/// At pe_frac_bits ≥ F (`HwLayer::exact_up`) the four shifts of a code
/// are one exact multiply by its integer value, scaled up.
#[inline]
fn exact_mult(d: &Decoded, up: u32) -> i64 {
    d.int_value << up
}

impl StepArith for DfsqArith<'_> {
    fn name(&self) -> &str {
        &self.layer.name
    }
    fn weight(&self, o: usize, c: usize, tap: usize) -> i64 {
        self.layer.weight(o, c, tap)
    }
    fn code_at(&self, c: usize, y: usize, x: usize) -> u16 {
        let i = self.idx[(c * self.h + y) * self.w + x] as usize;
        self.layer.quant[c].codes[i] as u16
    }
    fn product(&self, w: i64, raw: u16) -> Result<i64> {
        let d = self.decoded(raw).ok_or_else(|| Error::arg("cycle model", format!("PE received code 0x{raw:x} that no LUT holds")))?;
        Ok(match self.up {
            Some(up) => w * exact_mult(d, up),
            None => shift_add(w, d, self.f),
        })
    }
    fn product_mult(&self, raw: u16) -> Option<i64> {
        Some(exact_mult(self.decoded(raw)?, self.up?))
    }
    fn gate_class(&self, raw: u16) -> usize {
        self.decoded(raw).map_or(0, crate::hw::Activity::class)
    }
    fn column_term(&self, ch: usize, p: i64, c: &mut super::counters::Counters) -> i128 {
        c.denorm_mults += 1;
        HwLayer::denorm_term(&self.norms[ch], p)
    }
    fn finish_term(&self, o: usize, y: usize, x: usize) -> i128 {
        self.mu.get(o, y, x)
    }
    fn requantize(&self, o: usize, acc: i64, act: &Reg, ovf: &mut OverflowCounts) -> i64 {
        self.layer.requantize(o, acc, act, &mut ovf.act_out)
    }
    fn acc_fit(&self, reg: &Reg, v: i128, ovf: &mut OverflowCounts) -> i64 {
        reg.fit(v, &mut ovf.denorm_acc)
    }
}

/// Uniform integer: the act buffer holds the code q; the PE multiplies
/// w·(q − Z); column sums add into the accumulator as they are.
struct UniformArith<'a> {
    layer: &'a UniformHwLayer,
    h: usize,
    w: usize,
    codes: Vec<i64>,
}

impl StepArith for UniformArith<'_> {
    fn name(&self) -> &str {
        &self.layer.name
    }
    fn weight(&self, o: usize, c: usize, tap: usize) -> i64 {
        self.layer.weight(o, c, tap)
    }
    fn code_at(&self, c: usize, y: usize, x: usize) -> u16 {
        self.codes[(c * self.h + y) * self.w + x] as u16
    }
    fn product(&self, w: i64, raw: u16) -> Result<i64> {
        Ok(self.layer.product(w, raw as i64))
    }
    fn product_mult(&self, raw: u16) -> Option<i64> {
        Some(self.layer.operand(raw as i64))
    }
    fn gate_class(&self, _raw: u16) -> usize {
        0 // the uniform array has no words (levers are refused for it)
    }
    fn column_term(&self, _ch: usize, p: i64, c: &mut super::counters::Counters) -> i128 {
        c.psum_adds += 1;
        p as i128
    }
    fn finish_term(&self, _o: usize, _y: usize, _x: usize) -> i128 {
        0
    }
    fn requantize(&self, o: usize, acc: i64, act: &Reg, ovf: &mut OverflowCounts) -> i64 {
        self.layer.requantize(o, acc, act, &mut ovf.act_out)
    }
    fn acc_fit(&self, reg: &Reg, v: i128, ovf: &mut OverflowCounts) -> i64 {
        reg.fit(v, &mut ovf.acc)
    }
}

impl<'a> Ctx<'a> {
    /// DFSQ: the stats unit and the quantizer run before the first code streams.
    pub fn dfsq(layer: &'a HwLayer, plan: &'a Plan, x: &[i64], h: usize, w: usize, post_relu: bool) -> Result<Self> {
        check_shape(&layer.name, (layer.in_c, layer.out_c, layer.k), plan, x, h, w)?;
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
        let mu = layer.mu_table(&norms, h, w);
        let threshold_mults = (layer.quant.len() * (plan.shape.levels - 1)) as u64;
        Ok(Ctx {
            plan,
            h,
            w,
            in_c: layer.in_c,
            tap: layer.tap_reg(),
            acc: layer.acc_reg(),
            act: layer.act_reg(),
            threshold_mults,
            mu_entries: mu.tab.len() as u64,
            norms_made: norms.len() as u64,
            arith: Box::new(DfsqArith {
                layer,
                h,
                w,
                norms,
                idx,
                dec,
                mu,
                f: layer.cfg.datapath.pe_frac_bits,
                up: layer.exact_up(),
            }),
        })
    }

    /// Uniform integer: the input quantizer runs as each block is loaded
    /// (no stats pass); its codes are a function of each activation alone.
    pub fn uniform(layer: &'a UniformHwLayer, plan: &'a Plan, x: &[i64], h: usize, w: usize) -> Result<Self> {
        check_shape(&layer.name, (layer.in_c, layer.out_c, layer.k), plan, x, h, w)?;
        if plan.shape.code_bits < layer.abits || layer.abits > 15 {
            return Err(Error::arg("cycle model", format!("{}: {}-bit codes in a {}-bit act-buffer word", layer.name, layer.abits, plan.shape.code_bits)));
        }
        Ok(Ctx {
            plan,
            h,
            w,
            in_c: layer.in_c,
            tap: layer.tap_reg(),
            acc: layer.acc_reg(),
            act: layer.act_reg(),
            threshold_mults: 0,
            mu_entries: 0,
            norms_made: 0,
            arith: Box::new(UniformArith { layer, h, w, codes: x.iter().map(|&v| layer.code(v)).collect() }),
        })
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
                    self.codes[(c * hh + y - r.0) * ww + x - r.2] = ctx.arith.code_at(c, y, x);
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
        let last_ch = ctx.in_c as u32 - 1;
        let mut out = None;
        if let Some(it) = self.d3.take() {
            let y = ctx.arith.requantize(it.o as usize, it.v as i64, &ctx.act, ovf);
            c.outputs += 1;
            out = Some(Output { tile: it.tile, o: it.o as usize, y: it.y as usize, x: it.x as usize, v: y });
        }
        if let Some(mut it) = self.d2.take() {
            let mu = ctx.arith.finish_term(it.o as usize, it.y as usize, it.x as usize);
            it.v = ctx.arith.acc_fit(&ctx.acc, it.v + mu, ovf) as i128;
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
            let acc = ctx.arith.acc_fit(&ctx.acc, prev as i128 + it.v, ovf);
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
            it.v = ctx.arith.column_term(it.ch as usize, p, c);
            self.d1 = Some(it);
        }
        Ok(out)
    }
}

/// Term gating, counted at the PE from the code it really receives.
#[inline]
pub(crate) fn count_gating(plan: &Plan, arith: &dyn StepArith, raw: u16, c: &mut super::counters::Counters) {
    let mut g = GateTally::default();
    g.add(arith.gate_class(raw) as u8);
    g.commit(plan, c);
}

/// Term-gating tallies of MACs by their codes' gating classes, committed
/// to the counters only where the plan gates terms.
#[derive(Default)]
pub(crate) struct GateTally {
    word_ops: u64,
    zero_code_macs: u64,
}

impl GateTally {
    #[inline]
    pub fn add(&mut self, class: u8) {
        self.word_ops += class as u64;
        self.zero_code_macs += (class == 0) as u64;
    }

    pub fn commit(self, plan: &Plan, c: &mut super::counters::Counters) {
        if plan.term_gating {
            c.word_ops += self.word_ops;
            c.zero_code_macs += self.zero_code_macs;
        }
    }
}
