#!/usr/bin/env bash
# Data-parallel training over 2 CPU ranks (OpenMPI on loopback) against one process, on the
# classifier with tiny generated data. For norm=bn, mabn and gn, 2 ranks x 2 images per step give
# the loss curve and the weights (params and momentum) of one process with batch 4 and
# subdivisions 2, to float summation order: the summed gradients differ in their last bits, so
# losses are compared to 2e-4 (they print with 4 decimals) and weights to 1e-5 of max(1, |w|)
# (measured worst 3e-8 after 8 steps). bn's running statistics are per rank (rank 0's are saved),
# and so is MABN's moving average past its warm-up: those are not compared (the cfg stays within
# MABN's warm-up). norm=sync_bn over 2 ranks x 2 images equals bn over 4 images in one process,
# running statistics included, and mabn_sync_stats=1 over 2 x 2 equals mabn over 4 past warm-up.
# Then: SIGKILL of one rank ends all of them with mpirun's message; a bad image read by one rank
# stops both with the file named; a 2-rank run resumed from its checkpoint ends bit-identical to
# the uninterrupted one, on the same loss curve; the detector (norm=bn) over 2 ranks gives one
# process's loss terms and weights, and with sync_bn everywhere runs over 2 ranks (no hang on
# per-rank RoI batches); commcheck's sums are exact; mpirun with a build
# without MPI is refused.
# Skipped (77) without an MPI build of mabdet (MABDET_MPI) or mpirun.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/mpi.sh"
. "$here/lib/expect_error.sh"
. "$here/lib/tiny_net.sh"
have_mpi || { echo "no MPI build of mabdet (MABDET_MPI='${MABDET_MPI:-}') or no mpirun: skipped"; exit 77; }
bin=$(cd "$(dirname "$MABDET_MPI")" && pwd)/$(basename "$MABDET_MPI")
plain=${MABDET:-$here/../../mabdet}
plain=$(cd "$(dirname "$plain")" && pwd)/$(basename "$plain")
diffw="python3 $here/lib/weights_diff.py"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

# cfg NORM SUBDIVISIONS STEPS [extra [net] lines]: a small conv net on 16 px shapes, batch 4.
cfg() {
  cat <<CFG
[net]
batch=4
subdivisions=$2
width=16
height=16
channels=3
learning_rate=0.05
momentum=0.9
decay=0.0005
max_batches=$3
seed=3
norm=$1
gn_groups=2
mabn_buffer=2
${4:-}
CFG
  tiny_net_body 10
  echo "[softmax]"
}
data() { printf 'generator=shapes\nclasses=10\ntrain_size=20\nvalid_size=40\nseed=5\nbackup=%s\n' "$1" > "$1.data"; }
losses() { grep '^step ' "$1" | awk '{print $2, $4}'; }
# same_curve A.log B.log: the same steps, each loss within 2e-4.
same_curve() {
  paste -d' ' <(losses "$1") <(losses "$2") | awk 'BEGIN { n = 0 }
    { n++; d = $2 - $4; if ($1 != $3 || d > 2e-4 || d < -2e-4) { print "step " $1 "/" $3 ": loss " $2 " vs " $4; bad = 1 } }
    END { if (n == 0) { print "no loss lines"; bad = 1 } exit bad }'
}
train1() { data "$1"; "$plain" classifier train "$2" "$1.data" --log-every 1 > "$1.log" 2>&1; }
train2() { data "$1"; mpi 2 "$bin" classifier train "$2" "$1.data" --log-every 1 "${@:3}" > "$1.log" 2>&1; }

