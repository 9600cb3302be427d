#!/usr/bin/env bash
# gen_data.sh CORPUS QUASAR SOURCE_DIR
# Hostile data (issue 14, defects 6, 8 and 9), every name prefixed data_ (cases_data.txt):
#   - float GEMM inputs with subnormal fp32 weights, for `quasar gemm --input` (dINT's AQAS);
#   - GPTQ checkpoints whose index's weight_map leads out of the checkpoint folder ('..', an
#     absolute path, a symbolic link), beside one whose shards stay inside, for `trace import`;
#   - data-bearing traces made by QUASAR whose payload values are then tampered with, for
#     `quasar validate`.
# Python (standard library only) writes the safetensors files byte by byte.
set -euo pipefail
corpus="$(cd "$1" && pwd)"; quasar="$2"
python3 - "$corpus" <<'PY'
import json, os, random, struct, sys

corpus = sys.argv[1]
rng = random.Random(14)
FMT = {"F32": "f", "F16": "e", "I32": "i", "I8": "b", "U8": "B"}

def write_safetensors(path, tensors):
    """tensors: name -> (dtype, shape, flat values)."""
    header, blobs, off = {}, [], 0
    for name, (dtype, shape, vals) in tensors.items():
        b = struct.pack("<%d%s" % (len(vals), FMT[dtype]), *vals)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))

# ---- Defect 6: subnormal fp32 weights through dINT's AQAS. x [4, 8] normal activations.
M, K, N = 4, 8, 4
x = [rng.uniform(-3.0, 3.0) for _ in range(M * K)]
# Every weight subnormal (1e-42 is below fp32's smallest normal, 1.18e-38).
w_sub = [1e-42 if i % 3 else -1e-42 for i in range(N * K)]
write_safetensors(os.path.join(corpus, "data_dint_subnormal.safetensors"),
                  {"x": ("F32", [M, K], x), "w": ("F32", [N, K], w_sub)})
# Normal weights with one subnormal input channel (column 3) and one all-zero channel (column 5).
w_mix = [rng.uniform(-0.1, 0.1) for _ in range(N * K)]
for n in range(N):
    w_mix[n * K + 3] = 1e-42 * (1 if n % 2 else -1)
    w_mix[n * K + 5] = 0.0
write_safetensors(os.path.join(corpus, "data_dint_subnormal_channel.safetensors"),
                  {"x": ("F32", [M, K], x), "w": ("F32", [N, K], w_mix)})

# ---- Defect 8: weight_map shards outside the checkpoint folder.
# A small GPTQ v1 symmetric checkpoint (K = 64, N = 16, group 32), two modules, two shards.
GK, GN, GS = 64, 16, 32
MODULES = ["model.layers.0.self_attn.q_proj", "model.layers.0.mlp.down_proj"]
CONFIG = json.dumps({"model_type": "llama", "quantization_config": {
    "quant_method": "gptq", "bits": 4, "group_size": GS, "desc_act": False, "sym": True,
    "checkpoint_format": "gptq"}})

def nibble_words(count, lo, hi):
    out = []
    for _ in range(count):
        word = 0
        for i in range(8):
            word |= rng.randint(lo, hi) << (4 * i)
        out.append(struct.unpack("<i", struct.pack("<I", word))[0])
    return out

def module_tensors(m):
    G = GK // GS
    return {
        m + ".qweight": ("I32", [GK // 8, GN], nibble_words(GK // 8 * GN, 0, 15)),
        m + ".qzeros": ("I32", [G, GN // 8], nibble_words(G * GN // 8, 7, 7)),  # v1: 8 - 1
        m + ".scales": ("F16", [G, GN], [rng.randint(1, 100) / 4096.0 for _ in range(G * GN)]),
        m + ".g_idx": ("I32", [GK], [k // GS for k in range(GK)]),
    }

def checkpoint(name, shard_of_module):
    """A folder with config.json and an index; shard_of_module maps module -> the weight_map
    value. Writes the shards it names that are plain file names not yet in the folder."""
    d = os.path.join(corpus, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        f.write(CONFIG)
    weight_map = {}
    for m in MODULES:
        t = module_tensors(m)
        shard = shard_of_module[m]
        if "/" not in shard and not os.path.lexists(os.path.join(d, shard)):
            write_safetensors(os.path.join(d, shard), t)
        for k in t:
            weight_map[k] = shard
    with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f, indent=1)
    return d

q, down = MODULES
# A well-formed shard outside any checkpoint folder (the target of the escapes below), holding
# the q_proj tensors: before the fix, importers read it as if it were part of the checkpoint.
os.makedirs(os.path.join(corpus, "data_index_outside"))
write_safetensors(os.path.join(corpus, "data_index_outside", "model.safetensors"),
                  module_tensors(q))
outside = "../data_index_outside/model.safetensors"
# Good: both shards are files inside the folder (accepted).
checkpoint("data_index_good", {q: "model-00001-of-00002.safetensors",
                               down: "model-00002-of-00002.safetensors"})
# The issue's example: a walk up to /etc/passwd.
checkpoint("data_index_etc_passwd", {q: "../../../../../../../../../../../../etc/passwd",
                                     down: "model-00002-of-00002.safetensors"})
# A '..' walk to a valid shard beside the folder (imported without complaint before the fix).
checkpoint("data_index_dotdot", {q: outside, down: "model-00002-of-00002.safetensors"})
# An absolute path to the same shard.
checkpoint("data_index_absolute",
           {q: os.path.join(corpus, "data_index_outside", "model.safetensors"),
            down: "model-00002-of-00002.safetensors"})
# A plain file name that is a symbolic link leading out of the folder.
d = os.path.join(corpus, "data_index_symlink")
os.makedirs(d)
os.symlink(outside, os.path.join(d, "model-00001-of-00002.safetensors"))
checkpoint("data_index_symlink", {q: "model-00001-of-00002.safetensors",
                                  down: "model-00002-of-00002.safetensors"})
PY

# ---- Defect 9: payload values the engine rejects, in traces QUASAR writes. Each tamper sets one
# element of one payload tensor (named as stored: "<layer>/<role>") to a value outside its range.
tamper() {  # tamper DIR TENSOR STRUCT_FORMAT VALUE
  python3 - "$1/payload.safetensors" "$2" "$3" "$4" <<'PY'
import json, struct, sys
path, name, fmt, value = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
data = bytearray(open(path, "rb").read())
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
begin = 8 + n + header[name]["data_offsets"][0]
v = int(value) if fmt in "bBi" else value
data[begin:begin + struct.calcsize("<" + fmt)] = struct.pack("<" + fmt, v)
open(path, "wb").write(data)
PY
}
trace_of() {  # trace_of NAME SCHEME
  mkdir -p "$corpus/$1"
  "$quasar" gemm --scheme "$2" --m 8 --k 256 --n 16 --seed 3 --trace-out "$corpus/$1" >/dev/null
}
trace_of data_tampered_is_codes w4a8-is
tamper "$corpus/data_tampered_is_codes" w4a8-is/w_codes b 100       # int4 codes: -8..7
trace_of data_tampered_dgq_q w4a8-dgq
tamper "$corpus/data_tampered_dgq_q" w4a8-dgq/q B 200               # uint4 codes: 0..15
trace_of data_tampered_w8a8_scale w8a8
tamper "$corpus/data_tampered_w8a8_scale" w8a8/x_scale f -1          # scales: finite, > 0
trace_of data_tampered_is_int_scales w4a8-is
tamper "$corpus/data_tampered_is_int_scales" w4a8-is/int_scales i 0  # integer scales: >= 1
