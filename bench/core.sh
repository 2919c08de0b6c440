#!/usr/bin/env bash
# Forward+backward (training mode) of the same networks in mabdet and in PyTorch (Debian's
# /usr/bin/python3 + python3-torch), one after the other, same threads: per-image ms and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MABDET:-./mabdet}
threads=$(nproc)
printf "%-34s %12s %12s %8s\n" "network (input)" "mabdet ms" "torch ms" "ratio"
run() {  # cfg batch size iters label
  local m t
  m=$(OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads "$BIN" bench "$1" --batch "$2" --size "$3" --iters "$4" 2>/dev/null |
      sed -nE 's/.*: ([0-9.]+) ms per forward\+backward.*/\1/p')
  t=$(/usr/bin/python3 bench/torch_net.py "$1" --batch "$2" --size "$3" --iters "$4" --threads "$threads" |
      sed -nE 's/torch ms per forward\+backward: ([0-9.]+).*/\1/p')
  printf "%-34s %12s %12s %8s\n" "$5" "$m" "$t" "$(awk -v a="$m" -v b="$t" 'BEGIN{printf "%.2fx", a/b}')"
}
run cfg/resnet50.cfg 2 224 3 "ResNet-50 (2x3x224x224)"
run cfg/resnet14_bn2.cfg 2 32 50 "ResNet-14 w16 (2x3x32x32)"
run cfg/resnet14_bn32.cfg 32 32 10 "ResNet-14 w16 (32x3x32x32)"
echo "(ratio = mabdet time / torch time; below 1 means mabdet is faster. Per-layer times: ./mabdet bench CFG)"
