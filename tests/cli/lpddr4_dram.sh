#!/usr/bin/env bash
# The shipped lpddr4 row (configs/tech/literature-45nm.yaml, computed from the DRAMPower memspec's
# IDD table): a run on LPDDR4 is priced by `quasar run` with the shipped tables, and again by
# `quasar cost --literature` with the table file itself, reads and writes apart, with the
# derivation in the source column.
#   tests/cli/lpddr4_dram.sh QUASAR SOURCE_DIR WORK_DIR
set -euo pipefail
q="$1" src="$2" work="$3"
rm -rf "$work" && mkdir -p "$work"
"$q" run --arch "$src/tests/cli/int8-lpddr4.yaml" --trace "$src/tests/cli/shape_only.yaml" \
  --out "$work/run" > /dev/null
"$q" cost "$work/run/report.json" --literature "$src/configs/tech/literature-45nm.yaml" --format md
