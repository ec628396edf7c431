//! The on-disk vector format: fixed-width fields packed MSB-first into one
//! hex word per line (`$readmemh`), a CSV twin, `params.txt` for the RTL
//! parameters, and `manifest.json` with the layout and a SHA-256 per file.
use crate::io_util::atomic_write;
use crate::{Error, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One fixed-width field of a stimulus or expected-output word.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Field {
    pub name: String,
    pub bits: u32,
    /// Two's complement when true, else unsigned.
    pub signed: bool,
    /// The RTL signal an expected field is, below the testbench, when it is
    /// not the DUT port of the field's name (`dut.<name>`): e.g.
    /// `dut.g_row[3].g_col[1].ps`, or a slice `dut.shift[15:12]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtl: Option<String>,
}

impl Field {
    pub fn s(name: impl Into<String>, bits: u32) -> Self {
        Field { name: name.into(), bits, signed: true, rtl: None }
    }
    pub fn u(name: impl Into<String>, bits: u32) -> Self {
        Field { name: name.into(), bits, signed: false, rtl: None }
    }
    /// Names the RTL signal (below the testbench) this expected field is.
    pub fn at(mut self, signal: impl Into<String>) -> Self {
        self.rtl = Some(signal.into());
        self
    }
    /// The RTL signal below the testbench: `rtl`, else the DUT port `dut.<name>`.
    pub fn signal(&self) -> String {
        self.rtl.clone().unwrap_or_else(|| format!("dut.{}", self.name))
    }
    fn range(&self) -> (i128, i128) {
        if self.signed {
            (-(1i128 << (self.bits - 1)), (1i128 << (self.bits - 1)) - 1)
        } else {
            (0, (1i128 << self.bits) - 1)
        }
    }
}

/// Whether a row comes from the layer's real data or from the appended
/// corner cases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Real,
    Corner,
}

/// One cycle: stimulus fields, expected-output fields, and where it came from.
#[derive(Clone, Debug)]
pub struct Row {
    pub kind: Kind,
    /// Human-readable origin, e.g. `o3 c5 y0 x7 tap4` or `corner: wmax*code`.
    pub src: String,
    pub inputs: Vec<i128>,
    pub outputs: Vec<i128>,
}

/// A unit's whole vector set, ready to write.
#[derive(Clone, Debug)]
pub struct VectorSet {
    pub unit: String,
    pub inputs: Vec<Field>,
    pub outputs: Vec<Field>,
    pub rows: Vec<Row>,
    /// RTL parameters (name → value) the testbench is built with.
    pub params: BTreeMap<String, i64>,
}

/// Bits of a field list.
pub fn total_bits(fields: &[Field]) -> u32 {
    fields.iter().map(|f| f.bits).sum()
}

/// Packs `vals` into one word, first field at the most significant end, as
/// lowercase hex zero-padded to ⌈bits/4⌉ digits. A value outside its field
/// is an error (never a silent truncation).
pub fn pack_hex(fields: &[Field], vals: &[i128]) -> Result<String> {
    if fields.len() != vals.len() {
        return Err(Error::shape("vector fields", fields.len(), vals.len()));
    }
    let total = total_bits(fields) as usize;
    let digits = total.div_ceil(4);
    // bits MSB-first, left-padded with zeros to a whole number of digits
    let mut bits = vec![false; digits * 4 - total];
    for (f, &v) in fields.iter().zip(vals) {
        let (lo, hi) = f.range();
        if v < lo || v > hi {
            return Err(Error::arg(
                "vector field",
                format!("{} = {v} does not fit {} {}-bit", f.name, if f.signed { "signed" } else { "unsigned" }, f.bits),
            ));
        }
        for b in (0..f.bits).rev() {
            bits.push((v >> b) & 1 == 1);
        }
    }
    Ok(bits
        .chunks(4)
        .map(|n| {
            let d = n.iter().fold(0u32, |a, &b| (a << 1) | b as u32);
            char::from_digit(d, 16).unwrap_or('0')
        })
        .collect())
}

