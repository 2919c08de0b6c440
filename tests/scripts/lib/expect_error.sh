# Sourced by tests/scripts/*.sh (needs $tmp): expect_error MESSAGE COMMAND... runs COMMAND and
# fails the script unless it exits 1 and its output contains MESSAGE.
expect_error() {
  local want=$1; shift
  local rc=0
  "$@" > "$tmp/err.log" 2>&1 || rc=$?
  [ "$rc" -eq 1 ] || { echo "expected exit 1, got $rc: $*"; exit 1; }
  grep -qF -- "$want" "$tmp/err.log" || { echo "wanted '$want', got:"; cat "$tmp/err.log"; exit 1; }
}
