#!/usr/bin/env bash
# Regenerates the accuracy tables in README.md (docs/results/accuracy_*.csv):
# FP and DFSQ-float PSNR/SSIM at 8/6/4/3 bits, k-means and optimal point
# selection, with the paper's drops beside ours, for edsr_x2 and rdn_x2 on
# Set5, Set14 and all of BSD100 (about 2 h on 2 cores; N=20 limits BSD100 to
# its first 20 images). Per-image scores go to *_per_image.csv and a run
# that is interrupted picks up where it stopped when started again.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-}"
cargo build --release --quiet
out=docs/results
mkdir -p "$out"
for m in edsr_x2 rdn_x2; do
  for d in Set5 Set14 BSD100; do
    name="accuracy_${m}_${d}"
    limit=()
    if [[ "$d" == BSD100 && -n "$N" ]]; then
      name="${name}_first${N}"
      limit=(--limit "$N")
    fi
    ./target/release/sqsim accuracy --model "$m" --dataset "$d" "${limit[@]}" \
      --per-image "$out/${name}_per_image.csv" --resume --out "$out/$name.csv" --quiet
  done
  echo "accuracy $m done"
done
