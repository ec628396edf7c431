//! TF.js layers-format Keras graphs (the ISR RDN of `@upscalerjs/esrgan-legacy`):
//! `model.json` (topology + weights manifest) and its `.bin` shards. The graph
//! is interpreted exactly as model.json lists it; supported layers are the
//! ones the ISR RDN uses (InputLayer, Conv2D, Activation relu/linear,
//! Concatenate, Add, UpSampling2D nearest).
use super::load::f16_to_f32;
use super::{run_quant, Conv2d, ConvExec, QuantSite};
use crate::float::{conv2d, ops};
use crate::{Error, Feature, Result};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

#[derive(Clone, Debug)]
enum Op {
    Input,
    Conv { conv: Conv2d, relu: bool, site: Option<QuantSite> },
    Relu,
    Concat,
    Add,
    Upsample(usize),
}

#[derive(Clone, Debug)]
struct Node {
    name: String,
    op: Op,
    inputs: Vec<usize>,
}

#[derive(Clone, Debug)]
pub(crate) struct IsrRdn {
    nodes: Vec<Node>,
    output: usize,
    pub scale: usize,
    pub d: usize,
    pub c: usize,
    pub g: usize,
    pub g0: usize,
}

/// RDN roles by ISR's layer naming: `F_{d}_{c}` (RDB conv), `LFF_{d}`,
/// `GFF_{n}` are the quantized layers, by analogy with DATAPATH §1.
fn is_quantized_name(name: &str) -> bool {
    let nums = |rest: &str, parts: usize| {
        let p: Vec<&str> = rest.split('_').collect();
        p.len() == parts && p.iter().all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
    };
    if let Some(r) = name.strip_prefix("F_") {
        return nums(r, 2);
    }
    if let Some(r) = name.strip_prefix("LFF_").or_else(|| name.strip_prefix("GFF_")) {
        return nums(r, 1);
    }
    false
}

/// Largest nearest-upsampling factor accepted, per layer and in total.
const MAX_UPSAMPLE: usize = 8;

struct Weights {
    map: HashMap<String, (Vec<usize>, Vec<f32>)>,
}

fn bad(path: &Path, what: impl Into<String>) -> Error {
    Error::format(path, what)
}

/// One manifest entry, checked: its name, shape, stored type and the bytes
/// it takes in the group's shards.
struct Entry<'a> {
    name: String,
    shape: Vec<usize>,
    /// `float32`, `float16`, `uint16` or `uint8`.
    qtype: &'a str,
    width: usize,
    bytes: usize,
}

fn entry<'a>(json_path: &Path, w: &'a Value) -> Result<Entry<'a>> {
    let name = w["name"].as_str().ok_or_else(|| bad(json_path, "weight entry without a name"))?.to_string();
    let shape: Vec<usize> = w["shape"]
        .as_array()
        .and_then(|a| a.iter().map(|d| d.as_u64().map(|d| d as usize)).collect())
        .ok_or_else(|| bad(json_path, format!("weight `{name}`: bad shape")))?;
    if w["dtype"].as_str() != Some("float32") {
        return Err(bad(json_path, format!("weight `{name}`: dtype {} not supported (float32 only)", w["dtype"])));
    }
    let q = &w["quantization"];
    let qtype = if q.is_null() { "float32" } else { q["dtype"].as_str().unwrap_or("?") };
    let width = match qtype {
        "float32" => 4,
        "uint16" | "float16" => 2,
        "uint8" => 1,
        other => return Err(bad(json_path, format!("weight `{name}`: quantization dtype `{other}` not supported"))),
    };
    // checked: a hostile manifest's shape must not wrap to a small size
    let bytes = shape
        .iter()
        .try_fold(width, |a: usize, &d| a.checked_mul(d))
        .ok_or_else(|| bad(json_path, format!("weight `{name}`: shape {shape:?} is too large")))?;
    Ok(Entry { name, shape, qtype, width, bytes })
}

