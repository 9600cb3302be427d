#!/usr/bin/env bash
# Checkpoint import memory: a LLaMA-2-7B-shaped GPTQ checkpoint (4-bit, group 128, symmetric;
# LAYERS decoder layers in two shards, values synthetic) is written once, then one module is
# imported with --layers. Prints the checkpoint's size, quasar's peak resident memory for the
# import (GNU time), and their ratio: shards are read lazily, so the import costs the module,
# not the checkpoint (before lazy reading, every shard was read whole into memory).
#   bench/import_memory.sh [BUILD_DIR] [LAYERS]     (default build/release, 8)
set -euo pipefail
cd "$(dirname "$0")/.."
q="$(realpath "${1:-build/release}/sim/app/quasar")"
layers="${2:-8}"
[ -x "$q" ] || { echo "bench/import_memory.sh: no $q" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench/import_memory.sh: needs GNU time (/usr/bin/time)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work/ckpt" "$layers" <<'PY'
import json, os, struct, sys
out, layers = sys.argv[1], int(sys.argv[2])
os.makedirs(out)
H, I, G = 4096, 11008, 128
shapes = {"self_attn.q_proj": (H, H), "self_attn.k_proj": (H, H), "self_attn.v_proj": (H, H),
          "self_attn.o_proj": (H, H), "mlp.gate_proj": (H, I), "mlp.up_proj": (H, I),
          "mlp.down_proj": (I, H)}  # (K, N)
def tensors(layer_ids):
    for l in layer_ids:
        for name, (K, N) in shapes.items():
            m = f"model.layers.{l}.{name}"
            yield m + ".qweight", "I32", [K // 8, N], bytes([0x5A]) * (K // 8 * N * 4)
            yield m + ".qzeros", "I32", [K // G, N // 8], b"\x77" * (K // G * N // 8 * 4)
            yield m + ".scales", "F16", [K // G, N], b"\x00\x3c" * (K // G * N)
def write(path, items):
    header, offset, blobs = {}, 0, []
    for name, dtype, shape, data in items:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for b in blobs:
            f.write(b)
    return list(header)
half = layers // 2
weight_map = {}
for i, ids in enumerate([range(0, half), range(half, layers)]):
    shard = f"model-0000{i + 1}-of-00002.safetensors"
    for t in write(os.path.join(out, shard), tensors(ids)):
        weight_map[t] = shard
json.dump({"metadata": {}, "weight_map": weight_map},
          open(os.path.join(out, "model.safetensors.index.json"), "w"))
json.dump({"model_type": "llama", "quantization_config": {"quant_method": "gptq", "bits": 4,
           "group_size": G, "desc_act": False, "sym": True}},
          open(os.path.join(out, "config.json"), "w"))
PY
size_mb=$(du -sm "$work/ckpt" | cut -f1)
/usr/bin/time -f "%M %e" -o "$work/time" "$q" trace import "$work/ckpt" --out "$work/trace" \
  --layers 'layers\.0\.self_attn\.q_proj$' --tokens 16 > /dev/null
read -r rss_kb secs < "$work/time"
python3 - "$size_mb" "$rss_kb" "$secs" "$layers" <<'PY'
import sys
size_mb, rss_kb, secs, layers = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
rss_mb = rss_kb / 1024
print(f"checkpoint: {layers} LLaMA-2-7B layers, 2 shards, {size_mb:.0f} MB")
print(f"import of one 4096x4096 module: peak RSS {rss_mb:.0f} MB, {secs:.2f} s")
print(f"peak RSS / checkpoint size: {rss_mb / size_mb:.3f}")
PY
