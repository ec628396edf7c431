//! Provenance: what an artefact was made from, field by field (tool version,
//! model, weights hash, method, bits, dataset hash, config hash, shard …).
//! Every artefact that is combined (`merge`, `compare --merge`) or reused
//! (`--calib`, `accuracy --resume`) carries one, and one check refuses it,
//! naming each field that differs, when it does not match what the command
//! is about to combine it with.
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Field name → value (all strings, so a mismatch prints as it is stored).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Provenance(pub BTreeMap<String, String>);

/// `sqsim X.Y.Z`, the `tool` field of every provenance.
pub fn tool_version() -> String {
    format!("sqsim {}", env!("CARGO_PKG_VERSION"))
}

/// Lower-case hex of a digest.
pub fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// SHA-256 of a value's JSON form (a config, a calibration).
pub fn json_sha256<T: Serialize>(v: &T) -> String {
    sha256_hex(&serde_json::to_vec(v).unwrap_or_default())
}

/// One hash over files' names, lengths and contents, in the order given
/// (a dataset: the same names with other pixels is another dataset).
pub fn files_sha256(paths: &[PathBuf]) -> Result<String> {
    let mut h = Sha256::new();
    for p in paths {
        let b = crate::io_util::read_input(p)?;
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        h.update((b.len() as u64).to_le_bytes());
        h.update(&b);
    }
    Ok(hex(&h.finalize()))
}

/// A field differing between two provenances (`None`: the side lacks it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    pub field: String,
    pub found: Option<String>,
    pub expected: Option<String>,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: &Option<String>| v.as_deref().map_or("(absent)".to_string(), short);
        write!(f, "{} {} (expected {})", self.field, show(&self.found), show(&self.expected))
    }
}

/// Long hashes shortened for messages.
fn short(v: &str) -> String {
    if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        format!("{}…", &v[..12])
    } else {
        format!("`{v}`")
    }
}

impl Provenance {
    /// A provenance holding the tool version.
    pub fn new() -> Self {
        Provenance::default().with("tool", tool_version())
    }

    pub fn with(mut self, field: &str, value: impl ToString) -> Self {
        self.0.insert(field.to_string(), value.to_string());
        self
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    /// A copy without `field` (e.g. the shard of one shard's provenance).
    pub fn without(&self, field: &str) -> Self {
        let mut p = self.clone();
        p.0.remove(field);
        p
    }

    /// Every field of `expected` that `self` lacks or holds another value of.
    pub fn missing_or_different(&self, expected: &Provenance) -> Vec<Mismatch> {
        expected
            .0
            .iter()
            .filter(|(k, v)| self.0.get(*k) != Some(*v))
            .map(|(k, v)| Mismatch { field: k.clone(), found: self.0.get(k).cloned(), expected: Some(v.clone()) })
            .collect()
    }

    /// Symmetric: fields either side lacks or that differ.
    pub fn mismatches(&self, other: &Provenance) -> Vec<Mismatch> {
        let mut m = self.missing_or_different(other);
        m.extend(
            self.0
                .iter()
                .filter(|(k, _)| !other.0.contains_key(*k))
                .map(|(k, v)| Mismatch { field: k.clone(), found: Some(v.clone()), expected: None }),
        );
        m.sort_by(|a, b| a.field.cmp(&b.field));
        m
    }

    /// Reuse: refuses `self` (the artefact `what`) unless it agrees with
    /// `expected` on every field `expected` names.
    pub fn require(&self, expected: &Provenance, what: &str) -> Result<()> {
        refuse(what, "what this command needs", self.missing_or_different(expected))
    }

    /// Reuse of a calibration: refused with "recalibrate" when it records no
    /// weights hash (written before provenance was recorded), else as
    /// [`Provenance::require`].
    pub fn require_calibration(&self, expected: &Provenance, what: &str) -> Result<()> {
        if self.get("weights_sha256").is_none_or(str::is_empty) {
            return Err(Error::arg(what, "records no weights hash (written before sqsim recorded provenance); recalibrate with `sqsim calibrate`"));
        }
        self.require(expected, what)
    }

    /// Combining: refuses `self` (`what`) unless it equals `first` (`first_what`) field for field.
    pub fn require_same(&self, first: &Provenance, what: &str, first_what: &str) -> Result<()> {
        refuse(what, first_what, self.mismatches(first))
    }
}

fn refuse(what: &str, against: &str, m: Vec<Mismatch>) -> Result<()> {
    if m.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = m.iter().map(ToString::to_string).collect();
    Err(Error::Provenance { artefact: what.to_string(), against: against.to_string(), mismatches: list.join("; ") })
}

/// The comment line that carries a CSV's provenance (first line of the file;
/// `pandas.read_csv(..., comment='#')` and the `csv` crate skip it).
const CSV_TAG: &str = "# sqsim-provenance: ";

/// `body` (a CSV with header) preceded by the provenance line.
pub fn csv_with(p: &Provenance, body: &str) -> Result<String> {
    let json = serde_json::to_string(p).map_err(|e| Error::arg("provenance", e.to_string()))?;
    Ok(format!("{CSV_TAG}{json}\n{body}"))
}

/// Splits a CSV written by [`csv_with`] into its provenance and body;
/// a CSV without the line is refused (not an sqsim artefact, or older).
pub fn split_csv<'a>(path: &Path, text: &'a str) -> Result<(Provenance, &'a str)> {
    let Some(rest) = text.strip_prefix(CSV_TAG) else {
        return Err(Error::format(path, "no `# sqsim-provenance:` line: not written by this sqsim (or by hand); cannot tell what it was made from"));
    };
    let (line, body) = rest.split_once('\n').unwrap_or((rest, ""));
    let p = serde_json::from_str(line).map_err(|e| Error::format(path, format!("unreadable provenance line: {e}")))?;
    Ok((p, body))
}

/// Reads a provenance-carrying CSV (recorded as an input).
pub fn read_csv(path: &Path) -> Result<(Provenance, String)> {
    let bytes = crate::io_util::read_input(path)?;
    let text = String::from_utf8(bytes).map_err(|_| Error::format(path, "not UTF-8 text"))?;
    let (p, body) = split_csv(path, &text)?;
    Ok((p, body.to_string()))
}
