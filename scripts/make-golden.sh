#!/usr/bin/env bash
# Regenerates the golden regression cases in traces/golden/ from the current code: the inputs
# (a data-bearing trace from `quasar gemm --trace-out`), then the expected outputs and
# statistics (`quasar regress --bless`). Run it only on purpose, and review the diff.
#   scripts/make-golden.sh [path/to/quasar]
set -euo pipefail
cd "$(dirname "$0")/.."
Q="${1:-./build/release/sim/app/quasar}"
root=traces/golden

make_case() {  # NAME ARGS...
  local name="$1"; shift
  local dir="$root/$name"
  rm -rf "$dir"; mkdir -p "$dir"
  "$Q" gemm "$@" --trace-out "$dir" >/dev/null
  "$Q" regress --bless "$dir" >/dev/null
  printf '# Golden case %s: generated, never edited by hand.\n# Inputs:   quasar gemm %s --trace-out %s\n# Expected: quasar regress --bless %s\n# All cases: scripts/make-golden.sh\n' \
    "$name" "$*" "$dir" "$dir" > "$dir/MANIFEST"
  echo "made $dir"
}

make_synth_case() {  # NAME ARGS... (a whole synthetic decoder layer: every record data-bearing)
  local name="$1"; shift
  local dir="$root/$name"
  rm -rf "$dir"
  "$Q" trace synth --out "$dir" "$@" >/dev/null
  "$Q" regress --bless "$dir" >/dev/null
  printf '# Golden case %s: generated, never edited by hand.\n# Inputs:   quasar trace synth --out %s %s\n# Expected: quasar regress --bless %s\n# All cases: scripts/make-golden.sh\n' \
    "$name" "$dir" "$*" "$dir" > "$dir/MANIFEST"
  echo "made $dir"
}

# Every scheme at its defaults (group 64 so K = 256 holds four groups).
make_case schemes-default --scheme all --m 16 --k 256 --n 32 --seed 3 --group 64
# Narrow accumulators: wraps in every integer stage, fp16 outputs of wrapped sums.
make_case overflow-narrow-acc --scheme all --m 12 --k 512 --n 24 --seed 5 --group 128 --acc-bits 12 --psum-bits 10
# The other settings: per-tensor activations, dint4 set B, materialized DGQ, the per-layer
# integer-scale heuristic, tiled fp16 accumulation, bf16 weight scales.
make_case variants --scheme all --m 9 --k 384 --n 20 --seed 7 --group 96 --act per-tensor \
  --dint-set B --dgq-dequant materialized --int-scale per-layer --k-tile 64 --scale-dtype bf16
# A whole decoder layer with attention, one case per KV-cache format (issue 16): norms, RoPE,
# KV append, attention, SwiGLU, residual adds and the quantized linears, every record checked.
tiny="--hidden 64 --intermediate 128 --heads 2 --kv-heads 1 --layers 1 --tokens 4 --vocab 32 --group 32 --seed 11"
make_synth_case layer-kv-fp16 $tiny --scheme w4a8-is --kv fp16 --attention fp32 --attention-tile 2
make_synth_case layer-kv-int8 $tiny --scheme w8a8 --kv int8 --attention int8
make_synth_case layer-kv-int4 $tiny --scheme w4a8-dint --kv int4 --attention fp32
