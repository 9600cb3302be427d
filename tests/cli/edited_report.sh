#!/usr/bin/env bash
# A report.json edited by hand into something no run produces is refused by `quasar cost`, with
# the key named, instead of being priced into inf / NaN / negative numbers.
#   tests/cli/edited_report.sh QUASAR REPORT.json WORK_DIR
set -uo pipefail
q="$1" report="$2" work="$3"
rm -rf "$work" && mkdir -p "$work"
fail=0
check() {  # check PYTHON_EDIT EXPECTED_MESSAGE
  python3 - "$report" "$work/r.json" "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(r, open(sys.argv[2], "w"))
PY
  local out rc
  out=$("$q" cost "$work/r.json" 2>&1); rc=$?
  if [ "$rc" = 0 ] || ! grep -qF "$2" <<<"$out"; then
    echo "FAIL: edit '$1' -> rc $rc: $out"; fail=1
  fi
}
check 'r["cycles"] = -5' "key 'cycles' must be a non-negative integer"
check 'r["arch"]["clock_mhz"] = 0' "arch.clock_mhz: must be in [1, 100000]"
check 'r["arch"]["array"]["rows"] = 0' "arch.array.rows/cols: must be in 1..4096"
check 'r["arch"]["buffers"]["ifmap"]["size_bytes"] = 0' "arch.buffers: size >= 1 KiB"
check 'r["cycles"] = r["cycles"] + 1' "the layers' cycles sum to"
[ "$fail" = 0 ] && echo "edited reports: all refused"
exit "$fail"
