#!/usr/bin/env bash
# Hostile inputs and hard stops of `mabdet classifier train` (issue 12), each with its exact
# message and exit code: corrupt checkpoints (negative step count, data position past the epoch),
# a learning rate that makes the loss NaN (exit 1, the last checkpoint untouched), a cfg with no
# loss layer, directories given as files, an unusable backup folder (found before step 1),
# save_every in the .data file, SIGTERM/SIGINT (checkpoint, exit 143/130, resumable), stale
# temporary files of killed saves, --stop-after equal to max_batches, an out-of-memory layer
# (names its cfg line), and a disk that fills during a save (the previous checkpoint survives).
set -euo pipefail
BIN=$(realpath "${MABDET:-./mabdet}")
tmp=$(mktemp -d)
mnt=
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  [ -n "$mnt" ] && umount "$mnt" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "hostile_train: $*"; exit 1; }
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

cfg() {  # $1 = max_batches, $2 = filters, $3 = learning rate, $4 = the last section
  cat <<CFG
[net]
batch=8
subdivisions=2
width=16
height=16
channels=3
learning_rate=$3
momentum=0.9
decay=0.0005
max_batches=$1
seed=3
norm=mabn
mabn_buffer=2
mabn_warmup=0
[convolutional]
filters=$2
size=3
stride=2
pad=1
activation=relu
[convolutional]
filters=$2
size=3
pad=1
activation=relu
[avgpool]
[connected]
output=10
$4
CFG
}
data() {  # $1 = backup folder, $2.. = extra lines
  local b=$1; shift
  printf 'generator=shapes\nclasses=10\ntrain_size=20\nvalid_size=20\nseed=5\nbackup=%s\n' "$b"
  for l in "$@"; do echo "$l"; done
}
expect() {  # exit-code expected-message command...
  local code=$1 want=$2 rc=0; shift 2
  timeout 120 "$@" > "$tmp/out.log" 2>&1 || rc=$?
  [ "$rc" -eq "$code" ] || { echo "expected exit $code, got $rc: $*"; cat "$tmp/out.log"; exit 1; }
  grep -qF -- "$want" "$tmp/out.log" || { echo "wanted '$want', got:"; cat "$tmp/out.log"; exit 1; }
}
patch_i64() {  # file offset value: writes value as a little-endian int64
  /usr/bin/python3 -c "import struct,sys; f=open(sys.argv[1],'r+b'); f.seek(int(sys.argv[2])); f.write(struct.pack('<q', int(sys.argv[3])))" "$@"
}
cd "$tmp"
cfg 6 8 0.05 "[softmax]" > t.cfg
data "$tmp/b" > t.data

# A checkpoint after 2 steps, then corrupt copies of it.
"$BIN" classifier train t.cfg t.data --stop-after 2 > a.log 2>&1 || fail "first run: $(cat a.log)"
cp b/t_last.weights good.weights
cp good.weights neg.weights && patch_i64 neg.weights 16 -1
expect 1 "neg.weights: corrupt header (step count -1, image count 16)" "$BIN" classifier train t.cfg t.data neg.weights
cp good.weights idx.weights && patch_i64 idx.weights 72 1000
expect 1 "idx.weights: data position index 1000 is not below the epoch size 20 of t.data" \
  "$BIN" classifier train t.cfg t.data idx.weights
echo "corrupt checkpoints: ok"

# learning_rate=1e6 from the good checkpoint (weight decay then scales the weights by -499 a step,
# so they overflow within about 15 steps): the run stops with exit 1,
# names the step and the term, writes no final file and leaves the last checkpoint as it was.
cfg 60 8 1e6 "[softmax]" > nan.cfg
cp good.weights b/nan_last.weights
cp good.weights before.weights
expect 1 "training stopped" "$BIN" classifier train nan.cfg t.data b/nan_last.weights --save-every 100
grep -qE "^mabdet: step [0-9]+: (loss term 'softmax' is|the loss is|the (gradient|weights) of layer [0-9]+ \[[a-z]+\] '[a-z._]+' (is|are) not finite)" out.log \
  || fail "NaN message: $(cat out.log)"
