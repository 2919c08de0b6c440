#!/usr/bin/env bash
# `mabdet classifier` on image files: a tiny set of noisy red / green / blue images of mixed sizes
# (written as PPM by Debian's /usr/bin/python3, standard library only) as an ImageNet-style folder
# and as list files. A tiny net must reach high valid top-1 on both, and the list run (same images,
# same order, same labels) must train bit-identically to the folder run. Then every bad input
# exits 1 with a message naming the file (and line).
set -euo pipefail
BIN=${MABDET:-./mabdet}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

/usr/bin/python3 - "$tmp/d" <<'EOF'
import os, random, sys
root = sys.argv[1]
rng = random.Random(5)
colours = {"red": (200, 40, 40), "green": (40, 190, 40), "blue": (40, 40, 210)}
for split, n in (("train", 10), ("val", 6)):
    for name, base in colours.items():
        os.makedirs(f"{root}/{split}/{name}", exist_ok=True)
        for i in range(n):
            w, h = rng.randint(9, 24), rng.randint(9, 24)
            px = bytes(max(0, min(255, c + rng.randint(-45, 45))) for _ in range(w * h) for c in base)
            with open(f"{root}/{split}/{name}/{i:02d}.ppm", "wb") as f:
                f.write(b"P6 %d %d 255\n" % (w, h) + px)
EOF
d=$tmp/d
printf 'train=train\nvalid=val\nbackup=backup\n' > "$d/folder.data"
printf 'red\ngreen\nblue\n' > "$d/rgb.names"
# The folder's order (classes sorted: blue, green, red; files sorted) as lists: names as labels for
# training, integers for validation.
for c in blue green red; do for f in "$d"/train/$c/*.ppm; do echo "train/$c/$(basename "$f") $c"; done; done > "$d/train.txt"
for c in 0 1 2; do n=$(echo blue green red | cut -d' ' -f$((c + 1)))
  for f in "$d"/val/$n/*.ppm; do echo "val/$n/$(basename "$f") $c"; done; done > "$d/val.txt"
printf 'blue\ngreen\nred\n' > "$d/bgr.names"
printf 'train_list=train.txt\nvalid_list=val.txt\nnames=bgr.names\nbackup=backup\n' > "$d/list.data"

cat > "$tmp/tiny.cfg" <<'EOF'
[net]
batch=8
subdivisions=2
width=8
height=8
channels=3
learning_rate=0.05
momentum=0.9
decay=0.0005
max_batches=40
seed=1

[convolutional]
filters=8
size=3
stride=1
pad=1
norm=bn
activation=relu

[avgpool]

[connected]
output=3
activation=linear

[softmax]
EOF

top1_at_least() {  # log minimum
  local got
  got=$(sed -nE 's/^top-1: ([0-9.]+) \(.*/\1/p' "$1")
  [ -n "$got" ] || { echo "no top-1 line in $1:"; cat "$1"; exit 1; }
  awk -v g="$got" -v m="$2" 'BEGIN { exit !(g >= m) }' || { echo "top-1 $got < $2 ($1)"; exit 1; }
  echo "$(basename "$1" .log): top-1 $got"
}
OPENBLAS_NUM_THREADS=1 "$BIN" classifier train "$tmp/tiny.cfg" "$d/folder.data" > "$tmp/folder.log" 2>&1
grep -q "saved $d/backup/tiny_final.weights" "$tmp/folder.log"
top1_at_least "$tmp/folder.log" 0.9
OPENBLAS_NUM_THREADS=1 "$BIN" classifier train "$tmp/tiny.cfg" "$d/list.data" > "$tmp/list.log" 2>&1
top1_at_least "$tmp/list.log" 0.9
step_line() { grep '^step 40/40' "$1" | sed 's/ *[0-9.]* img\/s//'; }
[ -n "$(step_line "$tmp/folder.log")" ] && [ "$(step_line "$tmp/folder.log")" = "$(step_line "$tmp/list.log")" ] ||
  { echo "folder and list runs differ:"; grep '^step' "$tmp/folder.log" "$tmp/list.log"; exit 1; }
