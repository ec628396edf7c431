//! Energy and area of the shift-add array and of a conventional
//! integer-multiplier MAC array of the same size, widths, buffers and
//! schedule (only the PE arithmetic differs). Every figure is 45 nm and
//! comes from the table below; hw/COST.md gives sources and scaling.
use crate::summed;
use super::counters::Counters;
use crate::config::{Dataflow, DenormFormat, HwConfig};
use serde::Serialize;

/// Per-operation anchors, 45 nm.
#[derive(Clone, Debug, Serialize)]
pub struct CostTable {
    /// Horowitz, "Computing's energy problem", ISSCC 2014: integer add,
    /// 8 and 32 bit (pJ, µm²).
    pub add8_pj: f64,
    pub add32_pj: f64,
    pub add8_um2: f64,
    pub add32_um2: f64,
    /// Horowitz 2014: integer multiply, 8×8 and 32×32 bit.
    pub mul8_pj: f64,
    pub mul32_pj: f64,
    pub mul8_um2: f64,
    pub mul32_um2: f64,
    /// Horowitz 2014: 64-bit SRAM access by array size (8 KB, 32 KB, 1 MB).
    pub sram64_pj: [(f64, f64); 3],
    /// Horowitz 2014: DRAM 64-bit access 1.3–2.6 nJ; the midpoint.
    pub dram64_pj: f64,
    /// NanGate FreePDK45 Open Cell Library cell areas relative to a full
    /// adder (FA_X1 4.256 µm²): MUX2_X1 1.862 µm², DFF_X1 4.522 µm². Energy
    /// is scaled by the same ratio (assumption: ∝ switched capacitance ∝ area).
    pub mux2_per_fa: f64,
    pub dff_per_fa: f64,
    /// Intel 45 nm 6T SRAM cell 0.346 µm² (Mistry et al., IEDM 2007) at
    /// 50 % array efficiency (decoders, sense amps, I/O).
    pub sram_um2_per_bit: f64,
}

impl Default for CostTable {
    fn default() -> Self {
        CostTable {
            add8_pj: 0.03,
            add32_pj: 0.1,
            add8_um2: 36.0,
            add32_um2: 137.0,
            mul8_pj: 0.2,
            mul32_pj: 3.1,
            mul8_um2: 282.0,
            mul32_um2: 3495.0,
            sram64_pj: [(8192.0, 10.0), (32768.0, 20.0), (1048576.0, 100.0)],
            dram64_pj: 1950.0,
            mux2_per_fa: 1.862 / 4.256,
            dff_per_fa: 4.522 / 4.256,
            sram_um2_per_bit: 0.346 / 0.5,
        }
    }
}

/// Linear through (x0, y0), (x1, y1); proportional (through 0) below x0,
/// proportional to the x1 point above x1.
fn interp(x: f64, (x0, y0): (f64, f64), (x1, y1): (f64, f64)) -> f64 {
    if x <= x0 {
        y0 * x / x0
    } else if x >= x1 {
        y1 * x / x1
    } else {
        y0 + (x - x0) * (y1 - y0) / (x1 - x0)
    }
}

/// (energy pJ, area µm²) of one operation or unit.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Pa {
    pub pj: f64,
    pub um2: f64,
}

impl std::ops::Add for Pa {
    type Output = Pa;
    fn add(self, o: Pa) -> Pa {
        Pa { pj: self.pj + o.pj, um2: self.um2 + o.um2 }
    }
}
impl std::ops::Mul<f64> for Pa {
    type Output = Pa;
    fn mul(self, k: f64) -> Pa {
        Pa { pj: self.pj * k, um2: self.um2 * k }
    }
}

