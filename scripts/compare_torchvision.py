#!/usr/bin/python3
"""mabdet's outputs against torchvision's (scripts/torchvision_ref.py), for
tests/scripts/torchvision_parity.sh. Uses Debian's /usr/bin/python3 (numpy only).

  maskrcnn REF.npz DET.json DUMPDIR [--top N] [--fc-layer NAME]
      Stage by stage, so that a difference names where it starts:
        proposals   mabdet's [rpn] proposals (DUMPDIR/rpn.proposals.npy) against torchvision's RPN
                    output, row by row (both are sorted by score; a row agrees within 0.05 px) until
                    a near-tie swaps two, and as sets
        box head    the features entering [box_predictor] (DUMPDIR/FC.out.npy) against fc7's
        detections  the top N torchvision detections, each matched one to one to a mabdet detection
                    of the same class: box IoU > 0.99, score within 1e-3
        masks       the pasted masks of DET.json against torchvision's (IoU > 0.98); each matched
                    pair's 28x28 probabilities (DUMPDIR/mask.out.npy) are printed, not judged: the
                    box's last digits move RoIAlign's samples, and the logits are steep
  logits REF.npz LOGITS.npy
      max |difference| <= 1e-3 of the logits' scale (their largest magnitude)
Prints one line per stage; exit 1 when any check fails.
"""
import argparse
import json
import sys

import numpy as np


def rle_decode(counts, h, w):
    """COCO's compressed RLE string (column-major runs, starting with zeros) -> (h, w) bool."""
    runs, p = [], 0
    while p < len(counts):
        x, k, more = 0, 0, True
        while more:
            c = ord(counts[p]) - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(runs) > 2:
            x += runs[-2]
        runs.append(x)
    flat = np.zeros(h * w, bool)
    at, val = 0, False
    for r in runs:
        flat[at:at + r] = val
        at += r
        val = not val
    return flat.reshape(w, h).T


