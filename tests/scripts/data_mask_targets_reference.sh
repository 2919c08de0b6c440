#!/usr/bin/env bash
# Fresh seeded sets of per-RoI mask-target cases -- RLE path from torchvision's roi_align (Debian's
# /usr/bin/python3 with python3-torchvision), polygon path from Detectron2's procedure with
# pycocotools (pyenv python3, first on PATH) -- checked by the doctest cases that also run on the
# committed sets.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${MABDET:-./mabdet} TESTS=${MABDET_TESTS:-build/mabdet_tests}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
seed=${SEED:-$RANDOM}
echo "mask target cases, seed $seed (rerun with SEED=$seed)"
/usr/bin/python3 scripts/data/gen_mask_target_cases.py "$tmp/rle.json" "$seed"
python3 scripts/data/gen_polygon_target_cases.py "$tmp/poly.json" "$seed"
MABDET_MASK_TARGET_CASES="$tmp/rle.json" MABDET_POLYGON_TARGET_CASES="$tmp/poly.json" \
  "$TESTS" -tc="mask targets: RLE path*,mask targets: polygon path*" -s 2>&1 | grep -E "MESSAGE|ERROR|test cases:"
MABDET_MASK_TARGET_CASES="$tmp/rle.json" MABDET_POLYGON_TARGET_CASES="$tmp/poly.json" \
  "$TESTS" -tc="mask targets: RLE path*,mask targets: polygon path*" >/dev/null