impl CostTable {
    /// Ripple/prefix adder: linear in width between the 8- and 32-bit anchors.
    pub fn add(&self, bits: u32) -> Pa {
        let b = bits as f64;
        Pa {
            pj: interp(b, (8.0, self.add8_pj), (32.0, self.add32_pj)),
            um2: interp(b, (8.0, self.add8_um2), (32.0, self.add32_um2)),
        }
    }
    /// Array multiplier: linear in a·b (partial-product bits) between 8×8 and 32×32.
    pub fn mul(&self, a: u32, b: u32) -> Pa {
        let ab = (a * b) as f64;
        Pa {
            pj: interp(ab, (64.0, self.mul8_pj), (1024.0, self.mul32_pj)),
            um2: interp(ab, (64.0, self.mul8_um2), (1024.0, self.mul32_um2)),
        }
    }
    fn fa_bit(&self) -> Pa {
        Pa { pj: self.add8_pj / 8.0, um2: self.add8_um2 / 8.0 }
    }
    /// `n` bits of 2:1 multiplexers.
    pub fn mux2(&self, n: u32) -> Pa {
        self.fa_bit() * (self.mux2_per_fa * n as f64)
    }
    /// Shifter choosing among `choices` fixed shifts: a (choices−1)-mux tree per bit.
    pub fn fixed_shifter(&self, bits: u32, choices: u32) -> Pa {
        self.mux2(bits * choices.saturating_sub(1).max(1))
    }
    /// Barrel shifter: ⌈log2(range)⌉ stages of 2:1 muxes.
    pub fn barrel(&self, bits: u32, range: u32) -> Pa {
        self.mux2(bits * (32 - range.max(2).saturating_sub(1).leading_zeros()))
    }
    /// `n` register bits (area; energy per write of all n bits).
    pub fn regs(&self, n: u32) -> Pa {
        self.fa_bit() * (self.dff_per_fa * n as f64)
    }
    /// Energy of one bit read or written in an SRAM bank of `bytes`
    /// (log-log interpolation between the 64-bit anchors).
    pub fn sram_pj_per_bit(&self, bytes: f64) -> f64 {
        let a = &self.sram64_pj;
        let (lo, hi) = if bytes <= a[1].0 { (a[0], a[1]) } else { (a[1], a[2]) };
        let t = (bytes.max(1.0).ln() - lo.0.ln()) / (hi.0.ln() - lo.0.ln());
        (lo.1.ln() + t * (hi.1.ln() - lo.1.ln())).exp() / 64.0
    }
    pub fn dram_pj_per_bit(&self) -> f64 {
        self.dram64_pj / 64.0
    }
}

/// The widths a design is built for: the widest layer of the network.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Widths {
    pub weight_bits: u32,
    pub code_bits: u32,
    pub n_words: u32,
    /// Fixed shifts each word chooses among (DFSQ: 3 + off).
    pub word_choices: u32,
    pub uset_frac_bits: u32,
    pub levels: u32,
    /// Per-channel tables: the most input channels of a layer, and the most
    /// μ-table entries (output channels × border-mask combinations).
    pub max_in_c: u32,
    pub max_out_c: u32,
    pub max_mu_entries: u32,
}

/// Per-operation energy and per-unit area of one design.
#[derive(Clone, Debug, Serialize)]
pub struct Design {
    /// Shift-add MAC, ungated: every word, the tap-sum add, registers.
    pub sq_mac: Pa,
    /// Its parts under term gating: one active word (shifter and its share
    /// of the adder tree), the tap-sum add and P register a non-zero code
    /// takes, and the operand register every code is written to.
    /// n_words·sq_word + sq_nonzero + sq_code_reg = sq_mac.
    pub sq_word: Pa,
    pub sq_nonzero: Pa,
    pub sq_code_reg: Pa,
    pub term_gating: bool,
    /// One per-channel LUT look-up (index → SQ code).
    pub lut_read: Pa,
    /// One μ = Σx/n division (sequential, one quotient bit per cycle).
    pub stats_divide: Pa,
    pub base_mac: Pa,
    pub denorm_op: Pa,
    pub output_op: Pa,
    pub comparison: Pa,
    pub stats_value: Pa,
    pub threshold_mult: Pa,
    pub mu_table_mult: Pa,
    /// Uniform array: one column sum added into its accumulator.
    pub psum_add: Pa,
    /// Uniform array: one activation through the input quantizer
    /// (1/S multiply, zero-point add, clamp).
    pub act_quant: Pa,
    pub pe_sq_um2: f64,
    pub pe_base_um2: f64,
    pub skew_sq_um2: f64,
    pub skew_base_um2: f64,
    pub denorm_unit_um2: f64,
    pub quant_stats_um2: f64,
    /// Per-channel thresholds, LUTs, M̂/μ̂ and the μ table (SRAM cells),
    /// the divider and the LUT read ports.
    pub tables_um2: f64,
    pub sram_um2: f64,
    pub weight_pj_bit: f64,
    pub act_pj_bit: f64,
    pub psum_pj_bit: f64,
    pub dram_pj_bit: f64,
    pub pes: usize,
    pub cols: usize,
    pub acc_bits: u32,
}

