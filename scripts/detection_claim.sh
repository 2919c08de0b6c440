#!/usr/bin/env bash
# The MABN paper's detection claim at CPU scale: the small Mask R-CNN (cfg/mask_rcnn_small_*.cfg)
# trained from scratch on generated 160 px shapes (3000 train / 500 val images, data seed 1), SGD
# batch 8 per step, with norm=bn over all 8 images (bn8), and bn, mabn, gn, brn over 2 (bn2 ...,
# subdivisions=4), same data, steps and schedule; bbox and mask AP on val and the wall time of
# each run. Every run uses one thread (OpenBLAS, OpenMP, one loader thread), two runs at a time.
# INIT=torchvision starts each run instead from the initial weights torchvision's own Mask R-CNN of
# the same layout draws for that seed (scripts/torch_detection_ref.py --init-only, converted by
# scripts/convert_torchvision.py; needs /usr/bin/python3 with torch; bn, mabn, brn setups), in
# build/detclaim_tvinit/ with its log docs/detection_claim_tvinit.log: the check that separates
# the init from the training procedure when comparing with scripts/torch_detection_claim.sh.
# WEIGHT_INIT=torch (or he_normal) adds that weight_init= to every run's [net] (docs/layers.md), in
# build/detclaim_winit_VALUE/ with its log docs/detection_claim_winit_VALUE.log.
# Usage: scripts/detection_claim.sh [-o LOG] [SETUP:SEEDS ...]
#   default: bn8:1 bn2:1 mabn2:1,2 gn2:1 brn2:1 bn8:2 bn2:2. STEPS (default 2000, as the cfgs) sets the run
#   length; lr drops x0.1 at 73% and 90% of it. Per-run logs in build/detclaim/SETUP_sSEED/;
#   a run whose log already has its AP is not run again, so the script resumes. The summary goes
#   to stdout and to LOG (default docs/detection_claim.log).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MABDET:-./mabdet}
log=docs/detection_claim.log
if [ "${1:-}" = "-o" ]; then log=$2; shift 2; fi
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(bn8:1 bn2:1 mabn2:1,2 gn2:1 brn2:1 bn8:2 bn2:2)
STEPS=${STEPS:-2000}
INIT=${INIT:-cfg}
out=build/detclaim
data=$out/shapes160
if [ "$INIT" = torchvision ]; then
  out=build/detclaim_tvinit
  [ "$log" != docs/detection_claim.log ] || log=docs/detection_claim_tvinit.log
elif [ "$INIT" != cfg ]; then
  echo "detection_claim.sh: INIT=$INIT: expected cfg or torchvision" >&2; exit 1
fi
WEIGHT_INIT=${WEIGHT_INIT:-}
if [ -n "$WEIGHT_INIT" ]; then
  out=${out}_winit_$WEIGHT_INIT
  [ "${log%/*}" != docs ] || log=${log%.log}_winit_$WEIGHT_INIT.log
fi
mkdir -p "$out"
[ -f "$data/shapes.data" ] || "$BIN" gendata "$data" --train 3000 --val 500 --size 160 --seed 1 > /dev/null
# bbox (k=1) or segm (k=2) AP@[.5:.95] from a run's final COCO tables.
ap() { grep "Average Precision  (AP) @\[ IoU=0.50:0.95 | area=   all" "$out/$1_s$2/train.log" 2>/dev/null |
  sed -n "${3}p" | awk '{printf "%.2f", 100 * $NF}'; }
minutes() { cat "$out/$1_s$2/minutes" 2>/dev/null; }
run() {  # setup seed
  local s=$1 k=$2 dir="$out/$1_s$2"
  [ -n "$(ap "$s" "$k" 1)" ] && return 0
  mkdir -p "$dir"
  sed -e "s|^backup=.*|backup=$PWD/$dir|" -e "s|^train_images=|train_images=$PWD/$data/|" \
      -e "s|^train_json=|train_json=$PWD/$data/|" -e "s|^val_images=|val_images=$PWD/$data/|" \
      -e "s|^val_json=|val_json=$PWD/$data/|" -e "s|^names=|names=$PWD/$data/|" "$data/shapes.data" > "$dir/shapes.data"
  local d1=$((STEPS * 73 / 100)) d2=$((STEPS * 90 / 100))
  sed -e "s|^seed=.*|seed=$k|" -e "s|^max_batches=.*|max_batches=$STEPS|" -e "s|^steps=.*|steps=$d1,$d2|" \
    "cfg/mask_rcnn_small_$s.cfg" > "$dir/mask_rcnn_small_$s.cfg"
  [ -z "$WEIGHT_INIT" ] || sed -i "s/^\[net\]\$/[net]\nweight_init=$WEIGHT_INIT/" "$dir/mask_rcnn_small_$s.cfg"
  local init=()
  if [ "$INIT" = torchvision ]; then
    local mabn=(); [ "${s#mabn}" = "$s" ] || mabn=(--mabn centred)
    /usr/bin/python3 scripts/torch_detection_ref.py "$data" "$dir/tv" --seed "$k" --init-only > "$dir/init.log" 2>&1 &&
      /usr/bin/python3 scripts/convert_torchvision.py "$dir/tv/init.pth" "$dir/init.weights" \
        --cfg "$dir/mask_rcnn_small_$s.cfg" --mabdet "$BIN" "${mabn[@]}" >> "$dir/init.log" 2>&1 ||
      { echo "FAILED: torchvision init for $s seed $k (see $dir/init.log)" >&2; return 0; }
    init=("$dir/init.weights" --restart)
  fi
  local t0=$(date +%s)
  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$BIN" train "$dir/mask_rcnn_small_$s.cfg" "$dir/shapes.data" "${init[@]}" \
    --loader-threads 1 --log-every 100 > "$dir/train.log" 2>&1 || echo "FAILED: $s seed $k (see $dir/train.log)" >&2
  echo "$(( ($(date +%s) - t0) / 60 ))" > "$dir/minutes"
}
export -f run ap minutes
export BIN out data STEPS INIT WEIGHT_INIT
for spec in "${specs[@]}"; do
  IFS=, read -ra seeds <<< "${spec#*:}"
  for k in "${seeds[@]}"; do echo "${spec%%:*} $k"; done
done | xargs -P 2 -L 1 bash -c 'run "$0" "$1"'
{
  echo "# scripts/detection_claim.sh, $(nproc) cores, 1 thread per run, 2 runs at a time; STEPS=$STEPS steps of 8 images; INIT=$INIT${WEIGHT_INIT:+ WEIGHT_INIT=$WEIGHT_INIT}"
  echo "# small Mask R-CNN from scratch on generated 160 px shapes (3000 train, 500 val, data seed 1); seed S = [net] seed"
  printf "%-7s %-5s %-8s %-8s %s\n" setup seed "bbox AP" "mask AP" minutes
  for spec in "${specs[@]}"; do
    IFS=, read -ra seeds <<< "${spec#*:}"
    for k in "${seeds[@]}"; do
      s=${spec%%:*}
      printf "%-7s %-5s %-8s %-8s %s\n" "$s" "$k" "$(ap "$s" "$k" 1)" "$(ap "$s" "$k" 2)" "$(minutes "$s" "$k")"
    done
  done
} | tee "$log"
