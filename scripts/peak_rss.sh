#!/usr/bin/env bash
# Peak resident memory of `sqsim run` on one DIV2K-sized image.
# Builds a 2040x1356 HR PNG by tiling data/Set14 images (LR 1020x678 at x2),
# then runs edsr_x2 without and with the hardware model under /usr/bin/time -v.
# Usage: scripts/peak_rss.sh [path/to/sqsim]   (default: target/release/sqsim)
# Needs python3 with pillow and GNU time (apt-get install time).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/sqsim}
[ -x "$BIN" ] || cargo build --release
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/div2k"
python3 - "$WORK/div2k/tiled.png" <<'PY'
import sys, glob
from PIL import Image
W, H = 2040, 1356
srcs = [Image.open(p).convert("RGB") for p in sorted(glob.glob("data/Set14/*.png"))]
out = Image.new("RGB", (W, H))
y, i = 0, 0
while y < H:
    x, row_h = 0, 0
    while x < W:
        im = srcs[i % len(srcs)]; i += 1
        out.paste(im, (x, y)); x += im.width; row_h = max(row_h, im.height)
    y += row_h
out.save(sys.argv[1])
PY
for extra in "--no-hw" ""; do
  echo "== sqsim run --model edsr_x2 --limit 1 ${extra:-(with hw)}"
  /usr/bin/time -v "$BIN" run --model edsr_x2 --dataset "$WORK/div2k" --limit 1 --quiet $extra 2> "$WORK/time.txt" | sed -n 1,5p
  grep -E "Maximum resident set size|Elapsed \(wall clock\)|Exit status" "$WORK/time.txt"
done
