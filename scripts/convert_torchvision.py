#!/usr/bin/python3
"""torchvision checkpoint -> mabdet weights. Uses Debian's /usr/bin/python3 (python3-torch, numpy).

  convert_torchvision.py IN.pth OUT.weights --cfg CFG [--backbone-only] [--mabdet BIN]
                         [--mabn exact|centred]

IN.pth is a state_dict (or a saved model, or a dict holding one under "model"/"state_dict") of a
torchvision resnet18/34/50/101 classifier or of fasterrcnn_resnet50_fpn / maskrcnn_resnet50_fpn.
The cfg's layers are asked of mabdet itself (`mabdet layout CFG`, and `mabdet init CFG` for the
values of whatever is not converted), then every torchvision tensor is mapped:

  backbone   in order: the classifier's conv1 and layer1..4, or the detector's backbone.body,
             onto the cfg's weighted layers up to the one named res5 (or up to the last
             [connected] for a classifier cfg); each conv with the BN after it
  fc         the classifier cfg's last [connected]
  FPN        backbone.fpn.inner_blocks.0..3 -> lat2..lat5, layer_blocks.0..3 -> p2..p5
  RPN        rpn.head.conv / cls_logits / bbox_pred -> [rpn] conv. / cls. / reg.
  box head   roi_heads.box_head (in order) -> the weighted layers between the box [roi_align] and
             [box_predictor]; box_predictor.cls_score / bbox_pred -> cls. / box. with the
             background row moved (torchvision's class 0 is mabdet's class K) and its deltas dropped
  mask head  roi_heads.mask_head + mask_predictor.conv5_mask -> the layers between the mask
             [roi_align] and [mask_predictor]; mask_fcn_logits -> [mask_predictor] (background dropped)

Any torchvision tensor left over, any weighted cfg layer left without a source, or any shape that
differs stops the conversion with a message naming both sides. --backbone-only converts the
backbone alone (from a classifier or a detector checkpoint) and leaves every other layer as
`mabdet init` draws it: the usual start of a detector from ImageNet weights.

A source BatchNorm goes into the layer's norm as the cfg says: bn / brn (affine and running
statistics), frozen_bn (its saved statistics), none (folded into the conv: weights scaled, the
bias set), mabn (see docs/pretrained.md and --mabn). The cfg's norm_eps is honoured by shifting
running_var by the difference to torchvision's 1e-5, so the normalized values stay the same.
"""
import argparse
import os
import subprocess
import sys
import tempfile
from collections import OrderedDict

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from mabdet_files import Weights  # noqa: E402

TORCH_BN_EPS = 1e-5


class ConvertError(Exception):
    pass


# ---- the torchvision side: modules grouped into units (a conv/linear and the BN after it) ----

class Unit:
    def __init__(self, prefix, weight, bias):
        self.prefix, self.weight, self.bias, self.bn, self.bn_prefix = prefix, weight, bias, None, None
        self.used = False

    def __repr__(self):
        return f"{self.prefix} {tuple(self.weight.shape)}" + (f" + {self.bn_prefix}" if self.bn else "")


def load_state_dict(path):
    import torch
    obj = torch.load(path, map_location="cpu")
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    for k in ("model", "state_dict"):
        if isinstance(obj, dict) and k in obj and isinstance(obj[k], dict):
            obj = obj[k]
    if not isinstance(obj, dict) or not obj:
        raise ConvertError(f"{path}: not a state_dict (got {type(obj).__name__})")
    return OrderedDict((k, v.detach().cpu().numpy().astype(np.float32)) for k, v in obj.items()
                       if not k.endswith("num_batches_tracked"))


