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
here="$(cd "$(dirname "$0")" && pwd)"
line="$(grep -E "^${name} \| " "$casefile")" || { echo "no case '$name' in $casefile"; exit 2; }
IFS='|' read -r _ want regex args <<<"$line"
want="$(echo $want)"; regex="${regex# }"; regex="${regex% }"
scratch="$(mktemp -d)"; trap 'rm -rf "$scratch"' EXIT
args="${args//@C@/$corpus}"; args="${args//@T@/$scratch}"; args="${args//@S@/$src}"
read -r -a argv <<<"$args"
[ -n "${ASAN_OPTIONS:-}" ] || ulimit -v $((4 * 1024 * 1024))
cd "$scratch"
echo "\$ quasar ${argv[*]}"
# tests/cli/expect.sh checks the exit status and the words. A hang is killed at 60 s by SIGKILL,
# which expect.sh reports as a crash by signal, never as a clean error exit.
"$here/../cli/expect.sh" "$want" "$regex" -- \
  timeout --signal=KILL 60 "$quasar" "${argv[@]}" </dev/null
