#!/usr/bin/python3
# Reference for the detection claim: torchvision's own Mask R-CNN (or Faster R-CNN), built with the
# same small ResNet-FPN as cfg/mask_rcnn_small_*.cfg (widths 8-16-32-64-128, FPN and heads 32
# channels, 4conv1fc box head with fc 256, anchors 16..256), trained from scratch on the same
# `mabdet gendata` data with the same schedule, and scored by `mabdet cocoeval`. If torchvision
# reaches an AP that mabdet does not on the same data, suspect mabdet.
# Interpreter: Debian's /usr/bin/python3 (python3-torch, python3-torchvision); no pycocotools needed.
# Usage: scripts/torch_detection_ref.py DATA_DIR OUT_DIR [--steps N] [--norm bn|gn|mabn] [--norm-batch K]
#        [--mabn-buffer M] [--mabn-warmup W] [--faster] [--threads T] [--seed S] [--init PTH] [--init-only];
#        then: mabdet cocoeval GT OUT_DIR/bbox.json --iou bbox. OUT_DIR also gets init.pth and final.pth
#        (state_dicts named as torchvision's detectors, so scripts/convert_torchvision.py maps them onto
#        the small cfg).
# --norm mabn: MABN2d (/work/shared/MABN.md, float32) wherever bn would go, each fed by a conv whose
#        filters are centred at every forward (torch.nn.utils.parametrize), as mabdet's norm=mabn with
#        centralize=1; defaults as cfg/mask_rcnn_small_mabn2.cfg and mabdet (buffer 16, warm-up 100,
#        momentum 0.98, eps 1e-5). Each training forward (one sub-batch of --norm-batch images) is one
#        t of every MABN layer. init.pth/final.pth stay in bn's layout: conv weights uncentred (mabdet
#        centres them at every forward: convert with --mabn centred), each MABN as a BatchNorm with
#        running_mean 0, running_var, weight gamma, bias beta, num_batches_tracked t (the same
#        inference); the SMA buffers are not saved. A mabn init.pth equals bn's for the same seed
#        (MABN2d draws no random numbers), so mabdet's INIT=torchvision mabn2 runs start where this
#        script's mabn runs start. --init PTH into a mabn model takes such a bn-layout state_dict and
#        maps each BatchNorm as convert_torchvision.py does (beta absorbs the mean, running_var the
#        second moment), buffers empty, t = 0.
import argparse, json, math, os, random, time
from collections import OrderedDict

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import nn
from torch.nn.utils import parametrize
from torchvision.models.detection import FasterRCNN, MaskRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNConvFCHead, FastRCNNPredictor
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.ops import MultiScaleRoIAlign
from torchvision.ops.feature_pyramid_network import FeaturePyramidNetwork, LastLevelMaxPool


MABN_EPS, MABN_MOMENTUM = 1e-5, 0.98  # mabdet's norm_eps and mabn norm_momentum defaults
DIMS = (0, 2, 3)


def per_channel(v):
    return v.view(1, -1, 1, 1)


class MabnFunction(torch.autograd.Function):
    """MABN.md's training forward and its (intentionally inexact past warm-up) backward; `mod` is the
    MABN2d whose buffers and counter t this forward advances. The backward writes buf_gz at the t of
    the forward it belongs to."""

    @staticmethod
    def forward(ctx, x, gamma, beta, mod):
        mod.t += 1
        t = int(mod.t)
        x2 = (x * x).mean(dim=DIMS)
        mod.buf_x2[t % mod.m] = x2
        var = x2 if mod.batch_only(t) else mod.buf_x2.mean(dim=0)
        s = torch.sqrt(var + mod.eps)
        z = x / per_channel(s)
        lim = 1.0 if t <= max(1000, mod.warmup) else 5.0
        r = (s / torch.sqrt(mod.running_var + mod.eps)).clamp(1.0 / lim, lim)
        y = per_channel(gamma * r) * z + per_channel(beta)
        mod.running_var.mul_(mod.momentum).add_((1 - mod.momentum) * var)
        ctx.mod, ctx.t = mod, t
        ctx.save_for_backward(z, r, s, gamma)
        return y

    @staticmethod
    def backward(ctx, dy):
        z, r, s, gamma = ctx.saved_tensors
        mod, t = ctx.mod, ctx.t
        g = dy * per_channel(gamma * r)
        gz = (g * z).mean(dim=DIMS)
        mod.buf_gz[t % mod.m] = gz
        mgz = gz if mod.batch_only(t) else mod.buf_gz.mean(dim=0)
        dx = (g - z * per_channel(mgz)) / per_channel(s)
        dgamma = (dy * z).sum(dim=DIMS) * r
        dbeta = dy.sum(dim=DIMS)
        return dx, dgamma, dbeta, None


