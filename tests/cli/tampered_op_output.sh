#!/usr/bin/env bash
# `quasar validate` recomputes the non-GEMM records of a `trace synth` trace from their recorded
# inputs: the whole decoder layer validates, and one changed byte of a recorded non-GEMM output
# (the SiLU-gated product; an int8 KV cache code) makes it fail naming that record, the output
# role and the element.
#   tests/cli/tampered_op_output.sh QUASAR WORK_DIR
set -uo pipefail
q="$1" work="$2"
rm -rf "$work" && mkdir -p "$work"
"$q" trace synth --out "$work/synth" --hidden 64 --intermediate 128 --heads 2 --kv-heads 1 \
  --layers 1 --tokens 4 --vocab 32 --group 32 --scheme w8a8 --kv int8 >/dev/null || {
  echo "FAIL: trace synth"; exit 1; }
out=$("$q" validate "$work/synth/trace.yaml" 2>&1); rc=$?
if [ "$rc" != 0 ] || ! grep -q "all layers bit-exact (23 records: 8 GEMM, 15 non-GEMM)" <<<"$out"; then
  echo "FAIL: the untouched trace: rc $rc: $out"; exit 1
fi
# tamper TENSOR BYTE: adds 1 to one byte of the payload tensor TENSOR, in a copy of the trace.
tamper() {
  rm -rf "$work/t" && cp -r "$work/synth" "$work/t"
  python3 - "$work/t/payload.safetensors" "$1" "$2" <<'PY'
import json, struct, sys
path, name, byte = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = bytearray(open(path, "rb").read())
n = struct.unpack("<Q", data[:8])[0]
begin = json.loads(data[8:8 + n])[name]["data_offsets"][0]
data[8 + n + begin + byte] = (data[8 + n + begin + byte] + 1) % 256
open(path, "wb").write(data)
PY
  "$q" validate "$work/t/trace.yaml" 2>&1
}
# Element [0, 3] of the SiLU-gated product (fp16: its low byte).
out=$(tamper layers.0.mlp.act/y 6); rc=$?
if [ "$rc" != 1 ] || ! grep -Eq "layers\.0\.mlp\.act +silu_mul +NO .*y\[0, 3\]: got .* want .* \(1 of 512 differ\)" <<<"$out" \
   || ! grep -q "MISMATCH" <<<"$out"; then
  echo "FAIL: tampered act: rc $rc: $out"; exit 1
fi
# Code [1, 2] of the K cache (int8: one byte a code).
out=$(tamper layers.0.self_attn.k_append/codes 34); rc=$?
if [ "$rc" != 1 ] || ! grep -Eq "layers\.0\.self_attn\.k_append +kv_append int8 +NO .*codes\[1, 2\]: got .* \(1 of 132 differ\)" <<<"$out"; then
  echo "FAIL: tampered K cache: rc $rc: $out"; exit 1
fi
echo "tampered op outputs: named"
