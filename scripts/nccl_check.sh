#!/usr/bin/env bash
# On a machine with a GPU (not part of `make test`: CI has none): builds GPU=1 MPI=1 and checks
# the NCCL communicator. One rank: `commcheck` sums host and device buffers through NCCL
# against exact sums, and the classifier trained under mpirun with MABDET_COMM=nccl ends at the
# weights of a run without any communicator (a single rank makes no collective call in training:
# the sums over one rank are the values). Two or more GPUs: commcheck over all of them, and the
# classifier over 2 ranks through NCCL against the same 2 ranks through MPI (to 1e-6: the two
# libraries may sum in another order).
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/scripts/lib/mpi.sh
export PATH="$PATH:/usr/local/cuda/bin"
make GPU=1 MPI=1 BUILD=build-gpu -j"$(nproc)" build-gpu/mabdet
bin=build-gpu/mabdet
gpus=$(nvidia-smi -L | wc -l)
echo "GPUs: $gpus"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mpi 1 -x MABDET_COMM=nccl "$bin" commcheck
sed 's/^max_batches=3000/max_batches=20/; s/^subdivisions=16/subdivisions=2/; s/^batch=32/batch=8/' cfg/resnet14_bn2.cfg > "$tmp/c.cfg"
data() { printf 'generator=shapes\nclasses=10\ntrain_size=400\nvalid_size=50\nseed=1\nbackup=%s\n' "$tmp/$1" > "$tmp/$1.data"; }
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
data plain; "$bin" classifier train "$tmp/c.cfg" "$tmp/plain.data" > "$tmp/plain.log" 2>&1
data nccl1; mpi 1 -x MABDET_COMM=nccl "$bin" classifier train "$tmp/c.cfg" "$tmp/nccl1.data" > "$tmp/nccl1.log" 2>&1
cmp "$tmp/plain/c_final.weights" "$tmp/nccl1/c_final.weights" && echo "1 rank through NCCL = no communicator: bit-identical"
if [ "$gpus" -ge 2 ]; then
  mpi "$gpus" -x MABDET_COMM=nccl "$bin" commcheck
  data mpi2; mpi 2 "$bin" classifier train "$tmp/c.cfg" "$tmp/mpi2.data" > "$tmp/mpi2.log" 2>&1
  data nccl2; mpi 2 -x MABDET_COMM=nccl "$bin" classifier train "$tmp/c.cfg" "$tmp/nccl2.data" > "$tmp/nccl2.log" 2>&1
  python3 tests/scripts/lib/weights_diff.py "$tmp/mpi2/c_final.weights" "$tmp/nccl2/c_final.weights" --tol 1e-6
  echo "2 ranks through NCCL = 2 ranks through MPI"
else
  echo "one GPU: the multi-GPU checks (NCCL over 2+ ranks) were not run"
fi
