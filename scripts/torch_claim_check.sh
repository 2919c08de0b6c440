#!/usr/bin/env bash
# PyTorch redo of scripts/paper_claim.sh's BN runs on the very same images: `mabdet classifier
# export` writes seed S's training images (in training order), validation set and mabdet's initial
# weights; scripts/torch_classifier_check.py (Debian's /usr/bin/python3 + python3-torch) trains the
# same cfg from those weights with the same SGD, schedule and normalization batch, one thread each,
# two setups at a time. Prints torch's top-1 beside mabdet's from build/claim/<setup>_s<S>/train.log
# (written by paper_claim.sh) where that exists. 40-75 minutes per setup on the shared 2-core CPU
# (BN@2, 16 sub-batches a step, is the slow one).
# Usage: scripts/torch_claim_check.sh [SETUP...]   (default bn32 bn2; SEED=1; KEEP=1 keeps the export;
#   STEPS=N trains only N steps, a smoke run of this script whose top-1 is not comparable)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MABDET:-./mabdet}
seed=${SEED:-1}
setups=("$@")
[ ${#setups[@]} -gt 0 ] || setups=(bn32 bn2)
out=build/torchcheck
mkdir -p "$out"
sed -e "s|^backup=.*|backup=$out/backup|" -e "s|^seed=.*|seed=$seed|" data/shapes.data > "$out/shapes_s$seed.data"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
bin="$out/shapes_s$seed.bin"
steps=(); [ -z "${STEPS:-}" ] || steps=(--stop-after "$STEPS")
tsteps=(); [ -z "${STEPS:-}" ] || tsteps=(--steps "$STEPS")
rm -f "$bin"
for s in "${setups[@]}"; do
  sed -e "s|^seed=.*|seed=$seed|" "cfg/resnet14_$s.cfg" > "$out/resnet14_${s}_s$seed.cfg"
  if [ -s "$bin" ]; then  # the images depend on data and batch only: one export serves all setups
    "$BIN" classifier export "$out/resnet14_${s}_s$seed.cfg" "$out/shapes_s$seed.data" /dev/null \
      "$out/init_${s}_s$seed.weights" --stop-after 1 2> /dev/null
  else
    "$BIN" classifier export "$out/resnet14_${s}_s$seed.cfg" "$out/shapes_s$seed.data" "$bin" \
      "$out/init_${s}_s$seed.weights" "${steps[@]}"
  fi
done
i=0
for s in "${setups[@]}"; do
  /usr/bin/python3 scripts/torch_classifier_check.py "$out/resnet14_${s}_s$seed.cfg" "$bin" \
    --init-from "$out/init_${s}_s$seed.weights" "${tsteps[@]}" > "$out/torch_${s}_s$seed.log" 2>&1 ||
    echo "FAILED: torch $s seed $seed (see $out/torch_${s}_s$seed.log)" >&2 &
  i=$((i + 1))
  if [ $((i % 2)) -eq 0 ]; then wait; fi
done
wait
[ "${KEEP:-0}" = 1 ] || rm -f "$bin"
top1() { [ -f "$1" ] && sed -nE 's/^top-1: ([0-9.]+).*/\1/p' "$1" | tail -1; }
printf "%-8s %-5s %-12s %s\n" setup seed "torch top-1" "mabdet top-1 (build/claim)"
for s in "${setups[@]}"; do
  t=$(top1 "$out/torch_${s}_s$seed.log" || true)
  m=$(top1 "build/claim/${s}_s$seed/train.log" || true)
  printf "%-8s %-5s %-12s %s\n" "$s" "$seed" "${t:-failed}" "${m:-not run}"
done
