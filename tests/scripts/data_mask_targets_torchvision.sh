#!/usr/bin/env bash
# A fresh seeded set of RLE mask-target cases from torchvision (Debian's /usr/bin/python3 with
# python3-torchvision), checked by the doctest case that also runs on the committed set.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
seed=${SEED:-$RANDOM}
echo "mask target cases, seed $seed (rerun with SEED=$seed)"
/usr/bin/python3 scripts/data/gen_mask_target_cases.py "$tmp/cases.json" "$seed"
MABDET_MASK_TARGET_CASES="$tmp/cases.json" build/mabdet_tests -tc="mask targets: RLE path*" -s 2>&1 | grep -E "cells|test cases|ERROR|FATAL" || true
MABDET_MASK_TARGET_CASES="$tmp/cases.json" build/mabdet_tests -tc="mask targets: RLE path*" >/dev/null
