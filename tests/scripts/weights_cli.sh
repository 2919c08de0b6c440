#!/usr/bin/env bash
# mabdet init / layout / dump: a classifier run started from `mabdet init`'s file is bit-identical
# to a fresh run (same weights, same rng stream, data position 0); layout lists every entry of
# the file with its shape; dump writes .npy ports numpy reads (python3, standard library: the
# header); and their errors.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(realpath "${MABDET:-./mabdet}")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
for r in a b; do
  sed -e "s|^backup=.*|backup=$tmp/$r|" -e "s|^train_size=.*|train_size=200|" -e "s|^valid_size=.*|valid_size=50|" \
    data/shapes.data > "$tmp/$r.data"
done
sed -e "s/^max_batches=.*/max_batches=3/" cfg/resnet14_bn2.cfg > "$tmp/n.cfg"
"$BIN" classifier train "$tmp/n.cfg" "$tmp/a.data" > /dev/null 2>&1
"$BIN" init "$tmp/n.cfg" "$tmp/i.weights" | grep -qF "weights: $tmp/i.weights (24 layers, freshly initialized)"
"$BIN" classifier train "$tmp/n.cfg" "$tmp/b.data" "$tmp/i.weights" > /dev/null 2>&1
cmp "$tmp/a/n_final.weights" "$tmp/b/n_final.weights" || { echo "a run from mabdet init's file is not the fresh run"; exit 1; }
"$BIN" layout "$tmp/n.cfg" > "$tmp/layout.tsv"
grep -qP "^0\tconvolutional\tstem\tP\tweights\t16x3x3x3$" "$tmp/layout.tsv"
grep -qP "^0\tconvolutional\tstem\tS\tnorm.running_var\t1x16x1x1$" "$tmp/layout.tsv"
[ "$(cut -f1 "$tmp/layout.tsv" | sort -un | wc -l)" -eq 24 ]
"$BIN" gendata "$tmp/data" --train 1 --val 1 --size 64 > /dev/null 2>&1
img=$(ls "$tmp"/data/val*/* | head -1)
"$BIN" dump "$tmp/n.cfg" "$tmp/i.weights" "$img" "$tmp/d" --layers stem,22 | grep -qF "$tmp/d/22.out.npy"
python3 - "$tmp/d/stem.out.npy" "$tmp/d/22.out.npy" << 'PY'
import ast, struct, sys
for path, shape in zip(sys.argv[1:], [(1, 16, 32, 32), (1, 10, 1, 1)]):
    raw = open(path, "rb").read()
    assert raw[:8] == b"\x93NUMPY\x01\x00", path
    n = struct.unpack("<H", raw[8:10])[0]
    h = ast.literal_eval(raw[10:10 + n].decode())
    assert h["descr"] == "<f4" and h["shape"] == shape and (10 + n) % 64 == 0, (path, h)
    assert len(raw) - 10 - n == 4 * shape[1] * shape[2] * shape[3], path
PY
. "$(dirname "$0")/lib/expect_error.sh"
expect_error "usage: mabdet init CFG OUT.weights" "$BIN" init "$tmp/n.cfg"
expect_error "usage: mabdet layout CFG" "$BIN" layout
expect_error "dump --layers: 'nosuch' is neither a layer name nor an index below 24" \
  "$BIN" dump "$tmp/n.cfg" "$tmp/i.weights" "$img" "$tmp/d" --layers nosuch
expect_error "dump -out: $tmp/n.cfg is not a detector cfg" "$BIN" dump "$tmp/n.cfg" "$tmp/i.weights" "$img" "$tmp/d" -out "$tmp/x.json"
expect_error "$tmp/nodir/x.weights" "$BIN" init "$tmp/n.cfg" "$tmp/nodir/x.weights"
echo "weights cli: init starts the fresh run, layout and dump as documented, errors exit 1"
