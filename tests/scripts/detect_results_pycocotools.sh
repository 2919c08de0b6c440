#!/usr/bin/env bash
# The COCO results json `mabdet detect` writes (src/detect/results_json.cpp), read by pycocotools
# (the pyenv python3 with pycocotools, first on PATH). The doctest case "results json: files
# of boxes*" writes box-only, mask-only and combined results for the tiny ground truth of
# tests/fixtures/cocoeval; loadRes must take every entry with its masks at the image size, and
# COCOeval must give `mabdet cocoeval`'s numbers on each file (scripts/cocoeval/compare.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${MABDET:-./mabdet} TESTS=${MABDET_TESTS:-build/mabdet_tests}
work=build/detect_results_pycoco
rm -rf "$work"; mkdir -p "$work"
MABDET_RESULTS_OUT="$work" "$TESTS" -tc="results json: files of boxes*"
python3 - "$work" <<'EOF'
import contextlib, io, json, sys
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
work = sys.argv[1]
with contextlib.redirect_stdout(io.StringIO()):
    gt = COCO(f"{work}/gt.json")
for name in ("results_bbox.json", "results_segm.json", "results_both.json"):
    raw = json.load(open(f"{work}/{name}"))
    with contextlib.redirect_stdout(io.StringIO()):
        dt = gt.loadRes(f"{work}/{name}")
    anns = [dt.anns[i] for i in sorted(dt.anns)]
    assert len(raw) == len(anns) > 0, f"{name}: {len(anns)} of {len(raw)} entries loaded"
    for r, a in zip(raw, anns):
        for k in ("image_id", "category_id", "score"):
            assert a[k] == r[k], f"{name}: {k} {a[k]} != {r[k]}"
        if "segmentation" in r:
            img = gt.imgs[r["image_id"]]
            m = mask_utils.decode(a["segmentation"])
            assert m.shape == (img["height"], img["width"]), f"{name}: mask {m.shape} for image {img}"
            if "bbox" not in r:  # mask mode: area from the mask
                assert a["area"] == float(m.sum()), f"{name}: area {a['area']} vs {m.sum()}"
    print(f"ok   {name}: loadRes took {len(anns)} entries")
EOF
python3 scripts/cocoeval/compare.py "$BIN" "$work"
