#!/usr/bin/env bash
# BN-pretrained weights fine-tuned at normalization batch 2, converted four ways: the measurement
# behind docs/pretrained.md's fine-tuning table (not a test; ~30 min on 2 cores).
#  1. a source: ResNet-14 with BN trained PRE steps at normalization batch 32 on the shapes data
#     (mabdet classifier; cfg/resnet14_bn32.cfg shortened);
#  2. its weights written as a torchvision-style state_dict (conv1, layer1.K.conv/bn, fc; Debian's
#     /usr/bin/python3 with torch) and converted by scripts/convert_torchvision.py into
#     bn2 (BN, statistics carried), frozen_bn, mabn_exact (MABN, centralize=0) and mabn_centred
#     (MABN with its centred filters, --mabn centred), each at normalization batch 2
#     (batch 32, subdivisions 16);
#  3. top-1 of each converted net before training, then FT fine-tuning steps at lr 0.01 (log every
#     50 steps) and top-1 after, on the 2000 validation images.
# Usage: scripts/mabn_finetune.sh [OUTDIR]   (PRE=800 FT=500 THREADS=1 by default; finished stages are kept)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${MABDET:-./mabdet}")
PY=/usr/bin/python3
out=$(realpath -m "${1:-backup/mabn_finetune}")
PRE=${PRE:-800} FT=${FT:-500}
export OPENBLAS_NUM_THREADS=${THREADS:-1} OMP_NUM_THREADS=${THREADS:-1}
mkdir -p "$out"
sed -e "s|^backup=.*|backup=$out|" data/shapes.data > "$out/shapes.data"
sed -e "s/^max_batches=.*/max_batches=$PRE/" -e "s/^steps=.*/steps=$((PRE * 2 / 3)),$((PRE * 9 / 10))/" \
  cfg/resnet14_bn32.cfg > "$out/source.cfg"
[ -e "$out/source_final.weights" ] ||
  "$BIN" classifier train "$out/source.cfg" "$out/shapes.data" > "$out/source.log" 2>&1
grep "^top-1" "$out/source.log" | sed 's/^/source (BN@32): /'
$PY - "$out/source.cfg" "$out/source_final.weights" "$out/source.pth" "$BIN" << 'PY'
import subprocess
import sys
import torch
sys.path.insert(0, "scripts")
from mabdet_files import Weights
w = Weights(sys.argv[2])
shapes = {}
for line in subprocess.run([sys.argv[4], "layout", sys.argv[1]], capture_output=True, text=True, check=True).stdout.splitlines():
    i, _, _, kind, entry, shape = line.split("\t")
    if entry == "weights":
        shapes[int(i)] = tuple(int(d) for d in shape.split("x"))
sd = {}
weighted = [(j, l) for j, l in enumerate(w.layers) if "weights" in l["entries"]]
for i, (j, l) in enumerate(weighted):
    e = l["entries"]
    if i == len(weighted) - 1:
        n = e["norm.bias"].size
        sd["fc.weight"] = torch.from_numpy(e["weights"].reshape(n, -1))
        sd["fc.bias"] = torch.from_numpy(e["norm.bias"])
        continue
    name = "conv1" if i == 0 else f"layer1.{i}.conv"
    bn = "bn1" if i == 0 else f"layer1.{i}.bn"
    c = e["norm.gamma"].size
    sd[name + ".weight"] = torch.from_numpy(e["weights"].reshape(shapes[j]))
    for src, dst in (("norm.gamma", "weight"), ("norm.beta", "bias"), ("norm.running_mean", "running_mean"),
                     ("norm.running_var", "running_var")):
        sd[f"{bn}.{dst}"] = torch.from_numpy(e[src])
torch.save(sd, sys.argv[3])
PY
variant() {  # NAME CFG NORM_SED MABN_MODE
  local cfg=$out/$1.cfg
  sed -e "s/^max_batches=.*/max_batches=$FT/" -e "s/^learning_rate=.*/learning_rate=0.01/" -e "s/^burn_in=.*/burn_in=0/" \
      -e "s/^policy=.*/policy=constant/" -e "/^steps=/d" -e "/^scales=/d" -e "$3" "cfg/$2" > "$cfg"
  [ -e "$out/$1_final.weights" ] && return
  $PY scripts/convert_torchvision.py --mabdet "$BIN" "$out/source.pth" "$out/$1_init.weights" --cfg "$cfg" \
    --mabn "$4" > /dev/null
  "$BIN" classifier valid "$cfg" "$out/shapes.data" "$out/$1_init.weights" 2>/dev/null | grep "^top-1" > "$out/$1_before.txt"
  "$BIN" classifier train "$cfg" "$out/shapes.data" "$out/$1_init.weights" > "$out/$1.log" 2>&1
}
variant bn2 resnet14_bn2.cfg "s/^norm=bn$/norm=bn/" exact &
variant frozen_bn resnet14_bn2.cfg "s/^norm=bn$/norm=frozen_bn/" exact
wait
variant mabn_exact resnet14_mabn2.cfg "s/^norm=mabn$/norm=mabn\ncentralize=0/" exact &
variant mabn_centred resnet14_mabn2.cfg "s/^norm=mabn$/norm=mabn/" centred
wait
printf "%-14s %10s %s\n" conversion "top-1 at 0" "average loss every 50 steps ... top-1 after $FT"
for v in bn2 frozen_bn mabn_exact mabn_centred; do
  before=$(sed -nE 's/^top-1: ([0-9.]+).*/\1/p' "$out/${v}_before.txt" | tail -1)
  losses=$(sed -nE 's/^step [0-9]+\/[0-9]+ +loss [0-9.]+ +avg ([0-9.]+).*/\1/p' "$out/$v.log" | tr '\n' ' ')
  after=$(sed -nE 's/^top-1: ([0-9.]+).*/\1/p' "$out/$v.log" | tail -1)
  printf "%-14s %10s %s... %s\n" "$v" "$before" "$losses" "$after"
done
