#!/usr/bin/env bash
# Self-test of scripts/slurm-local.sh (label slurm): starts a real single-node Slurm cluster on
# localhost, submits a 4-task job array and a job that depends on it (afterok) and merges the
# tasks' outputs, waits, checks every file, checks that a failing job and a job whose
# dependency can never be met are reported as failures, and that stop leaves no daemon behind.
#
#   tests/slurm/check_cluster.sh [WORKDIR]     (default: a fresh folder under /tmp)
#
# Needs root, slurm-wlm and munge (scripts/install-deps.sh). Without them it fails; with
# QUASAR_ALLOW_NO_SLURM=1 it skips instead (exit 77).
set -euo pipefail
HERE=$(cd -- "$(dirname -- "$0")" && pwd -P)
HARNESS=$HERE/../../scripts/slurm-local.sh
fail() { echo "FAIL: $*" >&2; exit 1; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { printf '%d.%03d s' $(($1 / 1000)) $(($1 % 1000)); }

if [ "${1:-}" = --inner ]; then
  # Runs inside `slurm-local.sh run`: SLURM_CONF points at the cluster.
  OUT=$2
  [ -n "${SLURM_CONF:-}" ] || fail "SLURM_CONF not exported by run"
  sinfo -h -o '%P %a %D %T' | grep -qx 'quasar\* up 1 idle' || { sinfo >&2; fail "sinfo: partition quasar not up with 1 idle node"; }

  t0=$(now_ms)
  # Single quotes: the variables expand in the job, not here.
  A=$(sbatch --parsable --array=0-3 --output="$OUT/array_%A_%a.log" \
        --wrap "echo \$SLURM_ARRAY_TASK_ID \$SLURM_ARRAY_TASK_COUNT \$SLURM_ARRAY_TASK_MIN \$SLURM_ARRAY_TASK_MAX > $OUT/task_\$SLURM_ARRAY_TASK_ID")
  M=$(sbatch --parsable --dependency=afterok:"$A" --output="$OUT/merge_%j.log" \
        --wrap "cat $OUT/task_0 $OUT/task_1 $OUT/task_2 $OUT/task_3 > $OUT/merged")
  [[ $A =~ ^[0-9]+$ && $M =~ ^[0-9]+$ ]] || fail "sbatch --parsable gave '$A' and '$M'"
  "$HARNESS" wait --timeout 120 "$A" || fail "array job $A did not complete cleanly"
  t1=$(now_ms)
  "$HARNESS" wait --timeout 120 "$M" || fail "merge job $M did not complete cleanly"
  t2=$(now_ms)

  for i in 0 1 2 3; do
    [ -f "$OUT/task_$i" ] || fail "task_$i missing"
    got=$(cat "$OUT/task_$i")
    [ "$got" = "$i 4 0 3" ] || fail "task_$i holds '$got', expected '$i 4 0 3' (ID COUNT MIN MAX)"
  done
  [ -f "$OUT/merged" ] || fail "merged missing"
  printf '0 4 0 3\n1 4 0 3\n2 4 0 3\n3 4 0 3\n' | cmp -s - "$OUT/merged" ||
    { cat "$OUT/merged" >&2; fail "merged is wrong"; }
  # The merge job started only after every task had ended (times have 1 s resolution).
  ends=$(scontrol -o show job "$A" | sed -n 's/.* EndTime=\([^ ]*\).*/\1/p' | sort | tail -n1)
  mstart=$(scontrol -o show job "$M" | sed -n 's/.* StartTime=\([^ ]*\).*/\1/p')
  [[ ! "$mstart" < "$ends" ]] || fail "merge job started at $mstart, before the last task ended at $ends"

  # wait must report failures: a job that exits 3, and a job whose afterok can never be met.
  F=$(sbatch --parsable --output="$OUT/fail_%j.log" --wrap 'exit 3')
  N=$(sbatch --parsable --dependency=afterok:"$F" --output=/dev/null --wrap 'true')
  if "$HARNESS" wait --timeout 60 "$F" "$N" 2>"$OUT/wait_fail.err"; then
    fail "wait returned 0 for a failing job"
  fi
  grep -q "COMPLETED with exit code 3:0\|FAILED, exit code 3:0" "$OUT/wait_fail.err" ||
    { cat "$OUT/wait_fail.err" >&2; fail "wait did not name the failing job's exit code"; }
  grep -q DependencyNeverSatisfied "$OUT/wait_fail.err" ||
    { cat "$OUT/wait_fail.err" >&2; fail "wait did not report the never-satisfied dependency"; }
  scancel "$N" || true

  echo "timing: 4-task array submitted -> all tasks done: $(secs $((t1 - t0)))"
  echo "timing: array done -> dependent merge job done: $(secs $((t2 - t1)))"
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! PATH="$PATH:/usr/sbin" command -v slurmctld >/dev/null 2>&1 ||
   ! PATH="$PATH:/usr/sbin" command -v munged >/dev/null 2>&1; then
  why="needs root and slurm-wlm munge (scripts/install-deps.sh)"
  if [ "${QUASAR_ALLOW_NO_SLURM:-0}" = 1 ]; then echo "SKIP: $why"; exit 77; fi
  fail "$why; QUASAR_ALLOW_NO_SLURM=1 skips"
fi

WORK=${1:-}
if [ -z "$WORK" ]; then WORK=$(mktemp -d /tmp/quasar-slurm.XXXXXX); fi
mkdir -p "$WORK"
WORK=$(cd -- "$WORK" && pwd -P)
rm -rf "$WORK/out"
mkdir -p "$WORK/out"
chmod 755 "$WORK" "$WORK/out"

t0=$(now_ms)
rc=0
"$HARNESS" run "$WORK/cluster" -- "$0" --inner "$WORK/out" || rc=$?
t1=$(now_ms)
[ $rc -eq 0 ] || fail "self-test failed inside the cluster (rc $rc); logs under $WORK/cluster/log"

# stop left nothing: no process names the cluster folder, and the pid list is gone.
left=$(ps -eo pid=,args= | grep -F -- "$WORK/cluster/" | grep -v grep || true)
[ -z "$left" ] || fail "processes left after stop: $left"
[ ! -e "$WORK/cluster/pids" ] || fail "$WORK/cluster/pids left after stop"
# A second stop is harmless.
"$HARNESS" stop "$WORK/cluster" || fail "second stop failed"

echo "timing: whole run (start, jobs, stop): $(secs $((t1 - t0)))"
echo PASS
