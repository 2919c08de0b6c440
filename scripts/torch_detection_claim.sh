#!/usr/bin/env bash
# torchvision's side of scripts/detection_claim.sh: scripts/torch_detection_ref.py (Debian's
# /usr/bin/python3 with python3-torch and python3-torchvision) trains torchvision's Mask R-CNN with
# the small cfg's backbone and heads on the very same generated data (build/detclaim/shapes160),
# schedule and batch, BN over all 8 images (bn8) or over 2 (bn2: 4 forwards of 2 per step, summed
# gradients), or MABN over 2 (mabn2: --norm mabn, centred convs, buffer 16, warm-up 100, as
# cfg/mask_rcnn_small_mabn2.cfg), one thread per run, two runs at a time; `mabdet cocoeval` scores
# the results.
# Usage: scripts/torch_detection_claim.sh [SETUP:SEED ...]   (SETUP bn8, bn2 or mabn2; default
#   bn8:1 bn2:1; STEPS, default 2000, as detection_claim.sh). Per-run logs and results in
#   build/tvref/SETUP_sSEED/; a run that has its results already is not run again. 2000 steps took
#   14 minutes per run on the 2-core AVX-512 machine, two at a time beside a CI run (mabn2 ~15%
#   more: 12.7 against bn2's 14.5 img/s in a 20-step run; its norm layers are Python autograd
#   Functions).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MABDET:-./mabdet}
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(bn8:1 bn2:1)
STEPS=${STEPS:-2000}
data=build/detclaim/shapes160
[ -f "$data/shapes.data" ] || "$BIN" gendata "$data" --train 3000 --val 500 --size 160 --seed 1 > /dev/null
gt=$data/annotations/instances_val.json
run() {  # setup seed
  local dir=build/tvref/$1_s$2 norm nb
  case $1 in
    bn8) norm=bn nb=8 ;;
    bn2) norm=bn nb=2 ;;
    mabn2) norm=mabn nb=2 ;;
    *) echo "torch_detection_claim.sh: setup $1: expected bn8, bn2 or mabn2" >&2; return 0 ;;
  esac
  [ -s "$dir/bbox.json" ] && return 0
  mkdir -p "$dir"
  OMP_NUM_THREADS=1 /usr/bin/python3 scripts/torch_detection_ref.py "$data" "$dir" --steps "$STEPS" \
    --norm "$norm" --norm-batch "$nb" --seed "$2" --threads 1 > "$dir/train.log" 2>&1 || echo "FAILED: $1 seed $2 (see $dir/train.log)" >&2
}
export -f run
export data STEPS
for spec in "${specs[@]}"; do echo "${spec%%:*} ${spec#*:}"; done | xargs -P 2 -L 1 bash -c 'run "$0" "$1"'
ap() { "$BIN" cocoeval "$gt" "build/tvref/$1_s$2/$3.json" --iou "$3" 2>/dev/null |
  sed -n 1p | awk '{printf "%.2f", 100 * $NF}'; }
echo "# scripts/torch_detection_claim.sh: torchvision Mask R-CNN, small ResNet-FPN, STEPS=$STEPS steps of 8, 1 thread per run"
printf "%-7s %-5s %-8s %s\n" setup seed "bbox AP" "mask AP"
for spec in "${specs[@]}"; do
  s=${spec%%:*} k=${spec#*:}
  printf "%-7s %-5s %-8s %s\n" "$s" "$k" "$(ap "$s" "$k" bbox)" "$(ap "$s" "$k" segm)"
done
