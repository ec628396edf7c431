#!/usr/bin/env bash
# Regenerates the accuracy tables in README.md (docs/results/accuracy_*.csv):
# FP and DFSQ-float PSNR/SSIM at 8/6/4/3 bits, k-means and optimal point
# selection, with the paper's drops beside ours. BSD100 runs on its first
# N images (default 20) to fit a 2-core machine; pass N=100 for all.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-20}"
cargo build --release --quiet
out=docs/results
mkdir -p "$out"
for m in edsr_x2 rdn_x2; do
  ./target/release/sqsim accuracy --model "$m" --dataset Set5 --out "$out/accuracy_${m}_Set5.csv" --quiet
  ./target/release/sqsim accuracy --model "$m" --dataset Set14 --out "$out/accuracy_${m}_Set14.csv" --quiet
  ./target/release/sqsim accuracy --model "$m" --dataset BSD100 --limit "$N" --out "$out/accuracy_${m}_BSD100_first${N}.csv" --quiet
  echo "accuracy $m done"
done