def units_of(sd, path):
    modules = OrderedDict()
    for key, v in sd.items():
        mod, _, leaf = key.rpartition(".")
        modules.setdefault(mod, {})[leaf] = (key, v)
    units = []
    for mod, leaves in modules.items():
        if "running_mean" in leaves:
            need = {"weight", "bias", "running_mean", "running_var"}
            if set(leaves) != need:
                raise ConvertError(f"{path}: BatchNorm {mod} has {sorted(leaves)}, expected {sorted(need)}")
            if not units or units[-1].bn is not None:
                raise ConvertError(f"{path}: BatchNorm {mod} follows no conv")
            units[-1].bn = {k: v for k, (_, v) in leaves.items()}
            units[-1].bn_prefix = mod
            continue
        if set(leaves) - {"weight", "bias"} or "weight" not in leaves:
            raise ConvertError(f"{path}: module {mod} has {sorted(leaves)}: not a conv, linear or BatchNorm")
        units.append(Unit(mod, leaves["weight"][1], leaves.get("bias", (None, None))[1]))
    return units


def take(units, prefix, what):
    got = [u for u in units if u.prefix == prefix or u.prefix.startswith(prefix + ".")]
    if not got:
        raise ConvertError(f"the checkpoint has no {prefix}.* ({what})")
    return got


# ---- the mabdet side: `mabdet layout CFG` ----

class Layer:
    def __init__(self, index, type_, name):
        self.index, self.type, self.name, self.entries = index, type_, name, OrderedDict()

    def where(self):
        return f"cfg layer {self.index} [{self.type}]" + (f" name={self.name}" if self.name != "-" else "")

    def weighted(self):
        return any(e.endswith("weights") for e in self.entries)


def layout(mabdet, cfg):
    r = subprocess.run([mabdet, "layout", cfg], capture_output=True, text=True)
    if r.returncode:
        raise ConvertError(f"{mabdet} layout {cfg} failed:\n{r.stderr.strip()}")
    layers = []
    for line in r.stdout.splitlines():
        i, t, name, kind, entry, shape = line.split("\t")
        if int(i) == len(layers):
            layers.append(Layer(int(i), t, name))
        if kind != "-":
            layers[-1].entries[entry] = (kind, tuple(int(d) for d in shape.split("x")) if shape != "-" else None)
    return layers


def read_cfg(cfg):
    sys.path.insert(0, os.path.join(HERE, "..", "bench"))
    import torch_net  # the same INI reading as the other torch scripts
    return torch_net.parse(cfg)


# ---- one unit into one layer (or one prefix of a composite layer) ----

