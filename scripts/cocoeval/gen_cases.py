#!/usr/bin/env python3
# Generates seeded random COCO evaluation cases for the differential test against pycocotools:
# varied image sizes, crowd regions, empty images, a category without ground truth, tied scores,
# images with more than 100 detections, tiny and huge objects, polygons, compressed and
# uncompressed RLE. Runs with the pyenv python3 (3.11, has numpy and pycocotools); usage:
#   python3 scripts/cocoeval/gen_cases.py SEED OUTDIR [N_IMAGES]
# writes OUTDIR/{gt,results_bbox,results_segm,results_both}.json
import json
import os
import sys

import numpy as np
from pycocotools import mask as mu

CATS = [1, 2, 3, 5, 8, 13, 21]  # 21 never has ground truth


def polygon_in_box(rng, x, y, w, h):
    n = int(rng.integers(3, 10))
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = rng.uniform(0.5, 1.0, n)
    xs = x + w / 2 + np.cos(ang) * rad * w / 2
    ys = y + h / 2 + np.sin(ang) * rad * h / 2
    return [round(float(v), 2) for p in zip(xs, ys) for v in p]


def rle_str(r):
    return {"size": [int(r["size"][0]), int(r["size"][1])], "counts": r["counts"].decode()}


def uncompressed(m):
    flat = m.flatten(order="F")
    change = np.flatnonzero(np.diff(flat.astype(np.int8))) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        counts = [0] + counts
    return {"size": [int(m.shape[0]), int(m.shape[1])], "counts": [int(c) for c in counts]}


def object_box(rng, W, H):
    kind = rng.integers(5)
    if kind == 0:
        s = rng.uniform(1, 6, 2)  # tiny
    elif kind == 1:
        s = rng.uniform(6, 32, 2)
    elif kind == 2:
        s = rng.uniform(32, 96, 2)
    elif kind == 3:
        s = rng.uniform(96, 400, 2)
    else:
        s = np.array([W, H]) * rng.uniform(0.7, 1.1)  # huge, may exceed the image
    w, h = float(min(s[0], W * 1.05)), float(min(s[1], H * 1.05))
    x, y = rng.uniform(-0.05 * w, max(W - 0.95 * w, 1)), rng.uniform(-0.05 * h, max(H - 0.95 * h, 1))
    return float(x), float(y), w, h


def shifted(m, dx, dy):
    out = np.zeros_like(m)
    H, W = m.shape
    ys, yd = (slice(0, H - dy), slice(dy, H)) if dy >= 0 else (slice(-dy, H), slice(0, H + dy))
    xs, xd = (slice(0, W - dx), slice(dx, W)) if dx >= 0 else (slice(-dx, W), slice(0, W + dx))
    out[yd, xd] = m[ys, xs]
    return np.asfortranarray(out)


def main():
    seed, out = int(sys.argv[1]), sys.argv[2]
    n_img = int(sys.argv[3]) if len(sys.argv) > 3 else 12
    rng = np.random.default_rng(seed)
    os.makedirs(out, exist_ok=True)
    images, anns, rb, rs, rboth = [], [], [], [], []
    ann_ids = rng.permutation(np.arange(1, 100000))  # non-contiguous ids in no particular order
    for ii in range(n_img):
        img_id = int(3 * ii + 7 + rng.integers(0, 3))
        W, H = int(rng.integers(16, 640)), int(rng.integers(16, 640))
        images.append({"id": img_id, "width": W, "height": H, "file_name": f"{img_id}.jpg"})
        n_obj = 0 if rng.random() < 0.15 else int(rng.integers(1, 14))
        masks = []
        for _ in range(n_obj):
            cat = int(rng.choice(CATS[:-1]))
            x, y, w, h = object_box(rng, W, H)
            crowd = int(rng.random() < 0.1)
            form = rng.integers(3) if not crowd else 1
            poly = polygon_in_box(rng, x, y, w, h)
            polys = [poly]
            if rng.random() < 0.2:
                polys.append(polygon_in_box(rng, *object_box(rng, W, H)))
            r = mu.merge(mu.frPyObjects(polys, H, W))
            m = mu.decode(r)
            if form == 0:
                segm = polys
            elif form == 1:
                segm = uncompressed(m)
            else:
                segm = rle_str(r)
            area = float(mu.area(r))
            bbox = [float(v) for v in mu.toBbox(r)]
            a = {"id": int(ann_ids[len(anns)]), "image_id": img_id, "category_id": cat,
                 "segmentation": segm, "area": area, "bbox": bbox, "iscrowd": crowd}
            anns.append(a)
            masks.append((cat, m, bbox))
        dets = []
        for cat, m, bbox in masks:
            for _ in range(int(rng.integers(0, 4))):
                dx, dy = int(rng.integers(-2, 3)), int(rng.integers(-2, 3))
                if bbox[2] > 20:
                    dx, dy = int(dx * bbox[2] / 20), int(dy * bbox[3] / 20)
                dm = shifted(m, dx, dy)
                dcat = cat if rng.random() < 0.9 else int(rng.choice(CATS))
                jb = [bbox[0] + dx + rng.normal(0, 1), bbox[1] + dy + rng.normal(0, 1),
                      bbox[2] * rng.uniform(0.8, 1.2), bbox[3] * rng.uniform(0.8, 1.2)]
                dets.append((dcat, dm, [round(float(v), 2) for v in jb]))
        n_fp = int(rng.integers(0, 6)) if rng.random() < 0.8 else int(rng.integers(95, 140))
        for _ in range(n_fp):
            x, y, w, h = object_box(rng, W, H)
            poly = polygon_in_box(rng, x, y, w, h)
            dm = mu.decode(mu.merge(mu.frPyObjects([poly], H, W)))
            dets.append((int(rng.choice(CATS)), dm, [round(v, 2) for v in (x, y, w, h)]))
        for cat, dm, box in dets:
            score = round(float(rng.choice([rng.random(), 0.5, 0.25])), 2)  # many ties
            r = mu.encode(np.asfortranarray(dm.astype(np.uint8)))
            rb.append({"image_id": img_id, "category_id": cat, "bbox": box, "score": score})
            rs.append({"image_id": img_id, "category_id": cat, "segmentation": rle_str(r),
                       "score": score})
            form = rng.integers(3)
            if form == 0:
                segm = rle_str(r)
            elif form == 1:
                segm = uncompressed(dm)
            else:  # the box as a polygon, as loadRes would make it, but explicit
                x, y, w, h = box
                segm = [[x, y, x, y + h, x + w, y + h, x + w, y]]
            rboth.append({"image_id": img_id, "category_id": cat, "bbox": box, "score": score,
                          "segmentation": segm})
    order = rng.permutation(len(rb))  # results in no particular image order
    rb, rs, rboth = ([lst[i] for i in order] for lst in (rb, rs, rboth))
    if rboth and "bbox" not in rboth[0]:
        raise SystemExit("bug: the first combined result needs a bbox")
    rng.shuffle(images)
    gt = {"info": {"description": f"gen_cases seed {seed}"}, "images": images, "annotations": anns,
          "categories": [{"id": c, "name": f"cat{c}", "supercategory": "x"} for c in CATS]}
    for name, obj in (("gt", gt), ("results_bbox", rb), ("results_segm", rs), ("results_both", rboth)):
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump(obj, f)


if __name__ == "__main__":
    main()