for norm in bn mabn gn; do
  cfg $norm 2 8 "mabn_warmup=100" > $norm.cfg
  train1 one_$norm $norm.cfg
  train2 two_$norm $norm.cfg
  grep -q "^2 ranks (mpi): batch 4 images per step = 2 per rank (1 sub-batch of 2); images per normalization: 2 per rank" two_$norm.log ||
    { echo "$norm: no startup line"; cat two_$norm.log; exit 1; }
  same_curve one_$norm.log two_$norm.log || { echo "$norm: loss curves differ"; exit 1; }
  $diffw one_$norm/${norm}_final.weights two_$norm/${norm}_final.weights --only P --only V --tol 1e-5 > $norm.diff ||
    { echo "$norm: weights differ"; cat $norm.diff; exit 1; }
  echo "$norm: 2 ranks x 2 = 1 process batch 4 / subdivisions 2 over 8 steps; $(grep 'kind P' $norm.diff)"
done

# sync_bn over 2 x 2 = bn over 4 (subdivisions 1), running statistics included (kind S).
cfg bn 1 8 > bn4.cfg
cfg sync_bn 2 8 > sync.cfg
train1 one_bn4 bn4.cfg
train2 two_sync sync.cfg
grep -q "images per normalization: 2 (4 in sync_bn layers, over the ranks)" two_sync.log || { echo "sync_bn: startup line"; cat two_sync.log; exit 1; }
same_curve one_bn4.log two_sync.log || { echo "sync_bn: loss curve differs from bn over 4"; exit 1; }
# The files name the layers' norms alike (bn and sync_bn save the same entries).
$diffw one_bn4/bn4_final.weights two_sync/sync_final.weights --tol 1e-5 > sync.diff || { echo "sync_bn: weights differ from bn over 4"; cat sync.diff; exit 1; }
echo "sync_bn 2 x 2 = bn over 4: $(grep 'kind S' sync.diff)"

# mabn_sync_stats over 2 x 2 = mabn over 4, past warm-up (buffer 2, warm-up 0: SMA from step 3).
cfg mabn 1 8 "mabn_warmup=0" > mabn4.cfg
cfg mabn 2 8 "mabn_warmup=0
mabn_sync_stats=1" > mabnsync.cfg
train1 one_mabn4 mabn4.cfg
train2 two_mabnsync mabnsync.cfg
same_curve one_mabn4.log two_mabnsync.log || { echo "mabn_sync_stats: loss curve differs from mabn over 4"; exit 1; }
$diffw one_mabn4/mabn4_final.weights two_mabnsync/mabnsync_final.weights --tol 1e-5 > mabnsync.diff ||
  { echo "mabn_sync_stats: weights or buffers differ from mabn over 4"; cat mabnsync.diff; exit 1; }

# Resume: 2 ranks stopped after 3 steps, resumed on 2 ranks, end bit-identical to straight through.
cfg mabn 2 8 "mabn_warmup=0" > res.cfg
train2 straight res.cfg
train2 part res.cfg --stop-after 3
[ -s part/res_last.weights ] && [ -s part/res_last.rank1.weights ] || { echo "resume: rank 0's or rank 1's checkpoint missing"; ls part; exit 1; }
mpi 2 "$bin" classifier train res.cfg part.data part/res_last.weights --log-every 1 > resumed.log 2>&1
grep -q "^resumed part/res_last.weights at step 3" resumed.log || { echo "resume: no resume line"; cat resumed.log; exit 1; }
cmp straight/res_final.weights part/res_final.weights || { echo "resume: a resumed 2-rank run ended elsewhere"; exit 1; }
[ "$(grep -c '^resumed' resumed.log)" -eq 1 ] || { echo "resume: more than rank 0 logged"; exit 1; }
same_curve <(grep '^step [4-8]/' straight.log) resumed.log || { echo "resume: the curve does not continue"; exit 1; }

