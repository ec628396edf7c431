//! Checkpoint readers (PyTorch `.pt`/`.pth`, `.safetensors`) into one f32
//! state dict, and the key/shape checker the architecture builders use.
use super::Conv2d;
use crate::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
    /// Significand bits of the stored dtype (f32 24, f16 11, bf16 8; f64 is
    /// read as f32): how exactly a constant could be saved.
    pub mantissa_bits: u32,
}

impl Tensor {
    /// One unit in the last place of `v` in the stored dtype.
    pub fn ulp(&self, v: f32) -> f32 {
        if v == 0.0 {
            return 0.0;
        }
        2f32.powi(v.abs().log2().floor() as i32 + 1 - self.mantissa_bits as i32)
    }
}

/// Tensor name → f32 tensor, plus the file it came from (for error messages).
#[derive(Clone, Debug)]
pub struct StateDict {
    pub path: PathBuf,
    pub tensors: BTreeMap<String, Tensor>,
    /// The wrapper key the network was found under (`params_ema`, …), if any.
    pub nested_under: Option<String>,
    /// Tensors outside that wrapper (optimizer state, other copies): not
    /// part of the network, left out.
    pub outside: Vec<String>,
}

/// Nesting keys tried, in order, when the top level holds no network
/// (training checkpoints wrap the weights: BasicSR `params_ema`/`params`,
/// Lightning `state_dict`, others `model`); the EMA copy first, as BasicSR
/// evaluates it.
pub const WRAPPER_KEYS: [&str; 4] = ["params_ema", "params", "state_dict", "model"];

/// Keys that mark a network's root: EDSR, RDN.
const ROOT_KEYS: [&str; 2] = ["head.0.weight", "SFENet1.weight"];

impl StateDict {
    /// Reads `.pt`/`.pth` or `.safetensors`, chosen by extension.
    pub fn read(path: &Path) -> Result<Self> {
        match ext_lower(path).as_deref() {
            Some("pt") | Some("pth") => Self::read_pt(path),
            Some("safetensors") => Self::read_safetensors(path),
            _ => Err(Error::format(path, "unknown checkpoint extension (expected .pt, .pth or .safetensors)")),
        }
    }

    /// PyTorch checkpoint (zip or legacy pickle), float tensors converted to f32.
    pub fn read_pt(path: &Path) -> Result<Self> {
        // Distinguish "no such file" (Io) from "not a checkpoint" (Format).
        std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        // pytorch-reader parses untrusted pickle bytes; a malformed file must
        // become Error::Format, not abort the simulator, so any panic inside
        // the parser is caught here (the reader holds no state we reuse).
        let guarded = std::panic::catch_unwind(|| read_pt_inner(path));
        match guarded {
            Ok(r) => r,
            Err(_) => Err(Error::format(path, "malformed PyTorch checkpoint (parser panicked)")),
        }
    }

    pub fn read_safetensors(path: &Path) -> Result<Self> {
        let bytes = crate::io_util::read_input(path)?;
        let st = safetensors::SafeTensors::deserialize(&bytes)
            .map_err(|e| Error::format(path, format!("not a valid safetensors file: {e}")))?;
        let mut tensors = BTreeMap::new();
        let mut skipped = Vec::new();
        for (name, view) in st.tensors() {
            use safetensors::Dtype as D;
            let kind = match view.dtype() {
                D::F32 => FloatKind::F32,
                D::F16 => FloatKind::F16,
                D::BF16 => FloatKind::BF16,
                D::F64 => FloatKind::F64,
                // counters (`num_batches_tracked`) and other integer buffers
                // are not weights: left out and reported; a network key
                // among them is then reported missing
                _ => {
                    skipped.push(name);
                    continue;
                }
            };
            // safetensors is little-endian by definition.
            let data = decode_floats(view.data(), kind, false);
            tensors.insert(name, Tensor { shape: view.shape().to_vec(), data, mantissa_bits: kind.mantissa_bits() });
        }
        Ok(StateDict::new(path, tensors, skipped))
    }

