#!/usr/bin/python3
"""torchvision's side of bench/detector.sh (Debian's /usr/bin/python3 with python3-torchvision).

One training iteration of maskrcnn_resnet50_fpn (no pretrained weights) on N synthetic S x S images
with 8 random boxes and polygon-ish masks each, and one inference at H x W, as mabdet detbench
does; prints the seconds and the process's peak RSS. torchvision resizes internally: min/max size
are set so that it keeps the given sizes.
"""
import argparse
import resource
import time

import torch
import torchvision


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-size", type=int, default=800)
    ap.add_argument("--images", type=int, default=2)
    ap.add_argument("--test-size", default="800x1344")
    ap.add_argument("--iters", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    th, tw = (int(v) for v in a.test_size.split("x"))
    S = a.train_size
    m = torchvision.models.detection.maskrcnn_resnet50_fpn(weights=None, weights_backbone=None, num_classes=6,
                                                          min_size=S, max_size=max(S, tw))
    g = torch.Generator().manual_seed(1)
    imgs = [torch.rand(3, S, S, generator=g) for _ in range(a.images)]
    targets = []
    for _ in range(a.images):
        xy = torch.rand(8, 2, generator=g) * S * 0.7
        wh = 16 + torch.rand(8, 2, generator=g) * S * 0.3
        boxes = torch.cat([xy, xy + wh], 1)
        masks = torch.zeros(8, S, S, dtype=torch.uint8)
        for k, b in enumerate(boxes.round().long().tolist()):
            masks[k, b[1]:b[3], b[0]:b[2]] = 1
        targets.append({"boxes": boxes, "labels": torch.arange(8) % 5 + 1, "masks": masks})
    m.train()
    opt = torch.optim.SGD(m.parameters(), lr=0.0)
    total = 0.0
    for it in range(a.iters + 1):
        t0 = time.perf_counter()
        loss = sum(m(imgs, targets).values())
        loss.backward()
        opt.zero_grad()
        if it:
            total += time.perf_counter() - t0
    print(f"train: {total / a.iters:.3f} s per iteration ({a.images} images {S}x{S}), loss {loss.item():.4f}, "
          f"peak RSS {peak_mb():.0f} MB")
    m.eval()
    img = torch.rand(3, th, tw, generator=g)
    m.transform.min_size = (th,)
    total = 0.0
    with torch.no_grad():
        for it in range(a.iters + 1):
            t0 = time.perf_counter()
            out = m([img])
            if it:
                total += time.perf_counter() - t0
    print(f"inference: {total / a.iters:.3f} s per image ({th}x{tw}), {len(out[0]['boxes'])} detections, "
          f"peak RSS {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
