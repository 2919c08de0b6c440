#!/usr/bin/python3
"""torchvision's ResNet-50-FPN backbone (resnet_fpn_backbone: BatchNorm2d, every stage trained,
P6 by max-pool) on one random 1x3x800x1344 image, timed as `mabdet bench cfg/r50_fpn_backbone.cfg
--sum p2,p3,p4,p5,p6`: training-mode forward, then backward of the sum of every FPN output.
Uses Debian's python3 (/usr/bin/python3) with python3-torch and python3-torchvision. Prints one
line: "torch ms per forward+backward: X (...), peak RSS M MB".
Usage: /usr/bin/python3 bench/torch_fpn.py [--height 800 --width 1344 --iters K --threads T]
"""
import argparse
import os

import torch
from torchvision.models.detection.backbone_utils import resnet_fpn_backbone
from torch_timing import report_step_time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--height", type=int, default=800)
    ap.add_argument("--width", type=int, default=1344)
    ap.add_argument("--iters", type=int, default=2)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--device", default="cpu", help="cpu or cuda (scripts/gpu_check.sh)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    net = resnet_fpn_backbone(backbone_name="resnet50", weights=None, norm_layer=torch.nn.BatchNorm2d,
                              trainable_layers=5).train().to(a.device)
    x = (torch.rand(1, 3, a.height, a.width) * 2 - 1).to(a.device)

    def step():
        net.zero_grad(set_to_none=False)
        sum(o.sum() for o in net(x).values()).backward()

    report_step_time(step, a.iters, a.device)


if __name__ == "__main__":
    main()
