#!/usr/bin/env bash
# tamper.sh QUASAR CASE_DIR WORK_DIR: a golden case whose expected statistics (stats.json) or
# timing (timing.json) were changed must fail `quasar regress` (naming the file and line), and
# `--bless` must make it pass again.
set -euo pipefail
q="$1"; src="$2"; work="$3"
rm -rf "$work"; mkdir -p "$work"; cp -r "$src" "$work/case"
sed -i '0,/"mul.int8xint8": [0-9]*/s//"mul.int8xint8": 1/' "$work/case/stats.json"
if out="$("$q" regress "$work/case" 2>&1)"; then echo "FAIL: tampered case passed: $out"; exit 1; fi
grep -q "FAIL .*stats.json line .*mul.int8xint8" <<<"$out" || { echo "FAIL: unexpected message: $out"; exit 1; }
"$q" regress --bless "$work/case" >/dev/null
"$q" regress "$work/case" | grep -q "^PASS" || { echo "FAIL: blessed case does not pass"; exit 1; }
cmp "$src/stats.json" "$work/case/stats.json" || { echo "FAIL: bless did not restore stats.json"; exit 1; }
# The same for the timing expectations (builds with SystemC write timing.json).
if [ -f "$src/timing.json" ]; then
  sed -i '0,/"stall_dram_cycles": [0-9]*/s//"stall_dram_cycles": 7/' "$work/case/timing.json"
  if out="$("$q" regress "$work/case" 2>&1)"; then echo "FAIL: tampered timing passed: $out"; exit 1; fi
  grep -q "FAIL .*timing.json line .*stall_dram_cycles" <<<"$out" || { echo "FAIL: unexpected message: $out"; exit 1; }
  "$q" regress --bless "$work/case" >/dev/null
  cmp "$src/timing.json" "$work/case/timing.json" || { echo "FAIL: bless did not restore timing.json"; exit 1; }
fi
echo PASS
