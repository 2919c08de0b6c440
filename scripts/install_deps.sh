#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build, test and benchmark mabdet.
# Debian packages: build deps (OpenMPI's headers, mpicxx and mpirun for `make MPI=1` and the
# multi-process tests), plus python3-torch/torchvision/numpy for Debian's own python3
# (reference fixtures and PyTorch benchmarks), clang and its sanitizer/libFuzzer runtime (`make
# fuzz`), python3-pil for the fuzz seed images. PyPI (the first python3 on PATH, a pip-capable one):
# pycocotools and faster-coco-eval, used only by reference tests and benchmarks.
set -euo pipefail
APT_PKGS="build-essential pkg-config libopencv-dev libstb-dev doctest-dev libopenblas-dev libopenblas-openmp-dev libdnnl-dev
  nlohmann-json3-dev libsimdjson-dev libopenmpi-dev openmpi-bin python3-torch python3-torchvision python3-numpy time
  clang libclang-rt-14-dev python3-pil"
missing=""
for p in $APT_PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ -n "$missing" ]; then
  echo "install_deps: apt-get installing:$missing"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
fi
PY=${MABDET_PIP_PYTHON:-python3}
if ! $PY -c "import pycocotools, faster_coco_eval, numpy" 2>/dev/null; then
  echo "install_deps: pip installing pycocotools faster-coco-eval for $($PY -c 'import sys; print(sys.executable)')"
  extra="" pkgs="pycocotools faster-coco-eval numpy"
  if ! $PY -m pip --version >/dev/null 2>&1; then
    # Debian's own python3 without pip: its pip needs --break-system-packages for user packages.
    DEBIAN_FRONTEND=noninteractive ${SUDO:-} apt-get install -y -q --no-install-recommends python3-pip
    extra="--break-system-packages" pkgs="pycocotools faster-coco-eval"  # numpy: Debian's, which torch uses
  elif $PY -c "import sys; sys.exit(0 if sys.prefix.startswith('/usr') else 1)" 2>/dev/null; then
    extra="--break-system-packages" pkgs="pycocotools faster-coco-eval"
  fi
  $PY -m pip install -q $extra $pkgs
fi
echo "install_deps: ok"