impl Design {
    pub fn new(cfg: &HwConfig, w: &Widths, t: &CostTable) -> Self {
        let (d, a) = (&cfg.datapath, &cfg.array);
        let term = w.weight_bits + d.pe_frac_bits;
        let s_bits = w.uset_frac_bits + 2; // s in [−2^F, 2^F]
        let acc = d.denorm_acc_bits;
        let ws = a.dataflow == Dataflow::WeightStationary;
        // PE registers besides the operand: WS two weight banks + psum; OS weight + P + out
        let pe_regs = if ws { d.tap_sum_bits + 2 * w.weight_bits } else { w.weight_bits + 2 * d.tap_sum_bits };
        let n = w.n_words.max(1) as f64;
        let sq_arith = t.fixed_shifter(term, w.word_choices) * n
            + t.add(term + 2) * (n - 1.0)
            + t.add(d.tap_sum_bits);
        let base_arith = t.mul(w.weight_bits, s_bits) + t.add(d.tap_sum_bits);
        // energy per MAC: arithmetic + operand and psum register writes
        let sq_mac = Pa { pj: sq_arith.pj + t.regs(w.code_bits + d.tap_sum_bits).pj, um2: 0.0 };
        let e = |p: Pa| Pa { pj: p.pj, um2: 0.0 };
        let sq_word = e(t.fixed_shifter(term, w.word_choices) + t.add(term + 2) * ((n - 1.0) / n));
        let sq_nonzero = e(t.add(d.tap_sum_bits) + t.regs(d.tap_sum_bits));
        let sq_code_reg = e(t.regs(w.code_bits));
        let base_mac = Pa { pj: base_arith.pj + t.regs(s_bits + d.tap_sum_bits).pj, um2: 0.0 };
        let m_bits = match cfg.denorm.format {
            DenormFormat::Full => d.act_bits,
            DenormFormat::Mantissa => cfg.denorm.max_mant_bits,
            DenormFormat::Pow2 => 0,
        };
        let dmul = if m_bits == 0 { Pa::default() } else { t.mul(m_bits, d.tap_sum_bits) };
        let denorm_op = dmul + t.barrel(acc, 64) + t.add(acc) + t.regs(acc);
        // μ table: one acc-wide entry per (output channel, border masks)
        let mu_bits = w.max_mu_entries as f64 * acc as f64;
        let mu_read = Pa { pj: acc as f64 * t.sram_pj_per_bit(mu_bits / 8.0), um2: 0.0 };
        // the functional model multiplies the whole accumulator by Δ's mantissa
        let output_op = t.add(acc)
            + t.mul(acc, d.delta_mult_bits)
            + t.barrel(acc, 64)
            + t.add(d.act_bits)
            + t.regs(acc + d.act_bits)
            + mu_read;
        let cmp_bits = d.act_bits + w.uset_frac_bits + 2;
        let lanes = crate::cycle::plan::quantizer_lanes(cfg) as f64;
        let lut_read = t.mux2(w.code_bits * w.levels.saturating_sub(1));
        let stats_divide = (t.add(acc) + t.regs(acc)) * acc as f64;
        let index = cfg.levers.act_buffer == crate::config::ActStore::Index;
        // per-channel tables of the widest layer, as SRAM cells
        let ch = w.max_in_c as f64;
        let norm_bits = (cfg.denorm.max_mant_bits + cfg.denorm.mean_mant_bits + 6) as f64;
        // per output channel: Δ mantissa, its shift, the bias
        let out_bits = w.max_out_c as f64 * (d.delta_mult_bits + 6 + d.act_bits) as f64;
        let table_bits = ch * ((w.levels - 1) as f64 * cmp_bits as f64 + w.levels as f64 * w.code_bits as f64 + norm_bits)
            + mu_bits
            + out_bits;
        let lut_ports = if index { a.rows as f64 } else { lanes };
        let tables_um2 = table_bits * t.sram_um2_per_bit
            + t.add(acc).um2
            + t.regs(3 * acc).um2
            + lut_read.um2 * lut_ports;
        let quant_lane =
            t.add(cmp_bits) * (w.levels - 1) as f64 + t.add(d.act_bits) + t.regs(cmp_bits * (w.levels - 1));
        let stats_lane = t.add(48) + t.add(d.act_bits) * 2.0;
        let skew = |bits: u32| -> f64 {
            let rows: usize = (0..a.rows).sum();
            let cols: usize = if ws { 0 } else { (0..a.cols).sum() };
            t.regs(bits).um2 * rows as f64 + t.regs(w.weight_bits).um2 * cols as f64
        };
        Design {
            sq_mac,
            sq_word,
            sq_nonzero,
            sq_code_reg,
            term_gating: cfg.levers.term_gating,
            lut_read: e(lut_read),
            stats_divide: e(stats_divide),
            tables_um2,
            base_mac,
            denorm_op,
            output_op,
            comparison: t.add(cmp_bits),
            stats_value: stats_lane,
            threshold_mult: t.mul(s_bits, m_bits.max(1)),
            mu_table_mult: t.mul(cfg.denorm.mean_mant_bits, w.weight_bits + 4) + t.add(acc),
            psum_add: Pa::default(),
            act_quant: Pa::default(),
            pe_sq_um2: sq_arith.um2 + t.regs(w.code_bits + pe_regs).um2,
            pe_base_um2: base_arith.um2 + t.regs(s_bits + pe_regs).um2,
            skew_sq_um2: skew(w.code_bits),
            skew_base_um2: skew(s_bits),
            denorm_unit_um2: denorm_op.um2 + output_op.um2,
            quant_stats_um2: (quant_lane.um2 + stats_lane.um2) * lanes,
            acc_bits: acc,
            ..Self::memories(cfg, t)
        }
    }

