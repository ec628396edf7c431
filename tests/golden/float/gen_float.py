#!/usr/bin/env python3
"""Golden outputs for sqsim's float models, from an independent numpy
implementation (float64 arithmetic, own loaders).

Writes into this directory:
  cases.json            list of cases: model file, input/output .bin, shapes
  *_in.bin / *_out.bin  raw little-endian float32, CHW, RGB 0..255
  rdn_tiny_x2.safetensors   random RDN (D=2, C=2, G=8, G0=8), official keys, no MeanShift
  rdn_tiny_x4.safetensors   random RDN (D=2, C=3, G=4, G0=6) x4 with sub_mean/add_mean
  edsr_tiny_x3_zip.pt / edsr_tiny_x3_legacy.pt   random EDSR (2 blocks, 8 feats, x3),
                        the same tensors in PyTorch's zip and legacy formats (needs torch;
                        without torch the committed files are kept and only read)

Run from the repo root:  python3 tests/golden/float/gen_float.py
"""
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "scripts"))
import make_random_rdn  # noqa: E402  (one RDN layout for the goldens and the cost-study script)
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
MODELS = os.path.join(ROOT, "models")
MEAN = np.array([0.4488, 0.4371, 0.4040])

try:
    import torch  # only to write the tiny .pt files and cross-check our unpickler
except ImportError:
    torch = None


# ---------------------------------------------------------------- numpy ops
def conv2d(x, w, b):
    """x: (C,H,W) f64, w: (O,C,k,k), b: (O,). Stride 1, zero 'same' padding."""
    c, h, wd = x.shape
    o, ci, k, _ = w.shape
    assert ci == c, (ci, c)
    p = k // 2
    xp = np.zeros((c, h + 2 * p, wd + 2 * p))
    xp[:, p:p + h, p:p + wd] = x
    cols = np.empty((c, k, k, h, wd))
    for ky in range(k):
        for kx in range(k):
            cols[:, ky, kx] = xp[:, ky:ky + h, kx:kx + wd]
    y = w.reshape(o, -1).astype(np.float64) @ cols.reshape(c * k * k, h * wd)
    return (y + b.astype(np.float64)[:, None]).reshape(o, h, wd)


def relu(x):
    return np.maximum(x, 0.0)


def pixel_shuffle(x, r):
    c, h, w = x.shape
    oc = c // (r * r)
    return x.reshape(oc, r, r, h, w).transpose(0, 3, 1, 4, 2).reshape(oc, h * r, w * r)


def upsample_nearest(x, r):
    return x.repeat(r, axis=1).repeat(r, axis=2)


# ------------------------------------------------------------- .pt reading
class _Storage:
    def __init__(self, dtype):
        self.dtype = dtype


_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32,
}


def _rebuild_tensor(storage, offset, size, stride, *rest):
    arr, = storage
    if len(size) == 0:
        return arr[offset].copy()
    item = arr.itemsize
    return np.lib.stride_tricks.as_strided(
        arr[offset:], shape=tuple(size), strides=tuple(s * item for s in stride)).copy()


class _ZipUnpickler(pickle.Unpickler):
    """Reads a PyTorch zip checkpoint's data.pkl without torch."""

    def __init__(self, f, zf, prefix):
        super().__init__(f)
        self.zf, self.prefix = zf, prefix

    def find_class(self, module, name):
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return _Storage(_STORAGE_DTYPES[name])
        if module == "collections" and name == "OrderedDict":
            import collections
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"unsupported global {module}.{name}")

    def persistent_load(self, pid):
        kind, storage, key, _loc, _numel = pid
        assert kind == "storage"
        raw = self.zf.read(f"{self.prefix}/data/{key}")
        return (np.frombuffer(raw, dtype=np.dtype(storage.dtype).newbyteorder("<")),)


def read_pt_zip(path):
    with zipfile.ZipFile(path) as zf:
        pkl = [n for n in zf.namelist() if n.endswith("/data.pkl")][0]
        prefix = pkl[: -len("/data.pkl")]
        sd = _ZipUnpickler(io.BytesIO(zf.read(pkl)), zf, prefix).load()
    return {k: np.asarray(v, dtype=np.float32) for k, v in sd.items()}


