#!/usr/bin/env bash
# Area sign-off: synthesizes the shift-add PE and integer-multiplier MACs
# (and the quantizer, stats, threshold, de-normalization, mu-term and requantization
# units for reference) with Yosys's
# generic flow and prints a markdown table: cells, flip-flops, transistor
# estimate (`stat -tech cmos`) and the ratio to the PE.
#
#   hw/synth/area.sh            # table on stdout; logs under $TMPDIR
#
# Per design:  read_verilog <files>; chparam <params> <top>;
#              synth -flatten -top <top>; dfflegalize -cell $_DFF_P_ 01; opt_clean;
#              stat; stat -tech cmos
# (dfflegalize turns enable/reset flip-flops, which the cmos cost table does
# not price, into plain D flip-flops plus gates, so every count is complete.)
set -euo pipefail
HW="$(cd "$(dirname "$0")/.." && pwd)"
command -v yosys >/dev/null || { echo "area.sh: yosys not found" >&2; exit 2; }
WORK="$(mktemp -d "${TMPDIR:-/tmp}/area.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# name | top | files | chparam arguments | what it is
DESIGNS=(
  "sq_pe W5|pe_area_top|rtl/sq_fit.v rtl/sq_pe_core.v rtl/sq_pe.v synth/pe_area_top.v|-set W 5 -set F 10 -set T 24|shift-add PE: 5-bit w x 9-bit SQ code, F=10, 24-bit acc"
  "int_mac 5x12|int_mac|synth/int_mac.v|-set W 5 -set A 12 -set PW 16 -set T 24|same product: 5-bit w x 12-bit s = SQ value * 2^10"
  "int_mac 5x4|int_mac|synth/int_mac.v|-set W 5 -set A 4 -set PW 9 -set T 24|uniform 4-bit activations (not the same function)"
  "int_mac 8x8|int_mac|synth/int_mac.v|-set W 8 -set A 8 -set PW 16 -set T 24|conventional int8 MAC"
  "sq_pe W5, product only|pe_area_top|rtl/sq_fit.v rtl/sq_pe_core.v rtl/sq_pe.v synth/pe_area_top.v|-set W 5 -set F 10 -set T 24 -set ACC 0|decode + 4 shifters + adder + negate, 16-bit product register"
  "int_mac 5x12, product only|int_mac|synth/int_mac.v|-set W 5 -set A 12 -set PW 16 -set T 24 -set ACC 0|5x12 multiplier, 16-bit product register"
  "sq_pe W8|pe_area_top|rtl/sq_fit.v rtl/sq_pe_core.v rtl/sq_pe.v synth/pe_area_top.v|-set W 8 -set F 10 -set T 24|shift-add PE, 8-bit weights"
  "int_mac 8x12|int_mac|synth/int_mac.v|-set W 8 -set A 12 -set PW 19 -set T 24|same product as sq_pe W8"
  "sq_quant|sq_quant|rtl/sq_quant.v|-set A 24 -set F 10 -set B 4|quantizer: 15 comparators (37-bit) + 16x9 LUT (one per array row)"
  "sq_linebuf 3x3, W 8|sq_linebuf|rtl/sq_linebuf.v|-set CW 9 -set K 3 -set H 8 -set WI 8|line buffer / window generator: 2 lines of 8 codes + 3x3 window registers (one per pass parity in sq_layer; lines grow with the image width)"
  "sq_array_ws 9x4|sq_array_ws|rtl/sq_fit.v rtl/sq_pe_core.v rtl/sq_array_ws.v|-set R 9 -set C 4 -set W 5 -set F 10 -set T 24|weight-stationary tile: 36 PEs, two weight banks each, skew and token registers"
  "sq_array_ws 9x16|sq_array_ws|rtl/sq_fit.v rtl/sq_pe_core.v rtl/sq_int_core.v rtl/sq_array_ws.v|-set R 9 -set C 16 -set W 5 -set F 10 -set T 24|the default 9x16 array: 144 shift-add PEs, 12-bit tokens {valid, bank, op, 9-bit code}"
  "int array 9x16|sq_array_ws|rtl/sq_fit.v rtl/sq_pe_core.v rtl/sq_int_core.v rtl/sq_array_ws.v|-set R 9 -set C 16 -set W 5 -set F 10 -set T 24 -set MULT 1 -set CW 12|the same array with integer multipliers (sq_int_core, 5x12), 15-bit tokens carrying s"
  "sq_denorm|sq_denorm|rtl/sq_fit.v rtl/sq_denorm.v|-set T 24 -set MB 8 -set EW 5 -set D 48|de-normalization: 24x8 multiply, shift, 48-bit acc (one per column)"
  "sq_stats_acc|sq_stats_acc|rtl/sq_stats_acc.v|-set A 24 -set NB 24|stats pass: 48-bit sum, min, max (one per quantizer lane)"
  "sq_norm_enc|sq_norm_enc|rtl/sq_norm_enc.v|-set A 24 -set NB 24 -set MMB 8 -set XMB 8 -set EW 6 -set FMT 1|stats encoder: 48/24-bit divider for mu, then a 26-way exponent search (combinational; a real design would iterate)"
  "sq_thresh|sq_thresh|rtl/sq_thresh.v|-set TB 12 -set XMB 8 -set EW 6 -set TW 37|threshold generator: 12x8 multiply and shift, t_j * M^ (one per quantizer lane)"
  "sq_mu|sq_mu|rtl/sq_fit.v rtl/sq_mu.v|-set MW 50 -set A1 25 -set SWB 9 -set F 10 -set D 48|mu-table entry MAC (25x9 multiply, 50-bit entry) + D3 48-bit add"
  "sq_requant|sq_requant|rtl/sq_fit.v rtl/sq_requant.v|-set D 48 -set MB 16 -set SW 8 -set L 16 -set A 24|output stage D4: 48x16 multiply, rounding shift, bias, 24-bit fit (one per column)"
)

echo "| design | top and parameters | cells | flip-flops | transistors (cmos) | vs sq_pe W5 | what |"
echo "|---|---|---:|---:|---:|---:|---|"
base=""
for d in "${DESIGNS[@]}"; do
  IFS='|' read -r name top files params what <<< "$d"
  srcs=""; for f in $files; do srcs="$srcs $HW/$f"; done
  log="$WORK/${top}_$RANDOM"
  yosys -p "read_verilog $srcs; chparam $params $top; synth -flatten -top $top; dfflegalize -cell \$_DFF_P_ 01; opt_clean; tee -o $log.stat stat; tee -o $log.cmos stat -tech cmos" > "$log.log" 2>&1 \
    || { echo "area.sh: yosys failed for $name (log: $log.log)" >&2; tail -20 "$log.log" >&2; exit 1; }
  cells="$(awk '/Number of cells:/ {n = $4} END {print n}' "$log.stat")"
  ffs="$(awk '/\$_[A-Z]*DFF[A-Z0-9_]*_/ {s += $2} END {print s + 0}' "$log.stat")"
  tr="$(awk '/Estimated number of transistors:/ {n = $5} END {print n}' "$log.cmos")"
  [ -n "$tr" ] && [ -n "$cells" ] || { echo "area.sh: no statistics for $name" >&2; exit 1; }
  [ -z "$base" ] && base="$tr"
  ratio="$(awk -v a="$tr" -v b="$base" 'BEGIN {printf "%.2f", a / b}')"
  echo "| $name | \`$top $params\` | $cells | $ffs | $tr | $ratio | $what |"
done
echo
echo "Yosys: $(yosys -V)"
