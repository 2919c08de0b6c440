#!/usr/bin/env bash
# gendata's output read by pycocotools (pyenv python3, first on PATH) and evaluated against itself:
# AP must be 1.0 for bbox and segm, in every size range. Also checks that the same seed gives
# byte-identical files, that `mabdet cocoeval` agrees, and that mabdet's loader reads the .data file.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${MABDET:-./mabdet} TESTS=${MABDET_TESTS:-build/mabdet_tests}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$BIN" gendata "$tmp/a" --train 40 --val 12 --size 192 --seed 7 >/dev/null
"$BIN" gendata "$tmp/b" --train 40 --val 12 --size 192 --seed 7 >/dev/null
diff -r "$tmp/a" "$tmp/b" >/dev/null || { echo "gendata: same seed, different output"; exit 1; }
python3 scripts/data/selfeval_pycocotools.py "$tmp/a/annotations/instances_train.json" "$tmp/res.json"
# The same detections through mabdet's own evaluator: AP 1.0 in every size range too.
for iou in bbox segm; do
  "$BIN" cocoeval "$tmp/a/annotations/instances_train.json" "$tmp/res.json" --iou $iou --json "$tmp/$iou.json" >/dev/null
  python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))['stats']
print('mabdet cocoeval $iou: AP %.4f APs %.4f APm %.4f APl %.4f' % (s[0], s[3], s[4], s[5]))
sys.exit(0 if all(abs(v - 1) < 1e-9 for v in s[:6]) else 1)" "$tmp/$iou.json"
done
python3 scripts/data/selfeval_pycocotools.py "$tmp/a/annotations/instances_val.json"
"$BIN" databench "$tmp/a/shapes.data" --threads 2 --batch 2 --batches 5 --min-size 160 --max-size 256
