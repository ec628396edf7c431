#!/usr/bin/env bash
# Runs every fuzz target for SECS seconds each, one at a time (2-core machine).
# Usage: fuzz/run_all.sh [SECS] [targets...]   Needs `cargo install cargo-fuzz`;
# on a stable toolchain RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its -Z flags.
set -uo pipefail
cd "$(dirname "$0")"
SECS=${1:-60}; shift || true
TARGETS=${*:-pt safetensors tfjs png hw_toml calib provenance_csv}
for t in $TARGETS; do
  mkdir -p corpus/$t
  echo "== $t"
  RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$t" corpus/$t seeds/$t -- \
    -max_total_time="$SECS" -rss_limit_mb=4096 -malloc_limit_mb=4096 -print_final_stats=1 2>&1 |
    grep -E "^(stat::|Done|==[0-9]+==|SUMMARY|.*panicked|Test unit written|artifact_prefix)" | head -40
done
