#!/usr/bin/env bash
# expect.sh ok|fail REGEX -- COMMAND...
# Runs COMMAND; passes when its exit status is as expected (ok: 0; fail: 1..125, i.e. a clean
# error exit, never a crash by signal) and its combined output matches the extended REGEX.
set -u
want="$1"; regex="$2"; shift 2
[ "$1" = "--" ] && shift
out="$("$@" 2>&1)"; rc=$?
echo "$out"
echo "exit status: $rc"
case "$want" in
  ok)   [ "$rc" -eq 0 ] || { echo "FAIL: expected exit 0"; exit 1; } ;;
  fail) { [ "$rc" -ge 1 ] && [ "$rc" -le 125 ]; } || { echo "FAIL: expected a clean error exit (1..125)"; exit 1; } ;;
  *) echo "expect.sh: first argument must be ok or fail"; exit 2 ;;
esac
# Matched on the output joined into one line, so a pattern may span lines.
if ! tr "\n" " " <<<"$out" | grep -Eq -- "$regex"; then echo "FAIL: output does not match /$regex/"; exit 1; fi
echo "PASS"
