#!/usr/bin/python3
"""Seeded random torchvision models and what they compute, for the whole-model parity tests
(tests/scripts/torchvision_parity.sh). Uses Debian's /usr/bin/python3 (python3-torch,
python3-torchvision, numpy); nothing is downloaded.

  maskrcnn OUTDIR [--height H --width W --classes K --seed S --detections D --score-thresh T]
      maskrcnn_resnet50_fpn (eval mode) -> OUTDIR/model.pth (state_dict), OUTDIR/image.png and
      OUTDIR/ref.npz: the RPN's proposals, the box head's features (fc7), class logits and deltas
      on them, the detections (boxes, scores, 0-based labels), each detection's 28x28 mask
      probabilities and torchvision's pasted masks (thresholded at 0.5).
  resnet50 OUTDIR [--size S --seed S]
      the resnet50 classifier (eval mode) -> OUTDIR/model.pth, OUTDIR/image.png, OUTDIR/ref.npz
      (logits of the image, normalized and centre-sized as the cfg feeds it).

Random weights as torchvision draws them would make a weak test: BN statistics of 0/1 mean the
backbone's activations grow block by block, and the heads' 0.01-std predictors give near-equal
scores and proposals that barely move their anchors. So the BN affine parameters are redrawn,
the running statistics are measured in train mode on generated images (cumulative average), and
the RPN and box predictors are redrawn wider, so that scores spread and boxes regress.
"""
import argparse
import os
import struct
import sys
import zlib

import numpy as np
import torch
import torch.nn as nn
import torchvision

