#!/usr/bin/env bash
# `mabdet cocoeval` as a user sees it: the 12-line table plus per-category lines and a --json file
# on success; "mabdet: <file>: entry N: ..." and exit 1 on a bad results file; a warning and
# exit 0 on an empty results list.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${MABDET:-./mabdet} TESTS=${MABDET_TESTS:-build/mabdet_tests}
fx=tests/fixtures/cocoeval/tiny
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "cocoeval_cli: $*"; exit 1; }

"$BIN" cocoeval $fx/gt.json $fx/results_bbox.json --iou bbox --json "$tmp/out.json" > "$tmp/table.txt"
[ "$(grep -c '^ Average Precision  (AP) @\[ IoU=' "$tmp/table.txt")" = 6 ] || fail "AP lines"
[ "$(grep -c '^ Average Recall     (AR) @\[ IoU=' "$tmp/table.txt")" = 6 ] || fail "AR lines"
head -1 "$tmp/table.txt" | grep -qx ' Average Precision  (AP) @\[ IoU=0.50:0.95 | area=   all | maxDets=100 \] = 0.162' \
  || fail "first line: $(head -1 "$tmp/table.txt")"
grep -qE '^ +21 +cat21 +-1.000 \(no ground truth\)$' "$tmp/table.txt" || fail "per-category line for category 21"
python3 -c "import json,sys; j=json.load(open('$tmp/out.json')); assert len(j['stats'])==12 and j['per_category_ap']['21']==-1" \
  || fail "--json output"

echo '[{"image_id": 12, "category_id": 99, "bbox": [1,2,3,4], "score": 0.5}]' > "$tmp/bad.json"
set +e
"$BIN" cocoeval $fx/gt.json "$tmp/bad.json" --iou bbox > /dev/null 2> "$tmp/err.txt"; rc=$?
set -e
[ $rc = 1 ] || fail "bad results: exit $rc, expected 1"
grep -q "^mabdet: .*bad.json: entry 0: category_id 99" "$tmp/err.txt" || fail "message: $(cat "$tmp/err.txt")"

echo '[]' > "$tmp/empty.json"
"$BIN" cocoeval $fx/gt.json "$tmp/empty.json" --iou segm > "$tmp/t2.txt" 2> "$tmp/err2.txt" || fail "empty results must not fail"
grep -q "^mabdet: warning: .*empty.json holds no detections" "$tmp/err2.txt" || fail "no empty warning"
head -1 "$tmp/t2.txt" | grep -q '= 0.000$' || fail "empty results AP should be 0"
set +e
"$BIN" cocoeval $fx/gt.json --iou bbox > /dev/null 2>&1; rc=$?
set -e
[ $rc = 1 ] || fail "missing argument: exit $rc"
echo "cocoeval_cli: ok"