/// Splits a packed word back into `bits`-wide 32-bit chunks, LSB chunk first.
fn chunks32(fields: &[Field], vals: &[i128]) -> Vec<u32> {
    let total = total_bits(fields) as usize;
    let mut bits = Vec::with_capacity(total); // LSB first
    for (f, &v) in fields.iter().zip(vals).rev() {
        for b in 0..f.bits {
            bits.push((v >> b) & 1 == 1);
        }
    }
    bits.chunks(32).map(|c| c.iter().rev().fold(0u32, |a, &b| (a << 1) | b as u32)).collect()
}

pub const SIG_INIT: u32 = 0x811C_9DC5;

/// Running signature the testbenches also compute over the DUT's outputs:
/// FNV-1a over 32-bit chunks of each output word, LSB chunk first, the
/// words in cycle order.
pub fn signature(fields: &[Field], rows: &[Row]) -> u32 {
    let mut h = SIG_INIT;
    for r in rows {
        for c in chunks32(fields, &r.outputs) {
            h = (h ^ c).wrapping_mul(0x0100_0193);
        }
    }
    h
}

fn field_json(fields: &[Field]) -> Vec<serde_json::Value> {
    let total = total_bits(fields);
    let mut msb = total;
    fields
        .iter()
        .map(|f| {
            msb -= f.bits;
            serde_json::json!({"name": f.name, "bits": f.bits, "signed": f.signed, "lsb": msb, "signal": f.signal()})
        })
        .collect()
}

pub use crate::provenance::sha256_hex;

impl VectorSet {
    pub fn stim_bits(&self) -> u32 {
        total_bits(&self.inputs)
    }
    pub fn expect_bits(&self) -> u32 {
        total_bits(&self.outputs)
    }
    pub fn signature(&self) -> u32 {
        signature(&self.outputs, &self.rows)
    }

    fn hex_file(&self, fields: &[Field], pick: impl Fn(&Row) -> &[i128]) -> Result<Vec<u8>> {
        let mut s = String::new();
        for r in &self.rows {
            s.push_str(&pack_hex(fields, pick(r))?);
            s.push('\n');
        }
        Ok(s.into_bytes())
    }

