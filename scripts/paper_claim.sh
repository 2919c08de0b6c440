#!/usr/bin/env bash
# The MABN paper's small-batch claim at small scale: ResNet-14 (width 16) on the generated 32x32
# shapes, 3000 SGD steps of 32 images, normalization batch 32 vs 2 (BN, MABN, BRN, GN), over
# several seeds. Seed S sets both the cfg's [net] seed (weight init) and the data seed (images,
# order, validation set). Two trainings run at a time with one thread each (OpenBLAS and OpenMP),
# so a run is bit-identical to any other run of the same binary, seed and thread count.
# Usage: scripts/paper_claim.sh [-o LOG] [SETUP...]   SEEDS="1 2 3" by default
#   setups default: bn32 bn2 mabn2 brn2 gn2; per-run logs in build/claim/; the summary (per run,
#   then mean and spread per setup) goes to stdout and to LOG (default docs/paper_claim.log).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MABDET:-./mabdet}
log=docs/paper_claim.log
if [ "${1:-}" = "-o" ]; then log=$2; shift 2; fi
seeds=(${SEEDS:-1 2 3})
setups=("$@")
[ ${#setups[@]} -gt 0 ] || setups=(bn32 bn2 mabn2 brn2 gn2)
out=build/claim
mkdir -p "$out"
run() {  # setup seed
  local s=$1 k=$2 dir="$out/$1_s$2"
  mkdir -p "$dir"
  sed -e "s|^backup=.*|backup=$dir|" -e "s|^seed=.*|seed=$k|" data/shapes.data > "$dir/shapes.data"
  sed -e "s|^seed=.*|seed=$k|" "cfg/resnet14_$s.cfg" > "$dir/resnet14_$s.cfg"
  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$BIN" classifier train "$dir/resnet14_$s.cfg" "$dir/shapes.data" \
    > "$dir/train.log" 2>&1 || echo "FAILED: $s seed $k (see $dir/train.log)" >&2
}
jobs=()
for k in "${seeds[@]}"; do for s in "${setups[@]}"; do jobs+=("$s $k"); done; done
i=0
for j in "${jobs[@]}"; do
  run $j &
  i=$((i + 1))
  if [ $((i % 2)) -eq 0 ]; then wait; fi
done
wait
top1() { sed -nE 's/^top-1: ([0-9.]+).*/\1/p' "$out/$1_s$2/train.log"; }
{
  echo "# scripts/paper_claim.sh on $(date -u +%F), $(nproc) cores, 1 thread per run, 2 runs at a time"
  echo "# $($BIN version 2>/dev/null || echo mabdet); ResNet-14 w16, 3000 steps of 32, top-1 on 2000 validation images"
  printf "%-8s %-5s %s\n" setup seed top-1
  for s in "${setups[@]}"; do for k in "${seeds[@]}"; do printf "%-8s %-5s %s\n" "$s" "$k" "$(top1 "$s" "$k")"; done; done
  echo
  printf "%-8s %-8s %-8s %-8s %s\n" setup mean min max "top-1 per seed (%)"
  for s in "${setups[@]}"; do
    vals=""
    for k in "${seeds[@]}"; do vals="$vals $(top1 "$s" "$k")"; done
    echo "$s $vals" | awk '{ n = 0; l = ""
      for (i = 2; i <= NF; i++) { v = $i * 100; if (n == 0 || v < lo) lo = v; if (n == 0 || v > hi) hi = v; m += v; n++; l = l sprintf(" %.2f", v) }
      if (n == 0) { printf "%-8s (no result)\n", $1; next }
      printf "%-8s %-8.2f %-8.2f %-8.2f%s\n", $1, m / n, lo, hi, l }'
  done
} | tee "$log"
