#!/usr/bin/env python3
"""Writes the ResNet cfg files shipped in cfg/ (any python3; standard library only).

  resnet14 (CIFAR-style, 6n+2 with n=2, width 16) for the shapes classifier, one file per
  normalization setup of the MABN paper's small-batch experiment, and resnet50 (bottlenecks,
  ImageNet stem) for `mabdet bench`.
Run: python3 scripts/make_resnet_cfg.py  (rewrites cfg/resnet14_*.cfg and cfg/resnet50.cfg)
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
CFG = os.path.join(HERE, "..", "cfg")


def conv(filters, size, stride=1, act="linear", frm=None, name=None):
    lines = ["[convolutional]"]
    if name is not None:
        lines.append(f"name={name}")
    if frm is not None:
        lines.append(f"from={frm}")
    lines += [f"filters={filters}", f"size={size}", f"stride={stride}", f"pad={1 if size > 1 else 0}",
              f"activation={act}", ""]
    return lines


def shortcut(frm, name=None):
    return ["[shortcut]"] + ([f"name={name}"] if name else []) + [f"from={frm}", "activation=relu", ""]


# A stage's last block names its output res2, res3, ... (Detectron2's names), so that
# [net] freeze_at= and detector heads (from=res4) can find the stage ends.
def basic_block(c, stride, project, name=None):
    out = conv(c, 3, stride, "relu") + conv(c, 3, 1, "linear")
    if project:  # 1x1 projection of the block input (3 layers back), then add
        return out + conv(c, 1, stride, "linear", frm=-3) + shortcut(-2, name)
    return out + shortcut(-3, name)


def bottleneck(c, stride, project, name=None):
    out = conv(c, 1, 1, "relu") + conv(c, 3, stride, "relu") + conv(4 * c, 1, 1, "linear")
    if project:
        return out + conv(4 * c, 1, stride, "linear", frm=-4) + shortcut(-2, name)
    return out + shortcut(-4, name)


def write(name, header, body):
    with open(os.path.join(CFG, name), "w") as f:
        f.write("\n".join(header + [""] + body))


def resnet14():
    body = conv(16, 3, 1, "relu", name="stem")
    for i, c in enumerate([16, 32, 64]):
        for b in range(2):
            first = b == 0 and i > 0
            body += basic_block(c, 2 if first else 1, first, f"res{i + 2}" if b == 1 else None)
    body += ["[avgpool]", "", "[connected]", "output=10", "activation=linear", "", "[softmax]", ""]
    return body


# The MABN paper's classification setup at small scale: the SGD batch is always 32; the
# normalization batch is 32 (subdivisions=1) or 2 (subdivisions=16, sub-batches run in turn).
SETUPS = {
    "bn32": ("bn", 1, []),
    "bn2": ("bn", 16, []),
    "mabn2": ("mabn", 16, ["mabn_buffer=16", "mabn_warmup=100"]),
    "brn2": ("brn", 16, []),
    "gn2": ("gn", 16, ["gn_groups=4"]),
}


def main():
    body = resnet14()
    for tag, (norm, subdiv, extra) in SETUPS.items():
        header = [f"# ResNet-14 (width 16) on 32x32 shapes: norm={norm}, normalization batch {32 // subdiv},",
                  "# SGD batch 32. Written by scripts/make_resnet_cfg.py.",
                  "[net]", "batch=32", f"subdivisions={subdiv}", "width=32", "height=32", "channels=3",
                  "learning_rate=0.1", "momentum=0.9", "decay=0.0005", "burn_in=100", "power=1",
                  "policy=steps", "steps=2000,2600", "scales=0.1,0.1", "max_batches=3000", "seed=1",
                  f"norm={norm}"] + extra
        write(f"resnet14_{tag}.cfg", header, body)
    body = conv(64, 7, 2, "relu") + ["[maxpool]", "name=stem", "size=3", "stride=2", ""]
    for i, (c, n) in enumerate([(64, 3), (128, 4), (256, 6), (512, 3)]):
        for b in range(n):
            body += bottleneck(c, 2 if (b == 0 and i > 0) else 1, b == 0, f"res{i + 2}" if b == n - 1 else None)
    body += ["[avgpool]", "", "[connected]", "output=1000", "activation=linear", "", "[softmax]", ""]
    header = ["# ResNet-50 (bottlenecks, 224x224) for `mabdet bench`. Written by scripts/make_resnet_cfg.py.",
              "[net]", "batch=2", "subdivisions=1", "width=224", "height=224", "channels=3",
              "learning_rate=0.1", "momentum=0.9", "decay=0.0001", "max_batches=1", "norm=bn"]
    write("resnet50.cfg", header, body)


if __name__ == "__main__":
    main()