"$BIN" classifier valid "$tmp/tiny.cfg" "$d/folder.data" "$d/backup/tiny_final.weights" > "$tmp/valid.log"
grep -qE '^  red +[0-9.]+ \(6 images\)$' "$tmp/valid.log"
top1_at_least "$tmp/valid.log" 0.9

expect_error() {  # expected-message command... (a message ending in '(' is a prefix: the decoder's reason follows)
  local want=$1; shift
  local rc=0
  "$@" > "$tmp/err.log" 2>&1 || rc=$?
  [ "$rc" -eq 1 ] || { echo "expected exit 1, got $rc: $*"; cat "$tmp/err.log"; exit 1; }
  local got; got=$(grep '^mabdet: ' "$tmp/err.log" || true)
  if [ "${want: -1}" = "(" ]; then [[ "$got" == "mabdet: $want"* ]]; else [ "$got" = "mabdet: $want" ]; fi ||
    { echo "wanted 'mabdet: $want', got:"; cat "$tmp/err.log"; exit 1; }
}
train() { expect_error "$1" "$BIN" classifier train "$tmp/tiny.cfg" "$2"; }
bad=$d/bad.data
printf 'train=nope\nvalid=val\n' > "$bad"
train "$d/nope: no such folder" "$bad"
printf 'train=train\nvalid=val\nclasses=2\n' > "$bad"
train "$bad:3 classes=2: the training folder $d/train has 3 class subfolders" "$bad"
printf 'train=train\nvalid=val\nnames=rgb.names\nclasses=4\n' > "$bad"
train "$bad:4 classes=4: the names file $d/rgb.names has 3 names" "$bad"
mkdir -p "$d/flat"; cp "$d/train/red/00.ppm" "$d/flat/"
printf 'train=flat\nvalid=val\n' > "$bad"
train "$d/flat: no class subfolders (the folder needs one subfolder of images per class)" "$bad"
mkdir -p "$d/train/grey"; echo "no images here" > "$d/train/grey/README"
printf 'train=train\nvalid=val\n' > "$bad"
train "$d/train/grey: class folder holds no images (.jpg .jpeg .png .bmp .ppm .pgm .pnm .tga .gif)" "$bad"
rm -r "$d/train/grey"
cp -r "$d/val" "$d/val4"; mkdir -p "$d/val4/grey"; cp "$d/val/red/00.ppm" "$d/val4/grey/"
printf 'train=train\nvalid=val4\n' > "$bad"
train "$d/val4: subfolder 'grey' is not one of the 3 classes of the training folder $d/train" "$bad"
printf 'train_list=l.txt\nvalid=val\n' > "$bad"
printf 'train/red/00.ppm red\ntrain/red/01.ppm\n' > "$d/l.txt"
train "$d/l.txt:2: expected 'path label', got 'train/red/01.ppm'" "$bad"
printf 'train/red/00.ppm 7\n' > "$d/l.txt"
train "$d/l.txt:1: label 7 out of range 0..2" "$bad"
printf 'train/red/00.ppm 2\ntrain/red/99.ppm 2\n' > "$d/l.txt"
train "$d/l.txt:2: no such image file '$d/train/red/99.ppm'" "$bad"
echo "not an image" > "$d/train/red/broken.png"
printf 'train/red/00.ppm 2\ntrain/red/broken.png 2\n' > "$d/l.txt"
train "$d/l.txt:2: $d/train/red/broken.png: cannot decode image (" "$bad"
printf 'train=train\nvalid=val\n' > "$bad"
train "$d/train/red/broken.png: cannot decode image (" "$bad"
rm "$d/train/red/broken.png"
sed 's/^output=3/output=4/' "$tmp/tiny.cfg" > "$tmp/four.cfg"
expect_error "$tmp/four.cfg: the last layer gives 4 values per image, the data has classes=3" \
  "$BIN" classifier train "$tmp/four.cfg" "$d/folder.data"
echo "classifier on image files: folder and list train to high top-1, bad input exits 1"