# Predictor stds: scores spread over ~0.4..0.65 and boxes move a few pixels off their proposals.
CLS_STD, BOX_STD = 0.02, 0.01
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def write_png(path, rgb):
    """rgb: (H, W, 3) uint8. A plain 8-bit RGB PNG (no filter), standard library only."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def scene(g, h, w):
    """A generated picture: a smooth colour field, a few filled rectangles and discs, noise."""
    low = torch.rand(1, 3, max(2, h // 40), max(2, w // 40), generator=g)
    img = torch.nn.functional.interpolate(low, size=(h, w), mode="bilinear", align_corners=False)[0]
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    for k in range(8):
        cx, cy = float(torch.rand(1, generator=g)) * w, float(torch.rand(1, generator=g)) * h
        r = 10 + float(torch.rand(1, generator=g)) * min(h, w) / 4
        colour = torch.rand(3, 1, 1, generator=g)
        inside = ((xx - cx) ** 2 + (yy - cy) ** 2 < r * r) if k % 2 else ((xx - cx).abs() < r) & ((yy - cy).abs() < r * 0.6)
        img = torch.where(inside, colour.expand(3, h, w), img)
    img = (img + 0.04 * torch.randn(3, h, w, generator=g)).clamp(0, 1)
    return (img * 255).round().to(torch.uint8)


def calibrate_bn(body, g, h, w, images=2):
    """Redraws each BN's affine parameters and measures its running statistics on generated images
    (train mode, cumulative average), so that eval mode sees realistic, non-trivial statistics."""
    bns = [m for m in body.modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        for m in bns:
            m.weight.copy_(0.5 + torch.rand(m.num_features, generator=g))
            m.bias.copy_(0.2 * torch.randn(m.num_features, generator=g))
            m.reset_running_stats()
            m.momentum = None
        body.train()
        x = torch.stack([scene(g, h, w).float() / 255 for _ in range(images)])
        x = (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
        body(x)
        body.eval()
        for m in bns:
            m.momentum = 0.1


def redraw(layer, g, std):
    with torch.no_grad():
        layer.weight.copy_(std * torch.randn(layer.weight.shape, generator=g))
        layer.bias.copy_(std * torch.randn(layer.bias.shape, generator=g))


def maskrcnn(a):
    torch.manual_seed(a.seed)
    g = torch.Generator().manual_seed(a.seed)
    h, w = a.height, a.width
    # min/max size equal to the image's sides: the transform keeps the image as it is.
    m = torchvision.models.detection.maskrcnn_resnet50_fpn(
        weights=None, weights_backbone=None, num_classes=a.classes + 1, min_size=min(h, w), max_size=max(h, w),
        box_score_thresh=a.score_thresh, box_detections_per_img=a.detections)
    calibrate_bn(m.backbone.body, g, h, w)
    redraw(m.rpn.head.conv[0][0], g, 0.02)
    redraw(m.rpn.head.cls_logits, g, 0.025)
    redraw(m.rpn.head.bbox_pred, g, 0.02)
    redraw(m.roi_heads.box_predictor.cls_score, g, CLS_STD)
    redraw(m.roi_heads.box_predictor.bbox_pred, g, BOX_STD)
    m.eval()
    img = scene(g, h, w)
    caught = {}
    m.rpn.register_forward_hook(lambda mod, i, o: caught.__setitem__("proposals", o[0][0]))
    m.roi_heads.box_predictor.register_forward_hook(
        lambda mod, i, o: caught.setdefault("box", (o[0], o[1])))  # the first call: on the proposals
    m.roi_heads.box_head.register_forward_hook(lambda mod, i, o: caught.setdefault("box_features", o))
    m.roi_heads.mask_predictor.register_forward_hook(lambda mod, i, o: caught.__setitem__("mask_logits", o))
    with torch.no_grad():
        out = m([img.float() / 255])[0]
    labels = out["labels"] - 1  # torchvision's background is 0, mabdet's is K
    logits = caught["mask_logits"]
    mask_prob = logits[torch.arange(len(labels)), out["labels"]].sigmoid()
    os.makedirs(a.outdir, exist_ok=True)
    torch.save(m.state_dict(), os.path.join(a.outdir, "model.pth"))
    write_png(os.path.join(a.outdir, "image.png"), img.permute(1, 2, 0).contiguous().numpy())
    np.savez(os.path.join(a.outdir, "ref.npz"), proposals=caught["proposals"].numpy(),
             box_features=caught["box_features"].numpy(), box_logits=caught["box"][0].numpy(), box_deltas=caught["box"][1].numpy(),
             boxes=out["boxes"].numpy(), scores=out["scores"].numpy(), labels=labels.numpy(),
             mask_prob=mask_prob.numpy(), masks=(out["masks"][:, 0] > 0.5).numpy())
    print(f"maskrcnn: {len(caught['proposals'])} proposals, {len(labels)} detections, scores "
          f"{float(out['scores'].max()):.3f}..{float(out['scores'].min()):.3f} -> {a.outdir}")


def resnet50(a):
    torch.manual_seed(a.seed)
    g = torch.Generator().manual_seed(a.seed)
    m = torchvision.models.resnet50(weights=None)
    calibrate_bn(m, g, a.size, a.size)
    m.eval()
    img = scene(g, a.size, a.size)
    x = (img.float() / 255 - torch.tensor(MEAN).view(3, 1, 1)) / torch.tensor(STD).view(3, 1, 1)
    with torch.no_grad():
        logits = m(x[None])[0]
    os.makedirs(a.outdir, exist_ok=True)
    torch.save(m.state_dict(), os.path.join(a.outdir, "model.pth"))
    write_png(os.path.join(a.outdir, "image.png"), img.permute(1, 2, 0).contiguous().numpy())
    np.savez(os.path.join(a.outdir, "ref.npz"), logits=logits.numpy())
    print(f"resnet50: logits in [{float(logits.min()):.3f}, {float(logits.max()):.3f}] -> {a.outdir}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="model", required=True)
    d = sub.add_parser("maskrcnn")
    d.add_argument("outdir")
    d.add_argument("--height", type=int, default=250)
    d.add_argument("--width", type=int, default=300)
    d.add_argument("--classes", type=int, default=5)
    d.add_argument("--seed", type=int, default=1)
    d.add_argument("--detections", type=int, default=30)
    d.add_argument("--score-thresh", type=float, default=0.01)
    c = sub.add_parser("resnet50")
    c.add_argument("outdir")
    c.add_argument("--size", type=int, default=224)
    c.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    {"maskrcnn": maskrcnn, "resnet50": resnet50}[a.model](a)


if __name__ == "__main__":
    sys.exit(main())
