#!/usr/bin/env bash
# `quasar export llmservingsim` (issue 21): the bundle has LLMServingSim's layout and columns
# (docs/interop-llmservingsim.md), and every simulated row is what `quasar run` reports for the
# same shape. The shapes' traces come from `quasar trace gen` (not from the export), are run
# with `quasar run --format json`, and their records are summed into LLMServingSim's layers by
# the mapping written out again here, then compared with the CSV rows (microseconds).
#   tests/cli/llmservingsim_export.sh QUASAR SOURCE_DIR WORK_DIR
set -euo pipefail
q="$1" src="$2" work="$3"
rm -rf "$work" && mkdir -p "$work"
cfg="$src/tests/cli/llmss_tiny.json"  # 2 decoder layers: every run takes a fraction of a second
tokens=(1 16 64) seqs=(1 2) kvs=(16 100)
check() {  # check ARCH SCHEME: export on ARCH, then compare every shape with quasar run
  local arch="$1" scheme="$2" out="$work/$1"
  "$q" export llmservingsim --arch "$arch" --config "$cfg" --layers 2 --tokens 64,1,16,16 \
    --sequences 2,1 --kv 100,16 --out "$out" > "$work/$arch.txt"
  local t n k
  for t in "${tokens[@]}"; do
    "$q" trace gen --config "$cfg" --scheme "$scheme" --seq "$t" --lm-head last \
      -o "$work/$arch-p$t.yaml" > /dev/null
    "$q" run --arch "$arch" --trace "$work/$arch-p$t.yaml" --format json > "$work/$arch-p$t.json"
  done
  for n in "${seqs[@]}"; do
    for k in "${kvs[@]}"; do
      "$q" trace gen --config "$cfg" --scheme "$scheme" --phase decode --batch "$n" \
        --context $((k + 1)) -o "$work/$arch-d$n-$k.yaml" > /dev/null
      "$q" run --arch "$arch" --trace "$work/$arch-d$n-$k.yaml" --format json \
        > "$work/$arch-d$n-$k.json"
    done
  done
  python3 - "$out" "$work" "$arch" "${#tokens[@]}" "${tokens[@]}" "${seqs[@]}" "${kvs[@]}" <<'PY'
import csv, json, os, re, sys
out, work, arch, nt = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rest = [int(x) for x in sys.argv[5:]]
tokens, seqs, kvs = rest[:nt], rest[nt:nt + 2], rest[nt + 2:]
fail = []
def want(cond, what):
    if not cond: fail.append(what)

# Layout: LLMServingSim's profiler/perf/<hardware>/<model>/<variant>/ and configs/model/.
bundle = os.path.join(out, "profiler/perf/quasar-" + arch + "/quasar/llmss_tiny/fp16")
for f in ["meta.yaml", "tp1/dense.csv", "tp1/per_sequence.csv", "tp1/attention.csv"]:
    want(os.path.isfile(os.path.join(bundle, f)), "missing " + f)
for f in ["configs/model/quasar/llmss_tiny.json", "README.md", "coverage.csv", "quasar-export.json"]:
    want(os.path.isfile(os.path.join(out, f)), "missing " + f)
if fail: sys.exit("FAIL: " + "; ".join(fail))
def rows(name, header):
    with open(os.path.join(bundle, "tp1", name)) as f:
        r = list(csv.reader(f))
    want(r[0] == header, name + " header " + ",".join(r[0]))
    return r[1:]
dense = rows("dense.csv", ["layer", "tokens", "time_us"])
perseq = rows("per_sequence.csv", ["layer", "sequences", "time_us"])
attn = rows("attention.csv", ["prefill_chunk", "kv_prefill", "n_decode", "kv_decode", "time_us"])
meta = open(os.path.join(bundle, "meta.yaml")).read()
for key in ["hardware: 'quasar-" + arch + "'", "architecture: llama", "model: 'quasar/llmss_tiny'",
            "variant: fp16", "tp_degrees: [1]", "  max_num_batched_tokens: 64", "  max_num_seqs: 2"]:
    want(("\n" + key + "\n") in meta, "meta.yaml lacks '" + key + "'")
model = json.load(open(os.path.join(out, "configs/model/quasar/llmss_tiny.json")))
for k, v in {"model_type": "llama", "hidden_size": 256, "intermediate_size": 512,
             "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
             "head_dim": 64, "vocab_size": 512, "torch_dtype": "float16"}.items():
    want(model.get(k) == v, "model config %s = %r" % (k, model.get(k)))

# The mapping (docs/interop-llmservingsim.md): LLMServingSim layer <- quasar records / uses.
M = {"embedding": ([], 1),
     "layernorm": (["layer.input_norm", "layer.attn_residual", "layer.post_attn_norm",
                    "layer.mlp_residual"], 2),
     "qkv_proj": (["layer.attn_in.quantize_act", "layer.q_proj", "layer.k_proj", "layer.v_proj"], 1),
     "rotary_emb": (["layer.rope"], 1),
     "o_proj": (["layer.attn_out.quantize_act", "layer.o_proj"], 1),
     "gate_up_proj": (["layer.mlp_in.quantize_act", "layer.gate_proj", "layer.up_proj"], 1),
     "act_fn": (["layer.act"], 1),
     "down_proj": (["layer.mlp_mid.quantize_act", "layer.down_proj"], 1),
     "final_layernorm": (["final_norm"], 1),
     "attention": (["layer.kv_append", "layer.attn_qk", "layer.attn_softmax", "layer.attn_pv"], 1),
     "lm_head": (["final_out.quantize_act", "lm_head"], 1),
     "sampler": ([], 1)}
def expected(stem, layer):
    """us per decoder layer from quasar run's report and the trace's repeats."""
    rep = json.load(open(os.path.join(work, stem + ".json")))
    text = open(os.path.join(work, stem + ".yaml")).read()
    repeat = {}
    for block in text.split("\n  - name: ")[1:]:
        name = json.loads(block.split("\n", 1)[0])
        m = re.search(r"\n    repeat: (\d+)", block)
        repeat[name] = int(m.group(1)) if m else 1
    records, uses = M[layer]
    cycles = {l["name"]: l["cycles"] for l in rep["layers"]}
    mapped = sum(cycles[r] / repeat[r] for r in records if r in cycles)
    return mapped / uses / rep["clock_mhz"], [r for r in records if r in repeat and r not in cycles]
# Every record of every run is mapped (none silently dropped).
known = {r for recs, _ in M.values() for r in recs}
def close(a, b):
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))
checked = 0
dense_layers = [l for l in M if l not in ("attention", "lm_head", "sampler")]
want(len(dense) == len(dense_layers) * len(tokens), "dense.csv has %d rows" % len(dense))
for layer, t, us in dense:
    e, missing = expected("%s-p%s" % (arch, t), layer)
    want(close(float(us), e), "dense %s tokens %s: %s us, quasar run %r us" % (layer, t, us, e))
    checked += 1
