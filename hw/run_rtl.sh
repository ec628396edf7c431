#!/usr/bin/env bash
# Replays sqsim RTL vectors through the reference RTL on Icarus Verilog and
# Verilator and fails on any mismatch.
#
#   hw/run_rtl.sh [--sim icarus|verilator|both] [--unit pe|quantizer|denorm|stats|norm|thresh|mu|requant|array|linebuf|layer|layer_int|all]
#                 [--rtl RTL_DIR] [--vcd OUT_DIR] [DIR]
#
# DIR is searched for vector sets (directories holding manifest.json, e.g.
# vectors/pe, vectors/narrow_wrap/denorm); default: the committed vectors/.
# --rtl replaces hw/rtl (to check that mutated RTL fails).
# --vcd dumps every run's waveform to OUT_DIR/<set>.<sim>.vcd (Verilator
# builds with --trace); where the set holds a model.vcd (`sqsim vectors
# --vcd`) and SQSIM_BIN names the sqsim binary, each dump is also compared
# with it (`sqsim vcd-diff`: the first differing cycle and signal).
# A MISMATCH line names the vector (cycle), the RTL signal and both values.
# Per vector set and simulator it builds the testbench with the
# parameters in params.txt, runs it, and requires: exit status 0, the
# "RESULT PASS" marker, no MISMATCH line, and the signature the testbench
# computed over the DUT's outputs equal to the manifest's expect_signature.
# With Verilator it also lints the RTL (-Wall) at those parameters.
# Exit status: 0 when everything passed, 1 on any failure, 2 on bad usage.
set -uo pipefail

HW="$(cd "$(dirname "$0")" && pwd)"
SIM=both
UNIT=all
DIR=""
RTL=""
VCD=""
while [ $# -gt 0 ]; do
  case "$1" in
    --sim) SIM="${2:-}"; shift 2 ;;
    --unit) UNIT="${2:-}"; shift 2 ;;
    --rtl) RTL="${2:-}"; shift 2 ;;
    --vcd) VCD="${2:-}"; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    -*) echo "run_rtl.sh: unknown option $1" >&2; exit 2 ;;
    *) DIR="$1"; shift ;;
  esac
done
DIR="${DIR:-$HW/../vectors}"
RTL="${RTL:-$HW/rtl}"
case "$SIM" in icarus|verilator|both) ;; *) echo "run_rtl.sh: --sim must be icarus, verilator or both" >&2; exit 2 ;; esac

# unit -> testbench top and RTL source
tb_of() { case "$1" in pe) echo tb_pe ;; quantizer) echo tb_quant ;; denorm) echo tb_denorm ;; stats) echo tb_stats ;; norm) echo tb_norm ;; thresh) echo tb_thresh ;; mu) echo tb_mu ;; requant) echo tb_requant ;; array) echo tb_array ;; linebuf) echo tb_linebuf ;; layer|layer_int) echo tb_layer ;; *) return 1 ;; esac; }
top_of() { case "$1" in pe) echo sq_pe ;; quantizer) echo sq_quant ;; denorm) echo sq_denorm ;; stats) echo sq_stats_acc ;; norm) echo sq_norm_enc ;; thresh) echo sq_thresh ;; mu) echo sq_mu ;; requant) echo sq_requant ;; array) echo sq_array_ws ;; linebuf) echo sq_linebuf ;; layer|layer_int) echo sq_layer ;; *) return 1 ;; esac; }
# RTL files of a unit (relative to the RTL directory)
rtl_of() { case "$1" in pe) echo "sq_fit.v sq_pe_core.v sq_pe.v" ;; quantizer) echo sq_quant.v ;; denorm) echo "sq_fit.v sq_denorm.v" ;; stats) echo sq_stats_acc.v ;; norm) echo sq_norm_enc.v ;; thresh) echo sq_thresh.v ;; mu) echo "sq_fit.v sq_mu.v" ;; requant) echo "sq_fit.v sq_requant.v" ;; array) echo "sq_fit.v sq_pe_core.v sq_int_core.v sq_array_ws.v" ;; linebuf) echo sq_linebuf.v ;; layer|layer_int) echo "sq_fit.v sq_pe_core.v sq_int_core.v sq_array_ws.v sq_stats_acc.v sq_norm_enc.v sq_thresh.v sq_quant.v sq_mu.v sq_denorm.v sq_requant.v sq_linebuf.v sq_layer.v" ;; *) return 1 ;; esac; }