    /// The buffers, DRAM and array size every design shares; arithmetic zero.
    fn memories(cfg: &HwConfig, t: &CostTable) -> Self {
        let a = &cfg.array;
        let bank = |bytes: usize| bytes as f64 / a.buffer_banks.max(1) as f64;
        let z = Pa::default();
        Design {
            sq_mac: z,
            sq_word: z,
            sq_nonzero: z,
            sq_code_reg: z,
            term_gating: false,
            lut_read: z,
            stats_divide: z,
            tables_um2: 0.0,
            base_mac: z,
            denorm_op: z,
            output_op: z,
            comparison: z,
            stats_value: z,
            threshold_mult: z,
            mu_table_mult: z,
            psum_add: z,
            act_quant: z,
            pe_sq_um2: 0.0,
            pe_base_um2: 0.0,
            skew_sq_um2: 0.0,
            skew_base_um2: 0.0,
            denorm_unit_um2: 0.0,
            quant_stats_um2: 0.0,
            sram_um2: ((a.weight_buffer_bytes + a.act_buffer_bytes + a.psum_buffer_bytes) * 8) as f64 * t.sram_um2_per_bit,
            weight_pj_bit: t.sram_pj_per_bit(bank(a.weight_buffer_bytes)),
            act_pj_bit: t.sram_pj_per_bit(bank(a.act_buffer_bytes)),
            psum_pj_bit: t.sram_pj_per_bit(bank(a.psum_buffer_bytes)),
            dram_pj_bit: t.dram_pj_per_bit(),
            pes: a.rows * a.cols,
            cols: a.cols,
            acc_bits: 0,
        }
    }

    /// The uniform-integer array of the same size, buffers and DRAM: a
    /// `weight_bits × (abits + 1)` multiplier per PE (w times q − Z), the
    /// same column tap-sum register, one accumulate add per column sum into
    /// the `uniform.acc_bits` accumulator, gemmlowp requantization
    /// (acc × `requant_mult_bits` multiply, rounding shift, bias add), an
    /// input quantizer per DRAM lane; no stats unit, no de-normalization
    /// multiply, no threshold or μ tables. `sq_*` and `base_*` both hold it.
    pub fn uniform(cfg: &HwConfig, w: &Widths, abits: u32, t: &CostTable) -> Self {
        let (d, a, u) = (&cfg.datapath, &cfg.array, &cfg.uniform);
        let opnd = abits + 1;
        let acc = u.acc_bits;
        let arith = t.mul(w.weight_bits, opnd) + t.add(d.tap_sum_bits);
        let mac = Pa { pj: arith.pj + t.regs(opnd + d.tap_sum_bits).pj, um2: 0.0 };
        let pe_regs = d.tap_sum_bits + 2 * w.weight_bits;
        let psum_add = t.add(acc) + t.regs(acc);
        let output_op = t.mul(acc, u.requant_mult_bits) + t.barrel(acc + u.requant_mult_bits, 64) + t.add(d.act_bits) + t.regs(acc + d.act_bits);
        let act_quant = t.mul(d.act_bits, u.input_mult_bits) + t.barrel(d.act_bits + u.input_mult_bits, 64) + t.add(opnd) + t.regs(abits);
        let lanes = crate::cycle::plan::quantizer_lanes(cfg) as f64;
        let rows: usize = (0..a.rows).sum();
        let skew = t.regs(opnd).um2 * rows as f64;
        // per output channel: requantization multiplier, its shift, the bias
        let tables_um2 = w.max_out_c as f64 * (u.requant_mult_bits + 6 + d.act_bits) as f64 * t.sram_um2_per_bit;
        Design {
            sq_mac: mac,
            base_mac: mac,
            tables_um2,
            output_op,
            psum_add,
            act_quant,
            pe_sq_um2: arith.um2 + t.regs(opnd + pe_regs).um2,
            pe_base_um2: arith.um2 + t.regs(opnd + pe_regs).um2,
            skew_sq_um2: skew,
            skew_base_um2: skew,
            denorm_unit_um2: psum_add.um2 + output_op.um2,
            quant_stats_um2: act_quant.um2 * lanes,
            acc_bits: acc,
            ..Self::memories(cfg, t)
        }
    }

