#!/usr/bin/env bash
# Kill-and-resume gives a bit-identical run: a classifier training is killed (SIGKILL) at random
# moments mid-epoch (20 images per epoch, 8 per step), resumed from its last checkpoint, and its
# final checkpoint must equal, byte for byte, the one of an uninterrupted run (weights, norm
# state and counters, momentum, step count, rng state and data position).
set -euo pipefail
BIN=${MABDET:-./mabdet}
. "$(dirname "$0")/lib/tiny_net.sh"
tmp=$(mktemp -d); trap 'kill -9 $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
pid=
{
  cat <<'CFG'
[net]
batch=8
subdivisions=2
width=16
height=16
channels=3
learning_rate=0.05
momentum=0.9
decay=0.0005
burn_in=5
max_batches=120
seed=3
norm=mabn
mabn_buffer=2
mabn_warmup=0
CFG
  tiny_net_body 10
  echo "[softmax]"
} > "$tmp/t.cfg"
data() { printf 'generator=shapes\nclasses=10\ntrain_size=20\nvalid_size=40\nseed=5\nbackup=%s\n' "$1" > "$1.data"; }
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
data "$tmp/straight"
"$BIN" classifier train "$tmp/t.cfg" "$tmp/straight.data" > "$tmp/straight.log" 2>&1
want="$tmp/straight/t_final.weights"
test -s "$want"
killed=0
for trial in 1 2 3 4; do
  d="$tmp/k$trial"
  data "$d"
  "$BIN" classifier train "$tmp/t.cfg" "$d.data" --save-every 1 > "$d.log" 2>&1 &
  pid=$!
  # Wait for a few checkpoints, then kill at a random moment (possibly mid-save).
  need=$((5 + RANDOM % 60))
  for _ in $(seq 1 2000); do
    [ "$(grep -c '^saved' "$d.log" || true)" -ge "$need" ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.005
  done
  sleep "0.00$((RANDOM % 10))"
  kill -9 $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  pid=
  if [ -e "$d/t_final.weights" ]; then echo "trial $trial: finished before the kill"; continue; fi
  killed=$((killed + 1))
  at=$(grep -c '^saved' "$d.log" || true)
  "$BIN" classifier train "$tmp/t.cfg" "$d.data" "$d/t_last.weights" > "$d.resume.log" 2>&1
  grep -q "^resumed $d/t_last.weights at step" "$d.resume.log"
  if ! cmp -s "$want" "$d/t_final.weights"; then
    echo "trial $trial: killed after $at saves; the resumed run's final checkpoint differs"
    cmp "$want" "$d/t_final.weights" || true
    exit 1
  fi
  echo "trial $trial: killed after $at saves ($(grep '^resumed' "$d.resume.log")), final checkpoint identical"
done
[ "$killed" -ge 2 ] || { echo "only $killed trials were killed mid-run"; exit 1; }