class Converter:
    def __init__(self, layers, secs, mabn_mode):
        self.layers, self.secs, self.mabn_mode = layers, secs, mabn_mode
        self.filled = {}  # (layer index, entry) -> array
        self.notes = []

    def key(self, layer, k, default):
        kv, net = self.secs[layer.index + 1][1], self.secs[0][1]
        return kv.get(k, net.get(k, default))

    def norm_of(self, layer, prefix):
        names = {e[len(prefix):] for e in layer.entries if e.startswith(prefix)}
        kinds = {e[len(prefix):]: k for e, (k, _) in layer.entries.items() if e.startswith(prefix)}
        if "norm.buf_x2" in names:
            return "mabn"
        if "norm.running_mean" in names:
            return "frozen_bn" if kinds["norm.gamma"] == "S" else "bn"  # bn or brn: the same entries
        if "norm.gamma" in names:
            return "gn"
        return "bias" if "norm.bias" in names or "bias" in names else "nobias"

    def put(self, layer, entry, value):
        kind, shape = layer.entries[entry]
        want = int(np.prod(shape))
        if value.size != want:
            raise ConvertError(f"{layer.where()} '{entry}' ({'x'.join(map(str, shape))}) gets {value.size} values")
        self.filled[(layer.index, entry)] = np.asarray(value, np.float32).ravel()

    def unit(self, layer, u, prefix="", rows=None, weights="weights"):
        """rows: source output rows to keep, in mabdet's order (class reordering)."""
        if u.used:
            raise ConvertError(f"{u.prefix} mapped twice")
        u.used = True
        w = u.weight if u.weight.ndim == 4 else u.weight.reshape(u.weight.shape + (1,) * (4 - u.weight.ndim))
        b = u.bias
        deconv = layer.type == "deconvolutional"
        if rows is not None:
            w, b = w[rows], (b[rows] if b is not None else None)
        kind, shape = layer.entries[prefix + weights]
        if tuple(w.shape) != shape:
            raise ConvertError(f"{u.prefix}.weight {tuple(u.weight.shape)} does not fit {layer.where()} "
                               f"'{prefix + weights}' {'x'.join(map(str, shape))}")
        norm = self.norm_of(layer, prefix)
        out_axis = 1 if deconv else 0
        n_out = w.shape[out_axis]
        if u.bn is None:
            if norm == "bias":
                bias_name = prefix + ("norm.bias" if prefix + "norm.bias" in layer.entries else "bias")
                self.put(layer, bias_name, b if b is not None else np.zeros(n_out, np.float32))
            elif norm != "nobias" or b is not None:
                raise ConvertError(f"{u.prefix} has no BatchNorm but {layer.where()} has norm {norm}"
                                   + (" and no bias" if norm == "nobias" else ""))
            self.put(layer, prefix + weights, w)
            return
        if b is not None:
            raise ConvertError(f"{u.prefix} has both a bias and a BatchNorm; not a torchvision layout")
        bn = dict(u.bn)
        eps = float(self.key(layer, "norm_eps", "1e-5"))
        var = bn["running_var"] + TORCH_BN_EPS - eps
        if (var <= 0).any():
            raise ConvertError(f"{u.bn_prefix}: running_var + 1e-5 - norm_eps ({eps}) <= 0 for "
                               f"{int((var <= 0).sum())} channels; lower norm_eps")
        p = prefix + "norm."
        if norm in ("bn", "frozen_bn"):
            self.put(layer, prefix + weights, w)
            for src, dst in (("weight", "gamma"), ("bias", "beta"), ("running_mean", "running_mean")):
                self.put(layer, p + dst, bn[src])
            self.put(layer, p + "running_var", var)
        elif norm == "bias":  # folded: the conv computes what conv + BN computed
            a = bn["weight"] / np.sqrt(var + eps)
            self.put(layer, prefix + weights, w * (a.reshape(1, -1, 1, 1) if deconv else a.reshape(-1, 1, 1, 1)))
            self.put(layer, p + "bias", bn["bias"] - bn["running_mean"] * a)
        elif norm == "mabn":
            self.mabn(layer, u, w, bn, var, eps, prefix + weights, p)
        else:
            raise ConvertError(f"{u.bn_prefix}: a BatchNorm cannot go into {layer.where()}'s norm {norm}")

    def mabn(self, layer, u, w, bn, var, eps, wname, p):
        """MABN divides by sqrt(running_var + eps) where running_var is the second moment E[z^2] of
        the conv output z (MABN.md: the filters are centred so that z has mean ~0), and subtracts no
        mean. So the BN mean goes into beta, running_var gets BN's second moment var + mean^2, and
        gamma is scaled by sqrt(var + mean^2 + eps) / sqrt(var + eps): the inference scale stays
        gamma / sqrt(var + eps) exactly, and a training forward, which divides by the batch's
        sqrt(E[z^2]) (empty buffers: warm-up uses batch statistics), starts where the source was.
        --mabn centred keeps the centring the cfg asks for: the filters lose their mean at every
        forward, so the net no longer computes what the source did (docs/pretrained.md)."""
        centralize = self.key(layer, "centralize", "1") not in ("0", "false")
        if self.mabn_mode == "exact" and centralize:
            raise ConvertError(f"{layer.where()}: --mabn exact needs centralize=0 on MABN convs (centring a "
                               f"pretrained filter changes its output); set it, or use --mabn centred")
        mean = bn["running_mean"]
        a = bn["weight"] / np.sqrt(var + eps)
        second = var + mean * mean
        self.put(layer, wname, w)
        self.put(layer, p + "gamma", a * np.sqrt(second + eps))
        self.put(layer, p + "beta", bn["bias"] - mean * a)
        self.put(layer, p + "running_var", second)
        if self.mabn_mode == "centred":
            mean_w = np.abs(w.reshape(w.shape[0], -1).mean(1))
            self.notes.append(f"{layer.where()}: filters will be centred (mean |filter mean| {mean_w.mean():.3g})")

    def write(self, mabdet, cfg, out, mapped_layers):
        """The cfg's fresh weights (`mabdet init`) with every converted entry replaced."""
        with tempfile.TemporaryDirectory() as tmp:
            r = subprocess.run([mabdet, "init", cfg, os.path.join(tmp, "init.weights")], capture_output=True, text=True)
            if r.returncode:
                raise ConvertError(f"{mabdet} init {cfg} failed:\n{r.stderr.strip()}")
            self.init = Weights(os.path.join(tmp, "init.weights"))
        for layer in mapped_layers:
            for e, (kind, shape) in layer.entries.items():
                if (layer.index, e) in self.filled:
                    self.init.layers[layer.index]["entries"][e] = self.filled[(layer.index, e)]
                elif not (layer.type == "convolutional" and e in ("norm.buf_x2", "norm.buf_gz", "norm.t")):
                    raise ConvertError(f"{layer.where()} '{e}' got no value from the checkpoint")
        self.init.save(out)


