#!/usr/bin/env python3
"""Golden values for tests/image_metrics.rs, independent of the Rust code.

Run from the repository root:  python3 tests/golden/metrics/gen_metrics.py
Needs numpy, pillow, scikit-image (tested: numpy 2.4, scikit-image 0.26).

Writes next to itself:
  metrics.json      checksums of numpy bicubic resizes, PSNR/SSIM of image pairs,
                    Set5 bicubic baseline averages
  butterfly_x4_bicubic.png   numpy bicubic x4 upscale of the MATLAB-made LR,
                    so one metrics case does not depend on any Rust resize

Conventions (as the SR literature / DFSQ paper):
  * Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255 in float64, no rounding
    (MATLAB rgb2ycbcr on 0..255 values);
  * PSNR: peak 255 over the Y plane with `shave` pixels cut from each border;
  * SSIM: skimage structural_similarity, Gaussian weights sigma 1.5 (11x11
    window: truncate 3.5), population covariance, data_range 255. skimage
    filters with 'reflect' padding and then crops 5 px = 'valid' filtering,
    i.e. MATLAB ssim_index;
  * resize: MATLAB imresize bicubic, antialiased kernel when shrinking, height
    pass first, each pass rounded to uint8 (half away from zero), edges
    replicated. This script asserts that this reproduces data/Set5_matlab_lr
    (made by MATLAB) exactly before writing anything.
"""
import json
import os

import numpy as np
from PIL import Image
from skimage.metrics import structural_similarity

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SET5 = ["baby", "bird", "butterfly", "head", "woman"]


def load(rel):
    im = Image.open(os.path.join(ROOT, rel))
    return np.array(im.convert("RGB"), dtype=np.uint8)


def cubic(x):
    ax = np.abs(x)
    ax2 = ax * ax
    ax3 = ax2 * ax
    return (1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1) + (-0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2))


def contributions(in_len, out_len, scale):
    """MATLAB imresize's contributions() with edge replication; 0-based indices."""
    kernel_width = 4.0 / scale if scale < 1 else 4.0
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - kernel_width / 2)
    taps = int(np.ceil(kernel_width)) + 2
    ind = left[:, None] + np.arange(taps)[None, :]
    d = u[:, None] - ind
    w = scale * cubic(scale * d) if scale < 1 else cubic(d)
    w = w / w.sum(axis=1, keepdims=True)
    return w, (np.clip(ind, 1, in_len) - 1).astype(np.int64)


def resize_axis(a, axis, out_len, scale):
    w, ind = contributions(a.shape[axis], out_len, scale)
    moved = np.moveaxis(a.astype(np.float64), axis, 0)
    out = np.einsum("op,op...->o...", w, moved[ind])
    out = np.floor(np.moveaxis(out, 0, axis) + 0.5)  # all values >= -small: half away from zero
    return np.clip(out, 0, 255).astype(np.uint8)


def imresize(img, out_h, out_w, scale):
    return resize_axis(resize_axis(img, 0, out_h, scale), 1, out_w, scale)


