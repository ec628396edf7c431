#!/usr/bin/env python3
"""Golden values of the uniform (Min-Max / percentile) float references, from
an independent numpy implementation written from hw/SPEC.md "Uniform
baselines", not from the Rust.

Semantics: a static per-tensor range [lo, hi] per quantized conv (an input
here: the shipped models/calib/edsr_x2_{minmax,percentile99.99}.json), widened
to contain 0; scale S = (hi - lo)/(2^b - 1); zero point Z = clip(round(-lo/S),
0, 2^b - 1); code q = clip(round(x/S) + Z, 0, 2^b - 1) (round half to even,
float64); value (q - Z)*S rounded to float32. Weights: the DFSQ weight
quantizer (per output channel, asymmetric, f32), or for the w8a8 design the
symmetric one: d = max|W|/(2^(b-1) - 1) (f32), q = clip(round(W/d), -(2^(b-1)-1),
2^(b-1)-1). The conv itself in float64 (tests/golden/float/gen_float.py).

Writes (next to this script):
  codes_body_0_body_0_a{4,8}.bin  int16 codes of the real layer input
      tests/golden/dfsq/probe_body_0_body_0_in.bin under the minmax range;
  layer_body_0_body_0_{design}_out.bin  float32 output of that layer alone;
  uniform_edsr_x2_{design}_out.bin float32 CHW output of the whole edsr_x2 on
      the crop tests/golden/dfsq/dfsq_edsr_x2_in.bin, for three designs;
  uniform_edsr_x2.json  what was run, with the ranges used (fixed inputs).
Run from the repo root:  python3 tests/golden/uniform/gen_uniform.py
"""
import json, os, sys
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "float"))
sys.path.insert(0, os.path.join(HERE, "..", "dfsq"))
from gen_float import conv2d, relu, pixel_shuffle, read_pt, MEAN, MODELS  # noqa: E402
from gen_dfsq import wquant  # noqa: E402  (the DFSQ weight quantizer, already golden-checked)

f32 = np.float32


def grid(lo, hi, bits):
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    qmax = 2 ** bits - 1
    s = (hi - lo) / qmax if hi > lo else 1.0
    z = int(np.clip(np.round(-lo / s), 0, qmax))
    return s, z, qmax


def codes(x, rng_, bits):
    s, z, qmax = grid(rng_["lo"], rng_["hi"], bits)
    return np.clip(np.round(x.astype(f32).astype(np.float64) / s) + z, 0, qmax).astype(np.int64)


def aquant(x, rng_, bits):
    s, z, _ = grid(rng_["lo"], rng_["hi"], bits)
    return ((codes(x, rng_, bits) - z).astype(np.float64) * s).astype(f32).astype(np.float64)


def wquant_sym(w, bits):
    o = w.shape[0]
    g = w.reshape(o, -1).astype(f32)
    out = np.empty_like(g)
    qmax = 2 ** (bits - 1) - 1
    for i in range(o):
        m = f32(np.max(np.abs(g[i])))
        d = f32(m / f32(qmax)) if m > 0 else f32(1)
        q = np.clip(np.round((g[i] / d).astype(f32)), -qmax, qmax)
        out[i] = (q.astype(f32) * d).astype(f32)
    return out.reshape(w.shape)


def forward(sd, x, ranges, bits, wq, every=False):
    """EDSR x2; the residual-block convs quantized, or with `every` all convs
    (--quantize all: head, body-final, upsampler conv, tail too)."""
    n = 0
    while f"body.{n}.body.0.weight" in sd:
        n += 1
    c = lambda key, v, w=None: conv2d(v, sd[key + ".weight"] if w is None else w, sd[key + ".bias"])
    q = lambda key, v: c(key, aquant(v, ranges[key], bits), wq(sd[key + ".weight"], bits))
    def e(key, v):
        if not every:
            return c(key, v)
        out = q(key, v)
        if key in ("head.0", "tail.1"):  # layer-level goldens of the extra sites
            tag = key.replace(".", "_")
            v.astype("<f4").tofile(os.path.join(HERE, f"layer_{tag}_all_in.bin"))
            out.astype("<f4").tofile(os.path.join(HERE, f"layer_{tag}_all_out.bin"))
        return out
    h = e("head.0", x - 255 * MEAN[:, None, None])
    r = h
    for i in range(n):
        r = r + q(f"body.{i}.body.2", relu(q(f"body.{i}.body.0", r)))
    r = e(f"body.{n}", r) + h
    r = pixel_shuffle(e("tail.0.0", r), 2)
    return e("tail.1", r) + 255 * MEAN[:, None, None]


def main():
    sd = read_pt(os.path.join(MODELS, "edsr_x2.pt"))
    cal = {m: json.load(open(os.path.join(MODELS, "calib", f"edsr_x2_{m}.json")))["layers"]
           for m in ("minmax", "percentile99.99")}
    cal["all_minmax"] = json.load(open(os.path.join(MODELS, "calib", "edsr_x2+all_minmax.json")))["layers"]
    probe = np.fromfile(os.path.join(ROOT, "tests/golden/dfsq/probe_body_0_body_0_in.bin"), "<f4")
    for b in (4, 8):
        codes(probe, cal["minmax"]["body.0.body.0"], b).astype("<i2").tofile(os.path.join(HERE, f"codes_body_0_body_0_a{b}.bin"))
    x = np.fromfile(os.path.join(ROOT, "tests/golden/dfsq/dfsq_edsr_x2_in.bin"), "<f4").astype(np.float64).reshape(3, 24, 24)
    designs = [("minmax_w4a4", "minmax", 4, wquant, False), ("percentile_w6a6", "percentile99.99", 6, wquant, False),
               ("w8a8_sym", "minmax", 8, wquant_sym, False), ("all_minmax_w8a8", "all_minmax", 8, wquant, True)]
    key = "body.0.body.0"
    for tag, m, b, wq, every in designs:
        # layer level on a fixed input: no cascade, float-tight
        if not every:
            yl = conv2d(aquant(probe.astype(np.float64).reshape(64, 24, 24), cal[m][key], b), wq(sd[key + ".weight"], b), sd[key + ".bias"])
            yl.astype("<f4").tofile(os.path.join(HERE, f"layer_body_0_body_0_{tag}_out.bin"))
        y = forward(sd, x, cal[m], b, wq, every)
        y.astype("<f4").tofile(os.path.join(HERE, f"uniform_edsr_x2_{tag}_out.bin"))
        print(tag, "out range", y.min(), y.max())
    with open(os.path.join(HERE, "uniform_edsr_x2.json"), "w") as f:
        json.dump({"generator": "tests/golden/uniform/gen_uniform.py", "model": "edsr_x2",
                   "probe": "body.0.body.0", "probe_shape": [64, 24, 24],
                   "designs": [{"tag": t, "ranges": m, "bits": b, "weights": "symmetric" if wq is wquant_sym else "asymmetric",
                                "quantize": "all" if every else "body"} for t, m, b, wq, every in designs],
                   "ranges": cal}, f, indent=1)


if __name__ == "__main__":
    main()
