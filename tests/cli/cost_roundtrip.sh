#!/usr/bin/env bash
# `quasar cost REPORT` re-prices a finished run from its report.json alone; with the tables the
# run used it must give exactly the cost `quasar run` wrote into the report (every line, every
# total). Catches a report that leaves out something pricing needs (e.g. the design's schemes).
#   tests/cli/cost_roundtrip.sh QUASAR REPORT.json
set -euo pipefail
q="$1" report="$2"
"$q" cost "$report" --format json | python3 -c '
import json, sys
again = json.load(sys.stdin)
stored = json.load(open(sys.argv[1]))["cost"]
if stored is None:
    sys.exit(sys.argv[1] + ": the run was not priced")
if again != stored:
    for k in stored:
        if again.get(k) != stored[k]:
            print("differs:", k, file=sys.stderr)
    sys.exit(1)
print("cost round trip: identical,", len(stored["area"]), "area lines,", len(stored["energy"]), "energy lines")
' "$report"
