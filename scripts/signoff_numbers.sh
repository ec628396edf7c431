#!/usr/bin/env bash
# Regenerates the measured tables in README.md into docs/results/:
# hardware sign-off runs (FP, DFSQ float, bit-accurate hardware, cycle check,
# cost) on Set5 at 8/6/4/3 bits for edsr_x2 and rdn_x2, and the edsr_x2 W4A4
# number-format sweep. The accuracy tables come from scripts/accuracy_tables.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
out=docs/results
mkdir -p "$out"
for m in edsr_x2 rdn_x2; do
  for b in 4 8 6 3; do
    /usr/bin/time -f "%e s wall, %M KB max RSS" -o "$out/run_${m}_w${b}a${b}.time" \
      ./target/release/sqsim run --model "$m" --bits "$b" --dataset Set5 --format json --quiet \
      > "$out/run_${m}_w${b}a${b}.json"
    echo "run $m $b done"
  done
done
./target/release/sqsim sweep --model edsr_x2 --bits 4 --dataset Set5 --quiet --out "$out/sweep_edsr_x2_w4a4.csv" \
  > "$out/sweep_edsr_x2_w4a4.txt"
echo "sweep done"
