#!/usr/bin/env python3
# Times one reference evaluator end to end (load, evaluate, accumulate, summarize) for
# bench/cocoeval.sh and prints its AP as "AP <value>". Runs with the pyenv python3 (3.11, has
# pycocotools and faster-coco-eval); usage:
#   python3 scripts/cocoeval/run_reference.py pycocotools|faster GT.json RESULTS.json bbox|segm
import contextlib
import io
import sys

tool, gt_path, res_path, iou = sys.argv[1:5]
with contextlib.redirect_stdout(io.StringIO()):
    if tool == "pycocotools":
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
        gt = COCO(gt_path)
        ev = COCOeval(gt, gt.loadRes(res_path), iou)
    else:
        from faster_coco_eval import COCO, COCOeval_faster
        gt = COCO(gt_path)
        ev = COCOeval_faster(gt, gt.loadRes(res_path), iou)
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
print(f"AP {ev.stats[0]:.6f}")
