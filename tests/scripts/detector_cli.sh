#!/usr/bin/env bash
# The detector end to end through the three commands, on 4 generated images: `train` overfits them
# (val = train) and must reach a stated AP; `map` must report the same numbers from the final
# weights; `detect` draws a picture and writes COCO results; a resumed run continues to the same
# final weights as an uninterrupted one; and bad input to each command gets a message and exit 1.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mabdet=${MABDET:-$root/mabdet}
mabdet=$(cd "$(dirname "$mabdet")" && pwd)/$(basename "$mabdet")  # the script works in a temp folder
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. "$here/lib/expect_error.sh"
cd "$tmp"
"$mabdet" gendata data --train 4 --val 4 --size 128 --seed 3 > /dev/null
cat > ov.data <<'EOF'
train_images=data/train
train_json=data/annotations/instances_train.json
val_images=data/train
val_json=data/annotations/instances_train.json
names=data/shapes.names
backup=backup
EOF
# The small Mask R-CNN of cfg/ at 128 px, 4 images per step (2 per normalization), 150 steps.
# Under `make sanitize` (MABDET_ASAN) 30 steps: every path below runs, 5x faster, and the AP bar
# (which needs the 150 steps) is left to the plain suite.
N=150; [ -z "${MABDET_ASAN:-}" ] || N=30
sed "s/max_batches=2000/max_batches=$N/; s/steps=1400,1800/steps=$((N * 4 / 5)),$((N * 14 / 15))/; s/burn_in=100/burn_in=10/;
     s/^batch=8/batch=4/; s/subdivisions=4/subdivisions=2/; s/min_size=160/min_size=128/;
     s/test_size=160/test_size=128/; s/flip=0.5/flip=0/" "$root/cfg/mask_rcnn_small_mabn2.cfg" > ov.cfg
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1  # bit-identical runs need the same thread count
"$mabdet" train ov.cfg ov.data --log-every 50 --keep-every $((N / 2)) --loader-threads 0 > train.log 2> train.err
grep -q "^step $N/$N " train.log || { echo "no final log line"; cat train.log train.err; exit 1; }
for t in rpn_cls rpn_loc box_cls box_loc mask; do grep -q " $t " train.log || { echo "no $t term"; exit 1; }; done
[ -s backup/ov_final.weights ] && [ -s backup/ov_chart.png ] && [ -s backup/ov_$((N / 2)).weights ] && [ -s backup/ov_$N.weights ] || { echo "missing final weights or chart"; ls backup; exit 1; }
ap() { grep "Average Precision  (AP) @\[ IoU=$2 .*area=   all" "$1" | sed -n "${3}p" | awk '{print $NF}'; }
bbox=$(ap train.log 0.50:0.95 1); bbox50=$(ap train.log 0.50 1); segm50=$(ap train.log 0.50 2)
echo "overfit 4 images, $N steps: bbox AP $bbox AP50 $bbox50, mask AP50 $segm50"
# Measured 0.571 / 0.957 / 0.682 (seed 1, one thread, lr 0.04, He normal init; 0.352 / 0.911 / 0.429
# with the sampling rng of before per-sub-batch seeding: a 4-image overfit moves with the draw); the bars leave room for other BLAS builds.
[ "$N" -lt 150 ] || awk -v a="$bbox" -v b="$bbox50" -v m="$segm50" 'BEGIN { exit !(a >= 0.15 && b >= 0.5 && m >= 0.15) }' ||
  { echo "the detector did not learn: bbox AP $bbox, AP50 $bbox50, mask AP50 $segm50"; exit 1; }

# map from the final weights gives the numbers train printed.
"$mabdet" map ov.cfg ov.data backup/ov_final.weights --json res.json > map.log
[ "$(ap map.log 0.50:0.95 1)" = "$bbox" ] || { echo "map disagrees with train"; cat map.log; exit 1; }
[ -s res.json ] || { echo "no results json"; exit 1; }
"$mabdet" cocoeval data/annotations/instances_train.json res.json --iou bbox | grep -q "= $bbox\$" ||
  { echo "cocoeval of map's results json disagrees"; exit 1; }

