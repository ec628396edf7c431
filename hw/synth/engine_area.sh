#!/usr/bin/env bash
# Whole-engine area: synthesizes the layer engine sq_layer (default 9x16
# array, CIN = COUT = 16, 8x8 image) with Yosys's generic flow, the same
# commands as area.sh. Not run by CI: 18-23 minutes a run on this 2-core
# machine (2026-12-03). The engine's stores are behavioural arrays, which Yosys maps
# to flip-flops and read multiplexers: they dominate the count and a real
# engine would use SRAM macros, so read the figure as an upper bound of the
# logic plus flop-based stores (hw/synth/AREA.md, "The whole engine").
# Keeping the stores as $mem_v2 cells (memory -nomap) made ABC run past 30
# minutes on the flattened read-port logic; it was stopped.
#
#   hw/synth/engine_area.sh [extra chparam args, e.g. -set MULT 1 -set CW 12]
set -euo pipefail
HW="$(cd "$(dirname "$0")/.." && pwd)"
command -v yosys >/dev/null || { echo "engine_area.sh: yosys not found" >&2; exit 2; }
WORK="$(mktemp -d "${TMPDIR:-/tmp}/engine_area.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
srcs=""
for f in sq_fit.v sq_pe_core.v sq_int_core.v sq_array_ws.v sq_stats_acc.v sq_norm_enc.v sq_thresh.v sq_quant.v \
         sq_mu.v sq_denorm.v sq_requant.v sq_linebuf.v sq_layer.v; do srcs="$srcs $HW/rtl/$f"; done
params="-set CIN 16 -set COUT 16 -set H 8 -set WI 8 -set R 9 -set C 16 -set K 3 $*"
# (the synth script in two halves with memory -nomap between: the second half's
# memory_map still maps the stores; this is the exact flow of the committed figure)
yosys -p "read_verilog $srcs; chparam $params sq_layer; hierarchy -top sq_layer; rename -top eng;
          synth -flatten -top eng -run :fine; memory -nomap; synth -top eng -run fine:;
          dfflegalize -cell \$_DFF_P_ 01; opt_clean; tee -o $WORK/stat stat; tee -o $WORK/cmos stat -tech cmos" \
  > "$WORK/log" 2>&1 || { echo "engine_area.sh: yosys failed" >&2; tail -20 "$WORK/log" >&2; exit 1; }
cells="$(awk '/Number of cells:/ {n = $4} END {print n}' "$WORK/stat")"
ffs="$(awk '/\$_[A-Z]*DFF[A-Z0-9_]*_/ {s += $2} END {print s + 0}' "$WORK/stat")"
tr="$(awk '/Estimated number of transistors:/ {n = $5} END {print n}' "$WORK/cmos")"
echo "| sq_layer $params | cells $cells | flip-flops $ffs | transistors (cmos) $tr |"
echo "Yosys: $(yosys -V)"
