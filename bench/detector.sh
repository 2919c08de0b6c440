#!/usr/bin/env bash
# Mask R-CNN R50-FPN on the CPU: one training iteration (2 synthetic images, 800x800) and one
# inference (800x1344), mabdet (cfg/mask_rcnn_R50_FPN_tv.cfg: torchvision's layout, FrozenBN
# backbone, no norm in FPN and heads, 2fc box head) against torchvision's maskrcnn_resnet50_fpn
# (Debian's /usr/bin/python3), same threads, one after the other: seconds, ratio and peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MABDET:-./mabdet}
threads=${THREADS:-$(nproc)}
m=$(OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads "$BIN" detbench cfg/mask_rcnn_R50_FPN_tv.cfg 2>/dev/null)
t=$(/usr/bin/python3 bench/torch_maskrcnn.py --threads "$threads")
secs() { echo "$1" | sed -nE "s/^$2: ([0-9.]+) s.*/\1/p"; }
rss() { echo "$1" | sed -nE "s/^$2: .*peak RSS ([0-9]+) MB.*/\1/p"; }
printf "%-44s %10s %10s %7s %12s %12s\n" "Mask R-CNN R50-FPN, $threads threads" "mabdet s" "torch s" ratio "mabdet MB" "torch MB"
for k in train inference; do
  a=$(secs "$m" $k) b=$(secs "$t" $k)
  label=$([ $k = train ] && echo "train iteration (2x800x800)" || echo "inference (1x800x1344)")
  printf "%-44s %10s %10s %7s %12s %12s\n" "$label" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2fx", a/b}')" \
    "$(rss "$m" $k)" "$(rss "$t" $k)"
done
echo "(peak RSS is the process's high-water mark so far: inference's includes the training iteration before it)"
