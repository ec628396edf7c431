#!/usr/bin/env python3
"""Writes an RDN of the EDSR-PyTorch `model/rdn.py` layout (the network the
DFSQ paper quantizes) with seeded random weights, as .safetensors, for cost
studies and end-to-end runs when the trained weights are not at hand.

    scripts/make_random_rdn.py OUT.safetensors [--config B|A] [--scale 2|3|4] [--seed 0]

Config B (the paper's): D=16 RDBs, C=8 convs, G=64, G0=64; config A: D=20,
C=6, G=32, G0=64. PyTorch's default conv init range (uniform ±1/sqrt(fan_in)).
Needs numpy only; the safetensors container is written by hand (header JSON +
little-endian f32).
"""
import argparse
import json
import struct

import numpy as np

CONFIGS = {"A": (20, 6, 32), "B": (16, 8, 64)}


def conv(rng, sd, key, cin, cout, k):
    bound = 1.0 / np.sqrt(cin * k * k)
    sd[key + ".weight"] = rng.uniform(-bound, bound, (cout, cin, k, k)).astype("<f4")
    sd[key + ".bias"] = rng.uniform(-bound, bound, (cout,)).astype("<f4")


def rdn(rng, d, c, g, g0, scale):
    sd = {}
    conv(rng, sd, "SFENet1", 3, g0, 3)
    conv(rng, sd, "SFENet2", g0, g0, 3)
    for i in range(d):
        for j in range(c):
            conv(rng, sd, f"RDBs.{i}.convs.{j}.conv.0", g0 + j * g, g, 3)
        conv(rng, sd, f"RDBs.{i}.LFF", g0 + c * g, g0, 1)
    conv(rng, sd, "GFF.0", d * g0, g0, 1)
    conv(rng, sd, "GFF.1", g0, g0, 3)
    if scale == 4:
        conv(rng, sd, "UPNet.0", g0, 4 * g, 3)
        conv(rng, sd, "UPNet.2", g, 4 * g, 3)
        conv(rng, sd, "UPNet.4", g, 3, 3)
    else:
        conv(rng, sd, "UPNet.0", g0, g * scale * scale, 3)
        conv(rng, sd, "UPNet.2", g, 3, 3)
    return sd


def write_safetensors(path, sd):
    header, blobs, off = {}, [], 0
    for name, arr in sd.items():
        b = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for b in blobs:
            f.write(b)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--config", choices=sorted(CONFIGS), default="B")
    ap.add_argument("--scale", type=int, choices=[2, 3, 4], default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    d, c, g = CONFIGS[a.config]
    sd = rdn(np.random.default_rng(a.seed), d, c, g, 64, a.scale)
    write_safetensors(a.out, sd)
    n = sum(v.size for v in sd.values())
    print(f"wrote {a.out}: RDN config {a.config} x{a.scale} (D={d}, C={c}, G={g}, G0=64), {n} params")


if __name__ == "__main__":
    main()
