#!/usr/bin/env bash
# A payload value outside its format (an int4 code of 100) makes `quasar validate` fail naming
# the payload file and the layer, not only the engine's operand name.
#   tests/cli/tampered_payload.sh QUASAR CASE_DIR WORK_DIR
set -uo pipefail
q="$1" src="$2" work="$3"
rm -rf "$work" && mkdir -p "$work" && cp -r "$src" "$work/case"
python3 - "$work/case/payload.safetensors" <<'PY'
import json, struct, sys
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
begin = header["w4a16/w_codes"]["data_offsets"][0]
data[8 + n + begin] = 100  # int8 storage of an int4 code: -8..7 is valid
open(path, "wb").write(data)
PY
out=$("$q" validate "$work/case/trace.yaml" 2>&1); rc=$?
if [ "$rc" != 1 ] || ! grep -q "payload.safetensors: layer 'w4a16': .*w.codes" <<<"$out"; then
  echo "FAIL: rc $rc: $out"; exit 1
fi
echo "tampered payload: named"
