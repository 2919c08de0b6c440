#!/usr/bin/env python3
# Python: the pyenv python3 (first on PATH), which has pycocotools from PyPI.
# Reads a COCO instances json with pycocotools, turns every non-crowd ground truth into a
# detection (score 1, its own box and mask as RLE) and runs COCOeval bbox and segm on it:
# a well-formed dataset evaluated against itself must give AP 1.0 in both. An optional second
# argument saves those detections as a COCO results file.
import io
import json
import sys
from contextlib import redirect_stdout

from pycocotools import mask as mask_util
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def main(path, results_out=None):
    with redirect_stdout(io.StringIO()):
        gt = COCO(path)
    results = []
    for ann in gt.loadAnns(gt.getAnnIds()):
        if ann["iscrowd"]:
            continue
        rle = gt.annToRLE(ann)
        if isinstance(rle["counts"], bytes):  # compressed strings in the json come back as str
            rle = {"size": rle["size"], "counts": rle["counts"].decode("ascii")}
        results.append({"image_id": ann["image_id"], "category_id": ann["category_id"], "bbox": ann["bbox"],
                        "segmentation": rle, "score": 1.0})
    if not results:
        sys.exit(f"{path}: no non-crowd annotations")
    if results_out:  # for `mabdet cocoeval` to read the same detections
        with open(results_out, "w") as f:
            json.dump(results, f)
    n_crowd = sum(a["iscrowd"] for a in gt.dataset["annotations"])
    kinds = {"polygon": 0, "rle": 0, "rle_string": 0}
    for a in gt.dataset["annotations"]:
        s = a["segmentation"]
        kinds["polygon" if isinstance(s, list) else "rle_string" if isinstance(s["counts"], str) else "rle"] += 1
    if min(kinds.values()) == 0 or n_crowd == 0:
        sys.exit(f"{path}: expected polygons, RLE, compressed RLE and crowds, got {kinds}, {n_crowd} crowd")
    ok = True
    for iou_type in ("bbox", "segm"):
        with redirect_stdout(io.StringIO()):
            dt = gt.loadRes(results)
            ev = COCOeval(gt, dt, iou_type)
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
        ap, ap50, aps, apm, apl = ev.stats[0], ev.stats[1], ev.stats[3], ev.stats[4], ev.stats[5]
        print(f"{path} {iou_type}: AP {ap:.4f} AP50 {ap50:.4f} APs {aps:.4f} APm {apm:.4f} APl {apl:.4f}")
        # Every size range must be present (a -1 means none) and perfect.
        ok &= all(abs(v - 1.0) < 1e-9 for v in (ap, ap50, aps, apm, apl))
    print(f"{path}: {len(results)} detections, {n_crowd} crowd regions, masks {kinds}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
