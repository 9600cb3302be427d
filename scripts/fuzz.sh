#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (preset `fuzz`) and runs each for SECONDS (default
# 30) from a small seed corpus. A crash leaves its input in build/fuzz/crashes/; turn it into a
# regression test (tests/unit/test_safetensors.cpp or test_trace.cpp) before fixing it.
# The mutation sequence is seeded (-seed=1) so CI explores the same inputs every run (how far it
# gets depends on the machine's speed); explore further by hand with more SECONDS or
# QUASAR_FUZZ_SEED.
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-30}"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)"
work=build/fuzz/run
rm -rf "$work"; mkdir -p "$work/safetensors" "$work/manifest" build/fuzz/crashes

# Seeds: a small valid safetensors file (header length, JSON, data) and the repo's manifests.
seed() {  # NAME HEADER DATA
  local len=${#2}
  printf "$(printf '\\x%02x\\x%02x\\x00\\x00\\x00\\x00\\x00\\x00' $((len & 255)) $((len >> 8)))" > "$work/safetensors/$1"
  printf '%s%s' "$2" "$3" >> "$work/safetensors/$1"
}
seed one '{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}' 'xy'
seed two '{"__metadata__":{"k":"v"},"b":{"dtype":"F16","shape":[1,2],"data_offsets":[0,4]},"c":{"dtype":"I8","shape":[3],"data_offsets":[4,7]}}' 'abcdefg'
cp tests/cli/*.yaml "$work/manifest/"
i=0; for f in traces/golden/*/trace.yaml; do cp "$f" "$work/manifest/golden$i.yaml"; i=$((i+1)); done

# An input that runs 10 s is a failure (-timeout leaves it in crashes/ as timeout-*), and the
# whole run is killed 2 minutes past its time: an input that makes the reader allocate without
# end once kept libFuzzer's out-of-memory report (a profile of a 2 GB heap) running for over
# half an hour.
for target in safetensors manifest; do
  echo "fuzz_$target: ${secs}s"
  set +e
  timeout --signal=KILL $((secs + 120)) ./build/fuzz/tests/fuzz/fuzz_$target "$work/$target" \
    -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -seed="${QUASAR_FUZZ_SEED:-1}" -artifact_prefix=build/fuzz/crashes/ -print_final_stats=1 \
    > build/fuzz/$target.log 2>&1
  rc=$?
  set -e
  grep -E "stat::number_of_executed_units|ERROR|SUMMARY|Done" build/fuzz/$target.log || true
  if [ "$rc" -eq 137 ]; then echo "fuzz_$target did not finish (killed; build/fuzz/$target.log)"; exit 1; fi
  if ls build/fuzz/crashes/* >/dev/null 2>&1; then echo "fuzz_$target found a crash: build/fuzz/crashes/"; exit 1; fi
done
echo "fuzzing: no crash"
