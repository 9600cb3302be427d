#!/usr/bin/env bash
# Simulator speed of `quasar run` (issue 5's targets), every number measured in this run:
#   1. the 512x1024x1024 GEMM on the 32x32 WS int8 baseline: fast mode wall time and peak memory;
#      cycle mode (timing-only, the array ticked every cycle) wall time, PE-cycles per second, and
#      its ratio to fast mode;
#   2. memory independent of the number of cycles: the cycle mode's peak on a GEMM 8x longer;
#   3. a whole LLaMA-2-7B prefill (S = 2048, 32 decoder layers, every GEMM the design runs) on a
#      128x128 array (bench/configs/intscale-128x128.yaml), fast mode, and on four such cores
#      sharing an HBM2E stack (bench/configs/intscale-4x128x128-hbm2e.yaml).
#   4. with OLD_QUASAR (a quasar binary of an earlier model, e.g. built from c56b366), the same
#      cases on it in this run, and the wall-time ratio new / old (designs of format 2 are
#      written back to format 1 for it: the same figures at 1 GHz).
#   bench/accelerator.sh [BUILD_DIR] [OLD_QUASAR]   (default build/release; needs quasar there)
set -euo pipefail
cd "$(dirname "$0")/.."
quasar="${1:-build/release}/sim/app/quasar"
old="${2:-}"
[ -x "$quasar" ] || { echo "bench/accelerator.sh: no $quasar (build the release preset)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

gemm() {  # name m k n
  cat > "$work/$1.yaml" <<YAML
quasar_trace: 1
name: $1
layers:
  - {name: gemm, op: linear, m: $2, k: $3, n: $4, scheme: w8a8}
YAML
}
gemm g512 512 1024 1024
gemm g4096 4096 1024 1024
"$quasar" trace gen --model llama-2-7b --seq 2048 --phase prefill --scheme w4a8-is \
  --out "$work/prefill.yaml" > /dev/null

# run NAME ARGS...: best of 3 wall times (s) and the peak RSS (KB) of that run; the cycle count.
# QUASAR (default: the new one) is the binary timed.
run() {
  local name=$1; shift
  local bin="${QUASAR:-$quasar}"
  local best="" mem="" cycles=""
  for _ in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$work/time" "$bin" run --format json "$@" > "$work/out.json"
    read -r t m < "$work/time"
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; mem=$m; fi
  done
  cycles=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['cycles'])" "$work/out.json")
  eval "${name}_t=$best ${name}_m=$mem ${name}_c=$cycles"
}

run fast --arch int8-baseline --trace "$work/g512.yaml" --mode fast
run cycle --arch int8-baseline --trace "$work/g512.yaml" --mode cycle
run cycle8 --arch int8-baseline --trace "$work/g4096.yaml" --mode cycle
run llama --arch bench/configs/intscale-128x128.yaml --trace "$work/prefill.yaml" --mode fast
run llama4 --arch bench/configs/intscale-4x128x128-hbm2e.yaml --trace "$work/prefill.yaml" --mode fast

echo "quasar run speed ($(nproc) cores, $(date -u +%F), git $(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
printf '%-52s %12s %9s %10s\n' "case" "cycles" "wall s" "peak MB"
printf '%-52s %12s %9s %10.1f\n' "512x1024x1024, 32x32 WS, fast" "$fast_c" "$fast_t" "$(awk "BEGIN{print $fast_m/1024}")"
printf '%-52s %12s %9s %10.1f\n' "512x1024x1024, 32x32 WS, cycle (timing-only)" "$cycle_c" "$cycle_t" "$(awk "BEGIN{print $cycle_m/1024}")"
printf '%-52s %12s %9s %10.1f\n' "4096x1024x1024, 32x32 WS, cycle (timing-only)" "$cycle8_c" "$cycle8_t" "$(awk "BEGIN{print $cycle8_m/1024}")"
printf '%-52s %12s %9s %10.1f\n' "LLaMA-2-7B prefill S=2048, 32 layers, 128x128, fast" "$llama_c" "$llama_t" "$(awk "BEGIN{print $llama_m/1024}")"
printf '%-52s %12s %9s %10.1f\n' "same, 4 cores x 128x128 sharing HBM2E, fast" "$llama4_c" "$llama4_t" "$(awk "BEGIN{print $llama4_m/1024}")"
if [ -n "$old" ]; then
  # The 128 x 128 design in format 1 for the old binary (1 GHz: B/cycle = GB/s, cycles = ns).
  sed -e 's/^quasar_arch: 2/quasar_arch: 1/' -e '/^  channels: 1$/d' -e '/^  double_buffer:/d' \
      -e 's/bandwidth_gbps:/bytes_per_cycle:/' -e 's/latency_ns:/latency_cycles:/' \
      bench/configs/intscale-128x128.yaml > "$work/v1-128.yaml"
  # Traces without `inputs` (which earlier binaries do not read): the same layers as a chain.
  grep -v '^    inputs:' "$work/prefill.yaml" > "$work/prefill-chain.yaml"
  QUASAR="$old" run ofast --arch int8-baseline --trace "$work/g512.yaml" --mode fast
  QUASAR="$old" run ocycle --arch int8-baseline --trace "$work/g512.yaml" --mode cycle
  QUASAR="$old" run ollama --arch "$work/v1-128.yaml" --trace "$work/prefill-chain.yaml" --mode fast
  printf '%-52s %12s %9s %10s\n' "old model ($old)" "cycles" "wall s" "new/old"
  printf '%-52s %12s %9s %10.2f\n' "512x1024x1024, 32x32 WS, fast" "$ofast_c" "$ofast_t" "$(awk "BEGIN{print $fast_t/($ofast_t+1e-9)}")"
  printf '%-52s %12s %9s %10.2f\n' "512x1024x1024, 32x32 WS, cycle" "$ocycle_c" "$ocycle_t" "$(awk "BEGIN{print $cycle_t/($ocycle_t+1e-9)}")"
  printf '%-52s %12s %9s %10.2f\n' "LLaMA-2-7B prefill, 128x128, fast" "$ollama_c" "$ollama_t" "$(awk "BEGIN{print $llama_t/($ollama_t+1e-9)}")"
fi
python3 - "$cycle_c" "$cycle_t" "$fast_t" "$cycle_m" "$cycle8_m" <<'PY'
import sys
c, tc, tf, m1, m8 = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
print(f"cycle mode: {c * 1024 / max(tc, 1e-9):.3g} PE-cycles/s on 32x32 (target 5e8); "
      f"cycle / fast wall time: {tc / max(tf, 1e-9):.1f}x; "
      f"peak memory 8x more cycles / 1x: {m8 / m1:.2f}")
PY
