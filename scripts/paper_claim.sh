#!/usr/bin/env bash
# The MABN paper's small-batch claim at small scale: ResNet-14 (width 16) on the generated 32x32
# shapes, 3000 SGD steps of 32 images, normalization batch 32 vs 2 (BN, MABN, BRN, GN).
# Runs two trainings at a time (one BLAS thread each) and prints top-1 per setup.
# Usage: scripts/paper_claim.sh [SETUP...]   (default: bn32 bn2 mabn2 brn2 gn2); logs in build/claim/
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MABDET:-./mabdet}
out=build/claim
mkdir -p "$out"
sed "s|^backup=.*|backup=$out|" data/shapes.data > "$out/shapes.data"
setups=("$@")
[ ${#setups[@]} -gt 0 ] || setups=(bn32 bn2 mabn2 brn2 gn2)
run() {
  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$BIN" classifier train "cfg/resnet14_$1.cfg" "$out/shapes.data" > "$out/$1.log" 2>&1
}
i=0
for s in "${setups[@]}"; do
  run "$s" &
  i=$((i + 1))
  if [ $((i % 2)) -eq 0 ]; then wait; fi
done
wait
printf "%-8s %-10s %s\n" setup "top-1" "final train loss (avg)"
for s in "${setups[@]}"; do
  printf "%-8s %-10s %s\n" "$s" "$(sed -nE 's/^top-1: ([0-9.]+).*/\1/p' "$out/$s.log")" \
    "$(grep '^step' "$out/$s.log" | tail -1 | sed -nE 's/.*avg ([0-9.]+).*/\1/p')"
done
