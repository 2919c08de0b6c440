#!/usr/bin/env bash
# gendata's output read by pycocotools (pyenv python3, first on PATH) and evaluated against itself:
# AP must be 1.0 for bbox and segm, in every size range. Also checks that the same seed gives
# byte-identical files and that mabdet's own loader reads the generated .data file.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
./mabdet gendata "$tmp/a" --train 40 --val 12 --size 192 --seed 7 >/dev/null
./mabdet gendata "$tmp/b" --train 40 --val 12 --size 192 --seed 7 >/dev/null
diff -r "$tmp/a" "$tmp/b" >/dev/null || { echo "gendata: same seed, different output"; exit 1; }
python3 scripts/data/selfeval_pycocotools.py "$tmp/a/annotations/instances_train.json"
python3 scripts/data/selfeval_pycocotools.py "$tmp/a/annotations/instances_val.json"
./mabdet databench "$tmp/a/shapes.data" --threads 2 --batch 2 --batches 5 --min-size 160 --max-size 256
