#!/usr/bin/env bash
# Output that cannot be written is an error, never exit 0 with nothing written: a file on a full
# device (/dev/full), standard output on a full device, a folder given as the output file. A
# device is written in place, not replaced (/dev/null keeps working as a sink).
#   tests/cli/write_failures.sh QUASAR WORK_DIR
set -uo pipefail
q="$1" work="$2"
rm -rf "$work" && mkdir -p "$work/folder"
fail=0
expect() {  # expect WANT_RC REGEX -- command...
  local want="$1" re="$2"; shift 3
  local out rc
  out=$("$@" 2>&1 >/dev/null); rc=$?
  if [ "$rc" != "$want" ] || ! grep -Eq "$re" <<<"$out"; then
    echo "FAIL: $* -> rc $rc (want $want), stderr: $out"; fail=1
  fi
}
gen=("$q" trace gen --model llama-2-7b --phase decode)
note=""
if [ -c /dev/full ]; then
  expect 1 "/dev/full: write failed" -- "${gen[@]}" -o /dev/full
  [ -c /dev/full ] || { echo "FAIL: /dev/full is no longer a device"; fail=1; }
  out=$("${gen[@]}" 2>&1 >/dev/full); rc=$?
  if [ "$rc" != 1 ] || ! grep -q "writing to standard output failed" <<<"$out"; then
    echo "FAIL: stdout on a full device -> rc $rc: $out"; fail=1
  fi
else
  note=" (no /dev/full here: the full-device cases were skipped)"
fi
expect 0 "" -- "${gen[@]}" -o /dev/null
[ -c /dev/null ] || { echo "FAIL: /dev/null is no longer a device"; fail=1; }
expect 1 "folder: exists and is not a regular file" -- "${gen[@]}" -o "$work/folder"
ls "$work"/*.partial /dev/*.partial 2>/dev/null && { echo "FAIL: .partial left behind"; fail=1; }
[ "$fail" = 0 ] && echo "write failures: all reported$note"
exit "$fail"
