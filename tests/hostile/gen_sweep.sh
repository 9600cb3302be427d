#!/usr/bin/env bash
# gen_sweep.sh CORPUS QUASAR SOURCE_DIR
# Hostile sweep specs and YAML files (issue 14, defects 4 and 5), every name prefixed sweep_ or
# yaml_ (cases_sweep.txt):
#   - sweep specs with NaN or infinite range bounds and values, a NaN constraint bound, a value
#     twice on an axis in another spelling (016, 16.0), a key on two axes, decoder_layers 0;
#   - designs, trace manifests and sweep specs of more than one YAML document ('---').
# Line numbers matter: the cases' regexes name them. Sweep specs refer to sweep_trace.yaml, a
# one-layer shape-only trace, relative to their own folder (the corpus).
set -euo pipefail
corpus="$(cd "$1" && pwd)"
c="$corpus"

# A tiny design (int8-baseline, 25 lines) and a tiny trace (9 lines), valid on their own.
design() {
  cat <<'EOF'
quasar_arch: 2
name: hostile-int8
clock_mhz: 1000
array:
  rows: 32
  cols: 32
  dataflow: ws
  pe: int8
  acc_bits: 32
schemes: [w8a8]
edge:
  dequant_units: 0
  epilogue_units: 32
  epilogue_latency_cycles: 4
buffers:
  ifmap:  {size_kib: 512, banks: 4, bytes_per_cycle: 64, double_buffered: true}
  weight: {size_kib: 512, banks: 4, bytes_per_cycle: 64, double_buffered: true}
  ofmap:  {size_kib: 1024, banks: 16, bytes_per_cycle: 128, double_buffered: true}
dram:
  standard: hbm2e
  channels: 1
  bandwidth_gbps: 64
  latency_ns: 100
  burst_bytes: 64
EOF
}
trace() {
  cat <<'EOF'
quasar_trace: 1
name: hostile-one-linear
layers:
  - name: proj
    op: linear
    m: 4
    k: 128
    n: 8
    scheme: w8a8
EOF
}
design >"$c/sweep_design.yaml"
trace >"$c/sweep_trace.yaml"

# sweep NAME AXES... : a spec whose axes list (from line 7) is the remaining arguments, one line
# each. Lines 1-6 are fixed, so axis i is on line 7 + i.
sweep() {
  local name="$1"; shift
  {
    echo "quasar_sweep: 1"
    echo "name: $name"
    echo "designs: [int8-baseline]"
    echo "workloads:"
    echo "  - {file: sweep_trace.yaml}"
    echo "axes:"
    for a in "$@"; do echo "$a"; done
  } >"$c/$name.yaml"
}

# ---- A well-formed tiny sweep runs (2 x 2 points), and a zip may repeat a value in one column
# as long as no two tuples are the same.
sweep sweep_ok "  - {key: array.rows, values: [8, 16]}" \
  "  - {key: dram.bandwidth_gbps, range: {start: 16, stop: 32, step: 16}}"
echo 'constraints: ["area_mm2 <= 100"]' >>"$c/sweep_ok.yaml"
sweep sweep_zip_column_repeats "  - zip:" "      - {key: array.rows, values: [16, 16]}" \
  "      - {key: array.cols, values: [8, 16]}"

# ---- 4a: NaN or infinity in a range (start, stop, step; log_range) or in a values list.
sweep sweep_nan_range_start "  - {key: dram.bandwidth_gbps, range: {start: .nan, stop: 64, step: 16}}"
sweep sweep_nan_range_stop "  - {key: dram.bandwidth_gbps, range: {start: 16, stop: .NaN, step: 16}}"
sweep sweep_nan_range_step "  - {key: dram.bandwidth_gbps, range: {start: 16, stop: 64, step: .nan}}"
sweep sweep_inf_log_range "  - {key: dram.bandwidth_gbps, log_range: {start: 16, stop: .inf, factor: 2}}"
sweep sweep_nan_values "  - {key: dram.bandwidth_gbps, values: [16, .nan]}"
sweep sweep_inf_values "  - {key: edge.epilogue_latency_cycles, values: [4, -.inf]}"
# A step below the numbers' precision: 1e17 + 1 == 1e17, so adding the step never moved on.
sweep sweep_range_below_precision \
  "  - {key: dram.bandwidth_gbps, range: {start: 1e17, stop: 1.00000000000001e17, step: 1}}"

