#!/usr/bin/env bash
# The MABN paper's small-batch claim at small scale: ResNet-14 (width 16) on the generated 32x32
# shapes, 3000 SGD steps of 32 images, normalization batch 32 vs 2 (BN, MABN, BRN, GN), over
# several seeds. Seed S sets both the cfg's [net] seed (weight init) and the data seed (images,
# order, validation set). Every run uses one thread (OpenBLAS and OpenMP), so it is bit-identical
# to any other run of the same binary, seed and thread count; runs go two at a time.
# Usage: scripts/paper_claim.sh [-o LOG] [SETUP:SEEDS ...]
#   default: bn32:1,2,3 bn2:1,2,3 mabn2:1,2,3 brn2:1 gn2:1 (BRN and GN once: they are not the
#   claim, and each run costs ~10 minutes of a core). Per-run logs in build/claim/SETUP_sSEED/;
#   a run whose log already has its top-1 is not run again, so the script resumes. The summary
#   (per run, then mean and spread per setup) goes to stdout and to LOG (default docs/paper_claim.log).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MABDET:-./mabdet}
log=docs/paper_claim.log
if [ "${1:-}" = "-o" ]; then log=$2; shift 2; fi
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(bn32:1,2,3 bn2:1,2,3 mabn2:1,2,3 brn2:1 gn2:1)
out=build/claim
mkdir -p "$out"
top1() { sed -nE 's/^top-1: ([0-9.]+).*/\1/p' "$out/$1_s$2/train.log" 2>/dev/null; }
run() {  # setup seed
  local s=$1 k=$2 dir="$out/$1_s$2"
  [ -n "$(top1 "$s" "$k")" ] && return 0
  mkdir -p "$dir"
  sed -e "s|^backup=.*|backup=$dir|" -e "s|^seed=.*|seed=$k|" data/shapes.data > "$dir/shapes.data"
  sed -e "s|^seed=.*|seed=$k|" "cfg/resnet14_$s.cfg" > "$dir/resnet14_$s.cfg"
  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$BIN" classifier train "$dir/resnet14_$s.cfg" "$dir/shapes.data" \
    > "$dir/train.log" 2>&1 || echo "FAILED: $s seed $k (see $dir/train.log)" >&2
}
export -f run top1
export BIN out
for spec in "${specs[@]}"; do
  IFS=, read -ra seeds <<< "${spec#*:}"
  for k in "${seeds[@]}"; do echo "${spec%%:*} $k"; done
done | xargs -P 2 -L 1 bash -c 'run "$0" "$1"'
{
  echo "# scripts/paper_claim.sh, $(nproc) cores, 1 thread per run (OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1), 2 runs at a time"
  echo "# ResNet-14 w16, 3000 steps of 32 on generated 32x32 shapes, top-1 on 2000 validation images; seed S = [net] seed and data seed"
  printf "%-8s %-5s %s\n" setup seed top-1
  for spec in "${specs[@]}"; do
    IFS=, read -ra seeds <<< "${spec#*:}"
    for k in "${seeds[@]}"; do printf "%-8s %-5s %s\n" "${spec%%:*}" "$k" "$(top1 "${spec%%:*}" "$k")"; done
  done
  echo
  printf "%-8s %-6s %-8s %-8s %-8s %s\n" setup runs mean min max "top-1 per seed (%)"
  for spec in "${specs[@]}"; do
    s=${spec%%:*} vals=""
    IFS=, read -ra seeds <<< "${spec#*:}"
    for k in "${seeds[@]}"; do vals="$vals $(top1 "$s" "$k")"; done
    echo "$s $vals" | awk '{ n = 0; l = ""
      for (i = 2; i <= NF; i++) { v = $i * 100; if (n == 0 || v < lo) lo = v; if (n == 0 || v > hi) hi = v; m += v; n++; l = l sprintf(" %.2f", v) }
      if (n == 0) { printf "%-8s (no result)\n", $1; next }
      printf "%-8s %-6d %-8.2f %-8.2f %-8.2f%s\n", $1, n, m / n, lo, hi, l }'
  done
} | tee "$log"