/// Reads every weight group of the manifest: shards concatenated in order,
/// tensors consumed in manifest order; uint8/uint16 affine-quantized values
/// decode as `min + scale*q` (as tfjs does), float16 and float32 as is.
fn read_weights(json_path: &Path, manifest: &Value) -> Result<Weights> {
    let groups = manifest.as_array().ok_or_else(|| bad(json_path, "weightsManifest is not a list"))?;
    let mut map = HashMap::new();
    for (gi, group) in groups.iter().enumerate() {
        let paths = group["paths"].as_array().ok_or_else(|| bad(json_path, format!("weight group {gi} has no paths")))?;
        let mut buf = Vec::new();
        for p in paths {
            let rel = p.as_str().ok_or_else(|| bad(json_path, format!("weight group {gi}: path is not a string")))?;
            let shard = crate::io_util::contained(json_path, rel)?;
            buf.extend(crate::io_util::read_input(&shard)?);
        }
        let list = group["weights"].as_array().ok_or_else(|| bad(json_path, format!("weight group {gi} has no weights")))?;
        // sizes first: a shard of the wrong length is reported as such, not
        // blamed on whichever tensor happens to run past its end
        let entries = list.iter().map(|w| entry(json_path, w)).collect::<Result<Vec<_>>>()?;
        let total = entries.iter().try_fold(0usize, |a, e| a.checked_add(e.bytes)).unwrap_or(usize::MAX);
        if total != buf.len() {
            let shard = paths.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ");
            return Err(bad(
                json_path,
                format!("weight group {gi}: its {} tensors need {total} bytes, shard(s) {shard} hold {} (truncated or mismatched shards, or a wrong shape in the manifest)", list.len(), buf.len()),
            ));
        }
        let mut off = 0usize;
        for (w, Entry { name, shape, qtype, width, bytes: need }) in list.iter().zip(entries) {
            // the sizes add up to the buffer, so every slice is in range
            let bytes = &buf[off..off + need];
            off += need;
            let q = &w["quantization"];
            let affine = |field: &str| {
                q[field].as_f64().ok_or_else(|| bad(json_path, format!("weight `{name}`: quantization without `{field}`")))
            };
            let data: Vec<f32> = match qtype {
                "float32" => bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
                "float16" => bytes.chunks_exact(2).map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]]))).collect(),
                _ => {
                    let (min, scale) = (affine("min")?, affine("scale")?);
                    let dq = |v: u32| (min + scale * v as f64) as f32;
                    if width == 1 {
                        bytes.iter().map(|&b| dq(b as u32)).collect()
                    } else {
                        bytes.chunks_exact(2).map(|b| dq(u16::from_le_bytes([b[0], b[1]]) as u32)).collect()
                    }
                }
            };
            map.insert(name, (shape, data));
        }
    }
    Ok(Weights { map })
}

/// Reads a Keras `[kh, kw, in, out]` kernel and `[out]` bias into PyTorch layout.
fn take_conv(json_path: &Path, wts: &Weights, layer: &str, cfg: &Value) -> Result<Conv2d> {
    let get = |suffix: &str| {
        let key = format!("{layer}/{suffix}");
        wts.map.get(&key).ok_or_else(|| Error::MissingKey { path: json_path.to_path_buf(), keys: key })
    };
    let (kshape, kdata) = get("kernel")?;
    if kshape.len() != 4 || kshape[0] != kshape[1] {
        return Err(Error::shape(format!("{layer}/kernel"), "[k, k, in, out]", format!("{kshape:?}")));
    }
    let (k, in_c, out_c) = (kshape[0], kshape[2], kshape[3]);
    if cfg["filters"].as_u64() != Some(out_c as u64) {
        return Err(Error::shape(format!("{layer} filters"), cfg["filters"].to_string(), out_c));
    }
    let bias = if cfg["use_bias"].as_bool().unwrap_or(true) {
        let (bshape, bdata) = get("bias")?;
        if bshape != &vec![out_c] {
            return Err(Error::shape(format!("{layer}/bias"), format!("[{out_c}]"), format!("{bshape:?}")));
        }
        bdata.clone()
    } else {
        vec![0.0; out_c]
    };
    let mut weight = vec![0f32; out_c * in_c * k * k];
    for ky in 0..k {
        for kx in 0..k {
            for c in 0..in_c {
                for o in 0..out_c {
                    weight[((o * in_c + c) * k + ky) * k + kx] = kdata[((ky * k + kx) * in_c + c) * out_c + o];
                }
            }
        }
    }
    Conv2d::new(layer, in_c, out_c, k, weight, bias)
}