want(len(perseq) == 2 * len(seqs), "per_sequence.csv has %d rows" % len(perseq))
lm_missing = []
for layer, n, us in perseq:
    e, missing = expected("%s-d%s-%d" % (arch, n, kvs[0]), layer)
    lm_missing += missing
    want(close(float(us), e), "per_sequence %s sequences %s: %s us, quasar run %r us" % (layer, n, us, e))
    checked += 1
pre = {t: expected("%s-p%d" % (arch, t), "attention")[0] for t in tokens}
dec = {(n, k): expected("%s-d%d-%d" % (arch, n, k), "attention")[0] for n in seqs for k in kvs}
want(len(attn) == len(tokens) + len(dec) + len(tokens) * len(dec), "attention.csv has %d rows" % len(attn))
for pc, kp, nd, kd, us in attn:
    pc, kp, nd, kd = int(pc), int(kp), int(nd), int(kd)
    want(kp == 0, "kv_prefill %d" % kp)
    e = (pre[pc] if pc else 0.0) + (dec[(nd, kd)] if nd else 0.0)
    want(close(float(us), e), "attention %d,%d,%d,%d: %s us, quasar run %r us" % (pc, kp, nd, kd, us, e))
    checked += 1
for stem in [f[:-5] for f in os.listdir(work) if f.startswith(arch + "-") and f.endswith(".json")]:
    for l in json.load(open(os.path.join(work, stem + ".json")))["layers"]:
        want(l["name"] in known, "record %s of %s is in no LLMServingSim layer" % (l["name"], stem))
# Coverage says what is not simulated: lm_head on a design without fp16 linears; sampler and
# embedding have no quasar record.
cov = {(r["file"], r["layer"]): r["status"] for r in csv.DictReader(open(os.path.join(out, "coverage.csv")))}
want(cov.get(("tp1/dense.csv", "embedding")) == "not modelled", "embedding coverage")
want(cov.get(("tp1/per_sequence.csv", "sampler")) == "not modelled", "sampler coverage")
want(cov.get(("tp1/per_sequence.csv", "lm_head")) == ("not simulated" if lm_missing else "simulated"),
     "lm_head coverage %r (missing %r)" % (cov.get(("tp1/per_sequence.csv", "lm_head")), lm_missing))
want(cov.get(("tp1/attention.csv", "attention (mixed)")) == "composed", "mixed attention coverage")
if fail:
    print("\n".join(fail[:20]))
    sys.exit("FAIL: %s: %d problems" % (arch, len(fail)))
print("%s: %d rows equal quasar run's (lm_head %s)" % (arch, checked, "not simulated" if lm_missing else "simulated"))
PY
}
check intscale w4a8-is
check fp16-w4a16 w4a16
# The export's own traces are the ones trace gen writes for the same shapes.
cmp "$work/intscale/traces/llmss_tiny.json-decode-l101-b2.yaml" "$work/intscale-d2-100.yaml"
cmp "$work/intscale/traces/llmss_tiny.json-prefill-s16-b1.yaml" "$work/intscale-p16.yaml"
# An earlier export is replaced whole; another folder is refused.
"$q" export llmservingsim --config "$cfg" --layers 2 --tokens 16 --sequences 1 --kv 16 \
  --out "$work/intscale" > /dev/null
[ "$(ls "$work/intscale/traces" | wc -l)" = 2 ] || { echo "FAIL: the earlier export was not replaced"; exit 1; }
echo "llmservingsim export: layout and rows agree with quasar run"