def zip_in_order(conv, layers, units, what):
    targets = [l for l in layers if l.weighted()]
    if len(targets) != len(units):
        raise ConvertError(f"{what}: the cfg has {len(targets)} weighted layers, the checkpoint {len(units)} "
                           f"convs/linears\n  cfg: {[l.where() for l in targets][:3]}...\n  checkpoint: {units[:3]}...")
    for l, u in zip(targets, units):
        conv.unit(l, u)
    return targets


def by_name(layers, name):
    for l in layers:
        if l.name == name:
            return l
    raise ConvertError(f"the cfg has no layer name={name}")


def head_between(layers, predictor):
    """The weighted layers between the [roi_align] that feeds `predictor` and it."""
    start = max(i for i in range(predictor.index) if layers[i].type == "roi_align")
    return [l for l in layers[start + 1:predictor.index] if l.weighted()]


def convert(a):
    sd = load_state_dict(a.input)
    units = units_of(sd, a.input)
    layers = layout(a.mabdet, a.cfg)
    secs = read_cfg(a.cfg)
    conv = Converter(layers, secs, a.mabn)
    detector_ckpt = any(u.prefix.startswith("backbone.body.") for u in units)
    detector_cfg = any(l.type == "rpn" for l in layers)
    backbone_units = [u for u in units if u.prefix.startswith("backbone.body.")] if detector_ckpt else \
        [u for u in units if u.prefix.split(".")[0] == "conv1" or u.prefix.startswith("layer")]
    if detector_cfg or a.backbone_only:
        end = by_name(layers, "res5").index
    else:
        last_fc = max(l.index for l in layers if l.type == "connected")
        end = last_fc - 1
    if not a.backbone_only and detector_cfg != detector_ckpt:
        raise ConvertError(f"{a.input} is a {'detector' if detector_ckpt else 'classifier'} checkpoint and "
                           f"{a.cfg} a {'detector' if detector_cfg else 'classifier'} cfg; "
                           f"--backbone-only takes the backbone alone")
    mapped = zip_in_order(conv, layers[:end + 1], backbone_units, "backbone")
    if not a.backbone_only:
        mapped += convert_heads(conv, layers, units, detector_cfg)
        left = [u for u in units if not u.used]
        if left:
            raise ConvertError(f"{len(left)} checkpoint modules have no place in {a.cfg}: {left[:4]}")
        rest = [l for l in layers if l.weighted() and l not in mapped]
        if rest:
            raise ConvertError(f"{len(rest)} weighted cfg layers have no source in {a.input}: "
                               f"{[l.where() for l in rest[:4]]}")
    conv.write(a.mabdet, a.cfg, a.output, mapped)
    n = sum(u.used for u in units)
    print(f"{a.output}: {n} of {len(units)} torchvision modules into {len(mapped)} of "
          f"{sum(l.weighted() for l in layers)} weighted layers of {a.cfg}"
          + (" (the rest freshly initialized)" if a.backbone_only else ""))
    for note in conv.notes[:3]:
        print("  " + note)


