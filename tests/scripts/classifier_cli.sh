#!/usr/bin/env bash
# The README's classifier job end to end on a shortened schedule: train with checkpoints, resume
# from the checkpoint, validate; and user errors exit 1 naming file and line.
set -euo pipefail
BIN=${MABDET:-./mabdet}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
sed -e "s|^backup=.*|backup=$tmp/backup|" -e "s|^valid_size=.*|valid_size=200|" data/shapes.data > "$tmp/shapes.data"
sed -e "s|^max_batches=.*|max_batches=6|" -e "s|^batch=.*|batch=8|" -e "s|^subdivisions=.*|subdivisions=4|" \
  cfg/resnet14_mabn2.cfg > "$tmp/small.cfg"

"$BIN" classifier train "$tmp/small.cfg" "$tmp/shapes.data" --stop-after 3 -threads 1 -cpu > "$tmp/a.log" 2>&1
grep -q "threads: 1 compute (OpenMP; OpenBLAS " "$tmp/a.log"
grep -q ", training on the CPU$" "$tmp/a.log"
grep -q "saved $tmp/backup/small_last.weights" "$tmp/a.log"
grep -qE '^top-1: 0\.[0-9]+ \([0-9]+/200\)$' "$tmp/a.log"

"$BIN" classifier train "$tmp/small.cfg" "$tmp/shapes.data" "$tmp/backup/small_last.weights" > "$tmp/b.log" 2>&1
grep -q "resumed $tmp/backup/small_last.weights at step 3" "$tmp/b.log"
grep -q "^step 6/6" "$tmp/b.log"
test -s "$tmp/backup/small_final.weights"
"$BIN" classifier valid "$tmp/small.cfg" "$tmp/shapes.data" "$tmp/backup/small_final.weights" > "$tmp/c.log"
grep -q "^  circle " "$tmp/c.log"
grep -qE '^top-1: ' "$tmp/c.log"

. "$(dirname "$0")/lib/expect_error.sh"
printf 'generator=shapes\ntrain_sise=10\n' > "$tmp/bad.data"
expect_error "$tmp/bad.data:2 train_sise=10: unknown or unused key" "$BIN" classifier train "$tmp/small.cfg" "$tmp/bad.data"
sed 's/^activation=relu/activation=tanh/' "$tmp/small.cfg" > "$tmp/bad.cfg"
expect_error "activation=tanh: allowed values: linear | relu | leaky | logistic" "$BIN" classifier train "$tmp/bad.cfg" "$tmp/shapes.data"
expect_error "-threads: expected a thread count in 1..4096, got '0'" "$BIN" classifier train "$tmp/small.cfg" "$tmp/shapes.data" -threads 0
expect_error "-threads needs a count" "$BIN" classifier valid "$tmp/small.cfg" "$tmp/shapes.data" -threads
expect_error "-gpu: expected a GPU index in 0..1023, got 'x'" "$BIN" classifier train "$tmp/small.cfg" "$tmp/shapes.data" -gpu x
expect_error "-gpu needs a GPU index" "$BIN" classifier train "$tmp/small.cfg" "$tmp/shapes.data" -gpu
expect_error "-cpu and -gpu 0: give one of them" "$BIN" classifier train "$tmp/small.cfg" "$tmp/shapes.data" -cpu -gpu 0
# A CPU build says it has no GPU support, a GPU build how many GPUs the machine has.
expect_error "-gpu 999: this m" "$BIN" classifier train "$tmp/small.cfg" "$tmp/shapes.data" -gpu 999
expect_error "'gendata' runs on the host; -gpu does not apply to it" "$BIN" gendata "$tmp/gen" -gpu 0
expect_error "not a mabdet weights file" "$BIN" classifier valid "$tmp/small.cfg" "$tmp/shapes.data" "$tmp/shapes.data"
: > "$tmp/empty.cfg"
expect_error "$tmp/empty.cfg: no sections; a cfg starts with [net]" "$BIN" classifier train "$tmp/empty.cfg" "$tmp/shapes.data"
expect_error "usage: mabdet classifier valid" "$BIN" classifier valid "$tmp/small.cfg"
echo "classifier CLI: train, resume, valid and errors behave"
