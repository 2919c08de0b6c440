#!/usr/bin/env bash
# COCO evaluation speed on a val2017-sized case (5,000 images, ~36k ground-truth instances, 500k
# results with boxes and RLE masks; generated once, seeded, cached in build/bench/): pycocotools,
# faster-coco-eval and `mabdet cocoeval`, one after the other, each end to end (load + evaluate +
# accumulate + summarize), bbox then segm. Prints wall seconds with speedups against pycocotools
# and faster-coco-eval, peak RSS (GNU time) and the AP each printed. Reference tools run in the
# pyenv python3 (3.11). Timings are only as quiet as the machine: run it alone.
set -euo pipefail
cd "$(dirname "$0")/.."
case_dir=build/bench/coco_val2017_like
if [ ! -s "$case_dir/results_segm.json" ]; then
  echo "generating $case_dir (once, about a minute)"
  python3 scripts/cocoeval/gen_bench_case.py 2024 "$case_dir"
fi
[ -x ./mabdet ] || make -j2 mabdet
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# run NAME IOU CMD...: prints "wall_s rss_mb ap" for one tool.
run() {
  local name=$1 iou=$2; shift 2
  /usr/bin/time -f "%e %M" -o "$tmp/time" "$@" > "$tmp/out" 2> "$tmp/err" || {
    echo "$name $iou failed:" >&2; cat "$tmp/err" >&2; echo "nan nan nan"; return; }
  local ap
  ap=$(grep -m1 -oE '^AP [0-9.-]+' "$tmp/out" | cut -d' ' -f2 || true)
  [ -n "$ap" ] || ap=$(grep -m1 'Average Precision  (AP) @\[ IoU=0.50:0.95 | area=   all' "$tmp/out" | grep -oE '[0-9.-]+$')
  read -r wall rss < <(tail -1 "$tmp/time")
  echo "$wall $((rss / 1024)) $ap"
}

printf "%-6s %-18s %9s %12s %12s %9s %10s\n" iou tool wall_s vs_pycoco vs_faster rss_MB AP
for iou in bbox segm; do
  gt=$case_dir/gt.json res=$case_dir/results_$iou.json
  read -r pw pm pa < <(run pycocotools $iou python3 scripts/cocoeval/run_reference.py pycocotools "$gt" "$res" $iou)
  read -r fw fm fa < <(run faster-coco-eval $iou python3 scripts/cocoeval/run_reference.py faster "$gt" "$res" $iou)
  read -r mw mm ma < <(run mabdet $iou ./mabdet cocoeval "$gt" "$res" --iou $iou)
  for row in "pycocotools $pw $pm $pa" "faster-coco-eval $fw $fm $fa" "mabdet $mw $mm $ma"; do
    set -- $row
    printf "%-6s %-18s %9s %11.1fx %11.1fx %9s %10s\n" $iou "$1" "$2" "$(echo "$pw / $2" | bc -l)" \
      "$(echo "$fw / $2" | bc -l)" "$3" "$4"
  done
  same=$(python3 -c "print('equal' if round(float('$pa'),3)==round(float('$fa'),3)==round(float('$ma'),3) else 'DIFFERENT')")
  echo "$iou: AP printed by the three tools (3 decimals, as each prints it): $same"
done
