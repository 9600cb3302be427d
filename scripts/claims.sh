#!/usr/bin/env bash
# The seeds' claims, reproduced with quasar (docs/validation.md, "The seeds' claims"): prints one
# Markdown table per claim, every number computed here from the shipped tables and designs.
#   scripts/claims.sh [1|2|3|4 ...]      (default: all; needs the release build of quasar)
# 1 dINT MAC vs INT8 MAC (area, energy/op)        configs/tech/units-osu018.yaml
# 2 Integer Scale vs float-scale W4A8 on LLaMA-2-7B: conversions removed, energy, latency, and
#   the decode-batch / prefill-length sweep for an edge-unit bottleneck
# 3 DGQ fused vs materialized; W4A8-DGQ vs W4A16 vs W8A8 bytes and latency
# 4 Integer Scale accumulator overflow with 32-bit accumulators, K up to 28672
set -euo pipefail
cd "$(dirname "$0")/.."
Q="${QUASAR:-build/release/sim/app/quasar}"
[ -x "$Q" ] || { echo "claims.sh: no $Q (cmake --build --preset release --target quasar)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
claims="${*:-1 2 3 4}"

# json FILE EXPR: a Python expression over the JSON document `j`.
json() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

# run NAME ARCH TRACE: quasar run --out $work/NAME (fast mode).
run() { "$Q" run --arch "$2" --trace "$3" --out "$work/$1" > /dev/null; }

claim1() {
  echo "### 1. dINT4 x INT8 MAC vs INT8 x INT8 MAC"
  echo
  python3 - configs/tech/units-osu018.yaml <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def unit(name):
    m = re.search(r"\n  %s:\n(.*?)(?=\n  \S|\Z)" % re.escape(name), text, re.S)
    body = m.group(1)
    area = float(re.search(r"area_um2: ([0-9.]+)", body).group(1))
    e = re.search(r"energy_pj_per_op:\n\s+random: ([0-9.]+)\n\s+llm: ([0-9.]+)", body)
    return area, float(e.group(1)), float(e.group(2))
i8 = unit("mac_int8")
print("| unit | um2 (180 nm) | pJ/op random | pJ/op llm |")
print("|---|---|---|---|")
for n in ["mac_int8", "mac_w4a8", "mac_dint4_a", "mac_dint4_b"]:
    a, r, l = unit(n)
    print(f"| {n} | {a:.0f} | {r:.3f} | {l:.3f} |")
print()
print("| ratio int8 / unit | area | energy random | energy llm | paper (dINT) |")
print("|---|---|---|---|---|")
for n in ["mac_dint4_a", "mac_dint4_b", "mac_w4a8"]:
    a, r, l = unit(n)
    paper = "area 1.93x, power 2.56x" if n == "mac_dint4_a" else "-"
    print(f"| {n} | {i8[0]/a:.2f}x | {i8[1]/r:.2f}x | {i8[2]/l:.2f}x | {paper} |")
PY
  echo
}

claim2() {
  echo "### 2. Integer Scale vs float-scale W4A8, LLaMA-2-7B"
  echo
  "$Q" trace gen --model llama-2-7b --phase prefill --seq 2048 --scheme w4a8-is --out "$work/is.yaml" > /dev/null
  "$Q" trace gen --model llama-2-7b --phase prefill --seq 2048 --scheme w4a8-fs --out "$work/fs.yaml" > /dev/null
  run is intscale "$work/is.yaml"
  run fs floatscale "$work/fs.yaml"
  echo "Whole prefill (S = 2048, 32 decoder layers, the linear layers), shipped designs:"
  echo
  echo "| design | cycles | int->fp32 conversions + fp32 mul + fp32 add | integer-scale ops | rescale energy | total energy | area (mm2) |"
  echo "|---|---|---|---|---|---|---|"
  for d in is fs; do
    f="$work/$d/report.json"
    json "$f" "'| %s | %d | %d | %d | %.4g mJ | %.4g J | %.3f |' % (j['design'], j['cycles'], j['totals']['floatscale_ops'], j['totals']['intscale_ops'], sum(l['pj'] for l in j['cost']['energy'] if l['component'] in ('intscale','floatscale'))*1e-9, j['cost']['energy_pj']*1e-12, j['cost']['area_um2']*1e-6)"
  done
  echo
  echo "Edge-unit bottleneck sweep (one decoder layer; stall_edge = array cycles waiting for the"
  echo "rescale units). Designs: the shipped ones (32 units, one per column) and the same with 4 units:"
  echo
  echo "| workload | M | intscale 32: cycles / stall edge | floatscale 32 | intscale 4 | floatscale 4 |"
  echo "|---|---|---|---|---|---|"
  for u in 4; do
    sed "s/intscale_units: 32 /intscale_units: $u /; s/^name: intscale/name: intscale-$u/" configs/arch/intscale.yaml > "$work/is$u.yaml"
    sed "s/floatscale_units: 32 /floatscale_units: $u /; s/^name: floatscale/name: floatscale-$u/" configs/arch/floatscale.yaml > "$work/fs$u.yaml"
  done
  sweep() {  # label phase flag value
    for s in w4a8-is w4a8-fs; do
      "$Q" trace gen --model llama-2-7b --phase "$2" "$3" "$4" --scheme $s --out "$work/t-$s.yaml" > /dev/null
      python3 - "$work/t-$s.yaml" <<'PY'
import sys
# keep the first decoder layer only: repeat 32 -> 1 (the sweep compares per-layer behaviour)
p = sys.argv[1]; t = open(p).read().replace("repeat: 32", "repeat: 1"); open(p, "w").write(t)
PY
    done
    local row="| $1 | $4 |"
    for d in "intscale:w4a8-is" "floatscale:w4a8-fs" "$work/is4.yaml:w4a8-is" "$work/fs4.yaml:w4a8-fs"; do
      run x "${d%%:*}" "$work/t-${d##*:}.yaml"
      row="$row $(json "$work/x/report.json" "'%d / %d' % (j['cycles'], j['totals']['stall_edge_cycles'])") |"
    done
    echo "$row"
  }
  for b in 1 16 64 256; do sweep "decode, context 4096" decode --batch $b; done
  for s in 128 512 2048; do sweep "prefill" prefill --seq $s; done
  echo
}

claim3() {
  echo "### 3. DGQ: fused vs materialized dequantization; W4A8-DGQ vs W4A16 vs W8A8"
  echo
  "$Q" trace gen --model llama-2-7b --phase prefill --seq 2048 --scheme w4a8-dgq --out "$work/dgq.yaml" > /dev/null
  "$Q" trace gen --model llama-2-7b --phase prefill --seq 2048 --scheme w4a8-dgq --dequant materialized --out "$work/dgqm.yaml" > /dev/null
  "$Q" trace gen --model llama-2-7b --phase prefill --seq 2048 --scheme w4a16 --out "$work/w4a16.yaml" > /dev/null
  "$Q" trace gen --model llama-2-7b --phase prefill --seq 2048 --scheme w8a8 --out "$work/w8a8.yaml" > /dev/null
  run dgq dgq "$work/dgq.yaml"
  run dgqm dgq "$work/dgqm.yaml"
  run w4a16 fp16-w4a16 "$work/w4a16.yaml"
  run w8a8 int8-baseline "$work/w8a8.yaml"
  echo "LLaMA-2-7B prefill, S = 2048, the seven linear layers of each of the 32 decoder layers"
  echo "(layers every design runs; the fp16 design also runs attention and lm_head, left out here):"
  echo
  echo "| run | design | cycles | speed vs W4A16 | weight bytes from DRAM | activation bytes from DRAM | output bytes to DRAM | energy |"
  echo "|---|---|---|---|---|---|---|---|"
  for r in dgq dgqm w4a16 w8a8; do
    python3 - "$work/$r/report.json" "$work/w4a16/report.json" "$r" <<'PY'
import json, sys
def proj(path):
    j = json.load(open(path))
    keep = [i for i, l in enumerate(j["layers"]) if l["name"].endswith("_proj")]
    tot = lambda k: sum(j["layers"][i][k] for i in keep)
    pj = sum(j["cost"]["layers"][i]["pj"] for i in keep)
    return j, tot, pj
j, tot, pj = proj(sys.argv[1])
_, base, _ = proj(sys.argv[2])
print("| %s | %s | %d | %.2fx | %.3g | %.3g | %.3g | %.4g J |" % (
    sys.argv[3], j["design"], tot("cycles"), base("cycles") / tot("cycles"),
    tot("weight_write_bytes"), tot("ifmap_write_bytes"), tot("dram_write_bytes"), pj * 1e-12))
PY
  done
  echo
}

claim4() {
  echo "### 4. Integer Scale accumulator overflow, 32-bit accumulators"
  echo
  echo "Synthetic LLM-like layers (quasar gemm: Gaussian weights, activations with outlier"
  echo "channels), M = 64, N = 256, group 128, seed 1; overflow events of the 32-bit integer-scale"
  echo "accumulator (every prefix of every output is checked):"
  echo
  echo "| K | alpha | overflow events | SQNR (dB) |"
  echo "|---|---|---|---|"
  for k in 4096 11008 14336 28672; do
    for ab in 10 per-layer; do
      if [ "$ab" = per-layer ]; then args="--int-scale per-layer"; label="per-layer"; else args="--alpha-bits $ab"; label="2^$ab"; fi
      "$Q" gemm -s w4a8-is -m 64 -k $k -n 256 --seed 1 $args --format json > "$work/g.json"
      json "$work/g.json" "'| $k | $label (2^%d) | %d | %.2f |' % (j['schemes'][0]['int_scale_bits'], j['schemes'][0]['overflow_events'], j['schemes'][0]['error']['sqnr_db'])"
    done
  done
  echo
  echo "Headroom at K = 28672: the smallest amplifier that overflows."
  echo
  echo "| alpha | overflow events | SQNR (dB) |"
  echo "|---|---|---|"
  for ab in 16 20 24 25 26 28; do
    "$Q" gemm -s w4a8-is -m 64 -k 28672 -n 256 --seed 1 --alpha-bits $ab --format json > "$work/g.json"
    json "$work/g.json" "'| 2^$ab | %d | %.2f |' % (j['schemes'][0]['overflow_events'], j['schemes'][0]['error']['sqnr_db'])"
  done
  echo
}

for c in $claims; do "claim$c"; done