# every vector set under DIR, in a fixed order
UNIT_DIRS=()
while IFS= read -r m; do UNIT_DIRS+=("$(dirname "$m")"); done < <(find "$DIR" -name manifest.json 2>/dev/null | LC_ALL=C sort)
if [ ${#UNIT_DIRS[@]} -eq 0 ]; then
  echo "run_rtl.sh: no manifest.json under $DIR" >&2
  exit 2
fi

need() { command -v "$1" >/dev/null 2>&1 || { echo "run_rtl.sh: $1 not found on PATH" >&2; exit 2; }; }
[ "$SIM" != verilator ] && need iverilog && need vvp
[ "$SIM" != icarus ] && need verilator

WORK="$(mktemp -d "${TMPDIR:-/tmp}/run_rtl.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
FAILS=0
RUNS=0
TRACE=()
if [ -n "$VCD" ]; then mkdir -p "$VCD"; TRACE=(--trace); fi

fail() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }
# seconds since a `date +%s%N` stamp, two decimals
wall_s() { local ns=$(( $(date +%s%N) - $1 )); printf '%d.%02d' $((ns / 1000000000)) $(( (ns / 10000000) % 100 )); }

# check_run SIM UNIT VDIR LOG SIGFILE RC
check_run() {
  local sim=$1 unit=$2 vdir=$3 log=$4 sigf=$5 rc=$6 want got
  want="$(sed -n 's/.*"expect_signature": *"\([0-9a-f]*\)".*/\1/p' "$vdir/manifest.json")"
  got="$(sed -n 's/.*signature \([0-9a-f]*\).*/\1/p' "$sigf" 2>/dev/null)"
  if [ "$rc" -ne 0 ]; then fail "$sim $unit: exit status $rc"; tail -5 "$log"; return; fi
  if ! grep -q '^RESULT PASS' "$log" || grep -q 'MISMATCH' "$log"; then
    fail "$sim $unit: $(grep -m1 '^RESULT' "$log" || echo 'no RESULT line')"; grep -m5 MISMATCH "$log"; return
  fi
  if [ -z "$want" ] || [ "$got" != "$want" ]; then
    fail "$sim $unit: signature ${got:-none} != manifest ${want:-none}"; return
  fi
  echo "PASS $sim $unit: $(cat "$sigf")"
  # whole-layer runs: the engine's per-phase cycle counts beside the cycle model's
  # (and the simulation's wall time, build excluded)
  grep -m1 '^cycles ' "$log" | sed "s/\$/; $sim wall ${SIM_S:-?} s/; s/^/  /" || true
}

# vcd_check SIM NAME VDIR DUMP: the dump against the set's model.vcd
vcd_check() {
  local sim=$1 name=$2 vdir=$3 dump=$4
  [ -f "$dump" ] || { fail "$sim $name: no VCD dump $dump"; return; }
  if [ -f "$vdir/model.vcd" ] && [ -n "${SQSIM_BIN:-}" ]; then
    if ! "$SQSIM_BIN" vcd-diff "$vdir/model.vcd" "$dump" > "$dump.diff" 2>&1; then
      fail "$sim $name: VCD differs from model.vcd"; head -8 "$dump.diff"; return
    fi
    echo "VCD $sim $name: $(head -1 "$dump.diff")"
  elif [ -f "$vdir/model.vcd" ]; then
    echo "VCD $sim $name: dumped to $dump, not compared with model.vcd (SQSIM_BIN unset)"
  else
    echo "VCD $sim $name: dumped to $dump (the set has no model.vcd: sqsim vectors --vcd)"
  fi
}

for vdir in "${UNIT_DIRS[@]}"; do
  unit="$(sed -n 's/.*"unit": *"\([a-z_]*\)".*/\1/p' "$vdir/manifest.json" | head -1)"
  [ "$UNIT" != all ] && [ "$UNIT" != "$unit" ] && continue
  tb="$(tb_of "$unit")" || { fail "$vdir: unknown unit '$unit'"; continue; }
  name="${vdir#"$DIR"}"; name="${name#/}"; name="${name:-$unit}"
  top="$(top_of "$unit")"
  srcs=(); for f in $(rtl_of "$unit"); do srcs+=("$RTL/$f"); done
  for f in stim.hex expect.hex params.txt fields.txt; do
    [ -f "$vdir/$f" ] || { fail "$unit: $vdir/$f missing"; continue 2; }
  done
  # params.txt: NAME=VALUE lines -> -P / -G overrides
  IP=(); VP=()
  while IFS='=' read -r k v; do
    [ -n "$k" ] || continue
    case "$k$v" in *[!A-Za-z0-9_-]*) fail "$unit: bad params.txt line '$k=$v'"; continue 2 ;; esac
    IP+=("-P$tb.$k=$v"); VP+=("-G$k=$v")
  done < "$vdir/params.txt"
  # the DUT takes the unit's own parameters only (not NVEC/STIM_W/EXP_W)
  LP=()
  for g in "${VP[@]}"; do case "$g" in -GNVEC=*|-GSTIM_W=*|-GEXP_W=*|-GNOUT=*|-GEXP_*) ;; *) LP+=("$g") ;; esac; done
  plus=(+stim="$vdir/stim.hex" +expect="$vdir/expect.hex" +fields="$vdir/fields.txt")
  vname="$(echo "$name" | tr '/' '_')"
  if [ "$SIM" != verilator ]; then
    RUNS=$((RUNS + 1))
    out="$WORK/$RUNS.$unit.icarus"
    if iverilog -g2005 -Wall -I "$HW/tb" "${IP[@]}" -s "$tb" -o "$out.vvp" \
         "$HW/tb/$tb.v" "${srcs[@]}" > "$out.build.log" 2>&1; then
      vplus=(); [ -n "$VCD" ] && vplus=(+vcd="$VCD/$vname.icarus.vcd")
      t0=$(date +%s%N)
      vvp -n "$out.vvp" "${plus[@]}" "${vplus[@]}" +sig="$out.sig" > "$out.log" 2>&1
      rc=$?; SIM_S=$(wall_s "$t0")
      check_run icarus "$name" "$vdir" "$out.log" "$out.sig" $rc
      [ -n "$VCD" ] && vcd_check icarus "$name" "$vdir" "$VCD/$vname.icarus.vcd"
    else
      fail "icarus $unit: build failed"; tail -20 "$out.build.log"
    fi
  fi
  if [ "$SIM" != icarus ]; then
    RUNS=$((RUNS + 1))
    out="$WORK/$RUNS.$unit.verilator"
    if ! verilator --lint-only -Wall "${LP[@]}" --top-module "$top" "${srcs[@]}" > "$out.lint.log" 2>&1; then
      fail "verilator $unit: lint -Wall"; head -20 "$out.lint.log"
    fi
    if verilator --binary "${TRACE[@]}" -j 0 -Wno-fatal -I"$HW/tb" "${VP[@]}" --top-module "$tb" -Mdir "$out.obj" \
         -o "$tb" "$HW/tb/$tb.v" "${srcs[@]}" > "$out.build.log" 2>&1; then
      vplus=(); [ -n "$VCD" ] && vplus=(+vcd="$VCD/$vname.verilator.vcd")
      t0=$(date +%s%N)
      "$out.obj/$tb" "${plus[@]}" "${vplus[@]}" +sig="$out.sig" > "$out.log" 2>&1
      rc=$?; SIM_S=$(wall_s "$t0")
      check_run verilator "$name" "$vdir" "$out.log" "$out.sig" $rc
      [ -n "$VCD" ] && vcd_check verilator "$name" "$vdir" "$VCD/$vname.verilator.vcd"
    else
      fail "verilator $unit: build failed"; tail -20 "$out.build.log"
    fi
  fi
done

if [ "$RUNS" -eq 0 ]; then echo "run_rtl.sh: nothing ran (unit filter '$UNIT')" >&2; exit 2; fi
if [ "$FAILS" -ne 0 ]; then echo "run_rtl.sh: $FAILS of $RUNS runs FAILED"; exit 1; fi
echo "run_rtl.sh: all $RUNS runs passed"
