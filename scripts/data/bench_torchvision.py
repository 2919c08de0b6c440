#!/usr/bin/python3
# Python: Debian's /usr/bin/python3 with python3-torch and python3-torchvision.
# The reference for bench/data.sh: the same pipeline as `mabdet databench` in torchvision --
# PNG decode, resize (short side S, long side <= L, bilinear with antialias), random horizontal
# flip, per-channel normalization, batches padded to a multiple of 32 -- fed by a DataLoader with
# W worker processes (one torch thread each). Prints images/s.
import json
import math
import os
import sys
import time

import torch
import torchvision
from torchvision.io import ImageReadMode, read_image
import torchvision.transforms.functional as F

MEAN = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1)


class Shapes(torch.utils.data.Dataset):
    def __init__(self, json_path, image_dir, short, max_size):
        with open(json_path) as f:
            self.files = [os.path.join(image_dir, im["file_name"]) for im in json.load(f)["images"]]
        self.short, self.max_size = short, max_size

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        img = read_image(self.files[i], ImageReadMode.RGB)
        h, w = img.shape[1:]
        scale = self.short / min(h, w)
        if max(h, w) * scale > self.max_size:
            scale = self.max_size / max(h, w)
        size = [int(h * scale + 0.5), int(w * scale + 0.5)]
        x = F.resize(img.float(), size, antialias=True)
        if torch.rand(1).item() < 0.5:
            x = x.flip(-1)
        return (x - MEAN) / STD


def collate(images):
    h = max(x.shape[1] for x in images)
    w = max(x.shape[2] for x in images)
    h, w = math.ceil(h / 32) * 32, math.ceil(w / 32) * 32
    out = torch.zeros(len(images), 3, h, w)
    for i, x in enumerate(images):
        out[i, :, : x.shape[1], : x.shape[2]] = x
    return out


def main(json_path, image_dir, workers, batches, short, max_size):
    torch.set_num_threads(1)
    ds = Shapes(json_path, image_dir, short, max_size)
    t0 = time.perf_counter()
    dl = torch.utils.data.DataLoader(ds, batch_size=2, shuffle=True, num_workers=workers, collate_fn=collate,
                                     drop_last=True, worker_init_fn=lambda _: torch.set_num_threads(1),
                                     prefetch_factor=2 if workers else None)
    # Steady state, as `mabdet databench` measures it: the clock starts at the first batch.
    n = b = 0
    first = None
    while b < batches:  # as many epochs as it takes
        for x in dl:
            b += 1
            if first is None:
                first = time.perf_counter()
            else:
                n += x.shape[0]
            if b == batches:
                break
    dt = time.perf_counter() - first
    print(f"torchvision {torchvision.__version__}: {n} images in {dt:.3f} s after the first batch "
          f"({first - t0:.3f} s): {n / dt:.1f} images/s (workers {workers})")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
