#!/usr/bin/env python3
# Python: the pyenv python3 (first on PATH), with numpy and pycocotools from PyPI.
# Reference cases for the polygon path of mabdet's per-RoI mask targets, computed the way
# Detectron2 does it: polygon coordinates (float64) scaled by out/in and flipped with the image,
# shifted into a float32 box, scaled to M x M (one factor when the box is square), then
# rasterized by pycocotools (frPyObjects, merge, decode).
# Usage: gen_polygon_target_cases.py OUT.json [SEED]
import json
import sys

import numpy as np
from pycocotools import mask as mask_util


def polygon(rng, w, h):
    n = int(rng.integers(3, 12))
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    r = rng.uniform(2, min(w, h) / 2)
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = r * rng.uniform(0.4, 1.0, n)
    return np.round(np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], 1).reshape(-1), 2)


def target(polys, box, M):
    box = np.asarray(box, dtype=np.float32)
    w, h = box[2] - box[0], box[3] - box[1]
    out = []
    for p in polys:
        p = p.copy()
        p[0::2] = p[0::2] - box[0]
        p[1::2] = p[1::2] - box[1]
        out.append(p)
    ratio_h = M / max(h, 0.1)
    ratio_w = M / max(w, 0.1)
    for p in out:
        if ratio_h == ratio_w:
            p *= ratio_h
        else:
            p[0::2] *= ratio_w
            p[1::2] *= ratio_h
    rle = mask_util.merge(mask_util.frPyObjects([list(map(float, p)) for p in out], M, M))
    return mask_util.decode(rle)


def main(path, seed):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(30):
        in_h, in_w = int(rng.integers(16, 64)), int(rng.integers(16, 64))
        polys = [polygon(rng, in_w, in_h) for _ in range(int(rng.integers(1, 3)))]
        out_h, out_w = int(rng.integers(12, 96)), int(rng.integers(12, 96))
        flip = bool(rng.integers(0, 2))
        moved = []
        for p in polys:
            q = p.astype(np.float64).copy()
            q[0::2] *= out_w / in_w
            q[1::2] *= out_h / in_h
            if flip:
                q[0::2] = out_w - q[0::2]
            moved.append(q)
        M = int(rng.choice([7, 14, 28]))
        boxes, targets = [], []
        for k in range(5):
            if k < 3:  # around a polygon, jittered, as proposals matched to it are
                q = moved[k % len(moved)]
                bx = [q[0::2].min(), q[1::2].min(), q[0::2].max(), q[1::2].max()]
                s = max(bx[2] - bx[0], bx[3] - bx[1]) * 0.25
                x1, y1, x2, y2 = (v + rng.uniform(-s, s) for v in bx)
                x1, x2 = min(x1, x2), max(x1, x2)
                y1, y2 = min(y1, y2), max(y1, y2)
            else:
                x1, x2 = sorted(rng.uniform(-3, out_w + 3, 2))
                y1, y2 = sorted(rng.uniform(-3, out_h + 3, 2))
            b = np.array([x1, y1, x2 + 0.3, y2 + 0.3], dtype=np.float32)
            boxes.append([float(v) for v in b])
            targets.append(target(moved, b, M).reshape(-1).tolist())
        cases.append({"in_w": in_w, "in_h": in_h, "out_w": out_w, "out_h": out_h, "flip": flip, "M": M,
                      "polygons": [p.tolist() for p in polys], "boxes": boxes, "targets": targets})
    with open(path, "w") as f:
        json.dump(cases, f)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1)
