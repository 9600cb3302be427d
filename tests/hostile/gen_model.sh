#!/usr/bin/env bash
# gen_model.sh CORPUS QUASAR SOURCE_DIR
# Hostile inputs of the v2 accelerator model (issue 15), every name prefixed model_
# (cases_model.txt): traces whose `inputs` name a missing producer, a later record (a cycle),
# the record itself or one record twice; designs with 0 or absurdly many cores or DRAM
# channels, a refresh longer than its interval, an unknown DRAM preset, a DRAM without its
# bandwidth, a partition that leaves a core idle or is unknown, and a DRAM too small for the
# model. Line numbers matter: the cases' regexes name them.
set -euo pipefail
corpus="$(cd "$1" && pwd)"
c="$corpus"
src="$3"

# A two-record trace; $1 is the second record's inputs line (line 15).
two() {
  cat <<EOF
quasar_trace: 1
name: hostile-graph
layers:
  - name: a
    op: linear
    m: 4
    k: 128
    n: 8
    scheme: w8a8
  - name: b
    op: linear
    m: 4
    k: 128
    n: 8
$1
    scheme: w8a8
EOF
}
two "    inputs: [x]" >"$c/model_missing_producer.yaml"
two "    inputs: [b]" >"$c/model_self_input.yaml"
two "    inputs: [a, a]" >"$c/model_twice.yaml"
two "    inputs: []" >"$c/model_independent.yaml"
# The first record names the second (a line after line 9): a forward reference, i.e. a cycle.
sed '9a\    inputs: [b]' "$c/model_independent.yaml" >"$c/model_cycle.yaml"

# The int8 baseline with a line added after clock_mhz (line 6): later lines move down by one.
design() {
  sed "s/^clock_mhz: 1000$/clock_mhz: 1000\n$1/" "$src/configs/arch/int8-baseline.yaml" >"$c/$2"
}
design "cores: 0" model_cores_zero.yaml
design "cores: 100000" model_cores_absurd.yaml
design "cores: 8" model_cores_idle.yaml
design "interconnect: {latency_cycles: -1}" model_interconnect_negative.yaml
# partition.layers: an unknown policy (line 8), and whole on two cores, which runs the two
# independent one-n-tile layers of model_independent.yaml that split_n cannot divide.
design "cores: 2\npartition: {layers: sideways}" model_layers_unknown.yaml
design "cores: 2\npartition: {layers: whole}" model_layers_whole.yaml
# The int8 baseline with its dram block replaced by $2.
# process (issue 18): a node the scaling table does not have, a supply outside the node's
# range, and a supply below it at 7 nm.
design "process: {node_nm: 22}" model_process_node.yaml
design "process: {node_nm: 16, voltage_v: 1.2}" model_process_voltage_high.yaml
design "process: {node_nm: 7, voltage_v: 0.3}" model_process_voltage_low.yaml
dram() {
  sed '/^dram:/,$d' "$src/configs/arch/int8-baseline.yaml" >"$c/$1"
  printf 'dram:\n%s\n' "$2" >>"$c/$1"
}
dram model_channels_zero.yaml "  {standard: hbm2e, channels: 0, bandwidth_gbps: 64, latency_ns: 100}"
dram model_channels_absurd.yaml "  {standard: hbm2e, channels: 4096, bandwidth_gbps: 64, latency_ns: 100}"
dram model_refresh_too_long.yaml "  {preset: ddr5, refresh: {trefi_ns: 300, trfc_ns: 350}}"
dram model_unknown_preset.yaml "  {preset: gddr7}"
dram model_no_bandwidth.yaml "  {standard: hbm2e, latency_ns: 100}"
dram model_small_capacity.yaml "  {preset: lpddr5, capacity_gib: 0.001}"
# Weights and KV cache fit (0.19 GiB of the default decoder layer's), the activations on top
# do not (0.10 GiB at their peak).
dram model_activation_capacity.yaml "  {preset: lpddr5, capacity_gib: 0.25}"

# Issue 16: attention and the vector unit. The shipped int8 baseline's attention block replaced
# by $1 (it is the file's last block: lines 36..).
attention() {
  sed '/^attention:/,$d' "$src/configs/arch/$3.yaml" >"$c/$2"
  printf 'attention: %s\n' "$1" >>"$c/$2"
}
attention "{mode: int8, kv: fp16}" model_attention_int8_fp16kv.yaml int8-baseline
attention "{mode: int8, kv: int8, tile: 64}" model_attention_int8_tiled.yaml int8-baseline
attention "{mode: int8, kv: int8}" model_attention_int8_dint.yaml dint
attention "{mode: fp32, kv: int2}" model_attention_kv_unknown.yaml int8-baseline
sed 's/^  lanes: 128 .*/  lanes: 128\n  width: 4/' "$src/configs/arch/int8-baseline.yaml" >"$c/model_vector_unknown_key.yaml"
# A KV cache larger than the DRAM: LLaMA-2-7B decode, batch 16, context 4096 (32 GiB of fp16 KV).
sed 's/^  burst_bytes: 64$/  burst_bytes: 64\n  capacity_gib: 16/' "$src/configs/arch/int8-baseline.yaml" >"$c/model_kv_capacity.yaml"
"$2" trace gen --model llama-2-7b --phase decode --batch 16 --context 4096 --scheme w8a8 \
  --out "$c/model_decode_b16.yaml" >/dev/null
# A bmm whose attention role is not qk or pv, and a causal linear.
cat >"$c/model_bad_attention_role.yaml" <<'Y'
quasar_trace: 1
name: hostile-attention
layers:
  - name: scores
    op: bmm
    batch: 2
    m: 1
    k: 64
    n: 128
    scheme: fp16
    attention: kq
Y
sed 's/^    attention: kq$/    attention: qk\n    causal: true/' "$c/model_bad_attention_role.yaml" >"$c/model_causal_not_square.yaml"
