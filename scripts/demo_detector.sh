#!/usr/bin/env bash
# The README's main job: generated 160 px shapes (600 train / 100 val images, made once), the small
# Mask R-CNN with MABN at 2 images per normalization trained from scratch (SGD batch 8, 600 steps),
# the COCO bbox and segm tables on val, and the detections drawn on a val image in predictions/.
# Run from the repository root after `make`: bash scripts/demo_detector.sh [THREADS]
set -eu
cd "$(dirname "$0")/.."
threads=${1:-1}  # one thread: faster than two for this small network today (issue 11)
data=data/shapes160
[ -f "$data/shapes.data" ] || ./mabdet gendata "$data" --train 600 --val 100 --size 160 --seed 1
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
./mabdet train cfg/mask_rcnn_small_mabn2_demo.cfg "$data/shapes.data" --loader-threads 1 --log-every 50
./mabdet detect cfg/mask_rcnn_small_mabn2_demo.cfg "$data/backup/mask_rcnn_small_mabn2_demo_final.weights" \
  "$data/val/$(ls "$data/val" | head -1)" -data "$data/shapes.data" -thresh 0.5 -outdir predictions
