#!/usr/bin/env bash
# Runs every case of the ASan build's SystemC test (tests/systemc/test_accelerator) N times,
# 16 processes at a time, once per LeakSanitizer setting, and counts the processes that failed
# and the LeakSanitizer tracer crashes among them (docs/limits.md, "Sanitizers"). Carry the
# binary and its libraries to a host of another CPU kind to compare hosts.
#   scripts/asan-systemc-repeat.sh [N] [TEST_BINARY]
set -uo pipefail
n="${1:-10}"
bin="$(realpath "${2:-build/asan/tests/systemc/test_accelerator}")"
tests=$("$bin" --gtest_list_tests 2>/dev/null | awk '/^[^ ]/{s=$1} /^  /{print s $1}')
lscpu | grep "Model name" || true
echo "$(echo "$tests" | wc -l) cases x $n"
out="$(mktemp -d)"
for lsan in "" "use_stacks=0" "intercept_tls_get_addr=0"; do
  for _ in $(seq 1 "$n"); do echo "$tests"; done |
    xargs -P 16 -I{} sh -c "ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS='$lsan' \
      '$bin' --gtest_filter='{}' > '$out'/o.\$\$ 2>&1 || { echo FAIL {}; grep -m1 'Tracer caught' '$out'/o.\$\$; }; rm -f '$out'/o.\$\$" > "$out/res"
  echo "LSAN_OPTIONS='${lsan}': $(grep -c '^FAIL' "$out/res") failed, $(grep -c 'Tracer caught' "$out/res") tracer crashes"
done
rm -rf "$out"