    /// Energy of one run, by component; `baseline` swaps the PE arithmetic.
    pub fn energy(&self, c: &Counters, baseline: bool) -> Energy {
        let pe = if baseline {
            c.macs as f64 * self.base_mac.pj
        } else if self.term_gating {
            c.word_ops as f64 * self.sq_word.pj
                + (c.macs - c.zero_code_macs) as f64 * self.sq_nonzero.pj
                + c.macs as f64 * self.sq_code_reg.pj
        } else {
            c.macs as f64 * self.sq_mac.pj
        };
        let e = Energy {
            pe,
            denorm: c.denorm_mults as f64 * self.denorm_op.pj + c.psum_adds as f64 * self.psum_add.pj,
            output: c.outputs as f64 * self.output_op.pj,
            quantizer: c.comparisons as f64 * self.comparison.pj
                + c.threshold_mults as f64 * self.threshold_mult.pj
                + c.quantized_acts as f64 * self.act_quant.pj
                + c.lut_reads as f64 * self.lut_read.pj,
            stats: c.stats_values as f64 * self.stats_value.pj
                + c.mu_table_mults as f64 * self.mu_table_mult.pj
                + c.stats_divides as f64 * self.stats_divide.pj,
            weight_buf: (c.weight_buf_read_bits + c.weight_buf_write_bits) as f64 * self.weight_pj_bit,
            act_buf: (c.act_buf_read_bits + c.act_buf_write_bits) as f64 * self.act_pj_bit,
            psum_buf: (c.psum_read_bits + c.psum_write_bits) as f64 * self.psum_pj_bit,
            dram: (c.dram_read_bits + c.dram_write_bits) as f64 * self.dram_pj_bit,
            total: 0.0,
        };
        Energy {
            total: e.pe + e.denorm + e.output + e.quantizer + e.stats + e.weight_buf + e.act_buf + e.psum_buf + e.dram,
            ..e
        }
    }

    pub fn area(&self, baseline: bool) -> Area {
        let (pe, skew) =
            if baseline { (self.pe_base_um2, self.skew_base_um2) } else { (self.pe_sq_um2, self.skew_sq_um2) };
        let a = Area {
            pe_array: pe * self.pes as f64 + skew,
            denorm_units: self.denorm_unit_um2 * self.cols as f64,
            quantizer_stats: self.quant_stats_um2,
            tables: self.tables_um2,
            sram: self.sram_um2,
            total: 0.0,
        };
        Area { total: a.pe_array + a.denorm_units + a.quantizer_stats + a.tables + a.sram, ..a }
    }
}

summed! {
/// Energy in pJ by component.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Energy {
    pub pe: f64,
    pub denorm: f64,
    pub output: f64,
    pub quantizer: f64,
    pub stats: f64,
    pub weight_buf: f64,
    pub act_buf: f64,
    pub psum_buf: f64,
    pub dram: f64,
    pub total: f64,
}
}

/// Area in µm² by block.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Area {
    pub pe_array: f64,
    pub denorm_units: f64,
    pub quantizer_stats: f64,
    /// Per-channel tables (thresholds, LUTs, M̂/μ̂, μ table), the μ divider.
    pub tables: f64,
    pub sram: f64,
    pub total: f64,
}
