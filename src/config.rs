//! Hardware configuration as data (`hw/configs/*.toml`). Depends on nothing
//! else in sqsim. Every width is in bits and named so; every rate carries its
//! unit. `validate` names the offending field.
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OverflowPolicy {
    /// Clamp to the register's range (and count).
    Saturate,
    /// Two's-complement wrap-around (and count).
    Wrap,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DenormFormat {
    /// μ̂ and M̂ kept exactly in the activation format.
    Full,
    /// M̂ = unsigned `max_mant_bits` mantissa × 2^e, μ̂ = signed
    /// `mean_mant_bits` mantissa on the same exponent.
    Mantissa,
    /// M̂ = 2^e (a shift), μ̂ = signed `mean_mant_bits` mantissa × 2^e.
    Pow2,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatapathConfig {
    /// Inter-layer activation word (signed) and its fractional bits.
    pub act_bits: u32,
    pub act_frac_bits: u32,
    /// Fractional bits of each shift-add product (10 = exact for the DFSQ set).
    pub pe_frac_bits: u32,
    /// Signed width of the integer weight w = q + zp; 0 = size it to the model.
    pub weight_bits: u32,
    /// Per-(o, c) tap-sum register P (signed).
    pub tap_sum_bits: u32,
    /// De-normalization accumulator Σ_c M̂_c·P + μ term (signed).
    pub denorm_acc_bits: u32,
    /// Unsigned mantissa of each output channel's Δ multiplier.
    pub delta_mult_bits: u32,
    pub overflow: OverflowPolicy,
}

impl Default for DatapathConfig {
    fn default() -> Self {
        DatapathConfig {
            act_bits: 24,
            act_frac_bits: 8,
            pe_frac_bits: 10,
            weight_bits: 0,
            tap_sum_bits: 24,
            denorm_acc_bits: 48,
            delta_mult_bits: 16,
            overflow: OverflowPolicy::Saturate,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DenormConfig {
    pub format: DenormFormat,
    pub max_mant_bits: u32,
    pub mean_mant_bits: u32,
}

impl Default for DenormConfig {
    fn default() -> Self {
        DenormConfig { format: DenormFormat::Mantissa, max_mant_bits: 8, mean_mant_bits: 8 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dataflow {
    /// Rows = the k·k taps of one input channel, columns = output channels;
    /// weights stay, activation codes stream in, partial sums flow down.
    WeightStationary,
    /// Each PE owns one output pixel of one output channel and accumulates
    /// in place; weights and codes stream past.
    OutputStationary,
}

/// The MAC array and its memories (DATAPATH.md §4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArrayConfig {
    pub dataflow: Dataflow,
    pub rows: usize,
    pub cols: usize,
    pub clock_mhz: f64,
    pub weight_buffer_bytes: usize,
    pub act_buffer_bytes: usize,
    pub psum_buffer_bytes: usize,
    pub buffer_banks: usize,
    pub buffer_bytes_per_cycle: usize,
    pub dram_bytes_per_cycle: f64,
}

impl Default for ArrayConfig {
    fn default() -> Self {
        ArrayConfig {
            dataflow: Dataflow::WeightStationary,
            rows: 9,
            cols: 16,
            clock_mhz: 500.0,
            weight_buffer_bytes: 64 * 1024,
            act_buffer_bytes: 256 * 1024,
            psum_buffer_bytes: 128 * 1024,
            buffer_banks: 8,
            buffer_bytes_per_cycle: 64,
            dram_bytes_per_cycle: 16.0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HwConfig {
    pub name: String,
    pub datapath: DatapathConfig,
    pub denorm: DenormConfig,
    pub array: ArrayConfig,
    /// Widths of the uniform-integer baseline datapath (hw/SPEC.md
    /// "Uniform-integer datapath"); omitted from the TOML when default.
    #[serde(skip_serializing_if = "UniformConfig::is_default")]
    pub uniform: UniformConfig,
    /// DFSQ architecture options (hw/ARRAY.md "Architecture levers"); all
    /// off by default and then omitted from the TOML.
    #[serde(skip_serializing_if = "LeverConfig::is_default")]
    pub levers: LeverConfig,
}

/// What the activation buffer holds per activation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActStore {
    /// The SQ code (sign + selectors), looked up at the quantizer.
    #[default]
    Code,
    /// The b-bit point index; the per-channel LUT turns it into the SQ code
    /// at the buffer's read port (one LUT read per code fed to a row).
    Index,
}

/// DFSQ's architecture options, each priced by the cost model and stepped
/// by the cycle model (hw/ARRAY.md "Architecture levers", hw/COST.md).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LeverConfig {
    /// Clock-gate each PE word whose selector is "off" (no shifter or adder
    /// energy), and the tap-sum add and register on an all-zero code. Priced
    /// from the measured words of the codes real data produces.
    pub term_gating: bool,
    /// Activation-buffer contents: `code` (default) or `index`.
    pub act_buffer: ActStore,
    /// The previous layer's output path accumulates Σx/min/max of each
    /// channel as it writes, so the consumer reads its input from DRAM once
    /// (no stats pass); the set-up then runs at layer start.
    pub producer_stats: bool,
}

impl LeverConfig {
    pub fn is_default(&self) -> bool {
        *self == LeverConfig::default()
    }
    /// Short tags for design names: `gate`, `idx`, `pstats`.
    pub fn tags(&self) -> Vec<&'static str> {
        let mut t = Vec::new();
        if self.term_gating {
            t.push("gate");
        }
        if self.act_buffer == ActStore::Index {
            t.push("idx");
        }
        if self.producer_stats {
            t.push("pstats");
        }
        t
    }
    /// Parses `gate`, `idx`, `pstats` or `all` (one tag).
    pub fn set_tag(&mut self, tag: &str) -> Result<()> {
        match tag {
            "gate" | "term-gating" => self.term_gating = true,
            "idx" | "index" => self.act_buffer = ActStore::Index,
            "pstats" | "producer-stats" => self.producer_stats = true,
            "all" => *self = LeverConfig { term_gating: true, act_buffer: ActStore::Index, producer_stats: true },
            _ => {
                return Err(Error::Unknown {
                    kind: "architecture lever".into(),
                    name: tag.into(),
                    known: "gate, idx, pstats, all".into(),
                })
            }
        }
        Ok(())
    }
}

/// The uniform-integer datapath (gemmlowp/TFLite scheme): b-bit codes with a
/// zero point, integer products, an accumulator across all input channels,
/// per-output-channel fixed-point requantization.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UniformConfig {
    /// Accumulator Σ w·(q − Z) over every input channel and tap (signed).
    pub acc_bits: u32,
    /// Unsigned mantissa of the input quantizer's 1/scale multiplier.
    pub input_mult_bits: u32,
    /// Unsigned mantissa of each output channel's requantization multiplier
    /// (gemmlowp: a 31-bit Q0.31 multiplier and a rounding shift).
    pub requant_mult_bits: u32,
}

impl Default for UniformConfig {
    fn default() -> Self {
        UniformConfig { acc_bits: 32, input_mult_bits: 24, requant_mult_bits: 31 }
    }
}

impl UniformConfig {
    pub fn is_default(&self) -> bool {
        *self == UniformConfig::default()
    }
}

impl Default for HwConfig {
    fn default() -> Self {
        HwConfig {
            name: "default".into(),
            datapath: DatapathConfig::default(),
            denorm: DenormConfig::default(),
            array: ArrayConfig::default(),
            uniform: UniformConfig::default(),
            levers: LeverConfig::default(),
        }
    }
}

/// Sections a config may leave out whole (then: their documented defaults).
const OPTIONAL_SECTIONS: [&str; 2] = ["uniform", "levers"];

/// Every field of the schema the TOML text lacks, as `section.field
/// (default V)`: a config runs on exactly what it says, never on silent
/// defaults. Unknown fields are refused by the parser (deny_unknown_fields).
fn missing_fields(text: &str) -> Vec<String> {
    let Ok(given) = text.parse::<toml::Table>() else { return Vec::new() };
    let d = HwConfig::default();
    let mut full = toml::Table::try_from(&d).unwrap_or_default();
    for (k, v) in [("uniform", toml::Value::try_from(&d.uniform)), ("levers", toml::Value::try_from(&d.levers))] {
        if let Ok(v) = v {
            full.insert(k.to_string(), v);
        }
    }
    let mut out = Vec::new();
    for (k, v) in &full {
        match (v, given.get(k)) {
            (toml::Value::Table(_), None) if OPTIONAL_SECTIONS.contains(&k.as_str()) => {}
            (toml::Value::Table(_), None) => out.push(format!("section [{k}]")),
            (toml::Value::Table(t), g) => {
                let g = g.and_then(toml::Value::as_table);
                for (f, dv) in t {
                    if g.is_none_or(|g| !g.contains_key(f)) {
                        out.push(format!("`{k}.{f}` (default {dv})"));
                    }
                }
            }
            (dv, None) => out.push(format!("`{k}` (default {dv})")),
            _ => {}
        }
    }
    out
}

fn range(field: &str, v: u32, lo: u32, hi: u32) -> Result<()> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(Error::config(field, format!("{v} is outside {lo}..={hi}")))
    }
}

impl HwConfig {
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        let c: HwConfig = toml::from_str(text).map_err(|e| {
            // one line: the message plus the offending line of the file
            let msg = e.message().trim().to_string();
            let at = e.span().map(|sp| {
                let line_no = text[..sp.start.min(text.len())].matches('\n').count() + 1;
                let line = text.lines().nth(line_no - 1).unwrap_or("").trim();
                format!(" at line {line_no} (`{line}`)")
            });
            Error::format(origin, format!("invalid hardware config{}: {msg}", at.unwrap_or_default()))
        })?;
        c.validate()?;
        let missing = missing_fields(text);
        if !missing.is_empty() {
            return Err(Error::format(
                origin,
                format!(
                    "incomplete hardware config: missing {} (a config is complete: `name`, every field of [datapath], [denorm] and [array], and of [uniform] or [levers] when given; those two may be left out whole: default widths, levers off; hw/configs/default.toml lists every field)",
                    missing.join(", ")
                ),
            ));
        }
        Ok(c)
    }

    pub fn load(path: &Path) -> Result<Self> {
        let bytes = crate::io_util::read_input(path)?;
        let text = String::from_utf8(bytes).map_err(|_| Error::format(path, "not UTF-8 text"))?;
        Self::from_toml(&text, &path.display().to_string())
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    pub fn validate(&self) -> Result<()> {
        let d = &self.datapath;
        // the host keeps activations in f32: 25 signed bits round-trip exactly
        range("datapath.act_bits", d.act_bits, 4, 25)?;
        if d.act_frac_bits >= d.act_bits {
            return Err(Error::config("datapath.act_frac_bits", format!("{} must be below act_bits {}", d.act_frac_bits, d.act_bits)));
        }
        range("datapath.pe_frac_bits", d.pe_frac_bits, 0, 24)?;
        if d.weight_bits != 0 {
            range("datapath.weight_bits", d.weight_bits, 2, 32)?;
        }
        range("datapath.tap_sum_bits", d.tap_sum_bits, 2, 62)?;
        range("datapath.denorm_acc_bits", d.denorm_acc_bits, 2, 62)?;
        range("datapath.delta_mult_bits", d.delta_mult_bits, 2, 32)?;
        range("uniform.acc_bits", self.uniform.acc_bits, 2, 62)?;
        range("uniform.input_mult_bits", self.uniform.input_mult_bits, 2, 32)?;
        range("uniform.requant_mult_bits", self.uniform.requant_mult_bits, 2, 32)?;
        let n = &self.denorm;
        range("denorm.max_mant_bits", n.max_mant_bits, 1, 24)?;
        range("denorm.mean_mant_bits", n.mean_mant_bits, 2, 32)?;
        let a = &self.array;
        if a.rows == 0 || a.rows > 4096 {
            return Err(Error::config("array.rows", format!("{} is outside 1..=4096", a.rows)));
        }
        if a.cols == 0 || a.cols > 4096 {
            return Err(Error::config("array.cols", format!("{} is outside 1..=4096", a.cols)));
        }
        if !(a.clock_mhz.is_finite() && a.clock_mhz > 0.0) {
            return Err(Error::config("array.clock_mhz", format!("{} must be a positive number", a.clock_mhz)));
        }
        if !(a.dram_bytes_per_cycle.is_finite() && a.dram_bytes_per_cycle > 0.0) {
            return Err(Error::config("array.dram_bytes_per_cycle", "must be a positive number"));
        }
        for (f, v) in [
            ("array.weight_buffer_bytes", a.weight_buffer_bytes),
            ("array.act_buffer_bytes", a.act_buffer_bytes),
            ("array.psum_buffer_bytes", a.psum_buffer_bytes),
            ("array.buffer_banks", a.buffer_banks),
            ("array.buffer_bytes_per_cycle", a.buffer_bytes_per_cycle),
        ] {
            if v == 0 {
                return Err(Error::config(f, "must be at least 1"));
            }
        }
        Ok(())
    }
}
