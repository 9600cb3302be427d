#!/usr/bin/env bash
# run_case.sh CASEFILE NAME QUASAR CORPUS SOURCE_DIR
# Runs one hostile-input case of CASEFILE (format in cases_io.txt's header) and checks its exit
# status (ok: 0; fail: a clean error exit 1..125, never a signal, never a hang) and that its
# combined output matches the case's extended regex. Each case gets a fresh scratch folder @T@.
# Release builds also run under a 4 GiB address-space limit, so a case that would exhaust
# memory fails here instead of swapping the machine (not under ASan, which reserves terabytes of
# shadow address space up front).
set -u
casefile="$1"; name="$2"; quasar="$3"; corpus="$4"; src="$5"
line="$(grep -E "^${name} \| " "$casefile")" || { echo "no case '$name' in $casefile"; exit 2; }
IFS='|' read -r _ want regex args <<<"$line"
want="$(echo $want)"; regex="${regex# }"; regex="${regex% }"
scratch="$(mktemp -d)"; trap 'rm -rf "$scratch"' EXIT
args="${args//@C@/$corpus}"; args="${args//@T@/$scratch}"; args="${args//@S@/$src}"
read -r -a argv <<<"$args"
[ -n "${ASAN_OPTIONS:-}" ] || ulimit -v $((4 * 1024 * 1024))
cd "$scratch"
out="$(timeout 60 "$quasar" "${argv[@]}" 2>&1 </dev/null)"; rc=$?
echo "\$ quasar ${argv[*]}"
echo "$out" | head -c 4000; echo
echo "exit status: $rc"
[ "$rc" -eq 124 ] && { echo "FAIL: still running after 60 s (a hang?)"; exit 1; }
case "$want" in
  ok)   [ "$rc" -eq 0 ] || { echo "FAIL: expected exit 0"; exit 1; } ;;
  fail) { [ "$rc" -ge 1 ] && [ "$rc" -le 125 ]; } || { echo "FAIL: expected a clean error exit (1..125)"; exit 1; } ;;
  *) echo "bad case: want must be ok or fail"; exit 2 ;;
esac
if ! tr "\n" " " <<<"$out" | grep -Eq -- "$regex"; then echo "FAIL: output does not match /$regex/"; exit 1; fi
echo "PASS"