grep -q "loss -nan\|loss nan" out.log && fail "a NaN loss was printed as a step"
[ ! -e b/nan_final.weights ] || fail "a final checkpoint was written after a NaN loss"
cmp -s before.weights b/nan_last.weights || fail "the last checkpoint changed"
grep "^mabdet: " out.log
echo "NaN loss: ok"

cfg 6 8 0.05 "" > noloss.cfg
expect 1 "mabdet: the cfg has no loss layer (e.g. [softmax] as the last layer): training would learn nothing" \
  "$BIN" classifier train noloss.cfg t.data
mkdir adir
expect 1 "mabdet: $tmp/adir: is a directory, not a cfg or .data file" "$BIN" classifier train t.cfg "$tmp/adir"
expect 1 "mabdet: $tmp/adir: is a directory, not a cfg or .data file" "$BIN" classifier train "$tmp/adir" t.data
expect 1 "mabdet: $tmp/adir: is a directory, not a weights file" "$BIN" classifier train t.cfg t.data "$tmp/adir"
echo "no loss layer, directories: ok"

# The backup folder is checked before the first step: a path under a file cannot be created.
touch afile
data "$tmp/afile/b" > badb.data
expect 1 "mabdet: $tmp/afile/b: cannot create the backup folder (Not a directory)" "$BIN" classifier train t.cfg badb.data
grep -q "^step " out.log && fail "training started with an unusable backup folder"
# save_every in the .data file; the CLI flag wins over it.
data "$tmp/s" "save_every=2" > s.data
"$BIN" classifier train t.cfg s.data > s.log 2>&1 || fail "save_every run: $(cat s.log)"
[ "$(grep -c "^saved $tmp/s/t_last.weights" s.log)" = 2 ] || fail "save_every=2 over 6 steps: $(grep saved s.log)"
rm -rf s && "$BIN" classifier train t.cfg s.data --save-every 3 > s3.log 2>&1
[ "$(grep -c "^saved $tmp/s/t_last.weights" s3.log)" = 1 ] || fail "--save-every 3: $(grep saved s3.log)"
data "$tmp/s" "save_every=0" > s0.data
expect 1 "s0.data:7 save_every=0: must be a step count in 1..1000000000" "$BIN" classifier train t.cfg s0.data
echo "backup probe, save_every: ok"

# A stale temporary file of a killed save (its PID is gone) is removed at the next save; then
# --stop-after equal to max_batches ends with the final checkpoint, exit 0.
mkdir -p f && touch f/t_last.weights.tmp.999999999
data "$tmp/f" > f.data
expect 0 "removed $tmp/f/t_last.weights.tmp.999999999 (left by a save that was killed)" \
  "$BIN" classifier train t.cfg f.data --stop-after 6
[ ! -e f/t_last.weights.tmp.999999999 ] || fail "stale temporary file kept"
test -s f/t_final.weights || fail "--stop-after 6 of 6 wrote no final checkpoint"
grep -qE '^top-1: ' out.log || fail "--stop-after 6 of 6 did not validate"
echo "stale temporaries, --stop-after = max_batches: ok"

# SIGTERM and SIGINT: the step in progress finishes, NAME_last.weights is saved, exit 128+signal.
cfg 1000000 8 0.05 "[softmax]" > long.cfg
for sig in TERM INT; do
  code=143; [ $sig = INT ] && code=130
  rm -rf g && data "$tmp/g" > g.data
  "$BIN" classifier train long.cfg g.data > g.log 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do grep -q "^step 50/" g.log && break; sleep 0.1; done
  grep -q "^step 50/" g.log || fail "SIG$sig: training did not start: $(cat g.log)"
  kill -$sig $pid
  rc=0; wait $pid || rc=$?
  pid=
  [ $rc -eq $code ] || fail "SIG$sig: exit $rc, expected $code: $(tail -3 g.log)"
  grep -qE "^mabdet: SIG$sig at step [0-9]+/1000000: saved $tmp/g/long_last.weights; resume from it$" g.log \
    || fail "SIG$sig message: $(tail -2 g.log)"
  at=$(sed -nE "s/^mabdet: SIG$sig at step ([0-9]+).*/\1/p" g.log)
  # Resumable: the same cfg reads it (a shorter schedule so the check ends quickly).
  cfg $((at + 2)) 8 0.05 "[softmax]" > long.cfg
  "$BIN" classifier train long.cfg g.data "$tmp/g/long_last.weights" > r.log 2>&1 || fail "resume after SIG$sig: $(cat r.log)"
  grep -q "^resumed $tmp/g/long_last.weights at step $at$" r.log || fail "resume after SIG$sig: $(head -3 r.log)"
  cfg 1000000 8 0.05 "[softmax]" > long.cfg
