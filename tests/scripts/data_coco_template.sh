#!/usr/bin/env bash
# data/coco.data parses, resolves its paths relative to itself, and its classes= and names file
# fit COCO 2017's 80 category ids (with their gaps): checked through `mabdet databench` on a
# one-image stand-in json, whose image is deliberately the wrong size so the run must fail there,
# after the .data and names checks have passed. Uses the pyenv python3 (first on PATH).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${MABDET:-./mabdet} TESTS=${MABDET_TESTS:-build/mabdet_tests}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/coco/annotations" "$tmp/coco/train2017"
cp data/coco.data data/coco.names "$tmp/"
python3 - "$tmp/coco/annotations/instances_train2017.json" <<'PY'
import json, sys
names = [l for l in open("data/coco.names").read().split("\n") if l]
ids = [i for i in range(1, 91) if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]
assert len(ids) == 80 and len(names) == 80, (len(ids), len(names))
assert names[0] == "person" and names[-1] == "toothbrush"
img = {"id": 1, "file_name": "1.png", "width": 8, "height": 8}
ann = {"id": 1, "image_id": 1, "category_id": 90, "bbox": [1, 1, 2, 2], "iscrowd": 0}
json.dump({"images": [img], "annotations": [ann],
           "categories": [{"id": i, "name": n} for i, n in zip(ids, names)]}, open(sys.argv[1], "w"))
PY
"$BIN" gendata "$tmp/g" --train 1 --val 0 --size 32 --height 40 >/dev/null
cp "$tmp/g/train/000001.png" "$tmp/coco/train2017/1.png"
if out=$("$BIN" databench "$tmp/coco.data" --batches 2 --threads 0 --batch 1 2>&1); then echo "expected a size mismatch"; exit 1; fi
echo "$out" | grep -q "train2017/1.png: image is 32x40 but .*instances_train2017.json says 8x8 (image id 1)" \
  || { echo "unexpected: $out"; exit 1; }
echo "coco.data template: ok"
