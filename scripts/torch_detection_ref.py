#!/usr/bin/python3
# Reference for the detection claim: torchvision's own Mask R-CNN (or Faster R-CNN), built with the
# same small ResNet-FPN as cfg/mask_rcnn_small_*.cfg (widths 8-16-32-64-128, FPN and heads 32
# channels, 4conv1fc box head with fc 256, anchors 16..256), trained from scratch on the same
# `mabdet gendata` data with the same schedule, and scored by `mabdet cocoeval`. If torchvision
# reaches an AP that mabdet does not on the same data, suspect mabdet.
# Interpreter: Debian's /usr/bin/python3 (python3-torch, python3-torchvision); no pycocotools needed.
# Usage: scripts/torch_detection_ref.py DATA_DIR OUT_DIR [--steps N] [--norm bn|gn] [--norm-batch K]
#        [--faster] [--threads T] [--seed S] [--init PTH] [--init-only]; then: mabdet cocoeval GT OUT_DIR/bbox.json
#        --iou bbox. OUT_DIR also gets init.pth and final.pth (state_dicts named as torchvision's
#        detectors, so scripts/convert_torchvision.py maps them onto the small cfg).
import argparse, json, math, os, random, time
from collections import OrderedDict

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import nn
from torchvision.models.detection import FasterRCNN, MaskRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNConvFCHead, FastRCNNPredictor
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.ops import MultiScaleRoIAlign
from torchvision.ops.feature_pyramid_network import FeaturePyramidNetwork, LastLevelMaxPool


def norm_factory(kind):
    if kind == "bn":
        return nn.BatchNorm2d
    if kind == "gn":
        return lambda c: nn.GroupNorm(min(32, c // 4) if c >= 8 else 1, c)
    raise SystemExit(f"torch_detection_ref.py: --norm {kind}: expected bn or gn")


def conv_norm(cin, cout, k, stride, norm, relu):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), norm(cout)]
    return nn.Sequential(*layers, nn.ReLU(inplace=True)) if relu else nn.Sequential(*layers)


class Block(nn.Module):  # the cfg's basic block: 3x3 (stride) relu, 3x3 linear, 1x1 shortcut always
    def __init__(self, cin, cout, stride, norm):
        super().__init__()
        self.a = conv_norm(cin, cout, 3, stride, norm, True)
        self.b = conv_norm(cout, cout, 3, 1, norm, False)
        self.short = conv_norm(cin, cout, 1, stride, norm, False)

    def forward(self, x):
        return torch.relu(self.b(self.a(x)) + self.short(x))


class SmallResNet(nn.Module):
    def __init__(self, norm, widths):
        super().__init__()
        self.stem = nn.Sequential(conv_norm(3, 8, 3, 2, norm, True), conv_norm(8, 16, 3, 2, norm, True))
        self.stages = nn.ModuleList(
            [Block(16 if i == 0 else widths[i - 1], w, 1 if i == 0 else 2, norm) for i, w in enumerate(widths)])

    def forward(self, x):
        x = self.stem(x)
        feats = OrderedDict()
        for i, s in enumerate(self.stages):
            x = s(x)
            feats[str(i)] = x
        return feats


class SmallResNetFPN(nn.Module):  # backbone.body / backbone.fpn, as torchvision names them
    def __init__(self, norm):
        super().__init__()
        widths = [16, 32, 64, 128]
        self.body = SmallResNet(norm, widths)
        self.fpn = FeaturePyramidNetwork(widths, 32, extra_blocks=LastLevelMaxPool(), norm_layer=norm)
        self.out_channels = 32

    def forward(self, x):
        return self.fpn(self.body(x))