done
echo "SIGTERM, SIGINT: ok"

# An out-of-memory layer names its cfg line and shape (2 GB of address space; the layer's output
# alone needs 4 GiB).
printf '[net]\nbatch=1\nwidth=4096\nheight=4096\nchannels=3\nmax_batches=1\n[convolutional]\nfilters=64\nsize=1\n[softmax]\n' > big.cfg
if [ -n "${MABDET_ASAN:-}" ]; then
  # ASan's shadow memory alone needs terabytes of address space: no ulimit -v run is possible.
  echo "out of memory: skipped under ASan (make sanitize)"
else
rc=0; (ulimit -v 2000000; exec "$BIN" classifier train big.cfg t.data) > big.log 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "out of memory: exit $rc: $(cat big.log)"
grep -qF "mabdet: big.cfg:7 [convolutional]: out of memory allocating 4294967296 bytes for a 1x64x4096x4096 tensor" big.log \
  || fail "out of memory message: $(cat big.log)"
echo "out of memory: ok"
fi

# A save that hits the file size limit (EFBIG: SIGXFSZ ignored, as a shell trap leaves it) fails
# with exit 1, leaves no temporary file and keeps the previous checkpoint.
cp good.weights b/t_last.weights
size_k=$(( $(stat -c %s good.weights) / 1024 ))
rc=0; (trap '' XFSZ; ulimit -f $((size_k / 2)); exec "$BIN" classifier train t.cfg t.data b/t_last.weights --save-every 1) \
  > fsz.log 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "file size limit: exit $rc: $(cat fsz.log)"
grep -qE "^mabdet: $tmp/b/t_last.weights.tmp.[0-9]+: write failed \(File too large\)" fsz.log || fail "EFBIG message: $(cat fsz.log)"
cmp -s good.weights b/t_last.weights || fail "the previous checkpoint changed after a failed save"
ls b | grep -q '\.tmp\.' && fail "a failed save left a temporary file"
echo "file size limit during a save: ok"
# The same with a full file system, where mounting is possible (root, as in CI): a 64 KiB tmpfs
# holds one checkpoint of this net (about 48 KB) but not a second one beside it.
mkdir -p m
if mount -t tmpfs -o size=64k tmpfs "$tmp/m" 2>/dev/null; then
  mnt="$tmp/m"
  cfg 6 24 0.05 "[softmax]" > w.cfg
  data "$tmp/m" > m.data
  rc=0; "$BIN" classifier train w.cfg m.data --save-every 1 > m.log 2>&1 || rc=$?
  [ $rc -eq 1 ] || fail "full disk: exit $rc: $(cat m.log)"
  grep -q "^saved $tmp/m/w_last.weights" m.log || fail "full disk: the first checkpoint did not fit: $(cat m.log)"
  grep -qE "^mabdet: $tmp/m/w_last.weights.tmp.[0-9]+: (write|flush) failed \(No space left on device\)" m.log \
    || fail "ENOSPC message: $(cat m.log)"
  ls m | grep -q '\.tmp\.' && fail "a failed save left a temporary file on the full disk"
  "$BIN" classifier valid w.cfg m.data m/w_last.weights > v.log 2>&1 || fail "the kept checkpoint does not load: $(cat v.log)"
  umount "$mnt"; mnt=
  echo "full disk (tmpfs): ok"
else
  echo "full disk (tmpfs): skipped, cannot mount here (the file size limit case above ran)"
fi
echo "hostile_train: ok"