# detect: lines per detection, a drawn picture, COCO results.
img=$(ls data/train/*.png | head -1)
th=0.3; [ "$N" -ge 150 ] || th=0.01  # 30 steps leave low scores
"$mabdet" detect ov.cfg backup/ov_final.weights "$img" -thresh $th -out det.json -outdir pics -data ov.data > det.log
grep -qE "(circle|square|triangle|star|hexagon) [0-9.]+%" det.log || { echo "no detection printed"; cat det.log; exit 1; }
[ -s "pics/$(basename "${img%.png}")_det.png" ] && [ -s det.json ] || { echo "detect wrote nothing"; ls pics; exit 1; }
"$mabdet" detect ov.cfg backup/ov_final.weights data/train -outdir pics2 > det2.log
[ "$(ls pics2 | wc -l)" -eq 4 ] || { echo "a folder should give one picture per image"; exit 1; }

# Resume: 2/3 of the steps, then the rest from the _last checkpoint, ends at the same weights as the
# uninterrupted run above (schedule, sampling rng and data stream all continue).
cp backup/ov_final.weights straight.weights
"$mabdet" train ov.cfg ov.data --stop-after $((N * 2 / 3)) --no-eval --loader-threads 0 > /dev/null 2>&1
"$mabdet" train ov.cfg ov.data backup/ov_last.weights --no-eval --loader-threads 0 > resume.log 2>&1
cmp straight.weights backup/ov_final.weights || { echo "a resumed run ended at other weights"; cat resume.log; exit 1; }
# The chart's history spans the whole run: its first 2/3 from the first part, the rest after the resume.
n=$(awk -F'\t' '$2 == "loss" && $3 == "mask"' backup/ov_chart.tsv | wc -l)
first=$(awk -F'\t' '$2 == "loss" && $3 == "mask" { print $1; exit }' backup/ov_chart.tsv)
[ "$n" = $N ] && [ "$first" = 1 ] || { echo "chart history: $n mask points from step $first, want $N from 1"; exit 1; }

# _best survives a resume: a note claiming a better AP than any this run reaches keeps the file.
sed 's|^backup=.*|backup=b2|' ov.data > b2.data
"$mabdet" train ov.cfg b2.data --stop-after 10 --map-every 10 --loader-threads 0 > b2.log 2>&1
grep -qE "^bbox AP [0-9.]+ at step 10$" b2/ov_best.txt || { echo "no best note"; cat b2.log; ls b2; exit 1; }
echo "bbox AP 99.0000 at step 5" > b2/ov_best.txt; cp b2/ov_best.weights best.copy
"$mabdet" train ov.cfg b2.data b2/ov_last.weights --stop-after 20 --map-every 10 --loader-threads 0 > b2r.log 2>&1
grep -q "best so far: bbox AP 99.00 at step 5" b2r.log && cmp -s best.copy b2/ov_best.weights &&
  grep -q "at step 5$" b2/ov_best.txt || { echo "a resume replaced a better _best"; cat b2r.log; exit 1; }
echo "garbage" > b2/ov_best.txt
expect_error "ov_best.txt: expected a line" "$mabdet" train ov.cfg b2.data b2/ov_last.weights --stop-after 30 --map-every 10

# Bad input: a message and exit 1.
expect_error "missing.weights" "$mabdet" map ov.cfg ov.data missing.weights
expect_error "missing.weights" "$mabdet" detect ov.cfg missing.weights "$img"
sed 's/filters=32/filters=16/' ov.cfg > other.cfg
expect_error "backup/ov_final.weights" "$mabdet" map other.cfg ov.data backup/ov_final.weights
printf 'not an image' > bad.png
expect_error "bad.png" "$mabdet" detect ov.cfg backup/ov_final.weights bad.png
mkdir empty
expect_error "empty" "$mabdet" detect ov.cfg backup/ov_final.weights empty
grep -v '^val_' ov.data > noval.data
expect_error "no val split" "$mabdet" map ov.cfg noval.data backup/ov_final.weights
expect_error "needs a val split" "$mabdet" train ov.cfg noval.data --map-every 10
expect_error "not a detector cfg" "$mabdet" train "$root/cfg/resnet14_mabn2.cfg" ov.data
sed 's/classes=5/classes=3/' ov.cfg > k3.cfg
expect_error "classes=3" "$mabdet" train k3.cfg ov.data
echo "detector cli: ok"