# ---- 4b: a constraint's bound must be a finite number (and nothing may follow it).
sweep sweep_constraint_nan "  - {key: array.rows, values: [8, 16]}"
echo 'constraints: ["area_mm2 <= nan"]' >>"$c/sweep_constraint_nan.yaml"
sweep sweep_constraint_inf "  - {key: array.rows, values: [8, 16]}"
echo 'constraints: ["pes >= -inf"]' >>"$c/sweep_constraint_inf.yaml"
sweep sweep_constraint_trailing "  - {key: array.rows, values: [8, 16]}"
echo 'constraints: ["area_mm2 <= 20 mm2"]' >>"$c/sweep_constraint_trailing.yaml"

# ---- 4c: one value twice on an axis, spelled differently (the design reads both as 16).
sweep sweep_dup_leading_zero "  - {key: array.rows, values: [16, 016]}"
sweep sweep_dup_float_spelling "  - {key: dram.bandwidth_gbps, values: [16, 32, 1.6e1]}"
sweep sweep_dup_quoted "  - {key: array.rows, values: [8, '8']}"
sweep sweep_dup_zip_tuple "  - zip:" "      - {key: array.rows, values: [16, 16]}" \
  "      - {key: array.cols, values: [8, 08]}"

# ---- 4d: one key on two axes, or twice in one zip.
sweep sweep_key_two_axes "  - {key: array.rows, values: [8, 16]}" \
  "  - {key: array.rows, values: [4, 32, 64]}"
sweep sweep_key_twice_in_zip "  - zip:" "      - {key: array.cols, values: [8, 16]}" \
  "      - {key: array.cols, values: [4, 32]}"
sweep sweep_key_axis_and_zip "  - {key: array.cols, values: [8, 16]}" "  - zip:" \
  "      - {key: array.rows, values: [8, 16]}" "      - {key: array.cols, values: [4, 32]}"

# ---- 4e: decoder_layers 0 (it meant the whole model, silently), in a workload or on an axis;
# and workload axis values that std::stoull read wrongly (-1 as 2^64 - 1, 16.5 as 16).
model_sweep() {
  local name="$1" workload="$2"; shift 2
  {
    echo "quasar_sweep: 1"
    echo "name: $name"
    echo "designs: [int8-baseline]"
    echo "workloads:"
    echo "  - $workload"
    echo "axes:"
    for a in "$@"; do echo "$a"; done
  } >"$c/$name.yaml"
}
model_sweep sweep_decoder_layers_zero "{model: llama-2-7b, seq: 16, decoder_layers: 0}"
model_sweep sweep_decoder_layers_axis_zero "{model: llama-2-7b, seq: 16}" \
  "  - {key: workload.decoder_layers, values: [1, 0]}"
model_sweep sweep_workload_axis_negative "{model: llama-2-7b, seq: 16}" \
  "  - {key: workload.seq, values: [16, -1]}"
model_sweep sweep_workload_axis_fraction "{model: llama-2-7b, seq: 16}" \
  "  - {key: workload.group, values: [64, 16.5]}"

# ---- 5: more than one YAML document. The second starts with the '---' on line 24 (design),
# line 10 (trace) or line 8 (sweep spec).
{ design; echo "---"; design; } >"$c/yaml_design_two_docs.yaml"
{ design; echo "---"; } >"$c/yaml_design_trailing_dashes.yaml"
{ design; echo "--- # a comment after the marker"; echo "# and nothing else"; } \
  >"$c/yaml_design_trailing_comment_doc.yaml"
{ design; echo "---"; echo "array: {rows: 2}"; echo "---"; echo "array: {rows: 4}"; } \
  >"$c/yaml_design_three_docs.yaml"
{ echo "---"; design; echo "..."; } >"$c/yaml_design_markers_one_doc.yaml"
{ trace; echo "---"; trace; } >"$c/yaml_trace_two_docs.yaml"
sweep yaml_sweep_two_docs "  - {key: array.rows, values: [8, 16]}"
{ echo "---"; echo "name: another"; } >>"$c/yaml_sweep_two_docs.yaml"
# A sweep naming the design and the trace above: refused when the spec is read, naming both.
{
  echo "quasar_sweep: 1"
  echo "name: yaml_sweep_design_two_docs"
  echo "designs: [yaml_design_two_docs.yaml]"
  echo "workloads: [{file: sweep_trace.yaml}]"
} >"$c/yaml_sweep_design_two_docs.yaml"
{
  echo "quasar_sweep: 1"
  echo "name: yaml_sweep_trace_two_docs"
  echo "designs: [sweep_design.yaml]"
  echo "workloads: [{file: yaml_trace_two_docs.yaml}]"
} >"$c/yaml_sweep_trace_two_docs.yaml"
