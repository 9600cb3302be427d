#!/usr/bin/env bash
# An interrupted `quasar run --out DIR` leaves DIR holding either the previous run's whole set
# of files or the new run's whole set, never a mix (issue 14). Deterministic: strace injects
# SIGKILL at the Nth rename (or unlinkat) system call of the run, for every N until a run completes,
# and after each kill DIR must equal, byte for byte and file for file, one of the two sets. A
# last run must find and remove the staging folders the killed runs left.
#   tests/cli/interrupted_out.sh QUASAR WORK_DIR
set -uo pipefail
q="$1" work="$2"
command -v strace >/dev/null || { echo "SKIP: strace is not installed"; exit 0; }
# LeakSanitizer cannot run under ptrace; a killed process never reaches it anyway.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
rm -rf "$work" && mkdir -p "$work"
old=(run --arch int8-baseline --trace "$(dirname "$0")/shape_only.yaml")
new=(run --arch intscale)  # priced, different layers: every file differs from the old set
# The reference sets are written to the same path as the test's (the HTML names its report).
"$q" "${old[@]}" --out "$work/out" >/dev/null && mv "$work/out" "$work/old" || { echo "FAIL: reference run (old)"; exit 1; }
"$q" "${new[@]}" --out "$work/out" >/dev/null && mv "$work/out" "$work/new" || { echo "FAIL: reference run (new)"; exit 1; }
same_set() { diff -r -q "$1" "$2" >/dev/null 2>&1; }
fail=0 kills=0
for call in rename renameat2 unlinkat; do
  for n in $(seq 1 40); do
    rm -rf "$work/out" && cp -r "$work/old" "$work/out"
    strace -f -qq -o /dev/null -e trace=rename,renameat,renameat2,unlinkat \
      -e inject="$call":signal=KILL:when="$n" "$q" "${new[@]}" --out "$work/out" >/dev/null 2>&1 &
    wait $! 2>/dev/null; rc=$?
    if same_set "$work/out" "$work/old"; then state=old
    elif same_set "$work/out" "$work/new"; then state=new
    else state=MIXED; fail=1; diff -r -q "$work/out" "$work/new"; fi
    echo "SIGKILL at $call #$n: exit $rc, folder holds the $state set"
    [ "$rc" -eq 0 ] && break  # the run got past its last $call: nothing left to interrupt
    kills=$((kills + 1))
  done
done
[ "$kills" -ge 3 ] || { echo "FAIL: only $kills runs were interrupted (strace injection not working?)"; fail=1; }
"$q" "${new[@]}" --out "$work/out" >/dev/null || fail=1
left=$(find "$work" -maxdepth 1 -name '.out.quasar-partial-*' | wc -l)
[ "$left" -eq 0 ] || { echo "FAIL: $left staging folders left beside the output"; fail=1; }
same_set "$work/out" "$work/new" || { echo "FAIL: the last run's folder is not its set"; fail=1; }
[ "$fail" -eq 0 ] && echo "PASS: $kills interrupted runs, every one left a whole set"
exit "$fail"
