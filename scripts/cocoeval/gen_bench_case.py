#!/usr/bin/env python3
# A seeded COCO val2017-sized evaluation case for bench/cocoeval.sh: 5,000 images, ~36k ground-truth
# instances over 80 categories (polygons, ~1% crowd regions as uncompressed RLE), and 100
# detections per image (500k) with box and compressed-RLE mask, like Detectron2's output.
# Runs with the pyenv python3 (3.11, has numpy and pycocotools); usage:
#   python3 scripts/cocoeval/gen_bench_case.py SEED OUTDIR
# writes OUTDIR/{gt.json, results_bbox.json, results_segm.json}
import json
import os
import sys

import numpy as np
from pycocotools import mask as mu

N_IMG, OBJ_PER_IMG, DETS_PER_IMG = 5000, 7.3, 100
CATS = [c for c in range(1, 91) if c not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]  # 80 ids


def polygon(rng, x, y, w, h, n):
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = rng.uniform(0.6, 1.0, n)
    return np.round(np.stack([x + w / 2 + np.cos(ang) * rad * w / 2,
                              y + h / 2 + np.sin(ang) * rad * h / 2], 1).ravel(), 2)


def box(rng, W, H):
    w, h = np.exp(rng.uniform(np.log(4), np.log(0.9 * W))), np.exp(rng.uniform(np.log(4), np.log(0.9 * H)))
    return rng.uniform(0, W - w), rng.uniform(0, H - h), w, h


def counts_of(m):
    flat = m.flatten(order="F")
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(flat.astype(np.int8))) + 1, [flat.size]])
    c = np.diff(bounds).tolist()
    return [0] + c if flat[0] else c


def main():
    seed, out = int(sys.argv[1]), sys.argv[2]
    rng = np.random.default_rng(seed)
    os.makedirs(out, exist_ok=True)
    images, anns, rb, rs = [], [], [], []
    for ii in range(N_IMG):
        img_id = 139 + 17 * ii
        W, H = int(rng.integers(320, 641)), int(rng.integers(240, 641))
        images.append({"id": img_id, "width": W, "height": H, "file_name": f"{img_id:012d}.jpg"})
        objs = []
        for _ in range(int(rng.poisson(OBJ_PER_IMG))):
            x, y, w, h = box(rng, W, H)
            objs.append((int(rng.choice(CATS)), (x, y, w, h), polygon(rng, x, y, w, h, int(rng.integers(6, 24)))))
        if objs:
            rles = mu.frPyObjects([p.tolist() for _, _, p in objs], H, W)
            for (cat, _, p), r in zip(objs, rles):
                crowd = rng.random() < 0.01
                segm = {"size": [H, W], "counts": counts_of(mu.decode(r))} if crowd else [p.tolist()]
                anns.append({"id": len(anns) + 1, "image_id": img_id, "category_id": cat,
                             "segmentation": segm, "area": float(mu.area(r)),
                             "bbox": [float(v) for v in mu.toBbox(r)], "iscrowd": int(crowd)})
        dets = []
        for (cat, _, p), a in zip(objs, anns[len(anns) - len(objs):]):
            x, y, w, h = a["bbox"]
            for _ in range(int(rng.integers(1, 4))):
                dx, dy = rng.normal(0, 0.05 * w), rng.normal(0, 0.05 * h)
                dcat = cat if rng.random() < 0.85 else int(rng.choice(CATS))
                dets.append((dcat, (x + dx, y + dy, w * rng.uniform(0.9, 1.1), h * rng.uniform(0.9, 1.1)),
                             p + np.tile([dx, dy], len(p) // 2), rng.uniform(0.2, 1.0)))
        while len(dets) < DETS_PER_IMG:
            x, y, w, h = box(rng, W, H)
            dets.append((int(rng.choice(CATS)), (x, y, w, h), polygon(rng, x, y, w, h, 12), rng.uniform(0, 0.6)))
        dets = dets[:DETS_PER_IMG]
        drles = mu.frPyObjects([np.round(p, 2).tolist() for _, _, p, _ in dets], H, W)
        scores = np.round([s for *_, s in dets], 3)
        for (cat, b, _, _), r, s in zip(dets, drles, scores):
            bb = [round(float(v), 2) for v in b]
            rb.append({"image_id": img_id, "category_id": cat, "bbox": bb, "score": float(s)})
            rs.append({"image_id": img_id, "category_id": cat, "bbox": bb, "score": float(s),
                       "segmentation": {"size": [H, W], "counts": r["counts"].decode()}})
    gt = {"info": {"description": f"bench seed {seed}"}, "images": images, "annotations": anns,
          "categories": [{"id": c, "name": f"class{c}", "supercategory": "x"} for c in CATS]}
    for name, obj in (("gt", gt), ("results_bbox", rb), ("results_segm", rs)):
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump(obj, f)
    print(f"{len(images)} images, {len(anns)} annotations, {len(rb)} results")


if __name__ == "__main__":
    main()
