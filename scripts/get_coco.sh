#!/usr/bin/env bash
# Downloads COCO 2017 (train/val images and instances annotations, ~19 GB) into data/coco/, where
# data/coco.data expects it, for users with internet access (tests never run this). Resumable:
# wget -c continues partial files, and archives already unpacked are skipped.
#   bash scripts/get_coco.sh [DEST]     (DEST defaults to data/coco)
# Then: ./mabdet train cfg/mask_rcnn_R50_FPN_mabn.cfg data/coco.data
set -euo pipefail
dest=${1:-$(cd "$(dirname "$0")/.." && pwd)/data/coco}
mkdir -p "$dest"
cd "$dest"
base=http://images.cocodataset.org
for f in zips/train2017.zip zips/val2017.zip annotations/annotations_trainval2017.zip; do
  name=$(basename "$f")
  dir=${name%.zip}; [ "$dir" = annotations_trainval2017 ] && dir=annotations
  if [ -d "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then echo "get_coco: $dir/ present, skipped"; continue; fi
  wget -c "$base/$f"
  unzip -q "$name"
  rm -f "$name"
done
for f in train2017 val2017 annotations/instances_train2017.json annotations/instances_val2017.json; do
  [ -e "$f" ] || { echo "get_coco: $dest/$f is missing after the download" >&2; exit 1; }
done
echo "get_coco: COCO 2017 in $dest"
