#!/usr/bin/env bash
# A DRAM standard the shipped table lacks, added from a datasheet: the shipped literature table
# plus one `datasheet:` row (round fixture currents, not technology data) prices a finished
# LPDDR5 run through `quasar cost --literature`, reads and writes apart, with the derivation in
# the source column.
#   tests/cli/datasheet_dram.sh QUASAR SOURCE_DIR WORK_DIR
set -euo pipefail
q="$1" src="$2" work="$3"
rm -rf "$work" && mkdir -p "$work"
python3 - "$src/configs/tech/literature-45nm.yaml" "$work/lit.yaml" <<'PY'
import sys
text = open(sys.argv[1]).read()
row = """  lpddr5:
    datasheet:
      device: "fixture x8 (round numbers, not technology data)"
      data_rate_mtps: 1000
      width_bits: 8
      page_bytes: 1024
      trc_ns: 50
      tras_ns: 35
      rails:
        VDD: {volts: 1.0, idd0_ma: 60, idd2n_ma: 30, idd3n_ma: 40, idd4r_ma: 120, idd4w_ma: 100}
    source: "fixture"
"""
if "\ndram:\n" not in text:
    sys.exit(sys.argv[1] + ": no dram section")
open(sys.argv[2], "w").write(text.replace("\ndram:\n", "\ndram:\n" + row, 1))
PY
"$q" run --arch "$src/tests/cli/int8-lpddr5.yaml" --trace "$src/tests/cli/shape_only.yaml" \
  --out "$work/run" > /dev/null
"$q" cost "$work/run/report.json" --literature "$work/lit.yaml" --format md
