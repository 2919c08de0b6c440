#!/usr/bin/env bash
# Inference with norms folded into the convs (mabdet fold) against the same network unfolded:
# the small Mask R-CNN with MABN (cfg/mask_rcnn_small_mabn2.cfg) and the R50-FPN with FrozenBN
# (cfg/mask_rcnn_R50_FPN_frozen_bn.cfg at 800x1344), mabdet detbench's inference time on each.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MABDET:-./mabdet}
threads=${THREADS:-$(nproc)}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
secs() { echo "$1" | sed -nE "s/^inference: ([0-9.]+) s.*/\1/p"; }
printf "%-44s %12s %12s %7s\n" "inference, $threads threads" "unfolded s" "folded s" ratio
for spec in "mask_rcnn_small_mabn2:160x224" "mask_rcnn_R50_FPN_frozen_bn:800x1344"; do
  cfg=cfg/${spec%%:*}.cfg size=${spec##*:}
  "$BIN" init "$cfg" "$tmp/w.weights" > /dev/null
  "$BIN" fold "$cfg" "$tmp/w.weights" "$tmp/folded.weights" "$tmp/folded.cfg" > /dev/null
  # detbench also times a training iteration first: kept small (one 256 px image), not reported.
  run() { OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads "$BIN" detbench "$1" --train-size 256 --images 1 \
            --test-size "$size" --iters 3 2>/dev/null; }
  a=$(secs "$(run "$cfg")") b=$(secs "$(run "$tmp/folded.cfg")")
  printf "%-44s %12s %12s %7s\n" "${spec%%:*} ($size)" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2fx", b/a}')"
done
