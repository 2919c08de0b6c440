#!/usr/bin/env bash
# Data-parallel scaling on the CPU: the classifier job (ResNet-14 width 16, 32 px shapes, batch 32
# = 2 sub-batches of 16, norm=bn) for 40 steps as 1 process and as 2 MPI ranks (OpenMPI over
# loopback, tests/scripts/lib/mpi.sh), one BLAS/OpenMP thread per rank, and 1 process with 2
# threads for comparison, and 2 ranks with 64 KiB gradient buckets (MABDET_BUCKET_MB), so that
# all-reduces start while backward runs instead of the default one bucket after it; images/s
# over the whole run as the trainer's last log line gives it, and CPU ms per image (user + system of every process, /usr/bin/time; MPI ranks busy-poll while
# they wait for each other, which counts here).
# The same images and the same arithmetic in every row (the 2-rank run sums the 2 sub-batches'
# gradients by all-reduce). Timings only; on a shared machine they follow the free cores.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/scripts/lib/mpi.sh
MABDET_MPI=${MABDET_MPI:-build/mabdet-mpi}
have_mpi || { echo "no MPI build of mabdet ($MABDET_MPI) or no mpirun: skipped (make bench builds it when mpicxx exists)"; exit 0; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
sed 's/^subdivisions=1/subdivisions=2/; s/^max_batches=3000/max_batches=40/; s/^burn_in=100/burn_in=10/' \
  cfg/resnet14_bn32.cfg > "$tmp/r14.cfg"
printf 'generator=shapes\nclasses=10\ntrain_size=50000\nvalid_size=50\nseed=1\nbackup=%s/backup\n' "$tmp" > "$tmp/s.data"
rate() { grep '^step 40/40' "$1" | sed -nE 's/.* ([0-9.]+) img\/s.*/\1/p'; }
run() {  # NAME THREADS RANKS -> "images/s | CPU ms/image"
  local log=$tmp/$1.log cpu=$tmp/$1.cpu
  if [ "$3" -eq 1 ]; then
    OPENBLAS_NUM_THREADS=$2 OMP_NUM_THREADS=$2 /usr/bin/time -o "$cpu" -f "%U %S" \
      ./mabdet classifier train "$tmp/r14.cfg" "$tmp/s.data" --log-every 40 > "$log" 2>&1
  else
    OPENBLAS_NUM_THREADS=$2 OMP_NUM_THREADS=$2 /usr/bin/time -o "$cpu" -f "%U %S" \
      mpirun --allow-run-as-root --oversubscribe -np "$3" "$MABDET_MPI" classifier train "$tmp/r14.cfg" "$tmp/s.data" --log-every 40 > "$log" 2>&1
  fi
  echo "$(rate "$log") | $(awk '{printf "%.1f", ($1 + $2) * 1000 / (40 * 32)}' "$cpu")"
}
echo "cores: $(nproc), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
one=$(run one 1 1)
two=$(run two 1 2)
small=$(MABDET_BUCKET_MB=0.0625 run small 1 2)
threads=$(run threads 2 1)
ratio() { awk -v a="${1%% *}" -v b="${one%% *}" 'BEGIN{printf "%.2fx", a/b}'; }
echo "| run (classifier, batch 32 = 2 x 16, 40 steps) | images/s | CPU ms/image | images/s vs 1 rank |"
echo "|---|---|---|---|"
echo "| 1 rank, 1 thread | $one | 1.00x |"
echo "| 2 MPI ranks, 1 thread each | $two | $(ratio "$two") |"
echo "| 2 MPI ranks, 64 KiB buckets (most started during backward) | $small | $(ratio "$small") |"
echo "| 1 rank, 2 threads | $threads | $(ratio "$threads") |"