class MABN2d(nn.Module):
    """Moving-average batch normalization (MABN.md), float32: training forwards normalize by the
    quadratic mean (no mean subtracted) over the batch, then over the last `buffer` forwards once
    t > buffer and t >= warmup; inference is gamma * x / sqrt(running_var + eps) + beta."""

    def __init__(self, channels, buffer=16, warmup=100, momentum=MABN_MOMENTUM, eps=MABN_EPS):
        super().__init__()
        if buffer < 1 or warmup < 0:
            raise ValueError(f"MABN2d: buffer {buffer} must be >= 1 and warmup {warmup} >= 0")
        self.m, self.warmup, self.momentum, self.eps = buffer, warmup, momentum, eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))
        self.register_buffer("buf_x2", torch.zeros(buffer, channels))
        self.register_buffer("buf_gz", torch.zeros(buffer, channels))
        self.register_buffer("t", torch.zeros((), dtype=torch.long))

    def batch_only(self, t):
        return t <= self.m or t < self.warmup

    def forward(self, x):
        if self.training:
            return MabnFunction.apply(x, self.weight, self.bias, self)
        return per_channel(self.weight) * x / per_channel(torch.sqrt(self.running_var + self.eps)) + \
            per_channel(self.bias)

    def extra_repr(self):
        return f"{self.weight.numel()}, buffer={self.m}, warmup={self.warmup}, momentum={self.momentum}, eps={self.eps}"


class CentredFilters(nn.Module):
    """Weight centralization (MABN.md): each output filter loses its mean over (in/groups, kh, kw);
    autograd through it gives dW = dW_used - mean(dW_used)."""

    def forward(self, w):
        return w - w.mean(dim=(1, 2, 3), keepdim=True)


def centre_mabn_convs(model):
    """Centre every conv that feeds a MABN2d: in this model each MABN2d follows its conv inside an
    nn.Sequential (conv_norm, torchvision's Conv2dNormActivation). Called after construction, since
    torchvision's heads initialize conv.weight in place, which a parametrized weight would ignore."""
    n = 0
    for seq in [m for m in model.modules() if isinstance(m, nn.Sequential)]:
        kids = list(seq.children())
        for i, b in enumerate(kids):
            if isinstance(b, MABN2d):
                a = kids[i - 1] if i else None
                if not isinstance(a, nn.Conv2d) or a.bias is not None:
                    raise SystemExit(f"torch_detection_ref.py: a MABN2d follows {type(a).__name__}, "
                                     "not a bias-free conv")
                parametrize.register_parametrization(a, "weight", CentredFilters())
                n += 1
    total = sum(isinstance(m, MABN2d) for m in model.modules())
    if n != total:
        raise SystemExit(f"torch_detection_ref.py: {total - n} of {total} MABN2d layers have no conv to centre")
    return n


ORIGINAL = ".parametrizations.weight.original"


def export_state_dict(model):
    """model.state_dict() in bn's layout (see the header): what init.pth and final.pth hold."""
    sd = model.state_dict()
    mabn = {name for name, m in model.named_modules() if isinstance(m, MABN2d)}
    if not mabn:
        return sd
    out = OrderedDict()
    out._metadata = getattr(sd, "_metadata", None)
    for k, v in sd.items():
        mod, _, leaf = k.rpartition(".")
        if k.endswith(ORIGINAL):
            out[k[:-len(ORIGINAL)] + ".weight"] = v
        elif mod in mabn:
            if leaf == "running_var":
                out[mod + ".running_mean"] = torch.zeros_like(v)
                out[k] = v
            elif leaf == "t":
                out[mod + ".num_batches_tracked"] = v.clone()
            elif leaf in ("weight", "bias"):
                out[k] = v
            # buf_x2, buf_gz: not saved
        else:
            out[k] = v
    return out


