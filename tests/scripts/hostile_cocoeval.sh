#!/usr/bin/env bash
# Hostile cocoeval inputs end in "mabdet: FILE: ... entry ..." and exit 1, never a hang: RLE whose
# runs do not add up to h*w (too long, too short, a compressed string that decodes to too many
# pixels) in results and in ground truth, an empty RLE string, polygons with 1e308 coordinates,
# and ground truth without "annotations" (evaluates, scoring -1). Each run is under `timeout`, so
# a regression to the old endless run-wise loop fails here instead of hanging the suite.
set -euo pipefail
BIN=${MABDET:-./mabdet}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "hostile_cocoeval: $*"; exit 1; }

# One 4x4 image; a ground-truth mask given as RLE counts (COCO's column-major runs).
gt() {  # $1 = the annotation's segmentation json
  cat <<JSON
{"images": [{"id": 1, "width": 4, "height": 4}], "categories": [{"id": 1, "name": "a"}],
 "annotations": [{"id": 3, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4], "area": 8, "iscrowd": 0,
   "segmentation": $1}]}
JSON
}
res() {  # $1 = the second result's segmentation json (the first one is fine)
  cat <<JSON
[{"image_id": 1, "category_id": 1, "score": 0.9, "segmentation": {"size": [4, 4], "counts": [4, 8, 4]}},
 {"image_id": 1, "category_id": 1, "score": 0.8, "segmentation": $1}]
JSON
}
expect() {  # expected-message gt.json results.json
  local want=$1 rc=0
  timeout 20 "$BIN" cocoeval "$2" "$3" --iou segm > "$tmp/out" 2> "$tmp/err" || rc=$?
  [ "$rc" -ne 124 ] || fail "timed out (a hang) on $2 $3"
  [ "$rc" -eq 1 ] || fail "exit $rc, expected 1, on $2 $3: $(cat "$tmp/err")"
  grep -qF "$want" "$tmp/err" || fail "wanted '$want', got: $(cat "$tmp/err")"
}
good_gt='{"size": [4, 4], "counts": [4, 8, 4]}'
gt "$good_gt" > "$tmp/gt.json"

# Results: counts lists too long and too short, a compressed string for too many pixels
# ("35": runs 3 and 5 = 8 pixels in a 2x2), an empty string.
res '{"size": [4, 4], "counts": [4, 8, 8]}' > "$tmp/long.json"
expect "long.json entry 1: segmentation RLE counts cover 20 pixels but the mask is 4x4 = 16 pixels" "$tmp/gt.json" "$tmp/long.json"
res '{"size": [4, 4], "counts": [4, 8]}' > "$tmp/short.json"
expect "short.json entry 1: segmentation RLE counts cover 12 pixels but the mask is 4x4 = 16 pixels" "$tmp/gt.json" "$tmp/short.json"
res '{"size": [2, 2], "counts": "35"}' > "$tmp/str.json"
expect "str.json entry 1: segmentation RLE counts cover 8 pixels but the mask is 2x2 = 4 pixels" "$tmp/gt.json" "$tmp/str.json"
res '{"size": [4, 4], "counts": ""}' > "$tmp/empty.json"
expect "empty.json entry 1: segmentation RLE counts cover 0 pixels but the mask is 4x4 = 16 pixels" "$tmp/gt.json" "$tmp/empty.json"
res '[[0, 0, 1e308, 0, 1e308, 1e308]]' > "$tmp/far.json"
expect "far.json entry 1: segmentation polygon coordinate 1e+308 is outside -2e+06..2e+06" "$tmp/gt.json" "$tmp/far.json"

# Ground truth: the same faults in the annotation, found when its image is evaluated.
res "$good_gt" > "$tmp/ok.json"
for c in '[4, 8, 8]' '[4, 8]' '"35"'; do
  size='[4, 4]'; [ "$c" = '"35"' ] && size='[2, 2]'
  gt "{\"size\": $size, \"counts\": $c}" > "$tmp/gt_bad.json"
  expect "gt_bad.json: annotation id 3: segmentation RLE counts cover" "$tmp/gt_bad.json" "$tmp/ok.json"
done
gt '[[0, 0, 1e308, 0, 1e308, 1e308]]' > "$tmp/gt_far.json"
expect "gt_far.json: annotation id 3: segmentation polygon coordinate 1e+308 is outside" "$tmp/gt_far.json" "$tmp/ok.json"

# Ground truth without annotations: nothing to match, every category scores -1, exit 0.
echo '{"images": [{"id": 1, "width": 4, "height": 4}], "categories": [{"id": 1, "name": "a"}]}' > "$tmp/gt_none.json"
timeout 20 "$BIN" cocoeval "$tmp/gt_none.json" "$tmp/ok.json" --iou segm > "$tmp/out" 2>&1 || fail "no annotations: exit $?"
head -1 "$tmp/out" | grep -q '= -1.000$' || fail "no annotations: $(head -1 "$tmp/out")"
echo "hostile_cocoeval: ok"
