//! Waveforms for debugging a mismatch: a vector set as a VCD whose signals
//! have the RTL's names and hierarchy (`<tb>.dut.…`, from each expected
//! field's [`Field::signal`]), on the testbench's time base, and a compare of
//! that VCD with the one the testbench dumps (`+vcd=`), which names the first
//! differing cycle and signal.
//!
//! Time base (`hw/tb/tb_common.vh`): vector n is applied at 10·n ns, the
//! clock rises at 10·n + 5 ns and the DUT's registered outputs hold row n's
//! expected values from then on; the compare samples both files at
//! 10·n + 6 ns. For the array tile, expected row n ≥ 1 is the cycle model's
//! cycle n − 1 (row 0 is the reset), so the VCD is the stepped model's
//! registers, PE by PE.
use super::pack::{Field, VectorSet};
use crate::io_util::atomic_write;
use crate::{Error, Result};
use std::collections::HashMap;
use std::path::Path;
use vcd::{Command, IdCode, TimescaleUnit, Value};

pub const PERIOD_NS: u64 = 10;
pub const EDGE_NS: u64 = 5;
pub const SAMPLE_NS: u64 = 6;

fn bad(what: impl Into<String>) -> Error {
    Error::arg("vcd", what.into())
}

/// One RTL signal: its scopes below the testbench, its name, its width, and
/// the expected fields that make it up (field index, lowest bit in the signal).
#[derive(Clone, Debug, PartialEq)]
struct Bus {
    scopes: Vec<String>,
    name: String,
    width: u32,
    parts: Vec<(usize, u32)>,
    /// Made of slices (`s[hi:lo]`), so further slices may join it.
    sliced: bool,
}

/// Splits `dut.g_row[3].g_col[1].ps` into scopes, name and an optional
/// slice `[hi:lo]` / `[i]` of the last segment.
fn split_signal(sig: &str) -> Result<(Vec<String>, String, Option<(u32, u32)>)> {
    let mut segs: Vec<String> = sig.split('.').map(str::to_string).collect();
    let last = segs.pop().filter(|s| !s.is_empty()).ok_or_else(|| bad(format!("empty signal name in '{sig}'")))?;
    if segs.iter().any(String::is_empty) {
        return Err(bad(format!("empty scope in '{sig}'")));
    }
    let Some(open) = last.find('[') else { return Ok((segs, last, None)) };
    let (name, idx) = (last[..open].to_string(), last[open + 1..].strip_suffix(']'));
    let num = |s: &str| s.trim().parse::<u32>().map_err(|_| bad(format!("bad slice in '{sig}'")));
    let (hi, lo) = match idx.map(|i| i.split_once(':')) {
        Some(Some((h, l))) => (num(h)?, num(l)?),
        Some(None) => {
            let i = num(idx.unwrap_or_default())?;
            (i, i)
        }
        None => return Err(bad(format!("bad slice in '{sig}'"))),
    };
    if hi < lo || name.is_empty() {
        return Err(bad(format!("bad slice in '{sig}'")));
    }
    Ok((segs, name, Some((hi, lo))))
}

/// Groups the expected fields into RTL signals (slices of one bus join it);
/// every bit of a sliced bus must come from exactly one field.
fn buses(fields: &[Field]) -> Result<Vec<Bus>> {
    let mut out: Vec<Bus> = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        let sig = f.signal();
        let (scopes, name, slice) = split_signal(&sig)?;
        let (hi, lo) = slice.unwrap_or((f.bits - 1, 0));
        if hi - lo + 1 != f.bits {
            return Err(bad(format!("{sig}: slice of {} bits for the {}-bit field {}", hi - lo + 1, f.bits, f.name)));
        }
        match out.iter_mut().find(|b| b.scopes == scopes && b.name == name) {
            Some(b) if b.sliced && slice.is_some() => {
                b.width = b.width.max(hi + 1);
                b.parts.push((i, lo));
            }
            Some(_) => return Err(bad(format!("two fields are the RTL signal {sig}"))),
            None => out.push(Bus { scopes, name, width: hi + 1, parts: vec![(i, lo)], sliced: slice.is_some() }),
        }
    }
    for b in &out {
        let mut seen = vec![false; b.width as usize];
        for &(j, lo) in &b.parts {
            for bit in lo..lo + fields[j].bits {
                if std::mem::replace(&mut seen[bit as usize], true) {
                    return Err(bad(format!("bit {bit} of {} is in two fields", b.name)));
                }
            }
        }
        if let Some(gap) = seen.iter().position(|s| !s) {
            return Err(bad(format!("bit {gap} of {} is in no field", b.name)));
        }
    }
    Ok(out)
}

/// `v` as `bits` two's-complement bits, MSB first.
fn bits_of(v: i128, bits: u32) -> impl Iterator<Item = Value> {
    (0..bits).rev().map(move |b| if (v >> b) & 1 == 1 { Value::V1 } else { Value::V0 })
}

