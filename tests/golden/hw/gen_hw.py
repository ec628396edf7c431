"""Independent golden of the bit-accurate datapath: one quantized conv, from
the text of DATAPATH.md §3 and hw/SPEC.md ("Activations", "Products and
accumulation"), with numpy and Python integers — not a port of src/hw.

Per case it writes the layer's integer output (activation units 2^-a,
[o][y][x], little-endian int32), the host-converted input, and the overflow
count of each stage, for tests/hw_golden.rs to compare with
`HwLayer::run_reference` bit for bit.

Cases: real edsr_x2 layers (body.0.body.0, the residual stream, and
body.0.body.2, post-ReLU) on the 24×24 activation crops of
tests/golden/dfsq (with that golden's per-channel point sets), a real
1×1 layer of the ISR rdn_x2 (LFF_1, its input computed here by the numpy
TF.js interpreter on a Set5 crop; shipped calibration points) on the rdn_isr
preset, and narrow-register cases (tap, accumulator and activation words cut
down, fewer PE fraction bits than the universal set's, every de-normalization
format, saturate and wrap) where the registers do overflow.

Run: python3 tests/golden/hw/gen_hw.py   (numpy; reads models/, data/, hw/configs)
"""
import itertools
import json
import os
import sys
import tomllib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "float"))
from gen_float import read_pt, read_tfjs, tfjs_forward, image_crop, MODELS  # noqa: E402
sys.path.insert(0, os.path.join(HERE, "..", "dfsq"))
from gen_dfsq import wquant_int  # noqa: E402  (DATAPATH §1, the fake-quant golden's weight quantizer)

f32 = np.float32
F = 10  # the universal set's exact fractional bits (DATAPATH §2)
# word i (1..4): sel 0 -> shift 2, 1 -> i+2, 2 -> i+6, 3 -> off (÷4 folded in)
WORD_SHIFTS = [(2, i + 2, i + 6) for i in range(1, 5)]


def canonical_shifts():
    """|value|·2^F -> shifts of the canonical code's active words: fewest
    active words, then the lexicographically smallest selector tuple."""
    best = {}
    for sels in itertools.product(range(4), repeat=4):
        shifts = tuple(WORD_SHIFTS[i][s] for i, s in enumerate(sels) if s < 3)
        a = sum(1 << (F - sh) for sh in shifts)
        key = (len(shifts), sels)
        if a not in best or key < best[a][0]:
            best[a] = (key, shifts)
    return {a: sh for a, (_, sh) in best.items()}


SHIFTS = canonical_shifts()
assert len(SHIFTS) == 189


def pe_product(w, a, f):
    """Four shifters and one adder: sign · Σ_i (w << (f − shift_i)); below
    F a term shifts right, floored (arithmetic shift), and the sign is
    applied to the adder's sum. `w` an integer array, `a` = s·2^F."""
    t = np.zeros_like(w)
    for sh in SHIFTS[abs(a)]:
        t = t + (w << (f - sh) if f >= sh else w >> (sh - f))
    return -t if a < 0 else t


def fit(v, bits, policy):
    """Into a signed `bits` register: (value, number of out-of-range values)."""
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    bad = (v < lo) | (v > hi)
    if policy == "saturate":
        out = np.clip(v, lo, hi)
    else:
        out = ((v - lo) % (1 << bits)) + lo
    return out, int(np.count_nonzero(bad))


def div_round(a, b):
    """round(a / b), ties away from zero (b > 0), exact integers."""
    q = (2 * abs(a) + b) // (2 * b)
    return q if a >= 0 else -q


def round_shift(v, s):
    """round(v / 2^s) adding half (ties toward +∞); s ≤ 0 shifts left."""
    return v << -s if s <= 0 else (v + (1 << (s - 1))) >> s


def delta_fixed(d, m):
    """Δ = mult / 2^shift, mult an m-bit mantissa in [2^(m−1), 2^m): the
    shift that puts Δ·2^shift there, mult = Δ·2^shift rounded to nearest
    (half away from zero); a rounding up to 2^m takes one shift less."""
    shift = m - 1 - int(np.floor(np.log2(d)))
    mult = int(np.floor(d * 2.0 ** shift + 0.5))
    if mult >= 1 << m:
        shift -= 1
        mult = int(np.floor(d * 2.0 ** shift + 0.5))
    return mult, shift


