#!/usr/bin/env bash
# Training-mode forward+backward of the same networks in mabdet and in PyTorch (Debian's
# /usr/bin/python3 + python3-torch/torchvision), alternating, same threads: ms per step (each
# side's fastest of REPEAT runs), the time ratio, each process's peak RSS and the memory ratio;
# then MABN's cost over BN in mabdet.
# THREADS=N (default: every core). Random inputs and weights (seed 1 on both sides).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MABDET:-./mabdet}
threads=${THREADS:-$(nproc)}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# "... iterations: X ms per forward+backward" (mabdet) or "torch ms per forward+backward: X" (torch)
ms() { sed -nE -e 's/.* ([0-9.]+) ms per forward\+backward.*/\1/p' -e 's/^torch ms per forward\+backward: ([0-9.]+).*/\1/p'; }
mb() { sed -nE 's/.*peak RSS ([0-9]+) MB.*/\1/p'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "" || b == "" || b == 0) print "-"; else printf "%.2fx", a/b }'; }
mabdet() { OMP_NUM_THREADS=$threads "$BIN" bench "$@" -threads "$threads" 2>/dev/null | tail -1; }
# The faster of two output lines by ms (one without a figure loses).
faster() { awk -v a="$(echo "$1" | ms)" -v b="$(echo "$2" | ms)" 'BEGIN{exit !(b != "" && (a == "" || b + 0 < a + 0))}' && echo "$2" || echo "$1"; }
# label, mabdet command, torch command: each runs REPEAT times (default 3), the two alternating so
# that a shared machine's slow spells fall on both, and each side's fastest run counts.
row() {
  local m="" t="" r
  for ((r = 0; r < ${REPEAT:-3}; r++)); do
    m=$(faster "$m" "$(eval "$2")")
    t=$(faster "$t" "$(eval "$3")")
  done
  printf "%-36s %10s %10s %7s %9s %9s %7s\n" "$1" "$(echo "$m" | ms)" "$(echo "$t" | ms)" \
    "$(ratio "$(echo "$m" | ms)" "$(echo "$t" | ms)")" "$(echo "$m" | mb)" "$(echo "$t" | mb)" \
    "$(ratio "$(echo "$m" | mb)" "$(echo "$t" | mb)")"
}
net() {  # cfg batch size iters label
  row "$5" "mabdet $1 --batch $2 --size $3 --iters $4" \
    "/usr/bin/python3 bench/torch_net.py $1 --batch $2 --size $3 --iters $4 --threads $threads"
}
echo "threads $threads; $("$BIN" bench cfg/resnet14_bn2.cfg --iters 1 -threads "$threads" 2>&1 | grep -m1 '^threads:' || true)"
printf "%-36s %10s %10s %7s %9s %9s %7s\n" "network (input)" "mabdet ms" "torch ms" ratio "mabdet MB" "torch MB" ratio
net cfg/resnet50.cfg 2 224 3 "ResNet-50 (2x3x224x224)"
net cfg/resnet14_bn2.cfg 2 32 50 "ResNet-14 w16 (2x3x32x32)"
net cfg/resnet14_bn32.cfg 32 32 20 "ResNet-14 w16 (32x3x32x32)"
row "ResNet-50-FPN backbone (1x3x800x1344)" \
  "mabdet cfg/r50_fpn_backbone.cfg --iters 1 --sum p2,p3,p4,p5,p6" \
  "/usr/bin/python3 bench/torch_fpn.py --iters 1 --threads $threads"
echo "(ratio = mabdet / torch; below 1 means mabdet is faster or smaller. Peak RSS is each process's"
echo " high-water mark, libraries included. Per-layer times: ./mabdet bench CFG)"

# MABN against BN: the same ResNet-50 step with every norm=bn turned into norm=mabn (its centred
# convs included), in mabdet alone; the two alternate 5 times and the fastest of each counts, since
# a few percent is below a shared machine's run-to-run noise.
sed 's/^norm=bn$/norm=mabn/' cfg/resnet50.cfg > "$tmp/resnet50_mabn.cfg"
bn="" mabn=""
for _ in 1 2 3 4 5; do
  bn="$bn $(mabdet cfg/resnet50.cfg --batch 2 --size 224 --iters 8 | ms)"
  mabn="$mabn $(mabdet "$tmp/resnet50_mabn.cfg" --batch 2 --size 224 --iters 8 | ms)"
done
min() { echo "$1" | tr ' ' '\n' | grep . | sort -g | head -1; }
b=$(min "$bn") m=$(min "$mabn")
printf "MABN vs BN step, ResNet-50 2x3x224x224 (fastest of 5): bn %s ms, mabn %s ms, overhead %s\n" "$b" "$m" \
  "$(awk -v a="$m" -v b="$b" 'BEGIN{printf "%+.1f%%", 100 * (a / b - 1)}')"
