#!/usr/bin/env python3
"""PyTorch goldens for bring-your-own RDN checkpoints (issue #17).

The network is EDSR-PyTorch's `model/rdn.py` (the RDN the DFSQ paper
quantizes), written here from that layout: RDB_Conv = conv k×k + ReLU with
its input concatenated; RDB = C of them, then a 1×1 LFF and the local
residual; RDN = SFENet1, SFENet2, D RDBs, GFF (1×1, then k×k) over all RDB
outputs, the global residual, UPNet (×2/×3: conv, PixelShuffle(r), conv;
×4: two conv + PixelShuffle(2), conv). No MeanShift (rdn.py has none),
inputs RGB on 0..255 (rgb_range 255).

Small versions of the paper's configurations, seeded random weights
(PyTorch's default init), saved with torch.save as a real `.pt` (zip):
  config B (C=8 convs per RDB, as the paper's D=16, C=8, G=64) with D=3, G=8, G0=16
  config A (C=6, as D=20, C=6, G=32) with D=4, G=4, G0=16
at ×2, ×3 and ×4; the ×3 config-B file is a training checkpoint:
{"params_ema": net, "params": another copy, "iter": int, "optimizer": {...}}.
Each case stores the input (float32 CHW) and PyTorch's float32 output.

    /tmp/venv/bin/python tests/golden/rdn_torch/gen_rdn_torch.py   (needs torch, numpy)
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))


class RDB_Conv(nn.Module):
    def __init__(self, in_c, g, k=3):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(in_c, g, k, padding=(k - 1) // 2, stride=1), nn.ReLU())

    def forward(self, x):
        return torch.cat((x, self.conv(x)), 1)


class RDB(nn.Module):
    def __init__(self, g0, g, c, k=3):
        super().__init__()
        self.convs = nn.Sequential(*[RDB_Conv(g0 + i * g, g, k) for i in range(c)])
        self.LFF = nn.Conv2d(g0 + c * g, g0, 1, padding=0, stride=1)

    def forward(self, x):
        return self.LFF(self.convs(x)) + x


class RDN(nn.Module):
    def __init__(self, scale, g0, d, c, g, k=3, n_colors=3):
        super().__init__()
        p = (k - 1) // 2
        self.D = d
        self.SFENet1 = nn.Conv2d(n_colors, g0, k, padding=p, stride=1)
        self.SFENet2 = nn.Conv2d(g0, g0, k, padding=p, stride=1)
        self.RDBs = nn.ModuleList([RDB(g0, g, c, k) for _ in range(d)])
        self.GFF = nn.Sequential(nn.Conv2d(d * g0, g0, 1, padding=0, stride=1), nn.Conv2d(g0, g0, k, padding=p, stride=1))
        if scale in (2, 3):
            self.UPNet = nn.Sequential(nn.Conv2d(g0, g * scale * scale, k, padding=p, stride=1), nn.PixelShuffle(scale),
                                       nn.Conv2d(g, n_colors, k, padding=p, stride=1))
        else:
            self.UPNet = nn.Sequential(nn.Conv2d(g0, g * 4, k, padding=p, stride=1), nn.PixelShuffle(2),
                                       nn.Conv2d(g, g * 4, k, padding=p, stride=1), nn.PixelShuffle(2),
                                       nn.Conv2d(g, n_colors, k, padding=p, stride=1))

    def forward(self, x):
        f1 = self.SFENet1(x)
        x = self.SFENet2(f1)
        outs = []
        for i in range(self.D):
            x = self.RDBs[i](x)
            outs.append(x)
        x = self.GFF(torch.cat(outs, 1))
        x = x + f1
        return self.UPNet(x)


CONFIGS = {"B": dict(d=3, c=8, g=8, g0=16), "A": dict(d=4, c=6, g=4, g0=16)}


def main():
    torch.manual_seed(20261202)
    rng = np.random.default_rng(20261202)
    cases = []
    for cfg in ("B", "A"):
        for scale in (2, 3, 4):
            p = CONFIGS[cfg]
            net = RDN(scale, p["g0"], p["d"], p["c"], p["g"]).eval()
            name = f"rdn_{cfg}_x{scale}"
            sd = net.state_dict()
            path = os.path.join(HERE, f"{name}.pt")
            if cfg == "B" and scale == 3:
                other = {k: v + 1.0 for k, v in sd.items()}
                torch.save({"params_ema": sd, "params": other, "iter": 5000,
                            "optimizer": {"state": {0: {"exp_avg": torch.zeros(4)}}}}, path)
            else:
                torch.save(sd, path)
            h, w = int(rng.integers(6, 11)), int(rng.integers(6, 11))
            x = rng.uniform(0, 255, (3, h, w)).astype(np.float32)
            with torch.no_grad():
                y = net(torch.from_numpy(x)[None])[0].numpy()
            x.astype("<f4").tofile(os.path.join(HERE, f"{name}_in.bin"))
            y.astype("<f4").tofile(os.path.join(HERE, f"{name}_out.bin"))
            n = sum(v.numel() for v in sd.values())
            cases.append({"name": name, "checkpoint": f"{name}.pt", "config": cfg, "scale": scale, **p, "params": n,
                          "in_shape": list(x.shape), "out_shape": list(y.shape)})
            print(f"{name}: {n} params, in {x.shape} out {y.shape} range [{y.min():.2f}, {y.max():.2f}]")
    with open(os.path.join(HERE, "cases.json"), "w") as f:
        json.dump({"generator": "tests/golden/rdn_torch/gen_rdn_torch.py", "torch": torch.__version__, "cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()
