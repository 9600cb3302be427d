#!/usr/bin/env bash
# A sweep submitted to a real single-node Slurm cluster (scripts/slurm-local.sh) as a job array
# plus a dependent merge job equals the same sweep run locally (issue 7).
#   tests/slurm/sweep_on_slurm.sh QUASAR SPEC WORKDIR
# Needs root, slurm-wlm and munge; QUASAR_ALLOW_NO_SLURM=1 turns their absence into a skip (77).
set -euo pipefail
HERE=$(cd -- "$(dirname -- "$0")" && pwd -P)
HARNESS=$HERE/../../scripts/slurm-local.sh
fail() { echo "FAIL: $*" >&2; exit 1; }

if [ "${1:-}" = --inner ]; then
  q=$2; spec=$3; work=$4
  out=$("$q" sweep submit "$spec" --slurm --tasks 3 --dir "$work/slurm")
  echo "$out"
  array=$(sed -n 's/.*submitted array job \([0-9]*\).*/\1/p' <<<"$out")
  merge=$(sed -n 's/.*merge job \([0-9]*\).*/\1/p' <<<"$out")
  [ -n "$array" ] && [ -n "$merge" ] || fail "could not read the job ids from: $out"
  "$HARNESS" wait --timeout 240 "$array" || { cat "$work"/slurm/logs/* >&2 || true; fail "array job $array failed"; }
  "$HARNESS" wait --timeout 120 "$merge" || { cat "$work"/slurm/logs/* >&2 || true; fail "merge job $merge failed"; }
  exit 0
fi

q=$(realpath "$1"); spec=$(realpath "$2"); work=$3
if ! command -v slurmctld > /dev/null || [ "$(id -u)" != 0 ]; then
  [ "${QUASAR_ALLOW_NO_SLURM:-}" = 1 ] && { echo "SKIP: no slurm-wlm or not root"; exit 77; }
  fail "needs root, slurm-wlm and munge (scripts/install-deps.sh)"
fi
rm -rf "$work"; mkdir -p "$work"
work=$(realpath "$work")
"$q" sweep "$spec" --store "$work/local.db" --jobs 2 --no-progress > /dev/null
"$HARNESS" run "$work/cluster" -- "$0" --inner "$q" "$spec" "$work"
[ -f "$work/slurm/sweep.db" ] || fail "the merge job wrote no $work/slurm/sweep.db"
"$q" sweep export "$work/local.db" > "$work/local.csv"
"$q" sweep export "$work/slurm/sweep.db" > "$work/slurm.csv"
for t in 0 1 2; do [ -f "$work/slurm/shard-$t.db" ] || fail "shard $t missing"; done
cmp "$work/local.csv" "$work/slurm.csv" || fail "the Slurm run's merged results differ from the local run"
echo "PASS: 3-task Slurm array + merge job = local run ($(( $(wc -l < "$work/local.csv") - 1 )) points)"
