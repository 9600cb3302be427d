#!/usr/bin/env bash
# Decode-step speed (issue 16's target: one decode step of the whole LLaMA-2-7B, 32 layers,
# batch 16, context 4096, on the shipped 4-core design intscale-x4, under 1 s in fast mode),
# every number measured in this run: the fast mode on its event-loop kernel (the default)
# against the same run on the SystemC kernel (QUASAR_FAST_KERNEL=systemc), each the best of
# REPS runs, alternating; the ratio; and whether the two reports are byte for byte equal (they
# must be: the kernels run the same model).
#   bench/decode_step.sh [BUILD_DIR] [REPS] [ARCH]   (defaults: build/release, 3, intscale-x4)
set -euo pipefail
cd "$(dirname "$0")/.."
quasar="${1:-build/release}/sim/app/quasar"
reps="${2:-3}"
arch="${3:-intscale-x4}"
[ -x "$quasar" ] || {
  echo "bench/decode_step.sh: no $quasar (build the release preset)" >&2
  exit 1
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$quasar" trace gen --model llama-2-7b --phase decode --batch 16 --context 4096 \
  --out "$work/dec.yaml" > /dev/null
best() { sort -n "$1" | head -1; }
for i in $(seq "$reps"); do
  for k in event-loop systemc; do
    QUASAR_FAST_KERNEL=$k /usr/bin/time -f "%e" -a -o "$work/$k.t" \
      "$quasar" run --arch "$arch" --trace "$work/dec.yaml" --format json > "$work/$k.json"
  done
done
el=$(best "$work/event-loop.t")
sc=$(best "$work/systemc.t")
cycles=$(python3 -c "import json, sys; print(json.load(open(sys.argv[1]))['cycles'])" \
  "$work/event-loop.json")
echo "decode step: llama-2-7b, 32 layers, batch 16, context 4096, on $arch: $cycles cycles"
echo "fast mode, event loop: $el s (best of $reps)"
echo "fast mode, SystemC   : $sc s (best of $reps)"
python3 - "$el" "$sc" <<'PY'
import sys
e, s = float(sys.argv[1]), float(sys.argv[2])
print(f"ratio SystemC / event loop: {s / e:.2f}x; target under 1 s: {'met' if e < 1 else 'missed'}")
PY
if cmp -s "$work/event-loop.json" "$work/systemc.json"; then
  echo "reports equal: True"
else
  echo "reports equal: False"
  exit 1
fi
