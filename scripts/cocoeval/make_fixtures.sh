#!/usr/bin/env bash
# Regenerates the committed COCO evaluation cases in tests/fixtures/cocoeval (small on purpose:
# about 270 KB together) with gen_cases.py and pycocotools' numbers for them (make_expected.py).
# Uses the pyenv python3 (3.11, numpy + pycocotools, first on PATH). Usage:
#   bash scripts/cocoeval/make_fixtures.sh
# Output depends on numpy's random generator, so rerun only to change the cases on purpose.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=tests/fixtures/cocoeval
# name seed images: picked for coverage; small has an image with more than 100 detections.
while read -r name seed images; do
  rm -rf "${out:?}/$name"
  python3 scripts/cocoeval/gen_cases.py "$seed" "$out/$name" "$images"
  python3 scripts/cocoeval/make_expected.py "$out/$name"
done <<'CASES'
tiny 10 8
small 1 8
CASES
du -sh "$out"
