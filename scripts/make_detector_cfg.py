#!/usr/bin/env python3
"""Writes the detector cfg files shipped in cfg/ (any python3; standard library only).

  R50-FPN Faster / Mask R-CNN for COCO at 800x1333, Detectron2's defaults, one file per norm
  (mabn with its centred convs, bn, frozen_bn, gn, brn), and the small Mask R-CNN (a narrow
  ResNet-FPN at 160 px) that trains on `mabdet gendata` data on a CPU, one file per setup of the
  paper's small-batch detection experiment (SGD batch 8; normalization over 8 or 2 images).
Run: python3 scripts/make_detector_cfg.py   (rewrites cfg/*rcnn*.cfg)
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
CFG = os.path.join(HERE, "..", "cfg")


def sec(kind, **kv):
    lines = [f"[{kind}]"]
    for k, v in kv.items():
        if v is not None:
            lines.append(f"{k}={v}")
    return lines + [""]


def conv(filters, size, stride=1, act="relu", frm=None, name=None, **kv):
    return sec("convolutional", name=name, **{"from": frm}, filters=filters, size=size, stride=stride,
               pad=1 if size > 1 else 0, activation=act, **kv)


def shortcut(frm, name=None, act="relu"):
    return sec("shortcut", name=name, **{"from": frm}, activation=act)


def basic_block(c, stride, project, name=None):
    out = conv(c, 3, stride) + conv(c, 3, 1, "linear")
    if project:
        return out + conv(c, 1, stride, "linear", frm=-3) + shortcut(-2, name)
    return out + shortcut(-3, name)


def bottleneck(c, stride, project, name=None):
    # Detectron2's ResNet puts the stride on the 3x3 (STRIDE_IN_1X1=False for from-scratch MABN).
    out = conv(c, 1, 1) + conv(c, 3, stride) + conv(4 * c, 1, 1, "linear")
    if project:
        return out + conv(4 * c, 1, stride, "linear", frm=-4) + shortcut(-2, name)
    return out + shortcut(-4, name)


def resnet50():
    body = conv(64, 7, 2, name="stem") + sec("maxpool", size=3, stride=2)
    for i, (c, n) in enumerate([(64, 3), (128, 4), (256, 6), (512, 3)]):
        for b in range(n):
            body += bottleneck(c, 2 if b == 0 and i > 0 else 1, b == 0, f"res{i + 2}" if b == n - 1 else None)
    return body


def small_resnet(widths):
    # Stem at stride 4 (two stride-2 3x3 convs), then one basic block per stage: res2..res5 at
    # strides 4..32, as the FPN expects.
    body = conv(widths[0] // 2, 3, 2, name="stem") + conv(widths[0], 3, 2)
    for i, c in enumerate(widths):
        body += basic_block(c, 1 if i == 0 else 2, True, f"res{i + 2}")
    return body


def fpn(ch, **kv):
    body = []
    for lv in (5, 4, 3, 2):
        body += conv(ch, 1, 1, "linear", frm=f"res{lv}", name=f"lat{lv}", **kv)
    body += sec("upsample", **{"from": "lat5"}, stride=2) + shortcut("lat4", "m4", "linear")
    body += sec("upsample", stride=2) + shortcut("lat3", "m3", "linear")
    body += sec("upsample", stride=2) + shortcut("lat2", "m2", "linear")
    body += conv(ch, 3, 1, "linear", frm="lat5", name="p5", **kv)
    for lv in (4, 3, 2):
        body += conv(ch, 3, 1, "linear", frm=f"m{lv}", name=f"p{lv}", **kv)
    # P6: P5 subsampled by 2 (Detectron2's LastLevelMaxPool: kernel 1, stride 2).
    body += sec("maxpool", name="p6", **{"from": "p5"}, size=1, stride=2)
    return body


def heads(ch, fc, classes, rpn, roi, mask, box_convs=4):
    body = sec("rpn", name="rpn", **{"from": "p2,p3,p4,p5,p6"}, **rpn)
    body += sec("roi_sampler", name="rois", **{"from": "rpn,rpn:image"}, **roi)
    body += sec("roi_align", name="boxf", **{"from": "rois,rois:image,p2,p3,p4,p5"}, output=7, sampling_ratio=0)
    for k in range(box_convs):  # the paper's 4conv1fc head, every conv with the net's norm
        body += conv(ch, 3, 1)
    body += sec("connected", output=fc, activation="relu")
    body += sec("box_predictor", name="box", **{"from": "-1,rois,rois:image,rois:labels,rois:gt"})
    if mask:
        body += sec("roi_align", name="maskf", **{"from": "box,box:image,p2,p3,p4,p5"}, output=14,
                    sampling_ratio=0)
        for k in range(4):
            body += conv(ch, 3, 1)
        # The upsampling deconv has no norm in Detectron2, torchvision and maskrcnn-benchmark alike.
        body += sec("deconvolutional", filters=ch, size=2, stride=2, activation="relu", norm="none")
        body += sec("mask_predictor", name="mask", **{"from": "-1,box,box:image,box:classes,box:gt"})
    return body


NORM_KEYS = {
    "mabn": ["norm=mabn", "mabn_buffer=16", "mabn_warmup=100"],
    "bn": ["norm=bn"],
    "frozen_bn": ["norm=frozen_bn"],
    "gn": ["norm=gn", "gn_groups=32"],
    "brn": ["norm=brn"],
}


def write(name, lines):
    with open(os.path.join(CFG, name), "w") as f:
        f.write("\n".join(lines))


def coco_cfgs():
    for mask in (False, True):
        kind = "mask_rcnn" if mask else "faster_rcnn"
        for norm, keys in NORM_KEYS.items():
            header = [f"# {kind} R50-FPN for COCO (80 classes) at 800x1333, norm={norm} in backbone, FPN and heads.",
                      "# Detectron2's defaults (1x schedule: 90k steps of 16 images). Written by",
                      "# scripts/make_detector_cfg.py; data: scripts/get_coco.sh.",
                      "[net]", "batch=16", "subdivisions=8", "width=800", "height=800", "channels=3",
                      "classes=80", "min_size=640,672,704,736,768,800", "max_size=1333", "test_size=800",
                      "learning_rate=0.02", "momentum=0.9", "decay=0.0001", "burn_in=1000", "power=1",
                      "policy=steps", "steps=60000,80000", "scales=0.1,0.1", "max_batches=90000", "seed=1"]
            header += keys + (["freeze_at=2"] if norm == "frozen_bn" else [])
            body = resnet50() + fpn(256) + heads(256, 1024, 80, {}, {}, mask)
            write(f"{kind}_R50_FPN_{norm}.cfg", header + [""] + body)


# The paper's small-batch detection experiment at CPU scale: SGD batch 8 per step; norm=bn over
# all 8 images, or over 2 (subdivisions=4) for every norm.
SMALL = {
    "bn8": ("bn", 1),
    "bn2": ("bn", 4),
    "mabn2": ("mabn", 4),
    "gn2": ("gn", 4),
    "brn2": ("brn", 4),
}


# The README's main job: mabn2 on a schedule that fits in ~10 minutes on one core.
DEMO = {"max_batches": 600, "steps": "450,540"}


# lr 0.04: over 300 steps of BN@8 (seed 1, 200 images) it reached bbox AP 6.5 where 0.02 reached 4.0.
def small_cfgs():
    ch = 32
    for tag, (norm, subdiv) in list(SMALL.items()) + [("mabn2_demo", ("mabn", 4))]:
        keys = list(NORM_KEYS[norm])
        if norm == "gn":
            keys = ["norm=gn", "gn_groups=8"]
        header = [f"# Small Mask R-CNN (ResNet-FPN, widths 16-128, FPN and heads {ch} channels) on 160 px",
                  f"# `mabdet gendata` shapes: norm={norm} in backbone, FPN and heads, normalization over",
                  f"# {8 // subdiv} images, SGD batch 8. Written by scripts/make_detector_cfg.py.",
                  "[net]", "batch=8", f"subdivisions={subdiv}", "width=160", "height=160", "channels=3",
                  "classes=5", "min_size=160", "max_size=224", "test_size=160", "flip=0.5",
                  "learning_rate=0.04", "momentum=0.9", "decay=0.0001", "burn_in=100", "power=1",
                  "policy=steps", f"steps={DEMO['steps'] if 'demo' in tag else '1400,1800'}", "scales=0.1,0.1",
                  f"max_batches={DEMO['max_batches'] if 'demo' in tag else 2000}", "seed=1"] + keys
        rpn = {"anchor_sizes": "16,32,64,128,256", "pre_nms_topk_train": 1000, "post_nms_topk_train": 500,
               "pre_nms_topk_test": 500, "post_nms_topk_test": 300}
        roi = {"batch_per_image": 64}
        body = small_resnet([16, 32, 64, 128]) + fpn(ch) + heads(ch, 256, 5, rpn, roi, True)
        write(f"mask_rcnn_small_{tag}.cfg", header + [""] + body)


def torchvision_cfg():
    # torchvision's maskrcnn_resnet50_fpn as built without pretrained weights (BatchNorm in the
    # backbone, no norm in FPN and heads, TwoMLPHead, unaligned RoIAlign with 2 samples, its anchor
    # rounding and level rule, smooth L1 with beta 1/9, 2000 proposals, its small-box removal in
    # the RPN (1e-3) and the box head (1e-2), its mask paste), for bench/detector.sh and the
    # whole-model parity test against torchvision (tests/scripts/torchvision_parity.sh).
    header = ["# Mask R-CNN R50-FPN laid out as torchvision's maskrcnn_resnet50_fpn (weights=None), for",
              "# bench/detector.sh and tests/scripts/torchvision_parity.sh. Written by scripts/make_detector_cfg.py.",
              "[net]", "batch=2", "subdivisions=1", "width=800", "height=800", "channels=3", "classes=5",
              "min_size=800", "max_size=1333", "test_size=800", "learning_rate=0.02", "momentum=0.9",
              "decay=0.0001", "max_batches=1", "seed=1", "norm=bn", "mask_paste=torchvision"]
    plain = {"norm": "none"}
    body = resnet50() + fpn(256, **plain)
    body += sec("rpn", name="rpn", **{"from": "p2,p3,p4,p5,p6"}, anchor_style="torchvision", smooth_l1_beta="0.111111",
                pre_nms_topk_train=2000, post_nms_topk_train=2000, min_size=0.001)
    body += sec("roi_sampler", name="rois", **{"from": "rpn,rpn:image"})
    body += sec("roi_align", name="boxf", **{"from": "rois,rois:image,p2,p3,p4,p5"}, output=7, sampling_ratio=2,
                aligned=0, level_style="torchvision")
    body += sec("connected", output=1024, activation="relu") + sec("connected", output=1024, activation="relu")
    body += sec("box_predictor", name="box", **{"from": "-1,rois,rois:image,rois:labels,rois:gt"},
                smooth_l1_beta="0.111111", min_size=0.01)
    body += sec("roi_align", name="maskf", **{"from": "box,box:image,p2,p3,p4,p5"}, output=14, sampling_ratio=2,
                aligned=0, level_style="torchvision")
    for k in range(4):
        body += conv(256, 3, 1, **plain)
    body += sec("deconvolutional", filters=256, size=2, stride=2, activation="relu", **plain)
    body += sec("mask_predictor", name="mask", **{"from": "-1,box,box:image,box:classes,box:gt"})
    write("mask_rcnn_R50_FPN_tv.cfg", header + [""] + body)


def backbone_cfg():
    # The R50-FPN backbone alone (BatchNorm in ResNet-50, no norm in FPN), at one 800x1344 image:
    # the backbone row of bench/core.sh, against torchvision's resnet_fpn_backbone.
    header = ["# ResNet-50-FPN backbone (BatchNorm, FPN without norm) at 1x3x800x1344, for bench/core.sh",
              "# (`mabdet bench` backpropagates the sum of p2..p6). Written by scripts/make_detector_cfg.py.",
              "[net]", "batch=1", "width=1344", "height=800", "channels=3", "norm=bn"]
    write("r50_fpn_backbone.cfg", header + [""] + resnet50() + fpn(256, norm="none"))


if __name__ == "__main__":
    backbone_cfg()
    torchvision_cfg()
    coco_cfgs()
    small_cfgs()
