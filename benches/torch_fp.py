#!/usr/bin/env python3
"""PyTorch's time for the float forward sqsim's `fp` phase runs: EDSR x2
(16 blocks, 64 features, EDSR-PyTorch layout) with the shipped weights
(models/edsr_x2.pt, loaded strictly) over the five Set5 LR images, on the
same machine and thread count. The baseline of the README's performance
table (issue #13, target 1); torch is an optional dependency.

    python benches/torch_fp.py [--threads 2] [--repeats 5]

Prints per repeat the Set5 total (the LR sizes of data/Set5_matlab_lr/x2,
the sizes sqsim's own bicubic gives) and one 256x256 forward (the shape of
`cargo bench --bench float_conv -- edsr_x2_forward_256x256`), then min and
median. Inputs are random: the time does not depend on pixel values.
"""
import argparse
import statistics
import struct
import time
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent


class MeanShift(nn.Conv2d):
    def __init__(self):
        super().__init__(3, 3, 1)


class ResBlock(nn.Module):
    def __init__(self, f):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(f, f, 3, padding=1), nn.ReLU(True), nn.Conv2d(f, f, 3, padding=1))

    def forward(self, x):
        return x + self.body(x)


class Edsr(nn.Module):
    def __init__(self, blocks=16, f=64, scale=2):
        super().__init__()
        self.sub_mean, self.add_mean = MeanShift(), MeanShift()
        self.head = nn.Sequential(nn.Conv2d(3, f, 3, padding=1))
        self.body = nn.Sequential(*[ResBlock(f) for _ in range(blocks)], nn.Conv2d(f, f, 3, padding=1))
        up = nn.Sequential(nn.Conv2d(f, 4 * f, 3, padding=1), nn.PixelShuffle(scale))
        self.tail = nn.Sequential(up, nn.Conv2d(f, 3, 3, padding=1))

    def forward(self, x):
        x = self.head(self.sub_mean(x))
        x = x + self.body(x)
        return self.add_mean(self.tail(x))


def png_size(p):
    with open(p, "rb") as f:
        w, h = struct.unpack(">II", f.read(24)[16:24])
    return h, w


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    net = Edsr()
    net.load_state_dict(torch.load(ROOT / "models/edsr_x2.pt", map_location="cpu", weights_only=True), strict=True)
    net.eval()
    sizes = [png_size(p) for p in sorted((ROOT / "data/Set5_matlab_lr/x2").glob("*_LR.png"))]
    assert len(sizes) == 5, sizes
    g = torch.Generator().manual_seed(0)
    xs = [torch.rand(1, 3, h, w, generator=g) * 255 for h, w in sizes]
    x256 = torch.rand(1, 3, 256, 256, generator=g) * 255
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, Set5 LR px {sum(h * w for h, w in sizes)}")
    set5, one = [], []
    with torch.inference_mode():
        net(xs[0])  # warm-up (oneDNN primitive creation)
        for r in range(a.repeats):
            t0 = time.perf_counter()
            for x in xs:
                net(x)
            t1 = time.perf_counter()
            net(x256)
            t2 = time.perf_counter()
            set5.append(t1 - t0)
            one.append(t2 - t1)
            print(f"repeat {r}: Set5 {t1 - t0:.3f} s, 256x256 {t2 - t1:.3f} s")
    print(f"Set5 FP forward: min {min(set5):.3f} s, median {statistics.median(set5):.3f} s")
    print(f"256x256 forward: min {min(one):.3f} s, median {statistics.median(one):.3f} s")


if __name__ == "__main__":
    main()
