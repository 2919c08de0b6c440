#!/usr/bin/env bash
# mabdet fold through the command line (the numerics are tests/test_fold.cpp's): the small MABN
# Mask R-CNN folded, OUT.cfg named after OUT.weights by default, the folded cfg without any norm,
# `detect` on a generated image giving the same detections (python3, standard library), and the
# command's errors.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(realpath "${MABDET:-./mabdet}")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cfg=cfg/mask_rcnn_small_mabn2.cfg
"$BIN" init $cfg "$tmp/w.weights" > /dev/null
"$BIN" fold $cfg "$tmp/w.weights" "$tmp/f.weights" | grep -qF "folded 32 layers: $tmp/f.cfg + $tmp/f.weights"
! grep -qE "^(norm=(mabn|bn|brn|frozen_bn)|mabn_)" "$tmp/f.cfg" || { echo "a norm is left in $tmp/f.cfg"; exit 1; }
"$BIN" gendata "$tmp/data" --train 1 --val 1 --size 160 > /dev/null 2>&1
img=$(ls "$tmp"/data/val*/* | head -1)
for v in w:$cfg f:$tmp/f.cfg; do
  "$BIN" detect "${v#*:}" "$tmp/${v%%:*}.weights" "$img" -thresh 0 -out "$tmp/${v%%:*}.json" -outdir "$tmp" > /dev/null
done
python3 - "$tmp/w.json" "$tmp/f.json" << 'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert len(a) == len(b) and a, (len(a), len(b))
worst = max(max(abs(x - y) for x, y in zip(p["bbox"], q["bbox"])) for p, q in zip(a, b))
score = max(abs(p["score"] - q["score"]) for p, q in zip(a, b))
assert all(p["category_id"] == q["category_id"] for p, q in zip(a, b))
assert worst <= 0.016 and score <= 1e-4, (worst, score)
print(f"fold: {len(a)} detections, folded and unfolded within {worst:.2g} px and {score:.2g} in score")
PY
. "$(dirname "$0")/lib/expect_error.sh"
expect_error "usage: mabdet fold CFG WEIGHTS OUT.weights [OUT.cfg]" "$BIN" fold $cfg "$tmp/w.weights"
expect_error "would overwrite the source cfg" "$BIN" fold "$tmp/f.cfg" "$tmp/f.weights" "$tmp/f.weights"
expect_error "$tmp/nope.weights" "$BIN" fold $cfg "$tmp/nope.weights" "$tmp/x.weights"
