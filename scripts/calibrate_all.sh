#!/usr/bin/env bash
# Regenerates the shipped calibrations (models/calib/): every embedded model
# at activation bits 8/6/4/3 with k-means (DFSQ) selection, plus optimal
# selection for the two README-table models, on the 32 calib32 images,
# seed 0. One statistics pass per model serves all its files.
# (23 min on the 2-core reference machine, shared with other work.)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
for m in edsr_x2 rdn_x2 rdn_x4 edsr_x4; do
  methods=kmeans
  case "$m" in edsr_x2|rdn_x2) methods=kmeans,optimal ;; esac
  ./target/release/sqsim calibrate --model "$m" --bits 8,6,4,3 --method "$methods" \
    --out "models/calib/${m}_a{bits}_{method}.json" --quiet
  echo "calibrated $m"
done
