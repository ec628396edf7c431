#!/usr/bin/env python3
"""Markdown table of a `sqsim compare --out FILE` JSON (for the README).
Usage: python3 scripts/compare_tables.py FILE.json [NAME_REGEX]
(only designs whose name matches NAME_REGEX, e.g. 'w4a4|w8a8-int')"""
import json, re, sys

d = json.load(open(sys.argv[1]))
pick = re.compile(sys.argv[2]) if len(sys.argv) > 2 else None
if pick:
    d["designs"] = [r for r in d["designs"] if pick.search(r["name"])]
fp = d["fp"]["psnr"]
print(f"FP {fp:.3f} dB / {d['fp']['ssim']:.4f}; " + ", ".join(f"{x['name']} ({x['images']} images)" for x in d["datasets"]))
print()
print("| design | hw PSNR / SSIM | below FP dB | hw − float dB | energy mJ/image | PE | de-norm / acc | psum buf | act buf | DRAM | stats | other | area mm² | Mcycles | words/MAC | front |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
def words(r):
    w = r.get("code_words")
    return f"{w['mean_active_words']:.2f}" if w else "–"

for r in d["designs"]:
    b = r["energy_breakdown_mj"]
    other = b["output"] + b["quantizer"] + b["weight_buf"]
    front = ",".join(f for f, on in (("E", r["pareto"]), ("A", r["pareto_area"])) if on)
    print(f"| {r['name']} | {r['hw']['psnr']:.3f} / {r['hw']['ssim']:.4f} | {fp - r['hw']['psnr']:.3f} | "
          f"{r['hw']['psnr'] - r['float']['psnr']:+.4f} | {r['energy_mj']:.1f} | {b['pe']:.1f} | {b['denorm']:.1f} | "
          f"{b['psum_buf']:.1f} | {b['act_buf']:.1f} | {b['dram']:.1f} | {b['stats']:.2f} | {other:.2f} | "
          f"{r['area_mm2']:.3f} | {r['cycles'] / 1e6:.1f} | {words(r)} | {front} |")
if d.get("budget") and not pick:
    print()
    print(f"budget: {d['budget']['message']}")
