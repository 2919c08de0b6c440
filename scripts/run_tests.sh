#!/usr/bin/env bash
# Runs the doctest suite, then every reference script in tests/scripts/ (each exits 0 on pass,
# 77 when what it needs is absent: skipped, as automake counts it).
# Ends with one plain "tests: N passed, M failed, K skipped" line counting doctest cases and scripts
# together; skipped cases (a CUDA case without a GPU, ../shared extras without ../shared, a script
# that exits 77 because what it compares against, e.g. /usr/bin/python3 with torch, is absent) are
# named above it and never counted as passed.
set -u
bin=${1:-build/mabdet_tests}
export MABDET_TESTS=$bin  # the scripts that run doctest cases of their own use this binary too
passed=0; failed=0; skipped=0
out=$(mktemp); trap 'rm -f "$out"' EXIT
"$bin" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
line=$(grep -E '^\[doctest\] test cases:' "$out" | tail -1)
num() { echo "$line" | sed -nE "s/.*\| *([0-9]+) $1.*/\1/p"; }
p=$(num passed); f=$(num failed); k=$(num skipped)
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${k:-0}))
[ "$rc" -eq 0 ] || [ "${f:-0}" -gt 0 ] || failed=$((failed + 1))
# The skipped cases by name: those listed only when skip decorators are ignored (-ns).
names() { "$bin" -ltc "$@" | grep -vE '^(\[doctest\]|=+$)' | sort; }
comm -13 <(names) <(names -ns) | sed 's/^/skipped: /'
for s in tests/scripts/*.sh; do
  [ -e "$s" ] || continue
  echo "=== $s"
  start=$(date +%s)
  rc=0; bash "$s" || rc=$?
  if [ "$rc" -eq 0 ]; then passed=$((passed + 1)); r=ok
  elif [ "$rc" -eq 77 ]; then skipped=$((skipped + 1)); r=skipped; echo "skipped: $s"
  else failed=$((failed + 1)); r=FAILED; fi
  echo "=== $s: $r ($(( $(date +%s) - start ))s)"
done
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