    pub fn get(&self, key: &str) -> Option<&Tensor> {
        self.tensors.get(key)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.tensors.contains_key(key)
    }

    fn new(path: &Path, tensors: BTreeMap<String, Tensor>, non_float: Vec<String>) -> Self {
        let mut sd = StateDict { path: path.to_path_buf(), tensors, nested_under: None, outside: Vec::new() }.strip_module_prefix().unwrap_nested();
        sd.outside.extend(non_float.into_iter().map(|k| format!("{k} (not a float tensor)")));
        sd
    }

    fn has_root(&self) -> bool {
        ROOT_KEYS.iter().any(|k| self.tensors.contains_key(*k))
    }

    /// A checkpoint whose network sits under a wrapper key (pytorch-reader
    /// and safetensors flatten nesting to `params_ema.head.0.weight`) is
    /// re-rooted there; the other tensors are recorded in `outside`.
    fn unwrap_nested(mut self) -> Self {
        if self.has_root() {
            return self;
        }
        for w in WRAPPER_KEYS {
            let p = format!("{w}.");
            let root = ROOT_KEYS.iter().any(|k| self.tensors.contains_key(&format!("{p}{k}")) || self.tensors.contains_key(&format!("{p}module.{k}")));
            if !root {
                continue;
            }
            let (inner, outer): (BTreeMap<_, _>, BTreeMap<_, _>) = std::mem::take(&mut self.tensors).into_iter().partition(|(k, _)| k.starts_with(&p));
            self.tensors = inner.into_iter().map(|(k, v)| (k[p.len()..].to_string(), v)).collect();
            self.outside = outer.into_keys().collect();
            self.nested_under = Some(w.to_string());
            return self.strip_module_prefix();
        }
        self
    }

    /// `nn.DataParallel` saves every key as `module.<key>`; drop that prefix
    /// when all keys carry it.
    fn strip_module_prefix(mut self) -> Self {
        if !self.tensors.is_empty() && self.tensors.keys().all(|k| k.starts_with("module.")) {
            self.tensors = std::mem::take(&mut self.tensors)
                .into_iter()
                .map(|(k, v)| (k["module.".len()..].to_string(), v))
                .collect();
        }
        self
    }
}

fn ext_lower(path: &Path) -> Option<String> {
    path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase())
}

#[derive(Clone, Copy)]
enum FloatKind {
    F32,
    F16,
    BF16,
    F64,
}

impl FloatKind {
    fn mantissa_bits(self) -> u32 {
        match self {
            FloatKind::F32 | FloatKind::F64 => 24,
            FloatKind::F16 => 11,
            FloatKind::BF16 => 8,
        }
    }
}

fn read_pt_inner(path: &Path) -> Result<StateDict> {
    use pytorch_reader::PytorchReader;
    let fmt = |e: pytorch_reader::PytorchError| Error::format(path, format!("not a readable PyTorch checkpoint: {e}"));
    // pytorch-reader walks nested dicts and lists (a wrapped network comes
    // back as `params_ema.head.0.weight`, re-rooted by `unwrap_nested`), so
    // an empty top level means no tensors under any key either
    let reader = PytorchReader::new(path).map_err(fmt)?;
    if reader.is_empty() {
        return Err(Error::format(
            path,
            format!("no tensors at the top level or under any of {WRAPPER_KEYS:?}"),
        ));
    }
    let mut tensors = BTreeMap::new();
    let mut skipped = Vec::new();
    for (name, t) in reader.tensors() {
        use pytorch_reader::DType as D;
        let kind = match t.dtype() {
            D::F32 => FloatKind::F32,
            D::F16 => FloatKind::F16,
            D::BF16 => FloatKind::BF16,
            D::F64 => FloatKind::F64,
            _ => {
                skipped.push(name.clone());
                continue;
            }
        };
        let bytes = t.read().map_err(|e| Error::format(path, format!("cannot read tensor `{name}`: {e}")))?;
        if bytes.len() != t.byte_len() {
            return Err(Error::format(path, format!("tensor `{name}`: {} bytes, expected {}", bytes.len(), t.byte_len())));
        }
        // pytorch-reader hands back native-endian bytes.
        let data = decode_floats(&bytes, kind, cfg!(target_endian = "big"));
        tensors.insert(name.clone(), Tensor { shape: t.shape().to_vec(), data, mantissa_bits: kind.mantissa_bits() });
    }
    Ok(StateDict::new(path, tensors, skipped))
}