# SIGKILL of one rank: mpirun ends the other and says so; nothing is left running.
cfg gn 2 100000 > long.cfg
data kill
mpirun --allow-run-as-root --oversubscribe -np 2 "$bin" classifier train long.cfg kill.data --log-every 100 > kill.log 2>&1 &
mpirun_pid=$!
for _ in $(seq 1 200); do grep -q '^step ' kill.log && break; sleep 0.05; done
ranks=$(pgrep -P $mpirun_pid -f "classifier train long.cfg" || true)
[ "$(echo $ranks | wc -w)" -eq 2 ] || { echo "kill: expected 2 ranks under mpirun, got '$ranks'"; kill $mpirun_pid; exit 1; }
kill -9 $(echo $ranks | awk '{print $2}')
rc=0
for _ in $(seq 1 200); do kill -0 $mpirun_pid 2> /dev/null || break; sleep 0.05; done
if kill -0 $mpirun_pid 2> /dev/null; then echo "kill: mpirun still running 10 s after a rank was killed"; kill $mpirun_pid; exit 1; fi
wait $mpirun_pid || rc=$?
[ $rc -ne 0 ] || { echo "kill: mpirun exited 0"; exit 1; }
grep -q "exited on signal 9" kill.log || { echo "kill: no message"; cat kill.log; exit 1; }
# A killed rank may linger a moment as a zombie, reparented to init: not running.
running() { local st; st=$(ps -o stat= -p "$1" 2> /dev/null) && [[ $st != Z* ]]; }
for p in $ranks; do
  for _ in $(seq 1 100); do running "$p" || break; sleep 0.05; done
  ! running "$p" || { echo "kill: rank $p still running after mpirun ended"; exit 1; }
done

# A bad image read by one rank: 4 images per step, 2 per rank, one unreadable, so exactly one rank
# reads it at the first step. It prints the file, every rank ends, exit 1.
mkdir imgs
for i in 0 1 2; do { printf 'P6\n16 16\n255\n'; head -c 768 /dev/urandom; } > imgs/$i.ppm; done
echo "not an image" > imgs/bad.ppm
printf 'imgs/0.ppm 0\nimgs/1.ppm 1\nimgs/2.ppm 0\nimgs/bad.ppm 1\n' > list.txt
printf 'train_list=list.txt\nvalid_list=list.txt\nclasses=10\nbackup=badb\n' > bad.data
cfg gn 2 5 > bad.cfg
rc=0
timeout 60 bash -c ". '$here/lib/mpi.sh'; mpi 2 '$bin' classifier train bad.cfg bad.data" > bad.log 2>&1 || rc=$?
[ $rc -ne 124 ] || { echo "bad input: the ranks hung"; cat bad.log; exit 1; }
[ $rc -ne 0 ] || { echo "bad input: exit 0"; exit 1; }
grep -qE "^mabdet: rank [01]/2: .*imgs/bad.ppm" bad.log || { echo "bad input: no message naming the file"; cat bad.log; exit 1; }
[ "$(grep -c '^mabdet: rank' bad.log)" -eq 1 ] || { echo "bad input: one rank should have failed"; cat bad.log; exit 1; }

# The detector over 2 ranks = one process: norm=bn in backbone, FPN and heads, 2 ranks x 2 images
# against batch 4 / subdivisions 2, over 3 steps. The anchor and RoI sampling draw from an rng of
# the sub-batch's index in the step, whichever rank runs it, so the ranks sample what one process
# samples; every loss term is compared, not only the total. At lr 0 (the weights stay, momentum
# still sums every step's gradient): once the weights differ in their last bits, an untrained
# RPN's near-equal scores reorder the top-k and the runs part ways for that reason alone.
root=$(cd "$here/../.." && pwd)
"$plain" gendata det --train 4 --val 2 --size 96 --seed 3 > /dev/null
detcfg() {  # NORM SUBDIVISIONS STEPS
  sed "s/^max_batches=.*/max_batches=$3/; s/^norm=mabn/norm=$1/; /^mabn_/d; s/^min_size=160/min_size=96/;
       s/^test_size=160/test_size=96/; s/^batch=8/batch=4/; s/^subdivisions=4/subdivisions=$2/; s/^burn_in=.*/burn_in=1/" \
    "$root/cfg/mask_rcnn_small_mabn2.cfg"
}
detdata() { printf 'train_images=det/train\ntrain_json=det/annotations/instances_train.json\nnames=det/shapes.names\nbackup=%s\n' "$1" > "$1.data"; }
detcfg bn 2 3 | sed 's/^learning_rate=.*/learning_rate=0/' > detbn.cfg
detdata det1; "$plain" train detbn.cfg det1.data --log-every 1 --loader-threads 0 --no-eval > det1.log 2>&1 ||
  { echo "detector, one process: failed"; cat det1.log; exit 1; }