    fn csv_file(&self) -> Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut head = vec!["cycle".to_string(), "kind".into(), "src".into()];
        head.extend(self.inputs.iter().map(|f| f.name.clone()));
        head.extend(self.outputs.iter().map(|f| format!("exp_{}", f.name)));
        let err = |e: csv::Error| Error::arg("csv", e.to_string());
        w.write_record(&head).map_err(err)?;
        for (i, r) in self.rows.iter().enumerate() {
            let mut rec = vec![i.to_string(), format!("{:?}", r.kind).to_lowercase(), r.src.clone()];
            rec.extend(r.inputs.iter().chain(&r.outputs).map(|v| v.to_string()));
            w.write_record(&rec).map_err(err)?;
        }
        w.into_inner().map_err(|e| Error::arg("csv", e.to_string()))
    }

    /// Every file's name and bytes except the manifest, in a fixed order.
    pub fn files(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let mut params = String::new();
        for (k, v) in &self.params {
            params.push_str(&format!("{k}={v}\n"));
        }
        Ok(vec![
            ("stim.hex".into(), self.hex_file(&self.inputs, |r| &r.inputs)?),
            ("expect.hex".into(), self.hex_file(&self.outputs, |r| &r.outputs)?),
            ("vectors.csv".into(), self.csv_file()?),
            ("params.txt".into(), params.into_bytes()),
            ("fields.txt".into(), self.fields_file().into_bytes()),
        ])
    }

    /// `fields.txt`: one `signal lsb bits signed` line per expected field,
    /// which the testbenches read to name the signal of a mismatch.
    fn fields_file(&self) -> String {
        let mut msb = self.expect_bits();
        let mut s = String::new();
        for f in &self.outputs {
            msb -= f.bits;
            s.push_str(&format!("{} {msb} {} {}\n", f.signal(), f.bits, f.signed as u8));
        }
        s
    }

    /// Writes every file atomically into `dir` (created if missing), the
    /// manifest last, so a complete manifest implies complete files.
    /// `extra` (source, config, …) is merged into the manifest.
    pub fn write(&self, dir: &Path, extra: serde_json::Value) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let files = self.files()?;
        let mut hashes = BTreeMap::new();
        for (name, bytes) in &files {
            atomic_write(&dir.join(name), bytes)?;
            hashes.insert(name.clone(), sha256_hex(bytes));
        }
        let real = self.rows.iter().filter(|r| r.kind == Kind::Real).count();
        let mut m = serde_json::json!({
            "format": "sqsim-rtl-vectors/1",
            "unit": self.unit,
            "sqsim_version": env!("CARGO_PKG_VERSION"),
            "rows": self.rows.len(),
            "real_rows": real,
            "corner_rows": self.rows.len() - real,
            "layout": {
                "packing": "one word per line, lowercase hex, zero-padded to ceil(bits/4) digits; fields packed MSB-first in the order listed (first field at the top); signed fields in two's complement of their width; `lsb` = the field's lowest bit in the word",
                "stim_bits": self.stim_bits(),
                "expect_bits": self.expect_bits(),
                "stim_fields": field_json(&self.inputs),
                "expect_fields": field_json(&self.outputs),
            },
            "params": self.params,
            "expect_signature": format!("{:08x}", self.signature()),
            "signature_def": "FNV-1a 32-bit over each expected word's 32-bit chunks (LSB chunk first), words in cycle order, init 811c9dc5, prime 01000193",
            "files": hashes,
        });
        if let (Some(obj), serde_json::Value::Object(ex)) = (m.as_object_mut(), extra) {
            for (k, v) in ex {
                obj.insert(k, v);
            }
        }
        let bytes = serde_json::to_vec_pretty(&m).map_err(|e| Error::format(dir, e.to_string()))?;
        atomic_write(&dir.join("manifest.json"), &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_msb_first_twos_complement() {
        let f = [Field::s("a", 5), Field::u("b", 9), Field::u("c", 1)];
        let set = VectorSet { unit: "t".into(), inputs: vec![], outputs: f.to_vec(), rows: vec![], params: BTreeMap::new() };
        assert_eq!(set.fields_file(), "dut.a 10 5 1\ndut.b 1 9 0\ndut.c 0 1 0\n");
        // -3 in 5 bits = 11101, 0x1ff = 1_1111_1111, 1 → 15 bits 111011111111111 → 0x77ff
        assert_eq!(pack_hex(&f, &[-3, 0x1ff, 1]).unwrap(), "77ff");
        assert_eq!(pack_hex(&f, &[0, 0, 0]).unwrap(), "0000");
        assert!(pack_hex(&f, &[16, 0, 0]).is_err());
        assert!(pack_hex(&f, &[-17, 0, 0]).is_err());
        assert!(pack_hex(&f, &[0, 512, 0]).is_err());
        assert!(pack_hex(&f, &[0, -1, 0]).is_err());
    }

    #[test]
    fn chunks_are_lsb_first() {
        let f = [Field::u("hi", 8), Field::u("lo", 32)];
        assert_eq!(chunks32(&f, &[0xab, 0x1234_5678]), vec![0x1234_5678, 0xab]);
        // FNV-1a of one word, checked by hand: (init ^ c0) * p, then (^ c1) * p
        let r = Row { kind: Kind::Real, src: String::new(), inputs: vec![], outputs: vec![0xab, 0x1234_5678] };
        let h0 = (SIG_INIT ^ 0x1234_5678).wrapping_mul(0x0100_0193);
        assert_eq!(signature(&f, &[r]), (h0 ^ 0xab).wrapping_mul(0x0100_0193));
    }
}
