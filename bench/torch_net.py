#!/usr/bin/python3
"""The same network as a mabdet cfg, built in PyTorch, timed the same way as `mabdet bench`:
training-mode forward + backward (softmax cross-entropy) on random input.
Uses Debian's python3 (/usr/bin/python3) with python3-torch. Understands the cfg subset the
shipped cfgs use: net, convolutional, maxpool, avgpool, connected, softmax, shortcut, route,
upsample. Prints one line: "torch ms per forward+backward: X (...), peak RSS M MB".
Usage: /usr/bin/python3 bench/torch_net.py CFG --batch N --size S --iters K [--threads T]
"""
import argparse
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch_timing import report_step_time


def parse(path):
    secs = []
    for raw in open(path):
        line = raw.split("#")[0].split(";")[0].strip()
        if not line:
            continue
        if line.startswith("["):
            secs.append((line[1:-1], {}))
        else:
            k, v = line.split("=", 1)
            secs[-1][1][k.strip()] = v.strip()
    return secs


def norm_module(kind, c):
    if kind in ("bn", "mabn", "brn"):  # timing stand-in: the per-channel work of a batch norm
        return nn.BatchNorm2d(c)
    if kind == "gn":
        return nn.GroupNorm(min(32, c), c)
    return None


class Net(nn.Module):
    def __init__(self, secs):
        super().__init__()
        net = secs[0][1]
        self.default_norm = net.get("norm", "none")
        c = int(net.get("channels", 3))
        self.specs, mods, chans = [], [], []
        for i, (t, kv) in enumerate(secs[1:]):
            frm = [int(x) for x in kv.get("from", "-1").split(",")]
            ins = [i + f if f < 0 else f for f in frm]
            if t == "shortcut":
                ins = [i - 1] + ins
            cin = [chans[j] if j >= 0 else c for j in ins]
            act = kv.get("activation", "linear")
            if t == "convolutional":
                f, k, s = int(kv["filters"]), int(kv["size"]), int(kv.get("stride", 1))
                p = k // 2 if kv.get("pad", "0") == "1" else 0
                nk = kv.get("norm", self.default_norm)
                m = nn.ModuleList([nn.Conv2d(cin[0], f, k, s, p, bias=(nk == "none"))])
                nm = norm_module(nk, f)
                if nm is not None:
                    m.append(nm)
                out = f
            elif t == "maxpool":
                k, s = int(kv.get("size", 2)), int(kv.get("stride", 2))
                m, out = nn.ModuleList([nn.MaxPool2d(k, s, (k - 1) // 2)]), cin[0]
            elif t == "avgpool":
                m, out = nn.ModuleList([nn.AdaptiveAvgPool2d(1)]), cin[0]
            elif t == "connected":
                out = int(kv["output"])
                m = nn.ModuleList([nn.Flatten(), nn.Linear(cin[0], out)])
            elif t == "route":
                m, out = nn.ModuleList(), sum(cin)
            elif t == "upsample":
                m, out = nn.ModuleList([nn.Upsample(scale_factor=int(kv.get("stride", 2)))]), cin[0]
            elif t in ("shortcut", "softmax"):
                m, out = nn.ModuleList(), cin[0]
            else:
                raise SystemExit(f"torch_net.py: unsupported section [{t}]")
            self.specs.append((t, ins, act))
            mods.append(m)
            chans.append(out)
        self.mods = nn.ModuleList(mods)

    def forward(self, x):
        outs = []
        for (t, ins, act), m in zip(self.specs, self.mods):
            xs = [outs[j] if j >= 0 else x for j in ins]
            if t == "shortcut":
                y = xs[0] + xs[1]
            elif t == "route":
                y = torch.cat(xs, 1)
            else:
                y = xs[0]
                for mod in m:
                    y = mod(y)
            if act == "relu":
                y = F.relu(y)
            elif act == "leaky":
                y = F.leaky_relu(y, 0.1)
            elif act == "logistic":
                y = torch.sigmoid(y)
            outs.append(y)
        return outs[-1].flatten(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cfg")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--device", default="cpu", help="cpu or cuda (scripts/gpu_check.sh)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    net = Net(parse(a.cfg)).train().to(a.device)
    x = (torch.rand(a.batch, 3, a.size, a.size) * 2 - 1).to(a.device)
    out = net(x)
    y = torch.randint(0, out.shape[1], (a.batch,)).to(a.device)

    def step():
        net.zero_grad(set_to_none=False)
        F.cross_entropy(net(x), y).backward()

    report_step_time(step, a.iters, a.device)


if __name__ == "__main__":
    main()