# Buckets of 64 KiB: dozens of them, most started while backward still runs (one bucket of the
# default 16 MiB holds this whole network).
detdata det2; MABDET_BUCKET_MB=0.0625 mpi 2 "$bin" train detbn.cfg det2.data --log-every 1 --loader-threads 0 --no-eval > det2.log 2>&1 ||
  { echo "detector, 2 ranks: failed"; cat det2.log; exit 1; }
# Every term of every step, to 2e-4 (they print with 4 decimals or fewer).
terms() { grep '^step ' "$1" | sed -E 's/ +[0-9.]+ img\/s.*//; s/ +lr [0-9.e-]+//'; }
[ "$(terms det1.log | wc -l)" -eq 3 ] || { echo "detector: expected 3 step lines"; cat det1.log; exit 1; }
paste -d'\n' <(terms det1.log) <(terms det2.log) | awk 'NR % 2 == 1 { n = split($0, a, " "); next }
  { m = split($0, b, " "); if (m != n) { print "different terms: " $0; bad = 1; next }
    for (i = 1; i <= n; i++) if (a[i] != b[i]) { d = a[i] - b[i]; if (a[i] !~ /^[0-9.e-]+$/ || d > 2e-4 || d < -2e-4) { print "one: " a[i] " 2 ranks: " b[i] " in: " $0; bad = 1 } } }
  END { exit bad }' || { echo "detector: 2 ranks differ from one process"; exit 1; }
$diffw det1/detbn_final.weights det2/detbn_final.weights --only P --only V --tol 1e-5 > det.diff ||
  { echo "detector: weights differ"; cat det.diff; exit 1; }
echo "detector bn: 2 ranks x 2 = 1 process batch 4 / subdivisions 2 over 3 steps, every loss term; $(grep "kind V" det.diff)"

# With sync_bn everywhere (whose RoI batches in the heads differ per rank, empty ones included):
# it runs to the end, rank 0 logs every term once per step.
detcfg sync_bn 4 2 | sed 's/^batch=4/batch=8/' > det.cfg
detdata detb
mpi 2 "$bin" train det.cfg detb.data --log-every 1 --loader-threads 0 --no-eval > det.log 2>&1 || { echo "detector: failed"; cat det.log; exit 1; }
[ "$(grep -c '^step [12]/2 .* rpn_cls .* box_cls .* mask ' det.log)" -eq 2 ] || { echo "detector: log lines"; cat det.log; exit 1; }
[ -s detb/det_final.weights ] && [ -s detb/det_final.rank1.weights ] || { echo "detector: checkpoints"; ls detb; exit 1; }

MABDET_BUCKET_MB=0 expect_error "MABDET_BUCKET_MB='0': expected the all-reduce bucket size in MiB" \
  mpi 2 "$bin" train detbn.cfg det2.data --loader-threads 0 --no-eval

# commcheck: exact sums through MPI, up to a buffer past one bucket.
mpi 2 "$bin" commcheck --floats 5000000 > commcheck.log 2>&1 || { echo "commcheck failed"; cat commcheck.log; exit 1; }
[ "$(grep -c ": ok$" commcheck.log)" -ge 6 ] || { echo "commcheck: expected 6 host cases (12 with a GPU)"; cat commcheck.log; exit 1; }

# A build without MPI refuses to run as N copies (with MPI=1, make test's ./mabdet is itself the
# MPI build: nothing to check then).
if ldd "$plain" | grep -q libmpi; then
  echo "$plain is an MPI build: the refusal of a build without MPI is not checked"
else
  expect_error "this mabdet was built without MPI" mpi 2 "$plain" classifier train bn.cfg one_bn.data
fi
echo "distributed: ok"
