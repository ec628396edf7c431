#!/usr/bin/env bash
# Regenerates the committed RTL test vectors (vectors/, replayed by
# hw/run_rtl.sh and tests/rtl_replay.rs) from the shipped edsr_x2 at 4 bits:
#   vectors/{pe,quantizer,denorm,stats,norm,thresh,mu,requant,array,linebuf}/  default datapath (hw/configs/default.toml),
#       layer body.0.body.0 (residual-stream input), 256 real rows + corners
#   vectors/layer/<model>.<layer>/, vectors/narrow_wrap/layer/  whole layers (see below)
#   vectors/layer_int/edsr_x2.body.0.body.0/  the same layer on the integer-multiplier engine
#   vectors/denorm_{pow2,full}/norm/  the stats encoder in the pow2 and full formats
#   vectors/narrow_wrap/<same units>/  hw/tb/narrow_wrap.toml (narrow
#       registers, wrap-around, pe_frac_bits 6), layer body.1.body.0, 128 real rows
# Inputs: data/Set5/baby.png (LR crop 112,112,24,24), models/edsr_x2.pt and
# models/calib/edsr_x2_a4_kmeans.json when present (else a crop calibration).
#   scripts/gen_vectors.sh [OUT_DIR]     # default: vectors
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-vectors}"
run() { cargo run --release --quiet -- vectors --model edsr_x2 --bits 4 --unit all --quiet "$@"; }
run --layer body.0.body.0 --count 256 --seed 0 --out "$OUT"
run --layer body.1.body.0 --count 128 --seed 1 --hw hw/tb/narrow_wrap.toml --out "$OUT/narrow_wrap"
# the stats encoder in the other two [denorm] formats
for f in pow2 full; do
  cargo run --release --quiet -- vectors --model edsr_x2 --bits 4 --unit norm --quiet --layer body.0.body.0 \
    --count 256 --seed 2 --hw "hw/tb/denorm_$f.toml" --out "$OUT/denorm_$f/norm"
done
# whole layers for the layer engine sq_layer (hw/ARRAY.md "The layer engine"):
# a 3x3 EDSR conv on the residual stream and one after a ReLU (all 64
# channels), the 1x1 RDN LFF_1 (all 256 -> 64), and the narrow wrapping
# config with real overflows
layer() { cargo run --release --quiet -- vectors --bits 4 --unit layer --quiet "$@"; }
layer --model edsr_x2 --layer body.0.body.0 --tile 0,0,8,8 --out "$OUT/layer/edsr_x2.body.0.body.0"
layer --model edsr_x2 --layer body.3.body.2 --tile 8,8,6,6 --out "$OUT/layer/edsr_x2.body.3.body.2"
layer --model rdn_x2 --layer LFF_1 --tile 0,0,4,4 --out "$OUT/layer/rdn_x2.LFF_1"
layer --model edsr_x2 --layer body.1.body.0 --tile 0,0,6,6 --hw hw/tb/narrow_wrap.toml --out "$OUT/narrow_wrap/layer"
# the integer-multiplier baseline engine (sq_layer MULT = 1) on the first set's layer: same outputs
cargo run --release --quiet -- vectors --bits 4 --unit layer_int --quiet --model edsr_x2 --layer body.0.body.0 --tile 0,0,8,8 \
  --out "$OUT/layer_int/edsr_x2.body.0.body.0"
echo "wrote $OUT: $(find "$OUT" -type f | wc -l) files, $(du -sk "$OUT" | cut -f1) KiB"
