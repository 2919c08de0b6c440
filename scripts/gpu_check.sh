#!/usr/bin/env bash
# The whole GPU check, on a machine with an NVIDIA GPU (issue 13), in a few minutes:
#   1. builds GPU=1 (CUDA, cuBLAS, cuDNN; ARCH defaults to sm_80 sm_90) in build-gpu/;
#   2. runs the CPU-vs-GPU suite (every op, every layer and norm, whole training steps, the GPU
#      net's checkpoint on the CPU) and fails if any of it was skipped for want of a GPU;
#   3. times training steps on the GPU against the same steps on the CPU and, where PyTorch has
#      CUDA here, against PyTorch on the same GPU: ms per step and peak GPU tensor memory.
# Python for the reference side: Debian's /usr/bin/python3 (python3-torch, python3-torchvision).
# JOBS=N build jobs (default: every core). Prints each stage's seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/cuda/bin"
jobs=${JOBS:-$(nproc)}
start=$(date +%s)
stage() { echo "== [$(($(date +%s) - start)) s] $*"; }

stage "GPU"
nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader || echo "nvidia-smi: not available"

stage "build (make -j$jobs GPU=1 BUILD=build-gpu)"
make -j"$jobs" GPU=1 BUILD=build-gpu build-gpu/mabdet build-gpu/mabdet_tests > build-gpu.log 2>&1 ||
  { tail -40 build-gpu.log; echo "gpu_check: the GPU=1 build failed (build-gpu.log)"; exit 1; }
BIN=build-gpu/mabdet

stage "CPU-vs-GPU suite"
"$BIN" bench cfg/resnet14_bn2.cfg --iters 1 -gpu 0 > /dev/null 2>&1 ||
  { "$BIN" bench cfg/resnet14_bn2.cfg --iters 1 -gpu 0 2>&1 | tail -2; echo "gpu_check: no usable GPU"; exit 1; }
# --no-skip: the GPU cases run even if the process saw no GPU (and then fail), never pass by skipping.
out=$(build-gpu/mabdet_tests -tc='*CUDA*,*GPU*' --no-skip 2>&1) ||
  { echo "$out" | tail -80; echo "gpu_check: the CPU-vs-GPU suite failed"; exit 1; }
echo "$out" | tail -3

stage "GPU training steps: mabdet on the GPU (cuDNN, then im2col + cuBLAS) against mabdet on the CPU"
ms() { sed -nE -e 's/.* ([0-9.]+) ms per forward\+backward.*/\1/p' -e 's/^torch ms per forward\+backward: ([0-9.]+).*/\1/p'; }
gmb() { sed -nE 's/.*GPU tensors ([0-9]+) MB.*/\1/p'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "" || b == "" || b == 0) print "-"; else printf "%.2fx", a/b }'; }
torch_cuda=$(/usr/bin/python3 -c 'import torch; print(int(torch.cuda.is_available()))' 2>/dev/null || echo 0)
[ "$torch_cuda" = 1 ] || echo "(PyTorch here has no CUDA: no PyTorch GPU column)"
printf "%-34s %9s %9s %9s %9s %7s %9s %9s %7s\n" "network (input)" "cuDNN ms" "cuBLAS ms" "CPU ms" "torch ms" ratio \
  "mabdet MB" "torch MB" ratio
row() {  # label, mabdet bench args, torch command (or "")
  local g r c t
  g=$("$BIN" bench $2 -gpu 0 2>/dev/null | tail -1)
  r=$(MABDET_CONV=reference "$BIN" bench $2 -gpu 0 2>/dev/null | tail -1)
  c=$("$BIN" bench $2 -cpu 2>/dev/null | tail -1)
  t=""
  [ "$torch_cuda" = 1 ] && [ -n "$3" ] && t=$(eval "$3 --device cuda" 2>/dev/null | tail -1)
  printf "%-34s %9s %9s %9s %9s %7s %9s %9s %7s\n" "$1" "$(echo "$g" | ms)" "$(echo "$r" | ms)" "$(echo "$c" | ms)" \
    "$(echo "$t" | ms)" "$(ratio "$(echo "$g" | ms)" "$(echo "$t" | ms)")" "$(echo "$g" | gmb)" "$(echo "$t" | gmb)" \
    "$(ratio "$(echo "$g" | gmb)" "$(echo "$t" | gmb)")"
}
row "ResNet-50 (2x3x224x224)" "cfg/resnet50.cfg --batch 2 --size 224 --iters 10" \
  "/usr/bin/python3 bench/torch_net.py cfg/resnet50.cfg --batch 2 --size 224 --iters 10"
row "ResNet-14 w16 MABN (2x3x32x32)" "cfg/resnet14_mabn2.cfg --batch 2 --size 32 --iters 50" ""
row "ResNet-14 w16 (32x3x32x32)" "cfg/resnet14_bn32.cfg --batch 32 --size 32 --iters 20" \
  "/usr/bin/python3 bench/torch_net.py cfg/resnet14_bn32.cfg --batch 32 --size 32 --iters 20"
row "R50-FPN backbone (1x3x800x1344)" "cfg/r50_fpn_backbone.cfg --iters 3 --sum p2,p3,p4,p5,p6" \
  "/usr/bin/python3 bench/torch_fpn.py --iters 3"
echo "(ratio = mabdet cuDNN / torch on the same GPU; GPU tensors: mabdet's peak tensor bytes and"
echo " torch.cuda.max_memory_allocated. The CPU column runs every core of this machine.)"

stage "classifier job on the GPU (README's job, 50 steps) and its checkpoint validated on the CPU"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
sed -e "s|^backup=.*|backup=$tmp|" -e "s|^valid_size=.*|valid_size=500|" data/shapes.data > "$tmp/shapes.data"
sed -e "s|^max_batches=.*|max_batches=50|" cfg/resnet14_mabn2.cfg > "$tmp/gpu.cfg"
"$BIN" classifier train "$tmp/gpu.cfg" "$tmp/shapes.data" -gpu 0 2>&1 | grep -E "training on|^step 50/|^top-1"
"$BIN" classifier valid "$tmp/gpu.cfg" "$tmp/shapes.data" "$tmp/gpu_final.weights" -cpu | grep "^top-1"

echo "Not checked here: the detector (Mask R-CNN R50-FPN training at 2x800x1333 and inference): its"
echo "RPN, RoI and head layers run on the host only so far, so 'mabdet train -gpu' refuses them."
stage "done"
