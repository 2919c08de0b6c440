#!/usr/bin/env python3
# Writes random masks, polygons and boxes together with what pycocotools' mask module makes of them,
# for tests/test_mask.cpp to compare against (exact equality).
# Runs with the pyenv python3 (3.11) that has pycocotools installed; usage:
#   python3 scripts/cocoeval/gen_mask_cases.py SEED N_CASES OUT.json
import json
import sys

import numpy as np
from pycocotools import mask as mu


def enc_str(rle):
    return rle["counts"].decode() if isinstance(rle["counts"], bytes) else rle["counts"]


def random_mask(rng, h, w):
    kind = rng.integers(4)
    if kind == 0:  # sparse noise
        m = rng.random((h, w)) < rng.uniform(0.01, 0.6)
    elif kind == 1:  # a filled rectangle, possibly touching borders
        m = np.zeros((h, w), bool)
        y0, x0 = rng.integers(0, h), rng.integers(0, w)
        m[y0:y0 + rng.integers(1, h + 1), x0:x0 + rng.integers(1, w + 1)] = True
    elif kind == 2:  # empty or full
        m = np.full((h, w), bool(rng.integers(2)))
    else:  # a blob
        yy, xx = np.mgrid[0:h, 0:w]
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(0.5, max(h, w))
        m = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
    return np.asfortranarray(m.astype(np.uint8))


def uncompressed_counts(m):
    flat = m.flatten(order="F")
    counts, cur, run = [], 0, 0
    for v in flat:
        if v != cur:
            counts.append(run)
            run, cur = 0, v
        run += 1
    counts.append(run)
    return counts


def random_polygon(rng, h, w):
    n = int(rng.integers(3, 12))
    cx, cy = rng.uniform(-0.2 * w, 1.2 * w), rng.uniform(-0.2 * h, 1.2 * h)
    r = rng.uniform(0.3, max(h, w) * 0.7)
    ang = np.sort(rng.uniform(0, 2 * np.pi, n)) if rng.integers(3) else rng.uniform(0, 2 * np.pi, n)
    xs, ys = cx + r * np.cos(ang), cy + r * np.sin(ang)
    if rng.integers(4) == 0:  # integer and half-integer vertices hit the rounding edges
        xs, ys = np.round(xs * 2) / 2, np.round(ys * 2) / 2
    else:
        xs, ys = np.round(xs, 2), np.round(ys, 2)
    return [float(v) for p in zip(xs, ys) for v in p]


def main():
    seed, n, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        h, w = int(rng.integers(1, 60)), int(rng.integers(1, 60))
        masks = [random_mask(rng, h, w) for _ in range(int(rng.integers(1, 5)))]
        rles = mu.encode(np.asfortranarray(np.stack(masks, axis=2)))
        polys = [random_polygon(rng, h, w) for _ in range(int(rng.integers(1, 4)))]
        prles = mu.frPyObjects(polys, h, w)
        boxes = [[float(v) for v in np.round(rng.uniform([-5, -5, 0, 0], [w, h, w, h]), 2)]
                 for _ in range(int(rng.integers(1, 4)))]
        brles = mu.frPyObjects(np.array(boxes, dtype=np.double), h, w)
        allr = list(rles) + list(prles) + list(brles)
        crowd = [int(rng.integers(2)) for _ in allr]
        ious = mu.iou(allr, allr, crowd)
        cases.append({
            "h": h, "w": w,
            "masks": [{"counts": uncompressed_counts(m), "string": enc_str(r),
                       "area": int(mu.area(r)), "bbox": [float(v) for v in mu.toBbox(r)]}
                      for m, r in zip(masks, rles)],
            "polygons": [{"xy": p, "string": enc_str(r)} for p, r in zip(polys, prles)],
            "boxes": [{"box": b, "string": enc_str(r)} for b, r in zip(boxes, brles)],
            "merged_polygons": enc_str(mu.merge(prles)),
            "intersected_masks": enc_str(mu.merge(list(rles), intersect=True)),
            "crowd": crowd,
            "iou": [[float(v) for v in row] for row in np.asarray(ious)],
        })
    with open(out, "w") as f:
        json.dump(cases, f)


if __name__ == "__main__":
    main()
