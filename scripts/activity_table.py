#!/usr/bin/env python3
"""Per-layer distribution of the active words of the SQ codes the PEs
receive (MAC-weighted: what term gating is priced from), from
`sqsim run --format json` outputs, one column group per run.
Usage: python3 scripts/activity_table.py LABEL=run.json [LABEL=run.json ...]"""
import json, sys

runs = []
for arg in sys.argv[1:]:
    label, path = arg.split("=", 1)
    d = json.load(open(path))
    layers = d["datasets"][0]["layers"] if "datasets" in d else d["layers"]
    runs.append((label, layers))

def row(a):
    n = sum(a)
    mean = sum(i * x for i, x in enumerate(a)) / n
    return mean, a[0] / n

names = [l["name"] for l in runs[0][1]]
print("| layer | " + " | ".join(f"{lab}: words/MAC, zero codes" for lab, _ in runs) + " |")
print("|---|" + "---|" * len(runs))
tot = [[0] * 9 for _ in runs]
for i, name in enumerate(names):
    cells = []
    for j, (_, layers) in enumerate(runs):
        a = layers[i]["activity"]["macs_by_words"]
        tot[j] = [x + y for x, y in zip(tot[j], a)]
        m, z = row(a)
        cells.append(f"{m:.2f}, {100 * z:.1f} %")
    print(f"| {name} | " + " | ".join(cells) + " |")
cells = []
for j in range(len(runs)):
    m, z = row(tot[j])
    n = sum(tot[j])
    dist = " / ".join(f"{100 * x / n:.1f}" for x in tot[j][:5])
    cells.append(f"**{m:.2f}, {100 * z:.1f} %** (0–4 words: {dist} %)")
print("| network | " + " | ".join(cells) + " |")