fn bus_value(b: &Bus, vals: &[i128], fields: &[Field]) -> Vec<Value> {
    let mut v = vec![Value::V0; b.width as usize]; // MSB first
    for &(j, lo) in &b.parts {
        let n = fields[j].bits;
        for (k, bit) in bits_of(vals[j], n).enumerate() {
            v[(b.width - lo - n) as usize + k] = bit;
        }
    }
    v
}

/// The set as a VCD: `<tb>.clk`, the stimulus fields under `<tb>.stim`
/// (the testbench itself holds them packed in `stim_i`), and the expected
/// values under the RTL's hierarchy (`<tb>.dut.…`), x until the first edge.
pub fn model_vcd(set: &VectorSet, tb: &str) -> Result<Vec<u8>> {
    let io = |e: std::io::Error| bad(e.to_string());
    let mut bs = buses(&set.outputs)?;
    bs.sort_by(|a, b| a.scopes.cmp(&b.scopes));
    let mut w = vcd::Writer::new(Vec::new());
    w.version(&format!("sqsim {} vectors --vcd (unit {}, expected values)", env!("CARGO_PKG_VERSION"), set.unit)).map_err(io)?;
    w.comment(&format!("rows {}; vector n applied at {PERIOD_NS}n ns, clock edge and expected outputs at {PERIOD_NS}n+{EDGE_NS} ns", set.rows.len()))
        .map_err(io)?;
    w.timescale(1, TimescaleUnit::NS).map_err(io)?;
    w.add_module(tb).map_err(io)?;
    let clk = w.add_wire(1, "clk").map_err(io)?;
    w.add_module("stim").map_err(io)?;
    let stim: Vec<IdCode> = set.inputs.iter().map(|f| w.add_wire(f.bits, &f.name)).collect::<std::io::Result<_>>().map_err(io)?;
    w.upscope().map_err(io)?;
    let mut open: Vec<String> = Vec::new();
    let mut ids = Vec::with_capacity(bs.len());
    for b in &bs {
        let common = open.iter().zip(&b.scopes).take_while(|(x, y)| x == y).count();
        while open.len() > common {
            open.pop();
            w.upscope().map_err(io)?;
        }
        for s in &b.scopes[common..] {
            w.add_module(s).map_err(io)?;
            open.push(s.clone());
        }
        ids.push(w.add_wire(b.width, &b.name).map_err(io)?);
    }
    for _ in 0..=open.len() {
        w.upscope().map_err(io)?;
    }
    w.enddefinitions().map_err(io)?;
    let mut last_in: Vec<Option<i128>> = vec![None; set.inputs.len()];
    let mut last_out: Vec<Option<Vec<Value>>> = vec![None; bs.len()];
    for (n, row) in set.rows.iter().enumerate() {
        let t0 = PERIOD_NS * n as u64;
        w.timestamp(t0).map_err(io)?;
        w.change_scalar(clk, Value::V0).map_err(io)?;
        if n == 0 {
            for (b, &id) in bs.iter().zip(&ids) {
                w.change_vector(id, std::iter::repeat_n(Value::X, b.width as usize)).map_err(io)?;
            }
        }
        for (k, (f, &v)) in set.inputs.iter().zip(&row.inputs).enumerate() {
            if last_in[k] != Some(v) {
                w.change_vector(stim[k], bits_of(v, f.bits)).map_err(io)?;
                last_in[k] = Some(v);
            }
        }
        w.timestamp(t0 + EDGE_NS).map_err(io)?;
        w.change_scalar(clk, Value::V1).map_err(io)?;
        for (k, b) in bs.iter().enumerate() {
            let v = bus_value(b, &row.outputs, &set.outputs);
            if last_out[k].as_ref() != Some(&v) {
                w.change_vector(ids[k], v.iter().copied()).map_err(io)?;
                last_out[k] = Some(v);
            }
        }
    }
    w.timestamp(PERIOD_NS * set.rows.len() as u64).map_err(io)?;
    w.change_scalar(clk, Value::V0).map_err(io)?;
    Ok(w.writer().clone())
}

/// Writes `model.vcd` into a vector set's directory (atomically).
pub fn write_model_vcd(set: &VectorSet, tb: &str, dir: &Path) -> Result<std::path::PathBuf> {
    let p = dir.join("model.vcd");
    atomic_write(&p, &model_vcd(set, tb)?)?;
    Ok(p)
}

/// A parsed VCD: every variable's full path (`scope.….name`) → its changes
/// (time in femtoseconds, value as 0/1/x/z text left-extended to its width).
struct Waves {
    paths: HashMap<String, IdCode>,
    widths: HashMap<IdCode, usize>,
    changes: HashMap<IdCode, Vec<(u128, String)>>,
}

