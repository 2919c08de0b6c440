#!/usr/bin/python3
"""The classifier run of `mabdet classifier train CFG DATA`, redone in PyTorch on the very same
images: same network (built from the cfg by bench/torch_net.py), same init policy, same SGD, same
lr schedule, same normalization batch (the cfg's subdivisions: sub-batches run one after the other
with the gradients summed), then top-1 on the same validation images with running BN statistics.
Uses Debian's python3 (/usr/bin/python3) with python3-torch and numpy.

The images come from `mabdet classifier export CFG DATA OUT.bin [INIT_WEIGHTS]`, which writes every
training image in training order and the validation set (format: include/mabdet/classifier_export.h).

  --init he       He normal over fan_in for conv and connected weights, zero biases, BN gamma 1 /
                  beta 0: mabdet's policy, drawn from torch's RNG (--seed)
  --init torch    PyTorch's default init (kaiming_uniform a=sqrt(5), uniform biases), for comparison
  --init-from W   start from mabdet's own initial weights (the INIT_WEIGHTS of the export), so both
                  trainings start bit-identical
  --compare W     after training, compare every param, running statistic and momentum buffer with
                  mabdet's checkpoint W after the same steps; exit 1 if any differs by more than --tol
                  (relative to the size of that tensor's change since init, or to its own size)
Variants that reproduce common mistakes, for explaining differences: --decay-all (weight decay on
BN and bias params too), --no-burn-in, --eval-batch-stats (validate with batch statistics).

Usage: /usr/bin/python3 scripts/torch_classifier_check.py CFG EXPORT.bin [--init he|torch]
         [--init-from W] [--steps N] [--seed K] [--threads T] [--compare W --tol X]
Prints "step N/M  loss ..." lines like mabdet's every --log-every steps, then "top-1: X (c/V)".
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bench"))
sys.path.insert(0, HERE)
import torch_net  # noqa: E402
from mabdet_files import Export, Weights  # noqa: E402


class Schedule:
    """[net] training keys with mabdet's defaults (include/mabdet/network.h) and learning_rate_at()
    of src/train/sgd.cpp."""

    def __init__(self, cfg, net):
        self.batch = int(net.get("batch", 1))
        self.subdivisions = int(net.get("subdivisions", 1))
        if self.subdivisions < 1 or self.batch % self.subdivisions:
            raise SystemExit(f"{cfg}: [net] batch={self.batch} is not a multiple of subdivisions={self.subdivisions}")
        self.lr = float(net.get("learning_rate", 0.01))
        self.momentum = float(net.get("momentum", 0.9))
        self.decay = float(net.get("decay", 1e-4))
        self.burn_in = int(net.get("burn_in", 0))
        self.power = float(net.get("power", 4))
        self.policy = net.get("policy", "constant")
        if self.policy not in ("constant", "steps"):
            raise SystemExit(f"{cfg}: [net] policy={self.policy}: this script knows constant | steps")
        ints = lambda k: [x for x in net.get(k, "").replace(" ", "").split(",") if x]  # noqa: E731
        self.steps = [int(s) for s in ints("steps")] if self.policy == "steps" else []
        self.scales = [float(s) for s in ints("scales")] if self.policy == "steps" else []
        self.max_batches = int(net.get("max_batches", 0))

    def lr_at(self, step, burn_in=True):
        if burn_in and self.burn_in > 0 and step < self.burn_in:
            return self.lr * ((step + 1) / self.burn_in) ** self.power
        lr = self.lr
        for s, k in zip(self.steps, self.scales):
            if step >= s:
                lr *= k
        return lr


def build(cfg):
    secs = torch_net.parse(cfg)
    net_kv = secs[0][1]
    for i, (t, kv) in enumerate(secs[1:]):
        norm = kv.get("norm", net_kv.get("norm", "none") if t == "convolutional" else "none")
        if t in ("convolutional", "connected") and norm not in ("bn", "none"):
            raise SystemExit(f"{cfg}: layer {i} [{t}] norm={norm}: this check knows bn and none only")
        if t not in ("convolutional", "connected", "shortcut", "avgpool", "softmax", "maxpool", "route"):
            raise SystemExit(f"{cfg}: layer {i} [{t}]: not supported by this check")
    net = torch_net.Net(secs)
    for (t, kv), mods in zip(secs[1:], net.mods):
        for m in mods:
            if isinstance(m, nn.BatchNorm2d):  # mabdet's keys; its momentum is the weight of the old value
                m.eps = float(kv.get("norm_eps", net_kv.get("norm_eps", 1e-5)))
                m.momentum = 1 - float(kv.get("norm_momentum", net_kv.get("norm_momentum", 0.9)))
    return net, Schedule(cfg, net_kv)


def mabdet_entries(net):
    """Per cfg layer, [(kind, mabdet name, torch tensor)] in the order mabdet saves them; the 'P'
    entries over all layers are net.params() order, the order of the momentum buffers."""
    out = []
    for (t, _, _), mods in zip(net.specs, net.mods):
        e = []
        lin = [m for m in mods if isinstance(m, (nn.Conv2d, nn.Linear))]
        bn = [m for m in mods if isinstance(m, nn.BatchNorm2d)]
        if lin:
            e.append(("P", "weights", lin[0].weight))
            if bn:
                e += [("P", "norm.gamma", bn[0].weight), ("P", "norm.beta", bn[0].bias),
                      ("S", "norm.running_mean", bn[0].running_mean), ("S", "norm.running_var", bn[0].running_var)]
            elif lin[0].bias is not None:
                e.append(("P", "norm.bias", lin[0].bias))
        out.append(e)
    return out


def load_mabdet(net, path):
    w = Weights(path)
    entries = mabdet_entries(net)
    if len(w.layers) != len(entries):
        raise SystemExit(f"{path}: {len(w.layers)} layers, the cfg has {len(entries)}")
    with torch.no_grad():
        for i, (layer, mine) in enumerate(zip(w.layers, entries)):
            names = [n for _, n, _ in mine]
            if list(layer["entries"]) != names:
                raise SystemExit(f"{path}: layer {i} ({layer['type']}) has {list(layer['entries'])}, expected {names}")
            for _, n, t in mine:
                v = layer["entries"][n]
                if v.size != t.numel():
                    raise SystemExit(f"{path}: layer {i} '{n}' has {v.size} values, the torch net {t.numel()}")
                t.copy_(torch.from_numpy(v).view_as(t))
    return w


def init(net, how, seed):
    torch.manual_seed(seed)
    if how == "torch":
        return
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):  # src/layers/weights.h: N(0, 2 / fan_in)
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def optimizer(net, sch, decay_all):
    # mabdet decays only conv/connected weights (decay_mult 0 for biases and norm affine params);
    # torch's SGD then matches its update: g += wd*w; v = m*v + g; w -= lr*v.
    decayed = [m.weight for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    ids = {id(p) for p in decayed}
    rest = [p for p in net.parameters() if id(p) not in ids]
    groups = [{"params": decayed, "weight_decay": sch.decay},
              {"params": rest, "weight_decay": sch.decay if decay_all else 0.0}]
    return torch.optim.SGD(groups, lr=sch.lr, momentum=sch.momentum)


def train(net, sch, data, steps, opt, a):
    sub = sch.batch // sch.subdivisions
    if steps * sch.batch > data.order.size:
        raise SystemExit(f"the export has {data.order.size} training positions, {steps} steps of {sch.batch} need "
                         f"{steps * sch.batch} (export with --stop-after {steps} or more)")
    net.train()
    avg, t0 = None, time.perf_counter()
    for step in range(steps):
        lr = sch.lr_at(step, burn_in=not a.no_burn_in)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=False)
        step_loss = 0.0
        for s in range(sch.subdivisions):  # the normalization batch: one forward per sub-batch
            x, y = data.positions(step * sch.batch + s * sub, sub)
            loss = F.cross_entropy(net(torch.from_numpy(x)), torch.from_numpy(y), reduction="sum") / sch.batch
            loss.backward()
            step_loss += loss.item()
        opt.step()
        avg = step_loss if avg is None else 0.95 * avg + 0.05 * step_loss
        if (step + 1) % a.log_every == 0 or step + 1 == steps:
            rate = (step + 1) * sch.batch / (time.perf_counter() - t0)
            print(f"step {step + 1}/{steps}  loss {step_loss:.4f}  avg {avg:.4f}  lr {lr:.5g}  {rate:.1f} img/s",
                  flush=True)


def top1(net, data, batch_stats):
    net.eval()
    if batch_stats:  # BN normalizes each validation chunk of 50 by its own statistics
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.train()
                m.momentum = 0.0
    correct = 0
    with torch.no_grad():
        for first in range(0, data.valid_label.size, 50):
            x = torch.from_numpy(np.array(data.valid_image[first:first + 50]))
            correct += int((net(x).argmax(1).numpy() == data.valid_label[first:first + 50]).sum())
    n = data.valid_label.size
    print(f"top-1: {correct / n:.4f} ({correct}/{n})")
    return correct / n


def compare(net, opt, start, path, tol):
    """Worst difference per tensor against mabdet's checkpoint, relative to the tensor's change
    since init (params), or to its own largest value (running statistics, momentum buffers)."""
    w = Weights(path)
    if w.velocity is None:
        raise SystemExit(f"{path}: has no optimizer state to compare (a _last.weights checkpoint has)")
    worst, i_param = [], 0
    for i, (layer, mine) in enumerate(zip(w.layers, mabdet_entries(net))):
        for kind, n, t in mine:
            ref, got = layer["entries"][n], t.detach().numpy().ravel()
            if kind == "P":
                scale = np.abs(ref - start[(i, n)]).max()
                vel_ref, vel = w.velocity[i_param], opt.state[t]["momentum_buffer"].numpy().ravel()
                worst.append((np.abs(vel - vel_ref).max() / max(np.abs(vel_ref).max(), 1e-12), f"{i} {n} momentum"))
                i_param += 1
            else:
                scale = np.abs(ref).max()
            worst.append((np.abs(got - ref).max() / max(scale, 1e-12), f"{i} {n}"))
    worst.sort(reverse=True)
    for err, what in worst[:3]:
        print(f"largest relative difference vs mabdet: {err:.2e}  layer {what}")
    ok = worst[0][0] <= tol
    print(f"compare with {path} after {w.steps} steps: {'ok' if ok else 'DIFFERENT'} (tolerance {tol:g})")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cfg")
    ap.add_argument("export")
    ap.add_argument("--init", choices=("he", "torch"), default="he")
    ap.add_argument("--init-from", help="mabdet's initial weights (the INIT_WEIGHTS of the export)")
    ap.add_argument("--steps", type=int, help="default: the cfg's max_batches")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--compare", help="mabdet checkpoint after the same steps")
    ap.add_argument("--tol", type=float, default=1e-3)
    ap.add_argument("--decay-all", action="store_true")
    ap.add_argument("--no-burn-in", action="store_true")
    ap.add_argument("--eval-batch-stats", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    net, sch = build(a.cfg)
    data = Export(a.export)
    if data.batch != sch.batch:
        raise SystemExit(f"{a.export}: exported for batch {data.batch}, {a.cfg} has batch={sch.batch}")
    if a.init_from:
        load_mabdet(net, a.init_from)
    else:
        init(net, a.init, a.seed)
    start = {(i, n): t.detach().numpy().ravel().copy()
             for i, e in enumerate(mabdet_entries(net)) for _, n, t in e}
    steps = a.steps if a.steps is not None else sch.max_batches
    opt = optimizer(net, sch, a.decay_all)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); {a.cfg}: {steps} steps of {sch.batch}, "
          f"normalization batch {sch.batch // sch.subdivisions}; init "
          f"{'from ' + a.init_from if a.init_from else a.init + ' (seed %d)' % a.seed}", flush=True)
    train(net, sch, data, steps, opt, a)
    ok = compare(net, opt, start, a.compare, a.tol) if a.compare else True
    top1(net, data, a.eval_batch_stats)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
