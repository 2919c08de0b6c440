#!/usr/bin/env bash
# Runs every fuzz target (build-fuzz/fuzz_*, `make fuzz`) on its seed corpus for a bounded time and
# fails on any crash, sanitizer report, leak, timeout or out-of-memory; the input that did it is
# left in build-fuzz/artifacts/. Prints each target's executions and seconds.
#   FUZZ_TIME=seconds per target (20)  FUZZ_RUNS=executions per target (unbounded: time decides)
#   FUZZ_TARGETS="fuzz_cfg fuzz_mask" (all)   bash fuzz/smoke.sh
set -uo pipefail
cd "$(dirname "$0")/.."
time_s=${FUZZ_TIME:-20}
runs=${FUZZ_RUNS:--1}
seeds=build-fuzz/seeds
[ -d "$seeds" ] || bash fuzz/seed_corpora.sh "$seeds" || exit 1
mkdir -p build-fuzz/artifacts
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
targets=${FUZZ_TARGETS:-$(cd build-fuzz && ls fuzz_* | grep -v '\.d$')}
failed=0
for t in $targets; do
  mkdir -p "$work/$t"
  log=build-fuzz/artifacts/$t.log
  start=$(date +%s)
  # New inputs go to the throwaway first folder; the seeds are only read.
  build-fuzz/$t -max_total_time="$time_s" -runs="$runs" -timeout=10 -rss_limit_mb=2560 \
    -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$t-" "$work/$t" "$seeds/$t" > "$log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log" | tail -1)
  if [ "$rc" -eq 0 ]; then
    printf 'fuzz: %-18s ok   %10s executions in %ds\n' "$t" "${execs:-?}" "$secs"
  else
    failed=$((failed + 1))
    printf 'fuzz: %-18s FAILED (exit %d) after %s executions; log %s:\n' "$t" "$rc" "${execs:-?}" "$log"
    grep -E 'ERROR|SUMMARY|fuzz: |fuzz_[a-z_]+: |Test unit written|runtime error' "$log" | head -20
  fi
done
[ "$failed" -eq 0 ]