def build(num_classes, norm_kind, faster):
    norm = norm_factory(norm_kind)
    kw = dict(min_size=160, max_size=224,
              rpn_anchor_generator=AnchorGenerator(((16,), (32,), (64,), (128,), (256,)), ((0.5, 1.0, 2.0),) * 5),
              rpn_pre_nms_top_n_train=1000, rpn_post_nms_top_n_train=500,
              rpn_pre_nms_top_n_test=500, rpn_post_nms_top_n_test=300,
              box_roi_pool=MultiScaleRoIAlign(["0", "1", "2", "3"], 7, 0),
              box_head=FastRCNNConvFCHead((32, 7, 7), [32] * 4, [256], norm_layer=norm),
              box_predictor=FastRCNNPredictor(256, num_classes + 1), box_batch_size_per_image=64)
    backbone = SmallResNetFPN(norm)
    if faster:
        return FasterRCNN(backbone, None, **kw)
    return MaskRCNN(backbone, None, mask_roi_pool=MultiScaleRoIAlign(["0", "1", "2", "3"], 14, 0),
                    mask_head=MaskRCNNHeads(32, [32] * 4, 1, norm_layer=norm),
                    mask_predictor=MaskRCNNPredictor(32, 32, num_classes + 1), **kw)


def decode_mask(seg, h, w):  # polygons (rasterized by PIL, close to COCO's) or RLE
    if isinstance(seg, list):
        im = Image.new("L", (w, h), 0)
        for poly in seg:
            ImageDraw.Draw(im).polygon([(poly[i], poly[i + 1]) for i in range(0, len(poly), 2)], fill=1)
        return np.asarray(im, np.uint8)
    counts = seg["counts"]
    if isinstance(counts, str):
        counts = compressed_counts(counts)
    flat = np.zeros(h * w, np.uint8)
    pos, val = 0, 0
    for c in counts:
        flat[pos:pos + c] = val
        pos += c
        val ^= 1
    return flat.reshape(w, h).T  # COCO RLE runs down columns


def compressed_counts(s):  # COCO's LEB128-like string form, as maskApi.c reads it
    counts, p = [], 0
    while p < len(s):
        x, k, more = 0, 0, True
        while more:
            c = ord(s[p]) - 48
            x |= (c & 0x1f) << 5 * k
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << 5 * k
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def rle_encode(mask):
    flat = mask.T.reshape(-1).astype(np.uint8)
    change = np.flatnonzero(np.diff(np.concatenate([[0], flat, [2]])) != 0)
    runs = np.diff(np.concatenate([[0], change]))
    counts = runs.tolist()
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": [int(c) for c in counts]}


class Shapes:
    def __init__(self, root, split, with_masks):
        data = dict(l.split("=", 1) for l in open(os.path.join(root, "shapes.data")).read().split("\n") if "=" in l)
        self.img_dir = os.path.join(root, data[f"{split}_images"])
        self.json = os.path.join(root, data[f"{split}_json"])
        coco = json.load(open(self.json))
        self.cats = sorted(c["id"] for c in coco["categories"])
        self.label = {c: i + 1 for i, c in enumerate(self.cats)}  # torchvision: 0 is background
        self.images = sorted(coco["images"], key=lambda im: im["id"])
        self.anns = {im["id"]: [] for im in self.images}
        for a in coco["annotations"]:
            if not a.get("iscrowd", 0):
                self.anns[a["image_id"]].append(a)
        self.with_masks = with_masks

    def load(self, i, flip):
        im = self.images[i]
        x = torch.from_numpy(np.asarray(Image.open(os.path.join(self.img_dir, im["file_name"])).convert("RGB")).copy())
        x = x.permute(2, 0, 1).float() / 255
        h, w = im["height"], im["width"]
        boxes = [[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]]
                 for a in self.anns[im["id"]]]
        t = {"boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
             "labels": torch.tensor([self.label[a["category_id"]] for a in self.anns[im["id"]]], dtype=torch.int64)}
        if self.with_masks:
            m = [decode_mask(a["segmentation"], h, w) for a in self.anns[im["id"]]]
            t["masks"] = torch.from_numpy(np.stack(m)) if m else torch.zeros(0, h, w, dtype=torch.uint8)
        if flip:
            x = x.flip(-1)
            b = t["boxes"].clone()
            t["boxes"][:, 0], t["boxes"][:, 2] = w - b[:, 2], w - b[:, 0]
            if self.with_masks:
                t["masks"] = t["masks"].flip(-1)
        return x, t