fn fs_per(unit: TimescaleUnit) -> u128 {
    match unit {
        TimescaleUnit::S => 1_000_000_000_000_000,
        TimescaleUnit::MS => 1_000_000_000_000,
        TimescaleUnit::US => 1_000_000_000,
        TimescaleUnit::NS => 1_000_000,
        TimescaleUnit::PS => 1_000,
        TimescaleUnit::FS => 1,
    }
}

/// VCD's left extension of a short vector: 0 after a leading 0/1, else the leading x/z.
fn extend(v: &str, width: usize) -> String {
    if v.len() >= width {
        return v[v.len() - width..].to_string();
    }
    let pad = match v.chars().next() {
        Some(c @ ('x' | 'z')) => c,
        _ => '0',
    };
    std::iter::repeat_n(pad, width - v.len()).chain(v.chars()).collect()
}

fn text(v: Value) -> char {
    match v {
        Value::V0 => '0',
        Value::V1 => '1',
        Value::X => 'x',
        Value::Z => 'z',
    }
}

fn read_waves(bytes: &[u8], what: &str) -> Result<Waves> {
    let err = |e: std::io::Error| bad(format!("{what}: {e}"));
    let mut p = vcd::Parser::new(bytes);
    let mut w = Waves { paths: HashMap::new(), widths: HashMap::new(), changes: HashMap::new() };
    let (mut scope, mut unit, mut t) = (Vec::<String>::new(), 1u128, 0u128);
    for cmd in &mut p {
        match cmd.map_err(err)? {
            Command::Timescale(n, u) => unit = n as u128 * fs_per(u),
            Command::ScopeDef(_, s) => scope.push(s),
            Command::Upscope => {
                scope.pop();
            }
            Command::VarDef(_, size, id, name, _) => {
                let mut path = scope.join(".");
                path.push('.');
                path.push_str(&name);
                w.paths.entry(path).or_insert(id);
                w.widths.insert(id, size as usize);
            }
            Command::Timestamp(ts) => t = ts as u128 * unit,
            Command::ChangeScalar(id, v) => w.changes.entry(id).or_default().push((t, text(v).to_string())),
            Command::ChangeVector(id, v) => w.changes.entry(id).or_default().push((t, v.iter().map(text).collect())),
            _ => {}
        }
    }
    for (id, ch) in w.changes.iter_mut() {
        let width = w.widths.get(id).copied().unwrap_or(1);
        for c in ch.iter_mut() {
            c.1 = extend(&c.1, width);
        }
    }
    Ok(w)
}

/// The value a variable holds at time `t` (x before its first change).
fn at(ch: &[(u128, String)], t: u128, width: usize) -> String {
    let i = ch.partition_point(|c| c.0 <= t);
    if i == 0 {
        "x".repeat(width)
    } else {
        ch[i - 1].1.clone()
    }
}

/// One signal that differs at the first differing sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignalDiff {
    pub signal: String,
    pub model: String,
    pub rtl: String,
}

/// What [`compare`] found: the signals compared, the samples, and the first
/// differing vector (cycle) with every signal that differs there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VcdCompare {
    pub signals: usize,
    pub samples: usize,
    pub first: Option<(usize, Vec<SignalDiff>)>,
    /// Samples (vector × signal) that differ in all.
    pub differing: usize,
}

/// Binary text as hex where it has no x/z, for reading.
fn show(v: &str) -> String {
    if v.chars().all(|c| c == '0' || c == '1') {
        let n = v.len().div_ceil(4);
        let padded = extend(v, n * 4);
        let hex: String = padded.as_bytes().chunks(4).map(|c| char::from_digit(c.iter().fold(0, |a, &b| a * 2 + (b - b'0') as u32), 16).unwrap_or('?')).collect();
        format!("0x{hex}")
    } else {
        format!("b{v}")
    }
}

