#!/usr/bin/env python3
"""Golden output of the DFSQ float reference (fake-quant) on the real
edsr_x2 and a real image crop, from an independent numpy implementation.

Semantics (DATAPATH.md §1): every residual-block conv is quantized; weights
per output channel (asymmetric, zero point, f32, round half to even);
activations per channel: mu = mean (f64 accumulation, rounded to f32; 0 for
post-ReLU inputs), M = max|x - mu|, xn = (x - mu)/(M + 1e-8), nearest point
(argmin, first = lower on ties), a = q*(M + 1e-8) + mu; zero padding after
de-quantization; the conv itself in float64.

Layer probes: for three quantized layers the script also saves that
layer's input and output (probe_*.bin), so the reference can be checked
layer by layer with no cascade of float-rounding differences.

Point sets are fixed inputs here (seeded random subsets of the universal
set, which this script enumerates itself), so the test checks the reference,
not calibration.  Writes: dfsq_edsr_x2_in.bin / _out.bin (float32 CHW),
dfsq_edsr_x2.json (points per layer, shapes).
Run from the repo root:  python3 tests/golden/dfsq/gen_dfsq.py
"""
import itertools, json, os, sys
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "float"))
from gen_float import conv2d, relu, pixel_shuffle, read_pt, image_crop, rdn_forward, MEAN, MODELS  # noqa: E402

f32 = np.float32


def universal_set():
    words = [[2.0 ** -2, 2.0 ** -(i + 2), 2.0 ** -(i + 6), 0.0] for i in range(1, 5)]
    vals = {sum(c) for c in itertools.product(*words)}
    return sorted(vals | {-v for v in vals})


def wquant_int(w, bits):
    """DATAPATH §1 per output channel, f32 arithmetic: the integer w = q + zp
    the datapath multiplies ([o] + kernel shape) and each channel's Δ (f32)."""
    o = w.shape[0]
    g = w.reshape(o, -1).astype(f32)
    wint = np.empty(g.shape, dtype=np.int64)
    deltas = np.empty(o, dtype=f32)
    half = 2 ** (bits - 1)
    for i in range(o):
        lo, hi = g[i].min(), g[i].max()
        d = f32((hi - lo) / f32(2 ** bits - 1)) if hi > lo else (f32(abs(lo)) if lo != 0 else f32(1))
        zp = int(np.round(f32(lo / d))) + half
        q = np.clip(np.round((g[i] / d).astype(f32)).astype(np.int64) - zp, -half, half - 1)
        wint[i], deltas[i] = q + zp, d
    return wint.reshape(w.shape), deltas


def wquant(w, bits):
    """Fake-quantized weights Ŵ = (q + zp)·Δ (f32)."""
    wint, d = wquant_int(w, bits)
    o = w.shape[0]
    return (wint.reshape(o, -1).astype(f32) * d[:, None]).astype(f32).reshape(w.shape)


def aquant(x, post_relu, points):
    x = x.astype(f32)
    y = np.empty_like(x)
    for c in range(x.shape[0]):
        p = x[c]
        mu = f32(0) if post_relu else f32(p.astype(np.float64).mean())
        d = f32(f32(np.max(np.abs(p - mu))) + f32(1e-8))
        xn = ((p - mu) / d).astype(f32).astype(np.float64)
        pts = np.array(points[c])
        idx = np.argmin(np.abs(xn[..., None] - pts), axis=-1)
        y[c] = (pts[idx].astype(f32) * d + mu).astype(f32)
    return y.astype(np.float64)


def main():
    rng = np.random.default_rng(7)
    U = universal_set()
    assert len(U) == 377
    nz = [v for v in U if v != 0.0]
    sd = read_pt(os.path.join(MODELS, "edsr_x2.pt"))
    bits = 4
    n = 0
    while f"body.{n}.body.0.weight" in sd:
        n += 1
    layers = {}
    for i in range(n):
        for j in (0, 2):
            cin = sd[f"body.{i}.body.{j}.weight"].shape[1]
            layers[f"body.{i}.body.{j}"] = [sorted([0.0] + list(rng.choice(nz, 2 ** bits - 1, replace=False)))
                                            for _ in range(cin)]
    x = image_crop(120, 180, 24)
    c = lambda key, v, w=None: conv2d(v, sd[key + ".weight"] if w is None else w, sd[key + ".bias"])
    probe = ("body.0.body.0", "body.0.body.2", "body.15.body.0")
    probes = []

    def q(key, v, post):
        out = c(key, aquant(v, post, layers[key]), wquant(sd[key + ".weight"], bits))
        if key in probe:  # layer-level golden: this layer's own input and output
            tag = key.replace(".", "_")
            v.astype("<f4").tofile(os.path.join(HERE, f"probe_{tag}_in.bin"))
            out.astype("<f4").tofile(os.path.join(HERE, f"probe_{tag}_out.bin"))
            probes.append({"layer": key, "post_relu": post, "shape": list(v.shape), "tag": tag})
        return out

    h = c("head.0", x - 255 * MEAN[:, None, None])
    r = h
    for i in range(n):
        t = q(f"body.{i}.body.2", relu(q(f"body.{i}.body.0", r, False)), True)
        r = r + t
    r = c(f"body.{n}", r) + h
    r = pixel_shuffle(c("tail.0.0", r), 2)
    y = c("tail.1", r) + 255 * MEAN[:, None, None]
    x.astype("<f4").tofile(os.path.join(HERE, "dfsq_edsr_x2_in.bin"))
    y.astype("<f4").tofile(os.path.join(HERE, "dfsq_edsr_x2_out.bin"))
    with open(os.path.join(HERE, "dfsq_edsr_x2.json"), "w") as f:
        json.dump({"generator": "tests/golden/dfsq/gen_dfsq.py", "model": "edsr_x2", "wbits": bits, "abits": bits,
                   "in_shape": list(x.shape), "out_shape": list(y.shape), "probes": probes, "layers": layers}, f)
    print("out range", y.min(), y.max())


