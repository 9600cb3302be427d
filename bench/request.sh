#!/usr/bin/env bash
# Request speed (issue 16's target: prompt 2048 + 128 generated, batch 16, LLaMA-2-7B on the
# shipped intscale design, under 60 s on a 2-core machine), every number measured in this run:
# the request with segment reuse (the default) against the same request with every step
# simulated whole (--whole-steps, JOBS at once), wall time, peak memory, the ratio, and whether
# the two reports are equal but for their "segments" key (they must be: reuse is exact).
#   bench/request.sh [BUILD_DIR] [GENERATE] [JOBS]   (defaults: build/release, 128, every core)
set -euo pipefail
cd "$(dirname "$0")/.."
quasar="${1:-build/release}/sim/app/quasar"
gen="${2:-128}"
jobs="${3:-$(nproc)}"
[ -x "$quasar" ] || { echo "bench/request.sh: no $quasar (build the release preset)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
req=(run --model llama-2-7b --prompt 2048 --generate "$gen" --batch 16 --format json)
/usr/bin/time -f "%e %M" -o "$work/seg.t" "$quasar" "${req[@]}" > "$work/seg.json" 2>/dev/null
/usr/bin/time -f "%e %M" -o "$work/whole.t" "$quasar" "${req[@]}" --whole-steps -j "$jobs" \
  > "$work/whole.json" 2>/dev/null
read -r s_wall s_kb < "$work/seg.t"
read -r w_wall w_kb < "$work/whole.t"
python3 - "$work/seg.json" "$work/whole.json" "$s_wall" "$s_kb" "$w_wall" "$w_kb" "$jobs" <<'PY'
import json, sys
seg, whole = (json.load(open(f)) for f in sys.argv[1:3])
s_wall, s_kb, w_wall, w_kb, jobs = float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
segments = seg.pop("segments"); whole.pop("segments")
print(f"request: prompt 2048, {seg['generate']} generated, batch 16, llama-2-7b on {seg['design']}")
print(f"segments reused : {s_wall:8.1f} s  {s_kb / 1024:6.0f} MB  ({segments})")
print(f"whole steps -j {jobs}: {w_wall:8.1f} s  {w_kb / 1024:6.0f} MB")
print(f"ratio whole / reused: {w_wall / s_wall:.1f}x; target under 60 s: {'met' if s_wall < 60 else 'missed'}")
print(f"reports equal: {seg == whole}")
sys.exit(0 if seg == whole else 1)
PY
