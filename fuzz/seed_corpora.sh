#!/usr/bin/env bash
# Seeds one corpus folder per fuzz target from the project's own files: the shipped cfgs, test
# fixtures, a tiny `mabdet gendata` dataset's json and images, checkpoints of fuzz_weights' own
# network from a short training, and small PNG/JPEG images in the formats stb_image reads (made
# with Debian's /usr/bin/python3 and its PIL, python3-pil); json edits with the first python3.
#   bash fuzz/seed_corpora.sh [OUT_DIR (build-fuzz/seeds)]     uses $MABDET (./mabdet), build-fuzz/
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build-fuzz/seeds}
bin=${MABDET:-./mabdet}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
rm -rf "$out"
mkdir -p "$out"/{fuzz_cfg,fuzz_weights,fuzz_coco_json,fuzz_coco_results,fuzz_mask,fuzz_image}

# The shipped cfgs at 8x8 with 4 filters per layer: the same keys and graph, built in a
# millisecond instead of a second, so that the fuzzer spends its time on mutations.
for f in cfg/*.cfg; do
  sed -E 's/^(width|height)=.*/\1=8/; s/^filters=.*/filters=4/; s/^output=.*/output=10/' "$f" > "$out/fuzz_cfg/small_$(basename "$f")"
done
cp fuzz/seeds/cfg/*.cfg "$out/fuzz_cfg/"
MABDET_FUZZ_PRINT_CFG=1 build-fuzz/fuzz_weights > "$out/fuzz_cfg/fuzz_weights_net.cfg"

# Checkpoints of fuzz_weights' network: mid-warmup (MABN counters still small) and at the end.
cp "$out/fuzz_cfg/fuzz_weights_net.cfg" "$tmp/w.cfg"
printf 'generator=shapes\nclasses=10\ntrain_size=64\nvalid_size=8\nseed=1\nbackup=%s\n' "$tmp/backup" > "$tmp/w.data"
"$bin" classifier train "$tmp/w.cfg" "$tmp/w.data" --stop-after 1 > "$tmp/train.log" 2>&1
cp "$tmp/backup/w_last.weights" "$out/fuzz_weights/step1.weights"
"$bin" classifier train "$tmp/w.cfg" "$tmp/w.data" "$tmp/backup/w_last.weights" >> "$tmp/train.log" 2>&1
cp "$tmp/backup/w_final.weights" "$out/fuzz_weights/final.weights"

"$bin" gendata "$tmp/g" --train 3 --val 2 --size 32 --seed 3 > /dev/null
cp "$tmp/g/annotations/instances_train.json" "$out/fuzz_coco_json/gendata_train.json"
cp "$tmp/g/annotations/instances_val.json" "$out/fuzz_coco_json/gendata_val.json"
cp tests/fixtures/cocoeval/tiny/gt.json "$out/fuzz_coco_json/cocoeval_tiny_gt.json"

cp fuzz/seeds/coco_results/*.json "$out/fuzz_coco_results/"
# The cocoeval fixtures' results, moved onto the fuzz target's ground-truth images and categories.
for f in bbox segm both; do
  python3 - "tests/fixtures/cocoeval/tiny/results_$f.json" "$out/fuzz_coco_results/tiny_$f.json" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))[:40]
for i, r in enumerate(res):
    r["image_id"], r["category_id"] = (1, 5, 7)[i % 3], (1, 3)[i % 2]
json.dump(res, open(sys.argv[2], "w"))
PY
done

# The mask target reads its own binary layout (FuzzedDataProvider); json bytes still hold RLE
# strings and numbers for it to start from.
cp fuzz/seeds/coco_results/*.json "$out/fuzz_mask/"
head -c 2000 tests/fixtures/cocoeval/tiny/gt.json > "$out/fuzz_mask/gt_head"

find "$tmp/g" -name '*.png' | sort | head -3 | while read -r f; do cp "$f" "$out/fuzz_image/gendata_$(basename "$f")"; done
/usr/bin/python3 - "$out/fuzz_image" <<'PY'
import sys
from PIL import Image
d = sys.argv[1]
rgb = Image.new("RGB", (13, 9))
rgb.putdata([((x * 19) % 256, (y * 27) % 256, (x * y * 7) % 256) for y in range(9) for x in range(13)])
rgb.save(f"{d}/rgb.png")
rgb.save(f"{d}/interlaced.png", interlace=1)
rgb.convert("L").save(f"{d}/gray.png")
rgb.convert("RGBA").save(f"{d}/rgba.png")
rgb.convert("P", palette=Image.ADAPTIVE, colors=8).save(f"{d}/palette.png")
rgb.convert("1").save(f"{d}/bilevel.png")
rgb.convert("L").convert("I").point(lambda v: v * 257).save(f"{d}/gray16.png")
rgb.save(f"{d}/baseline.jpg", quality=80)
rgb.save(f"{d}/progressive.jpg", quality=60, progressive=True)
rgb.save(f"{d}/subsampled.jpg", quality=70, subsampling=2)
rgb.convert("L").save(f"{d}/gray.jpg", quality=75)
rgb.save(f"{d}/rgb.bmp")
rgb.save(f"{d}/rgb.ppm")
rgb.save(f"{d}/rgb.tga")
rgb.save(f"{d}/rgb.gif")
PY
for d in "$out"/*; do echo "seed_corpora: $(basename "$d"): $(ls "$d" | wc -l) files"; done
