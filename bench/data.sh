#!/usr/bin/env bash
# Data pipeline speed: decode + resize (short 800, long <= 1333) + flip + normalize + pad, in
# images/s, for mabdet (`mabdet databench`, background threads) and torchvision (DataLoader
# workers, Debian's /usr/bin/python3), with 1 and 2 workers, on the same generated PNGs (cached
# under build/bench/). Timings only; both in steady state (from the first batch to the last). On a
# shared machine images/s follows the free cores; mabdet's CPU ms/image does not.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build/bench/data1000x600   # upscaled to exactly 800x1333, as COCO's 640x480 are to 800x1066
images=${DATA_BENCH_IMAGES:-32}
if [ ! -f "$dir/shapes.data" ]; then
  echo "generating $images images of 1000x600 in $dir (once)"
  ./mabdet gendata "$dir" --train "$images" --val 0 --size 1000 --height 600 --seed 11 >/dev/null
fi
batches=$images  # two epochs: the decode work is the same every epoch
declare -A ours theirs cpu
for t in 1 2; do
  line=$(./mabdet databench "$dir/shapes.data" --threads $t --batch 2 --batches $batches --min-size 800 --max-size 1333)
  echo "$line"
  ours[$t]=$(echo "$line" | sed -nE 's/.*: ([0-9.]+) images\/s.*/\1/p')
  cpu[$t]=$(echo "$line" | sed -nE 's/.*CPU ([0-9.]+) ms\/image.*/\1/p')
  line=$(/usr/bin/python3 scripts/data/bench_torchvision.py "$dir/annotations/instances_train.json" "$dir/train" $t $batches 800 1333)
  echo "$line"
  theirs[$t]=$(echo "$line" | sed -nE 's/.*: ([0-9.]+) images\/s.*/\1/p')
done
echo
echo "| workers | mabdet images/s | torchvision images/s | mabdet / torchvision | mabdet CPU ms/image |"
echo "|---|---|---|---|---|"
for t in 1 2; do
  echo "| $t | ${ours[$t]} | ${theirs[$t]} | $(awk -v a="${ours[$t]}" -v b="${theirs[$t]}" 'BEGIN{printf "%.2fx", a/b}') | ${cpu[$t]} |"
done
