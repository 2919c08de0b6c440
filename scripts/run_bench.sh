#!/usr/bin/env bash
# Runs every benchmark in bench/ (each prints its own table with ratios against a reference
# measured in the same script). Timings only: nothing here passes or fails on speed.
set -u
for b in bench/*.sh; do
  [ -e "$b" ] || continue
  echo "=== $b"
  bash "$b" || echo "=== $b: exited $?"
done