/// Conv2D options other than these change the arithmetic; refuse them.
fn check_conv_cfg(json_path: &Path, layer: &str, cfg: &Value) -> Result<bool> {
    let ones = |f: &str| cfg[f].is_null() || cfg[f] == serde_json::json!([1, 1]);
    let k = cfg["kernel_size"][0].as_u64().unwrap_or(0);
    let pad_ok = cfg["padding"] == "same" || (cfg["padding"] == "valid" && k == 1);
    let fmt_ok = cfg["data_format"].is_null() || cfg["data_format"] == "channels_last";
    let groups_ok = cfg["groups"].is_null() || cfg["groups"] == 1;
    if !(ones("strides") && ones("dilation_rate") && pad_ok && fmt_ok && groups_ok) {
        return Err(bad(json_path, format!("layer `{layer}`: only stride 1, dilation 1, groups 1, channels_last, 'same' padding are supported")));
    }
    match cfg["activation"].as_str() {
        None | Some("linear") => Ok(false),
        Some("relu") => Ok(true),
        Some(a) => Err(bad(json_path, format!("layer `{layer}`: activation `{a}` not supported"))),
    }
}

impl IsrRdn {
    /// `path`: a `model.json`, or a directory containing one.
    pub fn load(path: &Path) -> Result<Self> {
        let json_path = if path.is_dir() { path.join("model.json") } else { path.to_path_buf() };
        let jp = json_path.as_path();
        let bytes = crate::io_util::read_input(jp)?;
        let root: Value = serde_json::from_slice(&bytes).map_err(|e| bad(jp, format!("not valid JSON: {e}")))?;
        let wts = read_weights(jp, &root["weightsManifest"])?;
        let cfg = &root["modelTopology"]["model_config"]["config"];
        let layers = cfg["layers"].as_array().ok_or_else(|| bad(jp, "modelTopology.model_config.config.layers missing"))?;

        let mut index: HashMap<String, usize> = HashMap::new();
        let mut nodes: Vec<Node> = Vec::with_capacity(layers.len());
        let mut n_quant = 0;
        for l in layers {
            let name = l["name"].as_str().ok_or_else(|| bad(jp, "layer without a name"))?.to_string();
            let class = l["class_name"].as_str().unwrap_or("?");
            let lc = &l["config"];
            // Keras 2 inbound_nodes: [[ [src_name, node_idx, tensor_idx, kwargs], ... ]]
            let calls = l["inbound_nodes"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            if calls.len() > 1 {
                return Err(bad(jp, format!("layer `{name}` is shared (called {} times); not supported", calls.len())));
            }
            let mut inputs = Vec::new();
            if let Some(call) = calls.first() {
                for src in call.as_array().map(Vec::as_slice).unwrap_or(&[]) {
                    let s = src[0].as_str().ok_or_else(|| bad(jp, format!("layer `{name}`: unreadable inbound node")))?;
                    let &i = index
                        .get(s)
                        .ok_or_else(|| bad(jp, format!("layer `{name}` reads `{s}`, which is not defined before it")))?;
                    inputs.push(i);
                }
            }
            let arity = |want: &str, ok: bool| {
                if ok { Ok(()) } else { Err(bad(jp, format!("layer `{name}` ({class}) needs {want} input(s), has {}", inputs.len()))) }
            };
            let op = match class {
                "InputLayer" => {
                    arity("0", inputs.is_empty())?;
                    let ch = lc["batch_input_shape"].as_array().and_then(|s| s.last()).and_then(Value::as_u64);
                    if ch != Some(3) {
                        return Err(bad(jp, format!("input layer `{name}` must have 3 channels (RGB), has {ch:?}")));
                    }
                    Op::Input
                }
                "Conv2D" => {
                    arity("1", inputs.len() == 1)?;
                    let relu = check_conv_cfg(jp, &name, lc)?;
                    let conv = take_conv(jp, &wts, &name, lc)?;
                    let site = is_quantized_name(&name).then(|| {
                        n_quant += 1;
                        QuantSite { index: n_quant - 1, post_relu: false }
                    });
                    Op::Conv { conv, relu, site }
                }
                "Activation" | "ReLU" => {
                    arity("1", inputs.len() == 1)?;
                    match (class, lc["activation"].as_str()) {
                        ("ReLU", _) | (_, Some("relu")) => Op::Relu,
                        (_, a) => return Err(bad(jp, format!("layer `{name}`: activation {a:?} not supported"))),
                    }
                }
                "Concatenate" => {
                    arity("2+", inputs.len() >= 2)?;
                    let axis = lc["axis"].as_i64();
                    if axis != Some(3) && axis != Some(-1) {
                        return Err(bad(jp, format!("layer `{name}`: concat axis {axis:?}, only channels (3/-1) supported")));
                    }
                    Op::Concat
                }
                "Add" => {
                    arity("2+", inputs.len() >= 2)?;
                    Op::Add
                }
                "UpSampling2D" => {
                    arity("1", inputs.len() == 1)?;
                    let s = &lc["size"];
                    let r = s[0].as_u64().unwrap_or(0) as usize;
                    // nearest upsampling beyond x8 is no SR model we know; the
                    // bound also keeps the load-time shape check from allocating r²
                    if r == 0 || r > MAX_UPSAMPLE || s[1].as_u64() != Some(r as u64) || lc["interpolation"].as_str().unwrap_or("nearest") != "nearest" {
                        return Err(bad(jp, format!("layer `{name}`: only square nearest UpSampling2D by 1..={MAX_UPSAMPLE} supported")));
                    }
                    Op::Upsample(r)
                }
                other => return Err(bad(jp, format!("layer `{name}`: class `{other}` not supported"))),
            };
            index.insert(name.clone(), nodes.len());
            nodes.push(Node { name, op, inputs });
        }
        let out_name = cfg["output_layers"][0][0].as_str().ok_or_else(|| bad(jp, "model has no output_layers"))?;
        let output = *index.get(out_name).ok_or_else(|| bad(jp, format!("output layer `{out_name}` not defined")))?;
        let in_count = nodes.iter().filter(|n| matches!(n.op, Op::Input)).count();
        if in_count != 1 {
            return Err(bad(jp, format!("model must have exactly one input layer, has {in_count}")));
        }
        let out_c = |n: &str| match index.get(n).map(|&i| &nodes[i].op) {
            Some(Op::Conv { conv, .. }) => conv.out_c,
            _ => 0,
        };
        let count = |pre: &str| nodes.iter().filter(|n| n.name.starts_with(pre) && is_quantized_name(&n.name)).count();
        let scale: usize = nodes
            .iter()
            .map(|n| if let Op::Upsample(r) = n.op { r } else { 1 })
            .try_fold(1usize, |a, r| a.checked_mul(r))
            .filter(|&s| s <= MAX_UPSAMPLE)
            .ok_or_else(|| bad(jp, format!("total upsampling exceeds x{MAX_UPSAMPLE}")))?;
        let model = IsrRdn {
            scale,
            d: count("LFF_"),
            c: count("F_1_"),
            g: out_c("F_1_1"),
            g0: out_c("F_m1"),
            nodes,
            output,
        };
        // Shape-check the whole graph once on a tiny input, so a channel
        // mismatch in model.json surfaces at load time, not mid-evaluation.
        model.forward(&Feature::zeros(3, 1, 1), &super::FloatExec).map_err(|e| bad(jp, format!("graph does not evaluate: {e}")))?;
        Ok(model)
    }

    /// `lr` in model units (the caller scales RGB 0..255 to 0..1).
    pub fn forward(&self, lr: &Feature, exec: &dyn ConvExec) -> Result<Feature> {
        // Remaining consumers per node; a value is dropped (or taken over in
        // place) by its last consumer, which keeps RDN's many concats cheap.
        let mut uses = vec![0usize; self.nodes.len()];
        for n in &self.nodes {
            for &i in &n.inputs {
                uses[i] += 1;
            }
        }
        uses[self.output] += 1;
        let mut vals: Vec<Option<Feature>> = vec![None; self.nodes.len()];
        for (ni, node) in self.nodes.iter().enumerate() {
            let get = |vals: &[Option<Feature>], i: usize| -> Result<Feature> {
                vals[i].clone().ok_or_else(|| Error::arg("graph", format!("value of `{}` missing", self.nodes[i].name)))
            };
            // Take the first input by value when this node is its last reader.
            let take_first = |vals: &mut Vec<Option<Feature>>, uses: &[usize]| -> Result<Feature> {
                let i = node.inputs[0];
                if uses[i] == 1 {
                    vals[i].take().ok_or_else(|| Error::arg("graph", format!("value of `{}` missing", self.nodes[i].name)))
                } else {
                    get(vals, i)
                }
            };
            let v = match &node.op {
                Op::Input => lr.clone(),
                Op::Conv { conv, relu, site } => {
                    let x = vals[node.inputs[0]].as_ref().ok_or_else(|| Error::arg("graph", "conv input missing"))?;
                    let mut y = match site {
                        Some(s) => run_quant(exec, conv, *s, x)?,
                        None => conv2d(x, conv)?,
                    };
                    if *relu {
                        ops::relu(&mut y);
                    }
                    y
                }
                Op::Relu => {
                    let mut x = take_first(&mut vals, &uses)?;
                    ops::relu(&mut x);
                    x
                }
                Op::Upsample(r) => ops::upsample_nearest(&take_first(&mut vals, &uses)?, *r)?,
                Op::Concat => {
                    let mut acc = take_first(&mut vals, &uses)?;
                    for &i in &node.inputs[1..] {
                        let p = vals[i].as_ref().ok_or_else(|| Error::arg("graph", "concat input missing"))?;
                        acc = if (p.h, p.w) == (acc.h, acc.w) {
                            acc.data.extend_from_slice(&p.data);
                            acc.c += p.c;
                            acc
                        } else {
                            ops::concat(&[&acc, p])? // reports the shape mismatch
                        };
                    }
                    acc
                }
                Op::Add => {
                    let mut acc = take_first(&mut vals, &uses)?;
                    for &i in &node.inputs[1..] {
                        let p = vals[i].as_ref().ok_or_else(|| Error::arg("graph", "add input missing"))?;
                        ops::add(&mut acc, p).map_err(|e| Error::arg(format!("layer {}", node.name), e.to_string()))?;
                    }
                    acc
                }
            };
            for &i in &node.inputs {
                uses[i] -= 1;
                if uses[i] == 0 {
                    vals[i] = None;
                }
            }
            vals[ni] = Some(v);
        }
        vals[self.output].take().ok_or_else(|| Error::arg("graph", "output not computed"))
    }

    pub fn layers(&self) -> Vec<(&Conv2d, Option<QuantSite>)> {
        self.nodes
            .iter()
            .filter_map(|n| match &n.op {
                Op::Conv { conv, site, .. } => Some((conv, *site)),
                _ => None,
            })
            .collect()
    }

    pub fn n_layers(&self) -> usize {
        self.nodes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::is_quantized_name;

    #[test]
    fn quantized_names() {
        for n in ["F_1_1", "F_10_3", "LFF_7", "GFF_1", "GFF_2"] {
            assert!(is_quantized_name(n), "{n}");
        }
        for n in ["F_m1", "F_0", "UPN1", "SR", "LFF_", "F_1_1_Relu", "GFF_x"] {
            assert!(!is_quantized_name(n), "{n}");
        }
    }
}