def lr_at(step, args):
    base = args.lr * (0.1 ** sum(step >= s for s in (int(args.steps * 0.73), int(args.steps * 0.9))))
    return base * min(1.0, (step + 1) / args.burn_in) if step < args.burn_in else base


def train(model, ds, args):
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim > 1]
    no_decay = [p for p in params if p.ndim <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": args.decay}, {"params": no_decay, "weight_decay": 0}],
                          lr=args.lr, momentum=0.9)
    rng = random.Random(args.seed)
    order, pos = [], 0
    model.train()
    t0 = time.time()
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args)
        opt.zero_grad()
        sums = {}
        for _ in range(args.batch // args.norm_batch):
            imgs, tgts = [], []
            for _ in range(args.norm_batch):
                if pos == len(order):
                    order, pos = list(range(len(ds.images))), 0
                    rng.shuffle(order)
                x, t = ds.load(order[pos], rng.random() < 0.5)
                pos += 1
                imgs.append(x)
                tgts.append(t)
            losses = model(imgs, tgts)
            loss = sum(losses.values()) / (args.batch // args.norm_batch)
            loss.backward()
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + v.item() / (args.batch // args.norm_batch)
        opt.step()
        if (step + 1) % args.log_every == 0 or step + 1 == args.steps:
            terms = "  ".join(f"{k.replace('loss_', '')} {v:.4f}" for k, v in sums.items())
            print(f"step {step + 1}/{args.steps}  loss {sum(sums.values()):.4f}  {terms}  lr {lr_at(step, args):g}"
                  f"  {(step + 1) * args.batch / (time.time() - t0):.2f} img/s", flush=True)


@torch.no_grad()
def evaluate(model, ds, out_dir, with_masks):
    model.eval()
    bbox, segm = [], []
    for i, im in enumerate(ds.images):
        x, _ = ds.load(i, False)
        r = model([x])[0]
        for k in range(len(r["scores"])):
            x0, y0, x1, y1 = r["boxes"][k].tolist()
            d = {"image_id": im["id"], "category_id": ds.cats[int(r["labels"][k]) - 1],
                 "score": float(r["scores"][k])}
            bbox.append(dict(d, bbox=[x0, y0, x1 - x0, y1 - y0]))
            if with_masks:
                segm.append(dict(d, segmentation=rle_encode((r["masks"][k, 0] > 0.5).numpy())))
    json.dump(bbox, open(os.path.join(out_dir, "bbox.json"), "w"))
    if with_masks:
        json.dump(segm, open(os.path.join(out_dir, "segm.json"), "w"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=1200)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--norm-batch", type=int, default=8, help="images per forward (per normalization)")
    ap.add_argument("--norm", default="bn")
    ap.add_argument("--lr", type=float, default=0.04)
    ap.add_argument("--decay", type=float, default=1e-4)
    ap.add_argument("--burn-in", type=int, default=100)
    ap.add_argument("--faster", action="store_true", help="Faster R-CNN (no mask branch)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--init", help="start from this state_dict (OUT/init.pth of another run)")
    ap.add_argument("--init-only", action="store_true", help="write OUT/init.pth (seeded) and stop")
    args = ap.parse_args()
    if args.batch % args.norm_batch:
        raise SystemExit("torch_detection_ref.py: --batch must be a multiple of --norm-batch")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    train_ds = Shapes(args.data, "train", not args.faster)
    val_ds = Shapes(args.data, "val", not args.faster)
    model = build(len(train_ds.cats), args.norm, args.faster)
    if args.init:
        model.load_state_dict(torch.load(args.init))
    torch.save(model.state_dict(), os.path.join(args.out, "init.pth"))
    if args.init_only:
        return
    t0 = time.time()
    train(model, train_ds, args)
    torch.save(model.state_dict(), os.path.join(args.out, "final.pth"))
    evaluate(model, val_ds, args.out, not args.faster)
    print(f"minutes {(time.time() - t0) / 60:.1f}; val json: {val_ds.json}", flush=True)


if __name__ == "__main__":
    main()