def stats(plane, post_relu, den):
    """Stats unit and the M̂/μ̂ encoder (hw/SPEC.md "Activations" 2–3):
    returns (m_mant, mu_mant, exp), M̂ = m_mant·2^exp, μ̂ = mu_mant·2^exp."""
    vals = [int(v) for v in plane.ravel()]
    lo, hi = min(vals), max(vals)
    mu = 0 if post_relu else div_round(sum(vals), len(vals))
    spread = lambda mh: max(hi - mh, mh - lo, 0)
    if den["format"] == "full":
        return spread(mu), mu, 0
    mu_lim = 1 << (den["mean_mant_bits"] - 1)
    for e in range(62):
        mu_mant = div_round(mu, 1 << e)  # μ̂'s mantissa: the same rounding as μ
        if not -mu_lim <= mu_mant < mu_lim:
            continue
        m = spread(mu_mant << e)
        if den["format"] == "pow2":
            if m <= 1 << e:
                return 1, mu_mant, e
        else:
            m_mant = max((m + ((1 << e) >> 1)) >> e, 1 if m > 0 else 0)  # nearest, ties up, never 0
            if m_mant < 1 << den["max_mant_bits"]:
                return m_mant, mu_mant, e
    raise ValueError("no exponent fits")


def layer(x_float, post_relu, weight, bias, wbits, points, cfg):
    """The whole layer (hw/SPEC.md "Products and accumulation")."""
    dp, den = cfg["datapath"], cfg["denorm"]
    a, f, pol = dp["act_frac_bits"], dp["pe_frac_bits"], dp["overflow"]
    ovf = {"act_in": 0, "tap_sum": 0, "denorm_acc": 0, "act_out": 0}
    cin, h, w = x_float.shape
    cout, _, k, _ = weight.shape
    p = k // 2
    # 1. host -> datapath: round half to even at a fractional bits, fit the activation word
    x, n = fit(np.rint(x_float.astype(f32).astype(np.float64) * 2.0 ** a).astype(np.int64), dp["act_bits"], pol)
    ovf["act_in"] += n
    wint, deltas = wquant_int(weight, wbits)
    deltas = [float(d) for d in deltas]
    norms = [stats(x[c], post_relu, den) for c in range(cin)]
    # 2. quantizer: index = #{j : t_j·M̂ < x − μ̂} as (x − μ̂)·2^(F+1) vs (a_j + a_{j+1})·M̂; LUT -> s·2^F
    s = np.zeros_like(x)
    for c in range(cin):
        pts = sorted(int(round(v * 2 ** F)) for v in points[c])
        m_hat, mu_hat = norms[c][0] << norms[c][2], norms[c][1] << norms[c][2]
        lhs = (x[c] - mu_hat) * (1 << (F + 1))
        idx = np.zeros(x[c].shape, dtype=np.int64)
        for j in range(len(pts) - 1):
            idx += (pts[j] + pts[j + 1]) * m_hat < lhs
        s[c] = np.array(pts)[idx]
    # 3–5. per output element: P over the taps inside, de-normalization, μ term
    xpad_ok = np.zeros((h + 2 * p, w + 2 * p), dtype=bool)
    xpad_ok[p:p + h, p:p + w] = True
    acc = np.zeros((cout, h, w), dtype=np.int64)
    for c in range(cin):
        sp = np.zeros((h + 2 * p, w + 2 * p), dtype=np.int64)
        sp[p:p + h, p:p + w] = s[c]
        P = np.zeros((cout, h, w), dtype=np.int64)
        for ky in range(k):
            for kx in range(k):
                inside = xpad_ok[ky:ky + h, kx:kx + w]
                win = sp[ky:ky + h, kx:kx + w]
                prod = np.zeros((cout, h, w), dtype=np.int64)
                for a_val in np.unique(win[inside]):
                    sel = inside & (win == a_val)
                    prod[:, sel] = pe_product(wint[:, c, ky, kx][:, None], int(a_val), f)
                new, n = fit(np.where(inside, P + prod, P), dp["tap_sum_bits"], pol)
                # a tap outside the image is skipped: no add, no register write
                ovf["tap_sum"] += n
                P = new
        m_mant, _, e = norms[c]
        acc, n = fit(acc + ((m_mant * P) << e), dp["denorm_acc_bits"], pol)
        ovf["denorm_acc"] += n
    mu_term = np.zeros((cout, h, w), dtype=object)
    for c in range(cin):
        mu_hat = norms[c][1] << norms[c][2]
        for ky in range(k):
            for kx in range(k):
                inside = xpad_ok[ky:ky + h, kx:kx + w].astype(np.int64)
                mu_term = mu_term + (mu_hat * wint[:, c, ky, kx].astype(object))[:, None, None] * inside * (1 << f)
    acc_o = acc.astype(object) + mu_term
    lo, hi = -(1 << (dp["denorm_acc_bits"] - 1)), (1 << (dp["denorm_acc_bits"] - 1)) - 1
    bad = np.vectorize(lambda v: v < lo or v > hi)(acc_o)
    ovf["denorm_acc"] += int(bad.sum())
    if pol == "saturate":
        acc_o = np.vectorize(lambda v: min(max(v, lo), hi), otypes=[object])(acc_o)
    else:
        acc_o = np.vectorize(lambda v: ((v - lo) % (1 << dp["denorm_acc_bits"])) + lo, otypes=[object])(acc_o)
    # 6. output: × Δ_o (mantissa and shift), round, + bias, fit the activation word
    out = np.zeros((cout, h, w), dtype=np.int64)
    for o in range(cout):
        mult, shift = delta_fixed(deltas[o], dp["delta_mult_bits"])
        b_fix = int(np.rint(float(f32(bias[o])) * 2.0 ** a))
        y = np.array([round_shift(int(v) * mult, shift + f) + b_fix for v in acc_o[o].ravel()], dtype=np.int64)
        yv, n = fit(y, dp["act_bits"], pol)
        ovf["act_out"] += n
        out[o] = yv.reshape(h, w)
    return x, out, ovf