def convert_heads(conv, layers, units, detector):
    if not detector:
        fc = take(units, "fc", "the classifier's fc")
        last = max((l for l in layers if l.type == "connected"), key=lambda l: l.index)
        conv.unit(last, fc[0])
        return [last]
    mapped = []
    for i, lvl in enumerate(range(2, 6)):
        for tv, mb in (("inner_blocks", "lat"), ("layer_blocks", "p")):
            u = take(units, f"backbone.fpn.{tv}.{i}", f"the FPN's {tv}")
            layer = by_name(layers, f"{mb}{lvl}")
            conv.unit(layer, u[0])
            mapped.append(layer)
    rpn = [l for l in layers if l.type == "rpn"]
    if len(rpn) != 1:
        raise ConvertError(f"the cfg has {len(rpn)} [rpn] sections, expected 1")
    for tv, p in (("conv", "conv."), ("cls_logits", "cls."), ("bbox_pred", "reg.")):
        conv.unit(rpn[0], take(units, f"rpn.head.{tv}", "the RPN head")[0], prefix=p)
    mapped.append(rpn[0])
    box = [l for l in layers if l.type == "box_predictor"][0]
    head = head_between(layers, box)
    zip_in_order(conv, head, take(units, "roi_heads.box_head", "the box head"), "box head")
    mapped += head
    cls = take(units, "roi_heads.box_predictor.cls_score", "the box classifier")[0]
    K = cls.weight.shape[0] - 1
    mb_K = box.entries["cls.weights"][1][0] - 1
    if mb_K != K:
        raise ConvertError(f"{box.where()} has classes={mb_K}, the checkpoint {K} (+ background); "
                           f"set classes={K} or convert with --backbone-only")
    conv.unit(box, cls, prefix="cls.", rows=list(range(1, K + 1)) + [0], weights="weights")
    deltas = [r for k in range(1, K + 1) for r in range(4 * k, 4 * k + 4)]
    conv.unit(box, take(units, "roi_heads.box_predictor.bbox_pred", "the box regressor")[0], prefix="box.", rows=deltas)
    mapped.append(box)
    masks = [l for l in layers if l.type == "mask_predictor"]
    has_mask = any(u.prefix.startswith("roi_heads.mask_head") for u in units)
    if bool(masks) != has_mask:
        raise ConvertError(f"the checkpoint {'has' if has_mask else 'has no'} mask head, the cfg "
                           f"{'has' if masks else 'has no'} [mask_predictor]")
    if masks:
        head = head_between(layers, masks[0])
        src = take(units, "roi_heads.mask_head", "the mask head") + \
            take(units, "roi_heads.mask_predictor.conv5_mask", "the mask deconv")
        zip_in_order(conv, head, src, "mask head")
        mapped += head
        conv.unit(masks[0], take(units, "roi_heads.mask_predictor.mask_fcn_logits", "the mask logits")[0],
                  rows=list(range(1, K + 1)))
        mapped.append(masks[0])
    return mapped


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", help="torchvision checkpoint (.pth)")
    ap.add_argument("output", help="mabdet weights to write")
    ap.add_argument("--cfg", required=True)
    ap.add_argument("--backbone-only", action="store_true")
    ap.add_argument("--mabdet", default=os.path.join(HERE, "..", "mabdet"), help="the mabdet binary (default ./mabdet)")
    ap.add_argument("--mabn", choices=("exact", "centred"), default="exact",
                    help="BN into MABN: exact (needs centralize=0) or centred (filters centred; changes outputs)")
    a = ap.parse_args(argv)
    try:
        convert(a)
    except ConvertError as e:
        print(f"convert_torchvision: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