def down(img, s):
    h, w = img.shape[:2]
    return imresize(img, -(-h // s), -(-w // s), 1.0 / s)


def up(img, s):
    h, w = img.shape[:2]
    return imresize(img, h * s, w * s, float(s))


def modcrop(img, s):
    h, w = img.shape[:2]
    return img[: h - h % s, : w - w % s]


def y_plane(img):
    a = img.astype(np.float64)
    return 16 + (65.481 * a[..., 0] + 128.553 * a[..., 1] + 24.966 * a[..., 2]) / 255


def shaved(y, s):
    return y[s: y.shape[0] - s, s: y.shape[1] - s] if s else y


def psnr(sr, hr, s):
    a, b = shaved(y_plane(sr), s), shaved(y_plane(hr), s)
    mse = np.mean((a - b) ** 2)
    return float(10 * np.log10(255.0 ** 2 / mse))


def ssim(sr, hr, s):
    a, b = shaved(y_plane(sr), s), shaved(y_plane(hr), s)
    return float(structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False, data_range=255))


def checksum(img):
    """Sum and position-weighted sum of the HWC bytes (the Rust test recomputes both)."""
    flat = img.reshape(-1).astype(np.uint64)
    idx = np.arange(1, flat.size + 1, dtype=np.uint64)
    return {"height": int(img.shape[0]), "width": int(img.shape[1]),
            "sum": int(flat.sum()), "wsum": int((flat * idx).sum())}


def main():
    # 1. The numpy resize must reproduce MATLAB's own LR files.
    for s in (2, 4):
        for n in SET5:
            hr = load(f"data/Set5_matlab_lr/x{s}/{n}_HR.png")
            lr = load(f"data/Set5_matlab_lr/x{s}/{n}_LR.png")
            mine = down(modcrop(hr, s), s)
            assert mine.shape == lr.shape and (mine == lr).all(), f"{n} x{s} differs from MATLAB"
    print("numpy imresize reproduces data/Set5_matlab_lr x2 and x4 exactly")

    out = {"generator": "tests/golden/metrics/gen_metrics.py", "downscale": [], "upscale": [],
           "metrics": [], "set5_bicubic": {}}

    # 2. Resize checksums, incl. scale 3 and sizes not divisible by the scale.
    for rel, s in [("data/Set14/comic.png", 3), ("data/Set14/zebra.png", 2), ("data/BSD100/img_001.png", 4),
                   ("data/Set14/bridge.png", 3)]:
        out["downscale"].append({"image": rel, "scale": s, "modcrop": False, **checksum(down(load(rel), s))})
    for rel, s in [("data/Set5_matlab_lr/x4/woman_LR.png", 4), ("data/Set5_matlab_lr/x2/bird_LR.png", 2),
                   ("data/Set5_matlab_lr/x4/head_LR.png", 3)]:
        out["upscale"].append({"image": rel, "scale": s, **checksum(up(load(rel), s))})

    # 3. Metrics. "sr_upscale": SR = bicubic up of that LR file (Rust recomputes it and
    #    checks it against the upscale checksum first); "sr": SR is a stored file.
    bfly = up(load("data/Set5_matlab_lr/x4/butterfly_LR.png"), 4)
    Image.fromarray(bfly).save(os.path.join(HERE, "butterfly_x4_bicubic.png"), optimize=True)
    cases = [
        {"sr": "tests/golden/metrics/butterfly_x4_bicubic.png", "hr": "data/Set5/butterfly.png", "shave": 4},
        {"sr": "tests/golden/metrics/butterfly_x4_bicubic.png", "hr": "data/Set5/butterfly.png", "shave": 0},
        {"sr_upscale": "data/Set5_matlab_lr/x2/bird_LR.png", "scale": 2, "hr": "data/Set5/bird.png", "shave": 2},
        {"sr_upscale": "data/Set5_matlab_lr/x2/woman_LR.png", "scale": 2, "hr": "data/Set5/woman.png", "shave": 2},
        {"sr_upscale": "data/Set5_matlab_lr/x4/head_LR.png", "scale": 4, "hr": "data/Set5/head.png", "shave": 4},
        # Unrelated images: low-similarity regime, shave 0 and an odd shave.
        {"sr": "data/Set14/lenna.png", "hr": "data/Set14/pepper.png", "shave": 0},
        {"sr": "data/Set5/baby.png", "hr": "data/Set14/man.png", "shave": 7},
    ]
    for c in cases:
        hr = load(c["hr"])
        if "sr" in c:
            sr = load(c["sr"])
        else:
            sr = up(load(c["sr_upscale"]), c["scale"])
            c.update({"sr_" + k: v for k, v in checksum(sr).items()})
        c["psnr"] = psnr(sr, hr, c["shave"])
        c["ssim"] = ssim(sr, hr, c["shave"])
        out["metrics"].append(c)

    # 4. Set5 bicubic baseline: HR modcropped, LR = down, SR = up, shave = scale.
    for s in (2, 3, 4):
        ps, ss = [], []
        for n in SET5:
            hr = modcrop(load(f"data/Set5/{n}.png"), s)
            sr = up(down(hr, s), s)
            ps.append(psnr(sr, hr, s))
            ss.append(ssim(sr, hr, s))
        out["set5_bicubic"][f"x{s}"] = {"psnr": float(np.mean(ps)), "ssim": float(np.mean(ss)),
                                        "per_image_psnr": dict(zip(SET5, ps))}
        print(f"Set5 bicubic x{s}: PSNR {np.mean(ps):.4f} dB, SSIM {np.mean(ss):.4f}")

    with open(os.path.join(HERE, "metrics.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