def tie_input(points, a):
    """8 channels of 6×6 activations (units 2^-a) on the quantizer's
    thresholds: every midpoint a_j + a_{j+1} of the channel's points (in
    units 2^-F), and 2^(F+1) once so that max = M̂ = 2^(F+1)."""
    rng = np.random.default_rng(18)
    x = np.zeros((len(points), 6, 6))
    for c, p in enumerate(points):
        ints = sorted(int(round(v * 2 ** F)) for v in p)
        mids = [ints[j] + ints[j + 1] for j in range(len(ints) - 1) if ints[j] + ints[j + 1] >= 0]
        vals = rng.choice(mids, 36)
        vals[0] = 1 << (F + 1)
        x[c] = vals.reshape(6, 6) / 2.0 ** a
    return x.astype(f32)


def preset(name, **over):
    with open(os.path.join(ROOT, "hw", "configs", name + ".toml"), "rb") as fh:
        cfg = tomllib.load(fh)
    for key, v in over.items():
        sec, field = key.split("__")
        cfg[sec][field] = v
    return cfg


def main():
    dfsq = json.load(open(os.path.join(HERE, "..", "dfsq", "dfsq_edsr_x2.json")))
    sd = read_pt(os.path.join(MODELS, "edsr_x2.pt"))
    probe = lambda tag: np.fromfile(os.path.join(HERE, "..", "dfsq", f"probe_{tag}_in.bin"), "<f4").reshape(64, 24, 24)
    cases = []
    x0, x2 = probe("body_0_body_0"), probe("body_0_body_2")
    edsr = [
        ("edsr_body0_conv1_w4_default", "body.0.body.0", x0, False, 4, preset("default")),
        ("edsr_body0_conv2_w4_default", "body.0.body.2", x2, True, 4, preset("default")),
        ("edsr_body0_conv1_w8_full", "body.0.body.0", x0, False, 8, preset("default", denorm__format="full")),
        ("edsr_body0_conv1_w4_pow2", "body.0.body.0", x0, False, 4, preset("default", denorm__format="pow2")),
        # narrow registers: every stage overflows; fewer PE fraction bits than F (floored terms)
        ("edsr_body0_conv1_narrow_sat", "body.0.body.0", x0[:8, :10, :12], False, 4,
         preset("default", datapath__act_bits=10, datapath__act_frac_bits=4, datapath__pe_frac_bits=7,
                datapath__tap_sum_bits=12, datapath__denorm_acc_bits=20, denorm__max_mant_bits=4, denorm__mean_mant_bits=4)),
        ("edsr_body0_conv2_narrow_wrap", "body.0.body.2", x2[:8, :10, :12], True, 4,
         preset("default", datapath__act_bits=10, datapath__act_frac_bits=5, datapath__pe_frac_bits=6,
                datapath__tap_sum_bits=11, datapath__denorm_acc_bits=22, datapath__overflow="wrap", denorm__format="pow2")),
        ("edsr_body0_conv1_narrow_act", "body.0.body.0", x0[:, :6, :8], False, 3,
         preset("default", datapath__act_bits=10, datapath__act_frac_bits=4, datapath__pe_frac_bits=8,
                datapath__tap_sum_bits=14, datapath__denorm_acc_bits=30, denorm__max_mant_bits=3, denorm__mean_mant_bits=3)),
        # quantizer ties: post-ReLU, full format, M̂ = max = 2^(F+1) units, so an
        # input a_j + a_{j+1} sits exactly on the midpoint of points j, j+1
        ("edsr_body0_conv2_ties", "body.0.body.2", tie_input(dfsq["layers"]["body.0.body.2"][:8], 8), True, 4,
         preset("default", denorm__format="full")),
    ]
    for tag, name, x, post, wb, cfg in edsr:
        wt, b = sd[name + ".weight"][:, :x.shape[0]], sd[name + ".bias"]
        pts = dfsq["layers"][name][:x.shape[0]]
        cases.append(run_case(tag, "edsr_x2", name, x, post, wt, b, wb, pts, cfg))
    # the ISR rdn_x2's first LFF (1×1, 256 -> 64) on its real input
    mdir = os.path.join(MODELS, "isr_rdn", "x2")
    cap = {"LFF_1": None}
    tfjs_forward(mdir, image_crop(100, 140, 12), capture=cap)
    _, wts = read_tfjs(mdir)
    wt = wts["LFF_1/kernel"].transpose(3, 2, 0, 1)
    cal = json.load(open(os.path.join(ROOT, "models", "calib", "rdn_x2_a4_kmeans.json")))
    cases.append(run_case("rdn_lff1_w4_rdn_isr", "rdn_x2", "LFF_1", cap["LFF_1"], False, wt, wts["LFF_1/bias"], 4,
                          cal["layers"]["LFF_1"], preset("rdn_isr"), save_weights=True))
    with open(os.path.join(HERE, "hw_golden.json"), "w") as fh:
        json.dump({"generator": "tests/golden/hw/gen_hw.py", "cases": cases}, fh, indent=1)


