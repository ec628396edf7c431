#!/usr/bin/env bash
# Regenerates the shipped calibrations (models/calib/): every embedded model,
# activation bits 8/6/4/3, k-means (DFSQ) and optimal selection, on the 32
# calib32 images, seed 0. One statistics pass per model serves all eight files.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
for m in edsr_x2 rdn_x2 rdn_x4 edsr_x4; do
  ./target/release/sqsim calibrate --model "$m" --bits 8,6,4,3 --method kmeans,optimal \
    --out "models/calib/${m}_a{bits}_{method}.json" --quiet
  echo "calibrated $m"
done
