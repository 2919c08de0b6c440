"""Readers for two mabdet binary files, for the Python cross-checks (numpy only; any python3).

- the export of `mabdet classifier export` (layout: include/mabdet/classifier_export.h), memory-mapped;
- a weights/checkpoint file (layout: include/mabdet/weights.h).
"""
import os

import numpy as np

EXPORT_MAGIC = b"MABDSHP\0"
WEIGHTS_MAGIC = b"MABDETW\0"


class Export:
    """Training table, order and validation set of one `classifier export` file."""

    def __init__(self, path):
        raw = np.memmap(path, dtype=np.uint8, mode="r")
        if bytes(raw[:8]) != EXPORT_MAGIC:
            raise SystemExit(f"{path}: not a mabdet classifier export (bad magic)")
        version, self.size, self.classes, self.batch = (int(v) for v in raw[8:24].view("<u4"))
        if version != 1:
            raise SystemExit(f"{path}: export version {version} is not supported (this script reads 1)")
        t, p, v = (int(n) for n in raw[24:48].view("<i8"))
        plane = 3 * self.size * self.size
        off = 48

        def take(dtype, count, shape):
            nonlocal off
            nbytes = np.dtype(dtype).itemsize * count
            if off + nbytes > raw.size:
                raise SystemExit(f"{path}: truncated (needs more than {raw.size} bytes)")
            a = np.frombuffer(raw, dtype=dtype, count=count, offset=off).reshape(shape)
            off += nbytes
            return a

        self.table_index = take("<i8", t, (t,))
        self.order = take("<i8", p, (p,))
        self.table_image = take("<f4", t * plane, (t, 3, self.size, self.size))
        self.table_label = take("<i8", t, (t,))
        self.valid_image = take("<f4", v * plane, (v, 3, self.size, self.size))
        self.valid_label = take("<i8", v, (v,))
        if off != raw.size:
            raise SystemExit(f"{path}: {raw.size - off} bytes after the validation labels")

    def positions(self, first, n):
        """Images (n, 3, S, S) and labels (n) at training positions [first, first + n)."""
        rows = self.order[first:first + n]
        return np.ascontiguousarray(self.table_image[rows]), self.table_label[rows].copy()


class Weights:
    """layers: one dict per cfg layer, {"type", "entries": {name: array or int}, "kinds": {name:
    'P' param | 'S' state tensor | 'C' counter}}; velocity: the optimizer's momentum buffers in
    net.params() order (None if the file has none). save() writes the file back (version 2)."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            data = f.read()
        self._d, self._o = data, 0
        if self._bytes(8) != WEIGHTS_MAGIC:
            raise SystemExit(f"{path}: not a mabdet weights file (bad magic)")
        version, flags = self._pod("<u4"), self._pod("<u4")
        if version not in (1, 2):
            raise SystemExit(f"{path}: weights format version {version} is not supported (this script reads 1 and 2)")
        self.steps, self.images_seen = self._pod("<i8"), self._pod("<i8")
        self.rng, self.data_epoch, self.data_index = [0, 0, 0, 0], 0, 0
        if version >= 2:  # the Context's rng state and the data position (epoch, index)
            self.rng = [self._pod("<u8") for _ in range(4)]
            self.data_epoch, self.data_index = self._pod("<i8"), self._pod("<i8")
        self.layers = []
        for _ in range(self._pod("<u4")):
            kind_name = self._str()
            entries, kinds = {}, {}
            for _ in range(self._pod("<u4")):
                kind, name = chr(self._pod("u1")), self._str()
                entries[name] = self._floats() if kind in "PS" else self._pod("<i8")
                kinds[name] = kind
            self.layers.append({"type": kind_name, "entries": entries, "kinds": kinds})
        self.velocity = [self._floats() for _ in range(self._pod("<u4"))] if flags & 1 else None
        if self._bytes(4) != b"END!":
            raise SystemExit(f"{path}: corrupt file (no end marker where expected)")

    def save(self, path):
        """Writes these layers (sizes as they are now) as a version 2 file; the momentum buffers are
        left out, so the result starts a run (or resumes its schedule at `steps`) with zero momentum.
        Written to PATH.tmp and renamed, so a failed write never leaves a half file under PATH."""
        out = [WEIGHTS_MAGIC, np.array([2, 0], "<u4").tobytes(), np.array([self.steps, self.images_seen], "<i8").tobytes(),
               np.array(self.rng, "<u8").tobytes(), np.array([self.data_epoch, self.data_index], "<i8").tobytes(),
               np.array([len(self.layers)], "<u4").tobytes()]

        def s(text):
            b = text.encode()
            return np.array([len(b)], "<u4").tobytes() + b

        for layer in self.layers:
            out += [s(layer["type"]), np.array([len(layer["entries"])], "<u4").tobytes()]
            for name, v in layer["entries"].items():
                kind = layer["kinds"][name]
                out += [kind.encode(), s(name)]
                if kind == "C":
                    out.append(np.array([v], "<i8").tobytes())
                else:
                    a = np.ascontiguousarray(v, dtype="<f4").ravel()
                    out += [np.array([a.size], "<u8").tobytes(), a.tobytes()]
        out.append(b"END!")
        with open(path + ".tmp", "wb") as f:
            f.write(b"".join(out))
        os.replace(path + ".tmp", path)

    def _bytes(self, n):
        if self._o + n > len(self._d):
            raise SystemExit(f"{self.path}: truncated at byte {self._o}")
        b = self._d[self._o:self._o + n]
        self._o += n
        return b

    def _pod(self, dtype):
        return int(np.frombuffer(self._bytes(np.dtype(dtype).itemsize), dtype=dtype)[0])

    def _str(self):
        return self._bytes(self._pod("<u4")).decode()

    def _floats(self):
        n = self._pod("<u8")
        return np.frombuffer(self._bytes(4 * n), dtype="<f4").copy()