fn decode_floats(bytes: &[u8], kind: FloatKind, big_endian: bool) -> Vec<f32> {
    let u16s = |b: &[u8]| if big_endian { u16::from_be_bytes([b[0], b[1]]) } else { u16::from_le_bytes([b[0], b[1]]) };
    match kind {
        FloatKind::F32 => bytes
            .chunks_exact(4)
            .map(|b| {
                let a = [b[0], b[1], b[2], b[3]];
                if big_endian { f32::from_be_bytes(a) } else { f32::from_le_bytes(a) }
            })
            .collect(),
        FloatKind::F64 => bytes
            .chunks_exact(8)
            .map(|b| {
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                (if big_endian { f64::from_be_bytes(a) } else { f64::from_le_bytes(a) }) as f32
            })
            .collect(),
        FloatKind::F16 => bytes.chunks_exact(2).map(|b| f16_to_f32(u16s(b))).collect(),
        FloatKind::BF16 => bytes.chunks_exact(2).map(|b| f32::from_bits((u16s(b) as u32) << 16)).collect(),
    }
}

/// IEEE binary16 → f32 (exact: every f16 is representable in f32).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let man = (h & 0x3ff) as u32;
    let bits = match (exp, man) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal: value = m * 2^-24, exact in f32.
            let v = m as f32 * f32::from_bits(0x3380_0000); // 2^-24
            return if sign != 0 { -v } else { v };
        }
        (0x1f, 0) => sign | 0x7f80_0000,
        (0x1f, m) => sign | 0x7fc0_0000 | (m << 13),
        (e, m) => sign | ((e + 127 - 15) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

/// Collects every expected tensor of an architecture, then reports ALL
/// missing keys, ALL wrong shapes and ALL unexpected keys at once.
pub(crate) struct KeyCheck<'a> {
    sd: &'a StateDict,
    want: Vec<(String, Vec<usize>)>,
}

impl<'a> KeyCheck<'a> {
    pub fn new(sd: &'a StateDict) -> Self {
        KeyCheck { sd, want: Vec::new() }
    }

    /// Expects `{name}.weight` `[out, in, k, k]` and `{name}.bias` `[out]`.
    pub fn conv(&mut self, name: &str, in_c: usize, out_c: usize, k: usize) {
        self.want.push((format!("{name}.weight"), vec![out_c, in_c, k, k]));
        self.want.push((format!("{name}.bias"), vec![out_c]));
    }

