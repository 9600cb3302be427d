#!/usr/bin/env bash
# shard_merge.sh QUASAR SPEC WORK: three shards (by --shard and by Slurm's array variables) merged
# twice (idempotent) equal one local run of the whole sweep.
set -euo pipefail
q="$1"; spec="$2"; work="$3"
rm -rf "$work"; mkdir -p "$work"
"$q" sweep "$spec" --store "$work/all.db" --jobs 2 --no-progress > /dev/null
"$q" sweep "$spec" --store "$work/s0.db" --shard 0/3 --no-progress > /dev/null
SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=3 "$q" sweep "$spec" --store "$work/s1.db" --no-progress > /dev/null
"$q" sweep "$spec" --store "$work/s2.db" --shard 2/3 --no-progress > /dev/null
"$q" sweep merge "$work/m.db" "$work/s0.db" "$work/s1.db" "$work/s2.db"
"$q" sweep merge "$work/m.db" "$work/s0.db" "$work/s1.db" "$work/s2.db" | grep -q ": 0 new points" \
  || { echo "FAIL: merging again added points"; exit 1; }
"$q" sweep export "$work/all.db" > "$work/all.csv"
"$q" sweep export "$work/m.db" > "$work/m.csv"
for s in s0 s1 s2; do
  n=$(( $("$q" sweep export "$work/$s.db" | wc -l) - 1 ))
  [ "$n" -gt 0 ] || { echo "FAIL: shard $s is empty"; exit 1; }
done
cmp "$work/all.csv" "$work/m.csv" || { echo "FAIL: merged shards differ from the local run"; exit 1; }
echo "PASS: 3 shards merged (twice) = the local run"