def import_state_dict(model, sd):
    """--init: load a bn-layout state_dict; into a mabn model each BatchNorm is mapped as
    convert_torchvision.py maps one into mabdet's mabn (inference unchanged), buffers empty, t = 0."""
    mabn = {name: m for name, m in model.named_modules() if isinstance(m, MABN2d)}
    if not mabn:
        model.load_state_dict(sd)
        return
    centred = {name for name, m in model.named_modules() if parametrize.is_parametrized(m, "weight")}
    native = OrderedDict()
    for k, v in sd.items():
        mod, _, leaf = k.rpartition(".")
        if mod in centred and leaf == "weight":
            native[mod + ORIGINAL] = v
        elif mod not in mabn:
            native[k] = v
    for name, m in mabn.items():
        w, b, mean, var = (sd[f"{name}.{k}"].float() for k in ("weight", "bias", "running_mean", "running_var"))
        a = w / torch.sqrt(var + m.eps)
        second = var + mean * mean
        native[name + ".weight"] = a * torch.sqrt(second + m.eps)
        native[name + ".bias"] = b - mean * a
        native[name + ".running_var"] = second
        native[name + ".buf_x2"] = torch.zeros_like(m.buf_x2)
        native[name + ".buf_gz"] = torch.zeros_like(m.buf_gz)
        native[name + ".t"] = torch.zeros_like(m.t)
    model.load_state_dict(native)


def norm_factory(kind, mabn_buffer=16, mabn_warmup=100):
    if kind == "bn":
        return nn.BatchNorm2d
    if kind == "gn":
        return lambda c: nn.GroupNorm(min(32, c // 4) if c >= 8 else 1, c)
    if kind == "mabn":
        return lambda c: MABN2d(c, mabn_buffer, mabn_warmup)
    raise SystemExit(f"torch_detection_ref.py: --norm {kind}: expected bn, gn or mabn")


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


def build(num_classes, norm_kind, faster, mabn_buffer=16, mabn_warmup=100):
    model = build_plain(num_classes, norm_factory(norm_kind, mabn_buffer, mabn_warmup), faster)
    if norm_kind == "mabn":
        centre_mabn_convs(model)
    return model


def build_plain(num_classes, norm, faster):
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
    ap.add_argument("--norm", default="bn", help="bn, gn or mabn")
    ap.add_argument("--mabn-buffer", type=int, default=16,
                    help="mabn: forwards in the moving averages (cfg's mabn_buffer; 16 = 32 images over 2)")
    ap.add_argument("--mabn-warmup", type=int, default=100,
                    help="mabn: forwards on batch statistics only (cfg's mabn_warmup)")
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
    model = build(len(train_ds.cats), args.norm, args.faster, args.mabn_buffer, args.mabn_warmup)
    if args.norm == "mabn":
        n = sum(isinstance(m, MABN2d) for m in model.modules())
        print(f"norm mabn: {n} MABN2d layers, each after a centred conv; buffer {args.mabn_buffer}, warm-up "
              f"{args.mabn_warmup}, momentum {MABN_MOMENTUM}, eps {MABN_EPS}; one t per forward of "
              f"{args.norm_batch} images", flush=True)
    if args.init:
        import_state_dict(model, torch.load(args.init))
    torch.save(export_state_dict(model), os.path.join(args.out, "init.pth"))
    if args.init_only:
        return
    t0 = time.time()
    train(model, train_ds, args)
    torch.save(export_state_dict(model), os.path.join(args.out, "final.pth"))
    evaluate(model, val_ds, args.out, not args.faster)
    print(f"minutes {(time.time() - t0) / 60:.1f}; val json: {val_ds.json}", flush=True)


if __name__ == "__main__":
    main()
