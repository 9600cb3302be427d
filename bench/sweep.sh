#!/usr/bin/env bash
# Sweep throughput (issue 7): a 1,000-point fast-mode sweep of a small layer on all cores, in
# points per second, against the same number of `quasar run` processes launched directly
# (xargs -P, no store, no scheduling) measured in the same run; the ratio is the store's and the
# runner's overhead.
#   bench/sweep.sh [BUILD_DIR]        (default build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
q="$(realpath "${1:-build/release}/sim/app/quasar")"
[ -x "$q" ] || { echo "bench/sweep.sh: no $q" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
jobs=$(nproc)
cat > "$work/bench.yaml" <<YAML
quasar_sweep: 1
name: bench
designs: [int8-baseline]
workloads: [{file: $PWD/tests/cli/shape_only.yaml}]
axes:
  - {key: array.rows, range: {start: 4, stop: 128, step: 4}}                       # 32 values
  - {key: dram.bandwidth_gbps, values: [8, 16, 32, 64, 128]}                      # x 5
  - {key: buffers.ifmap.bytes_per_cycle, values: [16, 32, 64, 128, 256, 512, 1024]} # x 7 = 1120
sample: {count: 1000, seed: 1}
YAML
t0=$(date +%s.%N)
"$q" sweep "$work/bench.yaml" --store "$work/b.db" --jobs "$jobs" --no-progress
t1=$(date +%s.%N)
"$q" sweep "$work/bench.yaml" --store "$work/b.db" --jobs "$jobs" --no-progress > /dev/null  # resume: all stored
t2=$(date +%s.%N)
seq 1000 | xargs -P "$jobs" -I{} "$q" run --arch int8-baseline --trace tests/cli/shape_only.yaml --format json > /dev/null
t3=$(date +%s.%N)
python3 - "$t0" "$t1" "$t2" "$t3" "$jobs" <<'PY'
import sys
t0, t1, t2, t3, jobs = map(float, sys.argv[1:])
sweep, resume, direct = t1 - t0, t2 - t1, t3 - t2
print(f"1000-point sweep on {int(jobs)} cores: {sweep:.2f} s = {1000 / sweep:.1f} points/s")
print(f"1000 direct quasar run processes (xargs -P {int(jobs)}): {direct:.2f} s = {1000 / direct:.1f} runs/s")
print(f"sweep / direct: {sweep / direct:.2f}x; re-running the finished sweep (all 1000 found in the store): {resume:.2f} s")
PY
