#!/usr/bin/env python3
# Differential check: `mabdet cocoeval --json` against pycocotools' COCOeval on generated cases
# (scripts/cocoeval/gen_cases.py), bbox and segm, stats and per-category AP to 1e-4.
# Runs with the pyenv python3 (3.11, has pycocotools); usage:
#   python3 scripts/cocoeval/compare.py MABDET_BINARY CASE_DIR...
# Exits 1 on any difference, printing each one.
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

# (results file, iou type): bbox-only, mask-only (bbox from the mask), and both fields.
RUNS = [("results_bbox.json", "bbox"), ("results_segm.json", "segm"),
        ("results_both.json", "segm"), ("results_segm.json", "bbox"), ("results_both.json", "bbox")]


def pycoco(gt_path, res_path, iou):
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(gt_path)
        dt = gt.loadRes(res_path)
        ev = COCOeval(gt, dt, iou)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    prec = ev.eval["precision"]
    per_cat = {}
    for k, cid in enumerate(ev.params.catIds):
        p = prec[:, :, k, 0, -1]
        per_cat[str(cid)] = float(np.mean(p[p > -1])) if (p > -1).any() else -1.0
    return {"stats": [float(s) for s in ev.stats], "per_category_ap": per_cat}


def main():
    binary, cases = sys.argv[1], sys.argv[2:]
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            gt = os.path.join(case, "gt.json")
            for res_name, iou in RUNS:
                res = os.path.join(case, res_name)
                exp = pycoco(gt, res, iou)
                out = os.path.join(tmp, "out.json")
                p = subprocess.run([binary, "cocoeval", gt, res, "--iou", iou, "--json", out],
                                   capture_output=True, text=True)
                if p.returncode != 0:
                    print(f"FAIL {case} {res_name} {iou}: exit {p.returncode}: {p.stderr.strip()}")
                    bad += 1
                    continue
                got = json.load(open(out))
                diffs = [f"stats[{i}] {a} vs pycocotools {b}"
                         for i, (a, b) in enumerate(zip(got["stats"], exp["stats"])) if abs(a - b) > 1e-4]
                if set(got["per_category_ap"]) != set(exp["per_category_ap"]):
                    diffs.append("category sets differ")
                else:
                    diffs += [f"AP cat {k} {got['per_category_ap'][k]} vs pycocotools {v}"
                              for k, v in exp["per_category_ap"].items()
                              if abs(got["per_category_ap"][k] - v) > 1e-4]
                status = "ok  " if not diffs else "FAIL"
                print(f"{status} {case} {res_name} --iou {iou}: AP {got['stats'][0]:.4f} "
                      f"(pycocotools {exp['stats'][0]:.4f})")
                for d in diffs[:10]:
                    print("     ", d)
                bad += bool(diffs)
    print(f"{bad} of {len(cases) * len(RUNS)} runs differ")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
