#!/usr/bin/env python3
# Compares two mabdet checkpoints entry by entry to a tolerance (any python3: stdlib only).
#   weights_diff.py A.weights B.weights [--tol T] [--only P|S|V]... [--skip-state NAME]...
# An entry passes when max |a - b| <= T * max(1, max |a|); the report gives each kind's worst
# entry. Layout: include/mabdet/weights.h. Exit 0 if all compared entries pass, 1 otherwise, 2 on
# files that do not have the same layers, entries and sizes.
import argparse
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        b = f.read()
    at = [0]

    def take(fmt):
        v = struct.unpack_from("<" + fmt, b, at[0])
        at[0] += struct.calcsize("<" + fmt)
        return v

    def s():
        (n,) = take("I")
        v = b[at[0]:at[0] + n].decode()
        at[0] += n
        return v

    def tensor():
        (n,) = take("Q")
        return list(take("%df" % n)) if n else []

    if b[:8] != b"MABDETW\0":
        sys.exit("%s: not a mabdet weights file" % path)
    at[0] = 8
    version, flags = take("II")
    steps, _images = take("qq")
    if version >= 2:
        take("4Qqq")
    entries = []  # (kind, "layer I TYPE NAME", values)
    (layers,) = take("I")
    for i in range(layers):
        ltype = s()
        (n,) = take("I")
        for _ in range(n):
            (kind,) = take("B")
            name = s()
            label = "layer %d %s %s" % (i, ltype, name)
            if kind == ord("C"):
                entries.append(("C", label, [float(take("q")[0])]))
            else:
                entries.append((chr(kind), label, tensor()))
    if flags & 1:
        (n,) = take("I")
        for k in range(n):
            entries.append(("V", "velocity %d" % k, tensor()))
    return steps, entries


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--tol", type=float, default=1e-5)
    ap.add_argument("--only", action="append", default=[], help="kinds to compare: P params, S state, C counters, V velocity")
    args = ap.parse_args()
    sa, ea = read(args.a)
    sb, eb = read(args.b)
    if sa != sb or len(ea) != len(eb):
        print("step counts %d / %d, entries %d / %d" % (sa, sb, len(ea), len(eb)))
        return 2
    kinds = set(args.only or "PSCV")
    worst, ok = {}, True
    for (ka, la, va), (kb, lb, vb) in zip(ea, eb):
        if ka != kb or la != lb or len(va) != len(vb):
            print("entries differ: %s (%d) / %s (%d)" % (la, len(va), lb, len(vb)))
            return 2
        if ka not in kinds or not va:
            continue
        diff = max(abs(x - y) for x, y in zip(va, vb))
        scale = max(1.0, max(abs(x) for x in va))
        rel = diff / scale
        if rel > args.tol:
            ok = False
            print("FAIL %s: max |diff| %.3g (scale %.3g) > tol %.3g" % (la, diff, scale, args.tol))
        if rel >= worst.get(ka, (-1, ""))[0]:
            worst[ka] = (rel, la)
    for k in sorted(worst):
        print("kind %s: worst %s at %.3g (tol %.3g)" % (k, worst[k][1], worst[k][0], args.tol))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