def read_safetensors(path, prefix=""):
    """F32 tensors of a .safetensors file under `prefix`, the prefix dropped."""
    import struct
    with open(path, "rb") as f:
        b = f.read()
    n = struct.unpack("<Q", b[:8])[0]
    header, data = json.loads(b[8:8 + n]), b[8 + n:]
    out = {}
    for k, v in header.items():
        if k == "__metadata__" or v["dtype"] != "F32" or not k.startswith(prefix):
            continue
        lo, hi = v["data_offsets"]
        out[k[len(prefix):]] = np.frombuffer(data[lo:hi], dtype="<f4").reshape(v["shape"])
    return out


def rdn_case():
    """The DFSQ float reference on an RDN of the EDSR-PyTorch layout (issue
    #17): the nested x3 checkpoint of tests/golden/float, every RDB conv,
    each LFF and both GFF convs quantized (no input is post-ReLU as a whole:
    a dense block's concatenation mixes ReLU outputs with its input),
    SFENet, upsampler and output conv in float."""
    rng = np.random.default_rng(17)
    nz = [v for v in universal_set() if v != 0.0]
    sd = read_safetensors(os.path.join(HERE, "..", "float", "rdn_tiny_x3_wrapped.safetensors"), "params_ema.")
    bits = 3
    quant = [k[:-len(".weight")] for k in sd if k.endswith(".weight") and (k.startswith("RDBs.") or k.startswith("GFF."))]
    layers = {k: [sorted([0.0] + list(rng.choice(nz, 2 ** bits - 1, replace=False))) for _ in range(sd[k + ".weight"].shape[1])]
              for k in sorted(quant)}
    q = lambda key, v: conv2d(aquant(v, False, layers[key]), wquant(sd[key + ".weight"], bits), sd[key + ".bias"])
    x = rng.uniform(0, 255, (3, 9, 8))
    y = rdn_forward(sd, x, qconv=q)
    x.astype("<f4").tofile(os.path.join(HERE, "dfsq_rdn_tiny_x3_in.bin"))
    y.astype("<f4").tofile(os.path.join(HERE, "dfsq_rdn_tiny_x3_out.bin"))
    with open(os.path.join(HERE, "dfsq_rdn_tiny_x3.json"), "w") as f:
        json.dump({"generator": "tests/golden/dfsq/gen_dfsq.py", "model": "rdn_tiny_x3_wrapped", "wbits": bits, "abits": bits,
                   "in_shape": list(x.shape), "out_shape": list(y.shape), "probes": [], "layers": layers}, f)
    print("rdn out range", y.min(), y.max(), len(layers), "quantized layers")


def rdn_all_case():
    """`--quantize all` on the same RDN: every conv quantized (SFENet1/2, the
    upsampler and output conv too; still no input post-ReLU: SFENet1 reads
    the image, the others a conv or pixel-shuffle output), W4A4."""
    rng = np.random.default_rng(1717)
    nz = [v for v in universal_set() if v != 0.0]
    sd = read_safetensors(os.path.join(HERE, "..", "float", "rdn_tiny_x3_wrapped.safetensors"), "params_ema.")
    bits = 4
    quant = [k[:-len(".weight")] for k in sd if k.endswith(".weight") and not k.startswith(("sub_mean", "add_mean"))]
    layers = {k: [sorted([0.0] + list(rng.choice(nz, 2 ** bits - 1, replace=False))) for _ in range(sd[k + ".weight"].shape[1])]
              for k in sorted(quant)}
    q = lambda key, v: conv2d(aquant(v, False, layers[key]), wquant(sd[key + ".weight"], bits), sd[key + ".bias"])
    x = rng.uniform(0, 255, (3, 8, 7))
    y = rdn_forward(sd, x, qconv=q, every=True)
    x.astype("<f4").tofile(os.path.join(HERE, "dfsq_rdn_tiny_x3_all_in.bin"))
    y.astype("<f4").tofile(os.path.join(HERE, "dfsq_rdn_tiny_x3_all_out.bin"))
    with open(os.path.join(HERE, "dfsq_rdn_tiny_x3_all.json"), "w") as f:
        json.dump({"generator": "tests/golden/dfsq/gen_dfsq.py", "model": "rdn_tiny_x3_wrapped", "quantize": "all", "wbits": bits,
                   "abits": bits, "in_shape": list(x.shape), "out_shape": list(y.shape), "probes": [], "layers": layers}, f)
    print("rdn all out range", y.min(), y.max(), len(layers), "quantized layers")

if __name__ == "__main__":
    main()
    rdn_case()
    rdn_all_case()
