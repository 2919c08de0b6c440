#!/usr/bin/python3
# Python: Debian's /usr/bin/python3 with python3-torch and python3-torchvision.
# Reference cases for the RLE path of mabdet's per-RoI mask targets, computed the way Detectron2
# does it: the bitmask is resized (nearest, centre rule: source floor((i + 0.5) * in / out) in exact
# integer math -- torch's "nearest-exact" and PIL compute it in floating point and are off by one
# where the product is an exact integer) and flipped with the image, then RoIAlign (output M x M, scale 1, adaptive sampling, aligned=True) over each box.
# Writes the raw RoIAlign values, so the test can tell a real disagreement from a value at 0.5.
# Usage: gen_mask_target_cases.py OUT.json [SEED]
import json
import sys

import numpy as np
import torch
from torchvision.ops import roi_align


def rle_counts(mask):
    """Column-major runs, background first (COCO's uncompressed form)."""
    flat = mask.T.reshape(-1).astype(np.uint8)
    counts, cur, run = [], 0, 0
    for v in flat:
        if v != cur:
            counts.append(run)
            cur, run = v, 0
        run += 1
    counts.append(run)
    return counts


def main(out, seed):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(24):
        h, w = int(rng.integers(12, 48)), int(rng.integers(12, 48))
        yy, xx = np.mgrid[0:h, 0:w]
        mask = np.zeros((h, w), bool)
        for _ in range(int(rng.integers(1, 4))):  # a few ellipses
            cy, cx = rng.uniform(0, h), rng.uniform(0, w)
            ry, rx = rng.uniform(2, h / 2), rng.uniform(2, w / 2)
            mask |= ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        out_h, out_w = int(rng.integers(8, 80)), int(rng.integers(8, 80))
        flip = bool(rng.integers(0, 2))
        ys = np.minimum(h - 1, (2 * np.arange(out_h) + 1) * h // (2 * out_h))
        xs = np.minimum(w - 1, (2 * np.arange(out_w) + 1) * w // (2 * out_w))
        aug = torch.from_numpy(mask[ys][:, xs].astype(np.float32))[None, None]
        if flip:
            aug = aug.flip(-1)
        boxes = []
        for _ in range(6):
            x1, x2 = sorted(rng.uniform(-4, out_w + 4, 2))
            y1, y2 = sorted(rng.uniform(-4, out_h + 4, 2))
            boxes.append([float(x1), float(y1), float(x2 + 0.5), float(y2 + 0.5)])
        M = int(rng.choice([7, 14, 28]))
        rois = torch.tensor([[0.0] + b for b in boxes], dtype=torch.float64)
        raw = roi_align(aug.double(), rois, (M, M), 1.0, 0, aligned=True)
        cases.append({"h": h, "w": w, "counts": rle_counts(mask), "out_h": out_h, "out_w": out_w, "flip": flip,
                      "M": M, "boxes": boxes, "raw": [[round(v, 6) for v in r.reshape(-1).tolist()] for r in raw]})
    with open(out, "w") as f:
        json.dump(cases, f)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1)
