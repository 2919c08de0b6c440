#!/usr/bin/env bash
# Differential test against pycocotools (pyenv python3 3.11 with pycocotools, first on PATH):
#  1. mask ops: a fresh seeded set of 2000 random mask/polygon/box cases with pycocotools' answers, read
#     by the doctest case "mask: pycocotools agreement" (exact equality);
#  2. evaluation: 24 seeded random cases of 4-20 images plus two larger ones (60 and 150 images,
#     thousands of detections, ~5 MB of JSON: too big to commit, so made here), 5 runs each
#     (bbox/segm over bbox-only, mask-only and combined results), `./mabdet cocoeval --json` vs
#     COCOeval to 1e-4.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${MABDET:-./mabdet} TESTS=${MABDET_TESTS:-build/mabdet_tests}
work=build/cocoeval_diff
rm -rf "$work"; mkdir -p "$work"
python3 scripts/cocoeval/gen_mask_cases.py 20240611 2000 "$work/mask_cases.json"
MABDET_MASK_CASES="$work/mask_cases.json" "$TESTS" -tc="mask: pycocotools agreement*"
cases=()
for seed in $(seq 101 124); do
  python3 scripts/cocoeval/gen_cases.py "$seed" "$work/case$seed" $((4 + seed % 17))
  cases+=("$work/case$seed")
done
for spec in 201:60 202:150; do
  python3 scripts/cocoeval/gen_cases.py "${spec%:*}" "$work/large${spec%:*}" "${spec#*:}"
  cases+=("$work/large${spec%:*}")
done
python3 scripts/cocoeval/compare.py "$BIN" "${cases[@]}"
