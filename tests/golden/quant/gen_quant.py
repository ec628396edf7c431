#!/usr/bin/env python3
"""Golden values for sqsim's weight and activation quantizers (DATAPATH.md §1).

Independent numpy implementation of the authors' (torch, float32) semantics:
  weights: lo/hi per output channel (or per kernel), delta = (hi-lo)/(2^b-1),
           zp = round(lo/delta) + 2^(b-1), q = clamp(round(W/delta) - zp, ...),
           W_hat = (q+zp)*delta   (round = half to even, like torch.round)
  activations: mu = mean (post-ReLU: 0), M = max|x-mu|, xn = (x-mu)/(M+1e-8),
           q = nearest point (argmin |xn-p|, first = lower on ties),
           a = q*(M+1e-8)+mu.
Run: python3 gen_quant.py   (writes quant_golden.json next to this script)
"""
import json, os
import numpy as np

rng = np.random.default_rng(20261127)
f32 = np.float32

def wq(w, bits, per_kernel):
    o, c, k, _ = w.shape
    groups = w.reshape(o * c, -1) if per_kernel else w.reshape(o, -1)
    q = np.zeros_like(groups, dtype=np.int64); zps = []; deltas = []
    half = 2 ** (bits - 1)
    for g in range(groups.shape[0]):
        x = groups[g]
        lo, hi = x.min(), x.max()
        if hi > lo:
            d = f32((hi - lo) / f32(2 ** bits - 1))
        elif lo != 0:
            d = f32(abs(lo))           # sqsim's documented constant-group rule
        else:
            d = f32(1.0)
        zp = int(np.round(f32(lo / d))) + half
        q[g] = np.clip(np.round((x / d).astype(f32)).astype(np.int64) - zp, -half, half - 1)
        zps.append(zp); deltas.append(float(d))
    deq = ((q + np.array(zps)[:, None]).astype(f32) * np.array(deltas, dtype=f32)[:, None]).astype(f32)
    return q.reshape(-1), zps, deltas, deq.reshape(-1)

def actq(x, post_relu, points):
    out = np.empty_like(x)
    for c in range(x.shape[0]):
        p = x[c].astype(f32)
        mu = f32(0.0) if post_relu else f32(p.astype(np.float64).mean())
        M = f32(np.max(np.abs(p - mu)))
        d = f32(M + f32(1e-8))
        xn = ((p - mu) / d).astype(f32)
        pts = np.array(sorted(points[c]), dtype=np.float64)
        idx = np.argmin(np.abs(xn.astype(np.float64)[..., None] - pts[None, None, :]), axis=-1)
        out[c] = (pts[idx].astype(f32) * d + mu).astype(f32)
    return out

cases = []
for (name, w, bits, pk) in [
    ("gauss_b4", rng.normal(0, 0.05, (4, 3, 3, 3)).astype(f32), 4, False),
    ("gauss_b8", rng.normal(0, 0.05, (4, 3, 3, 3)).astype(f32), 8, False),
    ("heavy_b3", (rng.standard_t(2, (3, 5, 3, 3)) * 0.02).astype(f32), 3, False),
    ("positive_b4", np.abs(rng.normal(0.1, 0.05, (2, 4, 3, 3))).astype(f32), 4, False),
    ("kernelwise_b4", rng.normal(0, 0.05, (3, 2, 3, 3)).astype(f32), 4, True),
    ("pointwise_b6", rng.normal(0, 0.1, (5, 6, 1, 1)).astype(f32), 6, False),
]:
    if name == "gauss_b4":
        w[1] = f32(0.03)   # a constant output channel (hi == lo)
        w[2] = f32(0.0)    # an all-zero one
    q, zp, d, deq = wq(w, bits, pk)
    cases.append(dict(name=name, shape=list(w.shape), bits=bits, per_kernel=pk,
                      w=[float(v) for v in w.reshape(-1)], q=[int(v) for v in q],
                      zp=zp, delta=d, deq=[float(v) for v in deq]))

# activation cases: point sets are values of the default universal set
U4 = [-1.0, -0.5, -0.25, -0.0625, 0.0, 0.125, 0.375, 1.0]
acts = []
for (name, x, post) in [
    ("residual", (rng.normal(0, 3, (3, 7, 9)) + rng.normal(0, 5, (3, 1, 1))).astype(f32), False),
    ("post_relu", np.maximum(rng.normal(0, 3, (3, 7, 9)), 0).astype(f32), True),
    ("heavy", (rng.standard_t(1.5, (2, 5, 6)) * 4).astype(f32), False),
]:
    pts = [[v for v in U4 if (v >= 0 or not post)] for _ in range(x.shape[0])]
    pts[0] = [-0.75, -0.1875, 0.0, 0.1875, 0.75]
    y = actq(x, post, pts)
    acts.append(dict(name=name, shape=list(x.shape), post_relu=post, points=pts,
                     x=[float(v) for v in x.reshape(-1)], y=[float(v) for v in y.reshape(-1)]))

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "quant_golden.json"), "w") as f:
    json.dump(dict(generator="gen_quant.py (numpy %s)" % np.__version__, weights=cases, acts=acts), f)
print("wrote", len(cases), "weight cases and", len(acts), "activation cases")
