#!/usr/bin/env bash
# mabdet's classifier training against PyTorch (Debian's /usr/bin/python3 with python3-torch) from
# the same initial weights on the same exported images: after a few steps through burn-in and an lr
# step, at normalization batch 2 (4 sub-batches with summed gradients) and at the full batch of 8,
# every weight, BN running statistic and momentum buffer must agree (scripts/torch_classifier_check.py
# --compare). lr 0.01: at 0.1 on a batch of 8, float rounding grows ~100x a step (torch against
# itself too), beyond any meaningful tolerance. Also checks `classifier export`'s errors.
set -euo pipefail
cd "$(dirname "$0")/../.."
# Not in the sanitized suite: its build (-O1, no -march=native) rounds differently, and on an AVX-512
# machine (AMD EPYC) it lands 7.7e-2 from torch in norm.beta's momentum after 5 steps, where the
# plain build agrees to 5e-5; the cause (a discrete flip or a real difference) is open (issue 11).
if [ -n "${MABDET_ASAN:-}" ]; then echo "skipped under the sanitizers: numerics of a -O1 generic build"; exit 77; fi
BIN=${MABDET:-./mabdet}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# train_size 20 < 5 steps * 8 images: the second epoch's permutation is exercised too.
sed -e "s|^backup=.*|backup=$tmp/backup|" -e "s|^valid_size=.*|valid_size=100|" -e "s|^train_size=.*|train_size=20|" \
  data/shapes.data > "$tmp/shapes.data"
for sub in 4 1; do
  sed -e "s|^max_batches=.*|max_batches=5|" -e "s|^batch=.*|batch=8|" -e "s|^subdivisions=.*|subdivisions=$sub|" \
      -e "s|^burn_in=.*|burn_in=2|" -e "s|^steps=.*|steps=3,4|" -e "s|^power=.*|power=2|" \
      -e "s|^learning_rate=.*|learning_rate=0.01|" \
    cfg/resnet14_bn2.cfg > "$tmp/sub$sub.cfg"
  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$BIN" classifier export "$tmp/sub$sub.cfg" "$tmp/shapes.data" \
    "$tmp/sub$sub.bin" "$tmp/init$sub.weights" 2> "$tmp/export.log"
  grep -q "exported 40 training positions (20 distinct images) and 100 validation images" "$tmp/export.log"
  # The training procedure is what this compares (SGD, sub-batches, BN statistics, momentum), so
  # mabdet's convs take the im2col reference path (within 5e-5 of torch here). Through oneDNN's
  # AVX-512 kernels the 3x3 convs on 8x8 maps and the strided 1x1 ones land 3e-3..7e-3 away after 5
  # steps on an AVX-512 machine, though each conv agrees with the reference to 1e-4
  # (tests/test_conv_dnnl.cpp): rounding that 5 steps of BN at batch 2-8 amplify.
  MABDET_CONV=reference OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$BIN" classifier train "$tmp/sub$sub.cfg" \
    "$tmp/shapes.data" --stop-after 5 > "$tmp/train.log" 2>&1  # stopping on the last step still writes _final
  # torch's oneDNN is held to AVX2: on an AVX-512 machine (AMD EPYC) Debian's torch 1.13 with its
  # AVX-512 convolutions ends 7.9e-2 away from mabdet in norm.beta's momentum after these 5 steps,
  # while with AVX2 it agrees with mabdet's im2col and oneDNN paths alike to 5e-5 (measured).
  DNNL_MAX_CPU_ISA=AVX2 /usr/bin/python3 scripts/torch_classifier_check.py "$tmp/sub$sub.cfg" "$tmp/sub$sub.bin" \
    --init-from "$tmp/init$sub.weights" --compare "$tmp/backup/sub${sub}_final.weights" --tol 1e-3 | tee "$tmp/torch.log"
  # top-1 of mabdet's and torch's trained nets on the same 100 images (near-ties may flip one)
  m=$(sed -nE 's/^top-1: [0-9.]+ \(([0-9]+)\/100\)$/\1/p' "$tmp/train.log")
  t=$(sed -nE 's/^top-1: [0-9.]+ \(([0-9]+)\/100\)$/\1/p' "$tmp/torch.log")
  [ -n "$m" ] && [ -n "$t" ] && [ $((m - t)) -le 1 ] && [ $((t - m)) -le 1 ] ||
    { echo "top-1 differs: mabdet $m/100, torch $t/100"; exit 1; }
done

. "$(dirname "$0")/lib/expect_error.sh"
expect_error "usage: mabdet classifier export" "$BIN" classifier export "$tmp/sub1.cfg" "$tmp/shapes.data"
expect_error "$tmp/nodir/x.bin: cannot write" "$BIN" classifier export "$tmp/sub1.cfg" "$tmp/shapes.data" "$tmp/nodir/x.bin"
echo "classifier vs torch: same weights, statistics and momentum after 5 steps at normalization batch 2 and 8"
