#!/usr/bin/env python3
# Writes CASE_DIR/expected.json: what pycocotools' COCOeval reports for a case made by
# gen_cases.py, in the layout the doctest case "cocoeval: committed fixtures ..." reads
# (tests/fixtures/cocoeval/README.md). Runs with the pyenv python3 (3.11, has pycocotools); usage:
#   python3 scripts/cocoeval/make_expected.py CASE_DIR...
import json
import os
import sys

from compare import pycoco  # same directory: the numbers the differential test compares against

# key -> (results file, iou type); segm on results_both.json takes areas from the bbox field.
RUNS = {"bbox": ("results_bbox.json", "bbox"), "segm": ("results_segm.json", "segm"),
        "segm_with_bbox_field": ("results_both.json", "segm")}


def main():
    for case in sys.argv[1:]:
        gt = os.path.join(case, "gt.json")
        out = {key: pycoco(gt, os.path.join(case, res), iou) for key, (res, iou) in RUNS.items()}
        with open(os.path.join(case, "expected.json"), "w") as f:
            json.dump(out, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