def read_pt(path):
    ours = read_pt_zip(path)
    if torch is not None:  # cross-check the hand-written unpickler
        ref = torch.load(path, map_location="cpu", weights_only=True)
        assert set(ref) == set(ours)
        for k in ref:
            assert np.array_equal(ref[k].numpy(), ours[k]), k
    return ours


# -------------------------------------------------------- safetensors write
def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, arr in tensors.items():
        # int64 arrays (training counters) stay I64; everything else is F32
        dt, st = ("<i8", "I64") if np.asarray(arr).dtype == np.int64 else ("<f4", "F32")
        b = np.ascontiguousarray(arr, dtype=dt).tobytes()
        header[name] = {"dtype": st, "shape": list(np.shape(arr)), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


# ---------------------------------------------------------------- models
def edsr_forward(sd, x):
    """EDSR-PyTorch edsr.py; x RGB 0..255 (3,H,W)."""
    n = 0
    while f"body.{n}.body.0.weight" in sd:
        n += 1
    f = sd["head.0.weight"].shape[0]
    res_scale = 0.1 if (n == 32 and f == 256) else 1.0
    c = lambda key, v: conv2d(v, sd[key + ".weight"], sd[key + ".bias"])
    sub = sd["sub_mean.bias"].astype(np.float64) if "sub_mean.bias" in sd else -255 * MEAN
    add = sd["add_mean.bias"].astype(np.float64) if "add_mean.bias" in sd else 255 * MEAN
    h = c("head.0", x + sub[:, None, None])
    r = h
    for i in range(n):
        t = c(f"body.{i}.body.2", relu(c(f"body.{i}.body.0", r)))
        r = r + res_scale * t
    r = c(f"body.{n}", r) + h
    j = 0
    while f"tail.0.{2 * j}.weight" in sd:
        w = sd[f"tail.0.{2 * j}.weight"]
        rr = int(round(np.sqrt(w.shape[0] / f)))
        r = pixel_shuffle(c(f"tail.0.{2 * j}", r), rr)
        j += 1
    return c("tail.1", r) + add[:, None, None]


def rdn_forward(sd, x, qconv=None, every=False):
    """EDSR-PyTorch rdn.py (+ MeanShift when the dict carries it). `qconv(key,
    v)`, when given, runs the convs a DFSQ RDN quantizes (every RDB conv, each
    LFF, both GFF convs; with `every` also SFENet1/2, the upsampler and the
    output conv, as `--quantize all`; tests/golden/dfsq/gen_dfsq.py)."""
    f = lambda key, v: conv2d(v, sd[key + ".weight"], sd[key + ".bias"])
    q = qconv or f
    c = q if every else f
    if "sub_mean.bias" in sd:
        x = x + sd["sub_mean.bias"].astype(np.float64)[:, None, None]
    f1 = c("SFENet1", x)
    v = c("SFENet2", f1)
    outs, i = [], 0
    while f"RDBs.{i}.LFF.weight" in sd:
        cat, j = v, 0
        while f"RDBs.{i}.convs.{j}.conv.0.weight" in sd:
            cat = np.concatenate([cat, relu(q(f"RDBs.{i}.convs.{j}.conv.0", cat))], axis=0)
            j += 1
        v = q(f"RDBs.{i}.LFF", cat) + v
        outs.append(v)
        i += 1
    v = q("GFF.1", q("GFF.0", np.concatenate(outs, axis=0))) + f1
    g = sd["RDBs.0.convs.0.conv.0.weight"].shape[0]
    if "UPNet.4.weight" in sd:
        v = pixel_shuffle(c("UPNet.0", v), 2)
        v = pixel_shuffle(c("UPNet.2", v), 2)
        v = c("UPNet.4", v)
    else:
        r = int(round(np.sqrt(sd["UPNet.0.weight"].shape[0] / g)))
        v = c("UPNet.2", pixel_shuffle(c("UPNet.0", v), r))
    if "add_mean.bias" in sd:
        v = v + sd["add_mean.bias"].astype(np.float64)[:, None, None]
    return v


def read_tfjs(model_dir):
    """Keras graph + dequantized weights (value = min + scale*q)."""
    with open(os.path.join(model_dir, "model.json")) as f:
        m = json.load(f)
    weights = {}
    for group in m["weightsManifest"]:
        buf = b"".join(open(os.path.join(model_dir, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            n = int(np.prod(w["shape"]))
            q = w.get("quantization")
            if q is None:
                v = np.frombuffer(buf, "<f4", n, off).astype(np.float64)
                off += 4 * n
            else:
                assert q["dtype"] == "uint8", q
                v = (q["min"] + q["scale"] * np.frombuffer(buf, np.uint8, n, off).astype(np.float64))
                off += n
            # float32 like the runtime's Float32Array
            weights[w["name"]] = v.astype(np.float32).reshape(w["shape"])
        assert off == len(buf)
    return m["modelTopology"]["model_config"]["config"], weights


def tfjs_forward(model_dir, x, capture=None):
    """Interprets model.json's layer list; x RGB 0..255 -> /255 -> graph -> *255.
    `capture`, a dict, receives the input of each layer named in it."""
    cfg, wts = read_tfjs(model_dir)
    vals = {}
    for layer in cfg["layers"]:
        name, cls, lc = layer["name"], layer["class_name"], layer["config"]
        ins = [vals[src[0]] for src in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
        if capture is not None and name in capture:
            capture[name] = ins[0]
        if cls == "InputLayer":
            v = x / 255.0
        elif cls == "Conv2D":
            k = wts[name + "/kernel"]  # (kh, kw, in, out)
            assert lc["strides"] == [1, 1] and lc["dilation_rate"] == [1, 1]
            v = conv2d(ins[0], k.transpose(3, 2, 0, 1), wts[name + "/bias"])
            if lc["activation"] == "relu":
                v = relu(v)
            else:
                assert lc["activation"] == "linear"
        elif cls == "Activation":
            assert lc["activation"] == "relu"
            v = relu(ins[0])
        elif cls == "Concatenate":
            v = np.concatenate(ins, axis=0)
        elif cls == "Add":
            v = sum(ins[1:], ins[0])
        elif cls == "UpSampling2D":
            assert lc["interpolation"] == "nearest" and lc["size"][0] == lc["size"][1]
            v = upsample_nearest(ins[0], lc["size"][0])
        else:
            raise ValueError(cls)
        vals[name] = v
    return vals[cfg["output_layers"][0][0]] * 255.0


# ----------------------------------------------------------- random models
def conv_params(rng, sd, key, cin, cout, k):
    bound = 1.0 / np.sqrt(cin * k * k)  # PyTorch's default init range
    sd[key + ".weight"] = rng.uniform(-bound, bound, (cout, cin, k, k)).astype(np.float32)
    sd[key + ".bias"] = rng.uniform(-bound, bound, (cout,)).astype(np.float32)


def mean_shift(sd, rgb_range=255):
    eye = np.eye(3, dtype=np.float32).reshape(3, 3, 1, 1)
    sd["sub_mean.weight"], sd["add_mean.weight"] = eye, eye.copy()
    sd["sub_mean.bias"] = (-rgb_range * MEAN).astype(np.float32)
    sd["add_mean.bias"] = (rgb_range * MEAN).astype(np.float32)


def tiny_rdn(rng, d, c, g, g0, scale, with_mean):
    # the layout (and the order of random draws) of scripts/make_random_rdn.py
    sd = make_random_rdn.rdn(rng, d, c, g, g0, scale)
    if with_mean:
        mean_shift(sd)
    return sd


def tiny_edsr(rng, n, f, scale, rgb_range=255):
    sd = {}
    mean_shift(sd, rgb_range)
    conv_params(rng, sd, "head.0", 3, f, 3)
    for i in range(n):
        conv_params(rng, sd, f"body.{i}.body.0", f, f, 3)
        conv_params(rng, sd, f"body.{i}.body.2", f, f, 3)
    conv_params(rng, sd, f"body.{n}", f, f, 3)
    if scale == 3:
        conv_params(rng, sd, "tail.0.0", f, 9 * f, 3)
    else:
        for j in range(int(np.log2(scale))):
            conv_params(rng, sd, f"tail.0.{2 * j}", f, 4 * f, 3)
    conv_params(rng, sd, "tail.1", f, 3, 3)
    return sd


def check_ops_against_torch(rng):
    """The numpy ops above are the golden's foundation; when torch is
    available, confirm conv padding, pixel-shuffle and nearest-upsample layouts."""
    if torch is None:
        return
    import torch.nn.functional as F
    for (ci, co, k, h, w) in [(3, 5, 3, 7, 6), (4, 2, 1, 5, 9), (2, 3, 5, 6, 4)]:
        x = rng.standard_normal((ci, h, w))
        wt, b = rng.standard_normal((co, ci, k, k)), rng.standard_normal(co)
        ref = F.conv2d(torch.from_numpy(x)[None], torch.from_numpy(wt), torch.from_numpy(b), padding=k // 2)[0]
        assert np.allclose(conv2d(x, wt, b), ref.numpy(), atol=1e-10)
    x = rng.standard_normal((12, 3, 4))
    for r in (2,):
        assert np.array_equal(pixel_shuffle(x, r), F.pixel_shuffle(torch.from_numpy(x)[None], r)[0].numpy())
    assert np.array_equal(upsample_nearest(x, 3),
                          F.interpolate(torch.from_numpy(x)[None], scale_factor=3, mode="nearest")[0].numpy())
    print("numpy ops agree with torch")


# ------------------------------------------------------------------ main
def image_crop(y, x, size):
    for d in (os.path.join(ROOT, "data"), "/work/shared/data"):
        p = os.path.join(d, "Set5", "baby.png")
        if os.path.exists(p):
            img = np.asarray(Image.open(p).convert("RGB"), dtype=np.float64)
            return img[y:y + size, x:x + size].transpose(2, 0, 1).copy()
    raise FileNotFoundError("Set5/baby.png")


def main():
    check_ops_against_torch(np.random.default_rng(1))
    rng = np.random.default_rng(20240611)
    cases = []

    def case(name, model, x, y, rgb_range=None):
        x32, y32 = x.astype("<f4"), y.astype("<f4")
        x32.tofile(os.path.join(HERE, f"{name}_in.bin"))
        y32.tofile(os.path.join(HERE, f"{name}_out.bin"))
        c = {"name": name, "model": model, "in_shape": list(x.shape), "out_shape": list(y.shape),
             "input": f"{name}_in.bin", "output": f"{name}_out.bin"}
        if rgb_range is not None:
            c["rgb_range"] = rgb_range  # passed as --rgb-range (a state dict cannot say)
        cases.append(c)
        print(f"{name}: in {x.shape} out {y.shape} range [{y.min():.2f}, {y.max():.2f}]")

    # (a) real EDSR on real image crops (builtin:<name> = models/ in the repo)
    x = image_crop(200, 220, 32)
    case("edsr_x2_baby", "builtin:edsr_x2", x, edsr_forward(read_pt(os.path.join(MODELS, "edsr_x2.pt")), x))
    x = image_crop(100, 300, 16)
    case("edsr_x4_baby", "builtin:edsr_x4", x, edsr_forward(read_pt(os.path.join(MODELS, "edsr_x4.pt")), x))

    # (b) ISR TF.js RDN
    x = image_crop(300, 150, 24)
    case("rdn_x2_baby", "builtin:rdn_x2", x, tfjs_forward(os.path.join(MODELS, "isr_rdn", "x2"), x))
    x = image_crop(60, 60, 12)
    case("rdn_x4_baby", "builtin:rdn_x4", x, tfjs_forward(os.path.join(MODELS, "isr_rdn", "x4"), x))

    # (c) tiny random RDNs (non-square inputs)
    sd = tiny_rdn(rng, d=2, c=2, g=8, g0=8, scale=2, with_mean=False)
    write_safetensors(os.path.join(HERE, "rdn_tiny_x2.safetensors"), sd)
    x = rng.uniform(0, 255, (3, 11, 9))
    case("rdn_tiny_x2", "rdn_tiny_x2.safetensors", x, rdn_forward(sd, x))
    sd = tiny_rdn(rng, d=2, c=3, g=4, g0=6, scale=4, with_mean=True)
    write_safetensors(os.path.join(HERE, "rdn_tiny_x4.safetensors"), sd)
    x = rng.uniform(0, 255, (3, 7, 10))
    case("rdn_tiny_x4", "rdn_tiny_x4.safetensors", x, rdn_forward(sd, x))

    # tiny EDSR x3 in both PyTorch container formats
    zip_path = os.path.join(HERE, "edsr_tiny_x3_zip.pt")
    legacy_path = os.path.join(HERE, "edsr_tiny_x3_legacy.pt")
    sd = tiny_edsr(rng, n=2, f=8, scale=3)
    if torch is not None:
        tsd = {k: torch.from_numpy(v) for k, v in sd.items()}
        torch.save(tsd, zip_path)
        torch.save(tsd, legacy_path, _use_new_zipfile_serialization=False)
    else:
        print("torch not importable: keeping the committed edsr_tiny_x3_*.pt")
    stored = read_pt_zip(zip_path)
    assert set(stored) == set(sd) and all(np.array_equal(stored[k], sd[k]) for k in sd)
    x = rng.uniform(0, 255, (3, 9, 8))
    case("edsr_tiny_x3", "edsr_tiny_x3_zip.pt", x, edsr_forward(sd, x))

    # (d) bring your own checkpoint (issue #17): RDN x3; a training
    # checkpoint wrapping the net under params_ema beside a params copy, an
    # optimizer tensor and an int64 counter; networks trained on [0, 1]
    # (EDSR: range read from its MeanShift; RDN: none, given as rgb_range)
    sd = tiny_rdn(rng, d=3, c=4, g=6, g0=8, scale=3, with_mean=False)
    wrapped = {f"params_ema.{k}": v for k, v in sd.items()}
    wrapped.update({f"params.{k}": v + 1.0 for k, v in sd.items()})
    wrapped["optimizer.state.0.exp_avg"] = np.zeros(4, dtype=np.float32)
    wrapped["iter"] = np.array([1000], dtype=np.int64)
    write_safetensors(os.path.join(HERE, "rdn_tiny_x3_wrapped.safetensors"), wrapped)
    x = rng.uniform(0, 255, (3, 8, 7))
    case("rdn_tiny_x3_wrapped", "rdn_tiny_x3_wrapped.safetensors", x, rdn_forward(sd, x))
    sd = tiny_edsr(rng, n=2, f=6, scale=2, rgb_range=1)
    write_safetensors(os.path.join(HERE, "edsr_tiny_x2_range1.safetensors"), sd)
    x = rng.uniform(0, 255, (3, 9, 10))
    case("edsr_tiny_x2_range1", "edsr_tiny_x2_range1.safetensors", x, 255.0 * edsr_forward(sd, x / 255.0))
    sd = tiny_rdn(rng, d=2, c=2, g=4, g0=6, scale=2, with_mean=False)
    write_safetensors(os.path.join(HERE, "rdn_tiny_x2_range1.safetensors"), sd)
    x = rng.uniform(0, 255, (3, 7, 9))
    case("rdn_tiny_x2_range1", "rdn_tiny_x2_range1.safetensors", x, 255.0 * rdn_forward(sd, x / 255.0), rgb_range=1)

    with open(os.path.join(HERE, "cases.json"), "w") as f:
        json.dump({"generator": "tests/golden/float/gen_float.py", "cases": cases}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
