#!/usr/bin/env bash
# A DRAM standard the shipped table lacks, added from a datasheet: the shipped literature table
# plus one `datasheet:` row (round fixture currents, not technology data) prices a finished
# LPDDR5 run through `quasar cost --literature`, reads and writes apart, with the derivation in
# the source column.
#   tests/cli/datasheet_dram.sh QUASAR SOURCE_DIR WORK_DIR
set -euo pipefail
q="$1" src="$2" work="$3"
rm -rf "$work" && mkdir -p "$work"
python3 - "$src/configs/tech/literature-45nm.yaml" "$src/tests/cli/datasheet_row.yaml" "$work/lit.yaml" <<'PY'
import sys
text = open(sys.argv[1]).read()
row = "".join(l for l in open(sys.argv[2]) if not l.startswith("#")).replace("  ddr9:", "  lpddr5:", 1)
if "\ndram:\n" not in text:
    sys.exit(sys.argv[1] + ": no dram section")
open(sys.argv[3], "w").write(text.replace("\ndram:\n", "\ndram:\n" + row, 1))
PY
"$q" run --arch "$src/tests/cli/int8-lpddr5.yaml" --trace "$src/tests/cli/shape_only.yaml" \
  --out "$work/run" > /dev/null
"$q" cost "$work/run/report.json" --literature "$work/lit.yaml" --format md