def run_case(tag, model, name, x, post, weight, bias, wbits, points, cfg, save_weights=False):
    """`save_weights`: the float weights as this script read them go beside
    the case (TF.js weights are dequantized here in f64; the test must not
    depend on two dequantizers agreeing to the last bit)."""
    xf, out, ovf = layer(np.asarray(x, dtype=f32), post, weight, bias, wbits, points, cfg)
    np.asarray(x, dtype="<f4").tofile(os.path.join(HERE, f"{tag}_in.bin"))
    if save_weights:
        np.asarray(weight, dtype="<f4").tofile(os.path.join(HERE, f"{tag}_weight.bin"))
        np.asarray(bias, dtype="<f4").tofile(os.path.join(HERE, f"{tag}_bias.bin"))
    out.astype("<i4").tofile(os.path.join(HERE, f"{tag}_out.bin"))  # activations fit 32 bits
    print(tag, out.shape, ovf, "out range", out.min(), out.max())
    return {"tag": tag, "model": model, "layer": name, "post_relu": post, "in_shape": list(x.shape), "wbits": wbits,
            "in_channels": int(x.shape[0]), "points": points, "datapath": cfg["datapath"], "denorm": cfg["denorm"],
            "weights_file": save_weights, "out_channels": int(weight.shape[0]), "k": int(weight.shape[2]), "overflow": ovf}


if __name__ == "__main__":
    main()