def iou(a, b):
    """Box IoU, a (4,) against b (M, 4)."""
    lt = np.maximum(a[:2], b[:, :2])
    rb = np.minimum(a[2:], b[:, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=1)
    area = lambda x: (x[..., 2] - x[..., 0]) * (x[..., 3] - x[..., 1])  # noqa: E731
    return inter / np.maximum(area(a) + area(b) - inter, 1e-12)


def mask_iou(a, b):
    u = np.logical_or(a, b).sum()
    return 1.0 if u == 0 else np.logical_and(a, b).sum() / u


class Report:
    def __init__(self, advisory=()):
        self.failed = []
        self.advisory = set(advisory)  # stages reported but not failed on

    def check(self, stage, ok, line):
        soft = not ok and stage in self.advisory
        print(f"{stage:<11} {'ok  ' if ok else 'off ' if soft else 'FAIL'} {line}")
        if not ok and not soft:
            self.failed.append(stage)


def maskrcnn(a):
    ref = np.load(a.ref)
    dets = json.load(open(a.det))
    rep = Report(s for s in a.advisory.split(",") if s)

    props = np.load(f"{a.dump}/rpn.proposals.npy").reshape(-1, 4)
    tv = ref["proposals"]
    n = min(len(props), len(tv))
    # Row by row while the two lists agree; near-ties in score may swap neighbours further down.
    same = 0
    while same < n and np.abs(tv[same] - props[same]).max() <= 0.05:
        same += 1
    # as sets: each of mabdet's top 300 has a torchvision proposal within 0.05 px (IoU would fail
    # the zero-width boxes clipped at the image border)
    near = np.array([np.abs(tv - p).max(1).min() <= 0.05 for p in props[:300]]) if len(tv) else np.zeros(0, bool)
    rep.check("proposals", len(props) == len(tv) and same >= min(n, 100) and near.mean() >= 0.99,
              f"mabdet {len(props)}, torchvision {len(tv)}; the first {same} agree row by row; "
              f"max |diff| over them {np.abs(props[:same] - tv[:same]).max() if same else float('nan'):.3g} px; "
              f"{near.mean() * 100:.1f}% of mabdet's top 300 have a torchvision proposal within 0.05 px")

    feats = np.load(f"{a.dump}/{a.fc_layer}.out.npy")
    feats = feats.reshape(feats.shape[0], -1)
    tvf = ref["box_features"]
    if same:
        d = np.abs(feats[:same] - tvf[:same]).max()
        scale = np.abs(tvf[:same]).max()
        rep.check("box head", d <= 1e-3 * scale, f"fc7 features of the {same} agreeing proposals: max |diff| {d:.3g} "
                  f"(scale {scale:.3g})")

    boxes = np.array([[d["bbox"][0], d["bbox"][1], d["bbox"][0] + d["bbox"][2], d["bbox"][1] + d["bbox"][3]]
                      for d in dets]).reshape(-1, 4)
    scores = np.array([d["score"] for d in dets])
    labels = np.array([d["category_id"] - 1 for d in dets])
    top = min(a.top, len(ref["scores"]))
    used = np.zeros(len(dets), bool)
    pairs, worst_iou, worst_score = [], 1.0, 0.0
    for i in range(top):
        cand = np.where((labels == ref["labels"][i]) & ~used)[0]
        if not len(cand):
            worst_iou = 0.0
            continue
        ious = iou(ref["boxes"][i], boxes[cand])
        j = cand[int(np.argmax(ious))]
        worst_iou = min(worst_iou, float(ious.max()))
        worst_score = max(worst_score, abs(float(scores[j]) - float(ref["scores"][i])))
        used[j] = True
        pairs.append((i, j))
    rep.check("detections", len(pairs) == top and worst_iou > 0.99 and worst_score <= 1e-3,
              f"top {top} of torchvision's {len(ref['scores'])} (mabdet {len(dets)}): {len(pairs)} matched one to one, "
              f"worst box IoU {worst_iou:.5f}, worst score diff {worst_score:.2g}")
    extra = len(dets) - len(ref["scores"])
    if extra:
        print(f"{'':<11}      mabdet has {extra:+d} detections in all")

    if "mask_prob" in ref.files:
        probs = np.load(f"{a.dump}/mask.out.npy")
        probs = probs.reshape(probs.shape[0], *probs.shape[-2:])
        dp = max(float(np.abs(probs[j] - ref["mask_prob"][i]).max()) for i, j in pairs) if pairs else 0.0
        ious = [mask_iou(rle_decode(dets[j]["segmentation"]["counts"], *dets[j]["segmentation"]["size"]), ref["masks"][i])
                for i, j in pairs]
        worst = min(ious) if ious else 1.0
        rep.check("masks", worst > 0.98,
                  f"28x28 probabilities max |diff| {dp:.2g}; pasted mask IoU worst {worst:.4f}, "
                  f"mean {np.mean(ious) if ious else 1.0:.4f}")
    return rep


def logits(a):
    ref = np.load(a.ref)["logits"].ravel()
    got = np.load(a.logits).ravel()
    rep = Report()
    if got.size != ref.size:
        rep.check("logits", False, f"mabdet has {got.size} values, torchvision {ref.size}")
        return rep
    d, scale = np.abs(got - ref).max(), np.abs(ref).max()
    rep.check("logits", d <= 1e-3 * scale, f"{ref.size} logits: max |diff| {d:.3g}, scale {scale:.3g} "
              f"({d / scale:.2g} of it); top-1 {int(got.argmax())} vs {int(ref.argmax())}")
    return rep


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    m = sub.add_parser("maskrcnn")
    m.add_argument("ref")
    m.add_argument("det")
    m.add_argument("dump")
    m.add_argument("--top", type=int, default=20)
    m.add_argument("--fc-layer", default="box_fc")
    m.add_argument("--advisory", default="", help="comma-separated stages to report without failing")
    c = sub.add_parser("logits")
    c.add_argument("ref")
    c.add_argument("logits")
    a = ap.parse_args()
    rep = {"maskrcnn": maskrcnn, "logits": logits}[a.what](a)
    if rep.failed:
        print(f"parity: FAILED at {', '.join(rep.failed)}")
        return 1
    print("parity: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