/// Compares the DUT signals of a model VCD (from [`model_vcd`]) with an
/// RTL simulator's dump of the same vectors, sampled at every vector's
/// 10·n + 6 ns. A leading `TOP` scope (Verilator) is ignored; a model
/// signal that the RTL dump lacks is an error.
pub fn compare(model: &[u8], rtl: &[u8]) -> Result<VcdCompare> {
    let m = read_waves(model, "model VCD")?;
    let r = read_waves(rtl, "RTL VCD")?;
    let mut sigs: Vec<(&String, IdCode)> = m.paths.iter().filter(|(p, _)| p.split('.').nth(1) == Some("dut")).map(|(p, &id)| (p, id)).collect();
    sigs.sort();
    if sigs.is_empty() {
        return Err(bad("the model VCD has no <tb>.dut signals"));
    }
    let mut pairs = Vec::new();
    let mut missing = Vec::new();
    for (p, id) in &sigs {
        match r.paths.get(*p).or_else(|| r.paths.get(&format!("TOP.{p}"))) {
            Some(rid) if r.widths.get(rid) == m.widths.get(id) => pairs.push((*p, *id, *rid)),
            Some(rid) => return Err(bad(format!("{p}: {} bits in the model, {} in the RTL dump", m.widths[id], r.widths[rid]))),
            None => missing.push(p.as_str()),
        }
    }
    if !missing.is_empty() {
        return Err(bad(format!("{} model signals are not in the RTL dump, e.g. {}", missing.len(), missing[..missing.len().min(3)].join(", "))));
    }
    let end = m.changes.values().flat_map(|c| c.last().map(|x| x.0)).max().unwrap_or(0);
    let ns = fs_per(TimescaleUnit::NS);
    let samples = (end / ns / PERIOD_NS as u128) as usize;
    let empty = Vec::new();
    let mut out = VcdCompare { signals: pairs.len(), samples, first: None, differing: 0 };
    for n in 0..samples {
        let t = (PERIOD_NS as u128 * n as u128 + SAMPLE_NS as u128) * ns;
        let mut here = Vec::new();
        for (p, mid, rid) in &pairs {
            let width = m.widths[mid];
            let (a, b) = (at(m.changes.get(mid).unwrap_or(&empty), t, width), at(r.changes.get(rid).unwrap_or(&empty), t, width));
            if a != b {
                out.differing += 1;
                if out.first.is_none() {
                    here.push(SignalDiff { signal: p.to_string(), model: show(&a), rtl: show(&b) });
                }
            }
        }
        if out.first.is_none() && !here.is_empty() {
            out.first = Some((n, here));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vectors::pack::{Kind, Row};
    use std::collections::BTreeMap;

    #[test]
    fn signals_split_and_slices_join() {
        assert_eq!(split_signal("dut.g_row[3].g_col[1].ps").unwrap(), (vec!["dut".into(), "g_row[3]".into(), "g_col[1]".into()], "ps".into(), None));
        assert_eq!(split_signal("dut.shift[15:12]").unwrap().2, Some((15, 12)));
        assert_eq!(split_signal("dut.en[3]").unwrap().2, Some((3, 3)));
        assert!(split_signal("dut.en[3:4]").is_err());
        assert!(split_signal("dut..x").is_err());
        let f = [Field::u("a", 2).at("dut.s[3:2]"), Field::u("b", 2).at("dut.s[1:0]"), Field::s("c", 3)];
        let b = buses(&f).unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!((b[0].width, b[0].parts.clone()), (4, vec![(0, 2), (1, 0)]));
        // a = 2 (10), b = 1 (01) → s = 1001; c = −1 → 111
        assert_eq!(bus_value(&b[0], &[2, 1, -1], &f).iter().map(|&v| text(v)).collect::<String>(), "1001");
        assert_eq!(bus_value(&b[1], &[2, 1, -1], &f).iter().map(|&v| text(v)).collect::<String>(), "111");
        assert!(buses(&[Field::u("a", 2).at("dut.s[3:2]")]).is_err(), "bits 1..0 in no field");
        assert!(buses(&[Field::u("a", 2), Field::u("b", 2).at("dut.a")]).is_err(), "two fields, one signal");
    }

    #[test]
    fn a_model_vcd_compares_equal_to_itself_and_names_a_change() {
        let set = VectorSet {
            unit: "t".into(),
            inputs: vec![Field::u("x", 4)],
            outputs: vec![Field::s("y", 4), Field::u("f", 1).at("dut.g[0].f")],
            rows: (0..5).map(|i| Row { kind: Kind::Real, src: String::new(), inputs: vec![i], outputs: vec![i - 2, i & 1] }).collect(),
            params: BTreeMap::new(),
        };
        let a = model_vcd(&set, "tb_t").unwrap();
        let same = compare(&a, &a).unwrap();
        assert_eq!((same.signals, same.samples, same.first.clone(), same.differing), (2, 5, None, 0));
        let mut other = set.clone();
        other.rows[3].outputs[0] = 7;
        let c = compare(&a, &model_vcd(&other, "tb_t").unwrap()).unwrap();
        let want = SignalDiff { signal: "tb_t.dut.y".into(), model: "0x1".into(), rtl: "0x7".into() };
        assert_eq!(c.first, Some((3, vec![want])));
        assert_eq!(c.differing, 1);
        assert_eq!(extend("1", 4), "0001");
        assert_eq!(extend("x1", 4), "xxx1");
        let mut renamed = set.clone();
        renamed.outputs[1] = Field::u("f", 1).at("dut.g[1].f");
        assert!(compare(&a, &model_vcd(&renamed, "tb_t").unwrap()).is_err(), "a signal missing from the RTL dump");
    }
}