    /// Fails unless every expected key is present with its shape and no
    /// other key exists under the network's module `roots` except `optional`
    /// ones (strict there, like `load_state_dict`). Returns the tensors it
    /// left out: keys outside those modules, and those outside the wrapper
    /// the network was found under, and non-float tensors.
    pub fn finish(&self, arch: &str, optional: &[&str], roots: &[&str]) -> Result<Vec<String>> {
        let path = &self.sd.path;
        let missing: Vec<&str> =
            self.want.iter().filter(|(k, _)| !self.sd.contains(k)).map(|(k, _)| k.as_str()).collect();
        if !missing.is_empty() {
            return Err(Error::MissingKey { path: path.clone(), keys: format!("{} (for {arch})", missing.join(", ")) });
        }
        let wrong: Vec<(String, String, String)> = self
            .want
            .iter()
            .filter_map(|(k, s)| {
                let got = &self.sd.tensors[k].shape;
                (got != s).then(|| (k.clone(), format!("{s:?}"), format!("{got:?}")))
            })
            .collect();
        if !wrong.is_empty() {
            let names: Vec<&str> = wrong.iter().map(|w| w.0.as_str()).collect();
            let exp: Vec<&str> = wrong.iter().map(|w| w.1.as_str()).collect();
            let got: Vec<&str> = wrong.iter().map(|w| w.2.as_str()).collect();
            return Err(Error::shape(
                format!("{}: {arch} tensor(s) {}", path.display(), names.join(", ")),
                exp.join(", "),
                got.join(", "),
            ));
        }
        let known: BTreeSet<&str> = self.want.iter().map(|(k, _)| k.as_str()).chain(optional.iter().copied()).collect();
        // a key under one of the network's own modules that the architecture
        // lacks means another architecture: refused. Keys outside them (EMA
        // copies, heads of another task, counters) are not the network: left
        // out and reported.
        let (inside, outside): (Vec<&str>, Vec<&str>) =
            self.sd.tensors.keys().map(String::as_str).filter(|k| !known.contains(k)).partition(|k| roots.contains(&k.split('.').next().unwrap_or("")));
        if !inside.is_empty() {
            return Err(Error::format(path, format!("unexpected key(s) for {arch}: {} (inside the network's modules: another architecture?)", inside.join(", "))));
        }
        Ok(outside.into_iter().map(String::from).chain(self.sd.outside.iter().cloned()).collect())
    }

    /// Builds a validated layer from keys already checked by [`finish`].
    pub fn take_conv(&self, name: &str) -> Result<Conv2d> {
        let get = |suffix: &str| {
            let key = format!("{name}.{suffix}");
            self.sd.tensors.get(&key).ok_or_else(|| Error::MissingKey { path: self.sd.path.clone(), keys: key })
        };
        let (w, b) = (get("weight")?, get("bias")?);
        if w.shape.len() != 4 || w.shape[2] != w.shape[3] {
            return Err(Error::shape(format!("{name}.weight"), "[out, in, k, k]", format!("{:?}", w.shape)));
        }
        Conv2d::new(name, w.shape[1], w.shape[0], w.shape[2], w.data.clone(), b.data.clone())
    }
}

/// Dim `i` of tensor `key`, if present with at least that many dims.
pub(crate) fn dim(sd: &StateDict, key: &str, i: usize) -> Option<usize> {
    sd.get(key).and_then(|t| t.shape.get(i).copied())
}

/// How many indexed modules `{before}{i}{after}…` the checkpoint has: one
/// more than the largest index any key names, so a module missing a tensor
/// (or missing whole) in the middle is reported by its own key, not taken
/// for the end of the list. An index beyond the key count is refused.
pub(crate) fn count_indexed(sd: &StateDict, before: &str, after: &str) -> Result<usize> {
    let mut n = 0;
    for k in sd.tensors.keys() {
        let Some(rest) = k.strip_prefix(before) else { continue };
        let Some((i, _)) = rest.split_once(after) else { continue };
        let Ok(i) = i.parse::<usize>() else { continue };
        if i >= sd.tensors.len() {
            return Err(Error::format(&sd.path, format!("key `{k}`: index {i} with only {} tensors in the checkpoint", sd.tensors.len())));
        }
        n = n.max(i + 1);
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_conversion() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert!(f16_to_f32(0x7c00).is_infinite());
        assert!(f16_to_f32(0x7e00).is_nan());
    }

    #[test]
    fn bf16_and_f64_decode() {
        let bf = 0x3fc0u16.to_le_bytes(); // 1.5
        assert_eq!(decode_floats(&bf, FloatKind::BF16, false), vec![1.5]);
        let d = 0.25f64.to_le_bytes();
        assert_eq!(decode_floats(&d, FloatKind::F64, false), vec![0.25]);
    }
}
