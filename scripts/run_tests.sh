#!/usr/bin/env bash
# Runs the doctest suite, then every reference script in tests/scripts/ (each exits 0 on pass).
# Ends with one plain "N passed, N failed" line counting doctest cases and scripts together.
set -u
bin=${1:-build/mabdet_tests}
passed=0; failed=0
out=$(mktemp); trap 'rm -f "$out"' EXIT
"$bin" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
line=$(grep -E '^\[doctest\] test cases:' "$out" | tail -1)
p=$(echo "$line" | sed -nE 's/.*\| *([0-9]+) passed.*/\1/p'); f=$(echo "$line" | sed -nE 's/.*\| *([0-9]+) failed.*/\1/p')
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
[ "$rc" -eq 0 ] || [ "${f:-0}" -gt 0 ] || failed=$((failed + 1))
for s in tests/scripts/*.sh; do
  [ -e "$s" ] || continue
  echo "=== $s"
  start=$(date +%s)
  if bash "$s"; then passed=$((passed + 1)); r=ok; else failed=$((failed + 1)); r=FAILED; fi
  echo "=== $s: $r ($(( $(date +%s) - start ))s)"
done
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
