#!/usr/bin/env bash
# How far each BN -> norm conversion of scripts/convert_torchvision.py lands from the source net
# before any training: a seeded random torchvision resnet50 with measured BN statistics
# (scripts/torchvision_ref.py, Debian's /usr/bin/python3 with torch) converted into cfg/resnet50.cfg
# with norm=bn (the reference: equal to torch's to 1e-5, tests/scripts/torchvision_parity.sh),
# frozen_bn, mabn with centralize=0 (--mabn exact) and mabn with its centred filters (--mabn
# centred); on 8 generated images, the logits' relative L2 distance to the bn net's and the top-1
# agreement. Prints a table (docs/pretrained.md quotes it). A minute or two here.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${MABDET:-./mabdet}")
PY=/usr/bin/python3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
$PY scripts/torchvision_ref.py resnet50 "$tmp/ref" > /dev/null
$PY - "$tmp" << 'PY'
import sys, torch
sys.path.insert(0, "scripts")
import torchvision_ref as t
g = torch.Generator().manual_seed(7)
for i in range(8):
    t.write_png(f"{sys.argv[1]}/img{i}.png", t.scene(g, 224, 224).permute(1, 2, 0).contiguous().numpy())
PY
variant() {  # NAME NORM_LINES MABN_MODE
  sed "s/^norm=bn$/$2/" cfg/resnet50.cfg > "$tmp/$1.cfg"
  $PY scripts/convert_torchvision.py --mabdet "$BIN" "$tmp/ref/model.pth" "$tmp/$1.weights" --cfg "$tmp/$1.cfg" \
    --mabn "$3" > /dev/null
  for i in $(seq 0 7); do
    "$BIN" dump "$tmp/$1.cfg" "$tmp/$1.weights" "$tmp/img$i.png" "$tmp/$1_$i" --layers 71 > /dev/null
  done
}
variant bn "norm=bn" exact
variant frozen_bn "norm=frozen_bn" exact
variant mabn_exact 'norm=mabn\ncentralize=0' exact
variant mabn_centred "norm=mabn" centred
$PY - "$tmp" << 'PY'
import sys
import numpy as np
tmp = sys.argv[1]
load = lambda v: np.stack([np.load(f"{tmp}/{v}_{i}/71.out.npy").ravel() for i in range(8)])  # noqa: E731
ref = load("bn")
print(f"{'conversion':<28} {'logits rel. L2 (median, max)':>30} {'top-1 same':>11}")
for v in ("frozen_bn", "mabn_exact", "mabn_centred"):
    got = load(v)
    rel = np.linalg.norm(got - ref, axis=1) / np.linalg.norm(ref, axis=1)
    same = (got.argmax(1) == ref.argmax(1)).sum()
    print(f"{v:<28} {np.median(rel):>17.3g} {rel.max():>12.3g} {same:>8}/8")
PY
