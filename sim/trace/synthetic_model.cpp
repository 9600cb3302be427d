#include "synthetic_model.hpp"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <tuple>
#include <vector>

#include "io/output_set.hpp"
#include "numerics/error.hpp"
#include "numerics/float_formats.hpp"
#include "numerics/synthetic.hpp"
#include "numerics/vector_ops.hpp"
#include "trace/layer_data.hpp"
#include "trace/op_data.hpp"

namespace quasar::trace {
namespace {

using safetensors::DType;
using safetensors::Tensor;

MatrixF gaussian(std::size_t r, std::size_t c, double std, Rng& rng, const ForEachIndex& each) {
  MatrixF m(r, c);
  fill_normal(m, std, rng, each);
  return m;
}

template <class T>
Tensor tensor(DType dtype, std::vector<std::int64_t> shape, const std::vector<T>& v) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.bytes.resize(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
  return t;
}

std::int64_t i64(std::uint64_t v) { return static_cast<std::int64_t>(v); }

// Records the model's operations as they run. A record's input roles name the tensors its
// producers wrote (one tensor, two names), so a consumer can never silently read other data
// than its producer recorded.
class Recorder {
 public:
  Recorder(const SyntheticModelSpec& spec, const GemmEngine& engine,
           const VectorEngine& vector_engine, const ForEachIndex& each, SyntheticModelTrace& out)
      : spec_(spec), engine_(engine), vector_engine_(vector_engine), each_(each), out_(out) {}

  // Stores `t` as "<record>/<role>"; returns that name.
  std::string put(const std::string& record, const std::string& role, Tensor t) {
    std::string name = record + "/" + role;
    out_.payload.tensors[name] = std::move(t);
    return name;
  }

  MatrixH matrix(const std::string& tensor) const {
    const Tensor& t = out_.payload.tensors.at(tensor);
    MatrixH m(static_cast<std::size_t>(t.shape.at(0)), static_cast<std::size_t>(t.shape.at(1)));
    if (!t.bytes.empty()) std::memcpy(m.values().data(), t.bytes.data(), t.bytes.size());
    return m;
  }

  // A non-GEMM record whose input roles name tensors in the payload: its outputs are what
  // `quasar validate` recomputes (run_op_record, one definition), stored as "<name>/<role>".
  // An optional output role is computed when the record names it (an empty placeholder).
  // Returns the name of its output `y` ("" when it has none).
  std::string op(Layer l) {
    OpResult r = run_op_record(l, out_.payload, "synthetic model", vector_engine_);
    for (auto& [role, t] : r.outputs) l.tensors[role] = put(l.name, role, std::move(t));
    out_.trace.layers.push_back(l);
    return l.tensors.count("y") ? l.tensors.at("y") : "";
  }

  static Layer record(const std::string& name, Op kind, std::uint64_t m, std::uint64_t n,
                      std::vector<std::string> inputs) {
    Layer l;
    l.name = name;
    l.op = kind;
    l.m = m, l.n = n;
    l.inputs.emplace();
    for (std::string& i : inputs)
      if (!i.empty()) l.inputs->push_back(std::move(i));
    return l;
  }

  // Quantizes w for the class's scheme and runs the linear on the fp16 tensor `x` that record
  // `from` wrote; records the linear and, for a scheme that quantizes activations (W*A8 or
  // block-scaled), the quantize_act record its input comes from. Returns the name of its
  // output tensor.
  std::string linear(const std::string& name, const std::string& cls, const std::string& from,
                     const std::string& x, const MatrixF& w) {
    const auto it = spec_.overrides.find(cls);
    const Scheme s = it != spec_.overrides.end() ? it->second
                     : cls == "lm_head"          ? Scheme::fp16
                                                 : spec_.scheme;
    const MatrixF xf = to_f32(matrix(x));
    const MatrixF ref = float_reference(xf, w, each_);
    const SchemeRun run = run_scheme(s, xf, w, spec_.config, ref, engine_);
    Layer l = layer_from_run(name, run, spec_.config, out_.payload);
    if (const std::optional<ActFormat> f = act_format(s)) {
      const Layer& q = quantize_act(from, x, cls, l, *f);
      for (const OpRole& r : op_roles(q))
        if (r.output) share(l, r.name, q.tensors.at(r.name));
      l.inputs = std::vector<std::string>{q.name};
    } else {
      share(l, "x_f16", x);
      l.inputs = std::vector<std::string>{from};
    }
    out_.trace.layers.push_back(l);
    return l.tensors.at("y");
  }

 private:
  // The quantization a linear reads (per-token int8 or its block format): one record per
  // distinct (input, format, smoothing), so q/k/v (and gate/up) share theirs unless their
  // smoothing differs (AQAS is per linear).
  const Layer& quantize_act(const std::string& from, const std::string& x, const std::string& cls,
                            const Layer& linear, ActFormat format) {
    const auto sm = linear.tensors.find("smoothing");
    const std::string key =
        x + '\n' + std::string(act_format_info(format).name) + '\n' +
        (sm == linear.tensors.end() ? std::string()
                                    : std::string(out_.payload.tensors.at(sm->second).bytes.begin(),
                                                  out_.payload.tensors.at(sm->second).bytes.end()));
    const auto found = quantizers_.find(key);
    if (found != quantizers_.end()) return out_.trace.layers.at(found->second);
    const std::string base = from + ".quantize_act";
    bool taken = false;
    for (const Layer& l : out_.trace.layers) taken = taken || l.name == base;
    Layer q = record(taken ? base + "." + cls : base, Op::quantize_act, linear.m, linear.k, {from});
    q.tensors["x"] = x;
    // int8 is the key's default: per-token traces read as before.
    if (format != ActFormat::int8) q.act_format = format;
    if (sm != linear.tensors.end()) q.tensors["smoothing"] = sm->second;
    op(q);
    quantizers_[key] = out_.trace.layers.size() - 1;
    return out_.trace.layers.back();
  }

  // Points the linear's role at `tensor` (what it read) instead of its own copy, after checking
  // they hold the same bytes: the scheme runner's operand must be the producer's output.
  void share(Layer& l, const std::string& role, const std::string& tensor) {
    const std::string own = l.tensors.at(role);
    const Tensor& a = out_.payload.tensors.at(own);
    const Tensor& b = out_.payload.tensors.at(tensor);
    if (a.dtype != b.dtype || a.shape != b.shape || a.bytes != b.bytes) {
      throw Error("synthetic model: layer '" + l.name + "': its operand '" + role +
                  "' differs from tensor '" + tensor +
                  "' it was computed from (the scheme's quantizer and the record's disagree)");
    }
    out_.payload.tensors.erase(own);
    l.tensors[role] = tensor;
  }

  const SyntheticModelSpec& spec_;
  const GemmEngine& engine_;
  const VectorEngine& vector_engine_;
  const ForEachIndex& each_;
  SyntheticModelTrace& out_;
  std::map<std::string, std::size_t> quantizers_;  // (input, smoothing) -> record index
};

}  // namespace

namespace {

SyntheticModelTrace synthesize_prefill(const SyntheticModelSpec& spec, const GemmEngine& engine,
                                       const VectorEngine& vector_engine,
                                       const ForEachIndex& each) {
  const std::size_t H = spec.hidden, I = spec.intermediate, T = spec.tokens, hd = H / spec.heads;
  if (spec.heads == 0 || spec.kv_heads == 0 || H % spec.heads || spec.heads % spec.kv_heads ||
      hd % 2) {
    throw Error("synthetic model: hidden must split into heads of even size, heads into kv_heads");
  }
  if (T == 0 || spec.layers == 0 || spec.vocab == 0 || spec.outlier_channels > H) {
    throw Error(
        "synthetic model: tokens, layers and vocab must be >= 1, outlier channels <= hidden");
  }
  if (T > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    throw Error("synthetic model: tokens must fit the I32 positions tensor");
  if (spec.config.act_mode != ActQuantMode::per_token) {
    throw Error(
        "synthetic model: activations are quantized per token (its quantize_act records); "
        "per-tensor is not supported");
  }
  if (spec.attention.mode == AttentionMode::int8 && spec.kv != KvFormat::int8)
    throw Error("synthetic model: int8 attention needs the int8 KV cache (--kv int8)");
  if (spec.attention.mode == AttentionMode::int8 && spec.attention.tile != 0)
    throw Error("synthetic model: int8 attention is defined for the unfused softmax only (tile 0)");
  const std::size_t kv = spec.kv_heads * hd;
  Rng rng(spec.seed);
  SyntheticModelTrace out;
  out.trace.name = "synthetic-llama-h" + std::to_string(H) + "-l" + std::to_string(spec.layers) +
                   "-t" + std::to_string(T) + "-" + std::string(scheme_name(spec.scheme));
  out.trace.payload = "payload.safetensors";
  out.trace.meta = {{"generator", "quasar trace synth"},
                    {"model", "synthetic LLaMA architecture"},
                    {"hidden", std::to_string(H)},
                    {"intermediate", std::to_string(I)},
                    {"layers", std::to_string(spec.layers)},
                    {"heads", std::to_string(spec.heads)},
                    {"kv_heads", std::to_string(spec.kv_heads)},
                    {"tokens", std::to_string(T)},
                    {"seed", std::to_string(spec.seed)},
                    {"scheme", std::string(scheme_name(spec.scheme))},
                    {"kv_format", std::string(kv_format_name(spec.kv))},
                    {"attention", std::string(attention_mode_name(spec.attention.mode))},
                    {"attention_tile", std::to_string(spec.attention.tile)},
                    {"engine", std::string(engine.name())}};
  Recorder rec(spec, engine, vector_engine, each, out);

  // Outlier channels: a few residual-stream dimensions carry much larger values, from the
  // embeddings on, and the norm weights keep them large (the LLM.int8() observation).
  std::vector<float> gain(H, 1.0f);
  for (std::size_t i = 0; i < spec.outlier_channels; ++i) {
    gain[rng.next() % H] = static_cast<float>(spec.outlier_gain);
  }
  MatrixF embed = gaussian(spec.vocab, H, 1.0, rng, each);
  for (std::size_t v = 0; v < spec.vocab; ++v) {
    for (std::size_t j = 0; j < H; ++j) embed(v, j) *= gain[j];
  }
  // The model's input: each token's embedding row, in fp16 as every activation.
  MatrixF h(T, H);
  for (std::size_t t = 0; t < T; ++t) {
    const std::size_t tok = rng.next() % spec.vocab;
    for (std::size_t j = 0; j < H; ++j) h(t, j) = embed(tok, j);
  }
  std::string res = rec.put("embeddings", "y", safetensors::from_matrix(to_f16(h, "embeddings")));
  std::string res_from;  // the record that wrote the residual stream ("" for the embeddings)

  // fp16 gains (docs/numerics.md row 23) around 1, and the one eps, for every norm.
  auto norm = [&](const std::string& name, const std::string& from, const std::string& x) {
    std::vector<std::uint16_t> g(H);
    for (std::uint16_t& v : g) v = f32_to_f16(static_cast<float>(1.0 + 0.1 * rng.normal()));
    Layer l = Recorder::record(name, Op::rmsnorm, T, H, {from});
    l.tensors["x"] = x;
    l.tensors["g"] = rec.put(name, "g", tensor(DType::F16, {i64(H)}, g));
    l.tensors["eps"] =
        rec.put(name, "eps", tensor(DType::F32, {1}, std::vector<float>{spec.norm_eps}));
    return rec.op(l);
  };
  // RoPE tables as data (row 24), one copy for every rope record; prefill positions 0..T-1.
  const RopeTables tables = make_rope_tables(T, hd, spec.rope_theta);
  const std::string cos_t =
      rec.put("rope", "cos", tensor(DType::F32, {i64(T), i64(hd / 2)}, tables.cos));
  const std::string sin_t =
      rec.put("rope", "sin", tensor(DType::F32, {i64(T), i64(hd / 2)}, tables.sin));
  std::vector<std::int32_t> pos(T);
  for (std::size_t t = 0; t < T; ++t) pos[t] = static_cast<std::int32_t>(t);
  const std::string positions = rec.put("rope", "positions", tensor(DType::I32, {i64(T)}, pos));
  const bool record_scores = spec.heads * T * T <= spec.max_score_values;

  const double wstd = 0.02;
  for (std::uint64_t layer = 0; layer < spec.layers; ++layer) {
    const std::string p = "layers." + std::to_string(layer) + ".", a = p + "self_attn.";
    const std::string norm1 = norm(p + "input_layernorm", res_from, res);
    const std::string in1 = p + "input_layernorm";
    const std::string q = rec.linear(a + "q_proj", "q_proj", in1, norm1, gaussian(H, H, wstd, rng, each));
    const std::string k =
        rec.linear(a + "k_proj", "k_proj", in1, norm1, gaussian(kv, H, wstd, rng, each));
    const std::string v =
        rec.linear(a + "v_proj", "v_proj", in1, norm1, gaussian(kv, H, wstd, rng, each));
    // RoPE on the queries and on the keys: one row of hd per token and head (batch = heads).
    auto rotate = [&](const std::string& name, const std::string& from, const std::string& x,
                      std::uint64_t heads) {
      Layer l = Recorder::record(name, Op::rope, T, hd, {from});
      l.batch = heads;
      l.tensors = {{"x", x}, {"positions", positions}, {"cos", cos_t}, {"sin", sin_t}};
      return rec.op(l);
    };
    const std::string qr = rotate(a + "q_rope", a + "q_proj", q, spec.heads);
    const std::string kr = rotate(a + "k_rope", a + "k_proj", k, spec.kv_heads);
    // The cache writes, one row per (token, kv-head), in the cache's format.
    for (const auto& [name, from, x] : {std::tuple{a + "k_append", a + "k_rope", kr},
                                        std::tuple{a + "v_append", a + "v_proj", v}}) {
      Layer l = Recorder::record(name, Op::kv_append, T, hd, {from});
      l.batch = spec.kv_heads;
      l.kv_format = spec.kv;
      l.tensors["x"] = x;
      rec.op(l);
    }
    // Causal attention per head. QK^T and the softmax are shape records (the design times
    // them); the data is recorded as one unit on the pv record: q, the appended K and V (the
    // kv_append records' inputs, written into the cache format as they were), positions, the
    // output and, while small, the scores and probabilities.
    Layer qk = Recorder::record(a + "qk", Op::bmm, T, T, {a + "q_rope", a + "k_append"});
    qk.batch = spec.heads, qk.k = hd, qk.attention = "qk", qk.causal = true;
    qk.scheme = LayerScheme{};  // fp16, as trace gen's attention class
    out.trace.layers.push_back(qk);
    Layer sm = Recorder::record(a + "softmax", Op::softmax, T, T, {a + "qk"});
    sm.batch = spec.heads, sm.causal = true;
    out.trace.layers.push_back(sm);
    // It reads q and the cache itself, so it names their records too.
    Layer pv = Recorder::record(a + "pv", Op::bmm, T, hd,
                                {a + "softmax", a + "q_rope", a + "k_append", a + "v_append"});
    pv.batch = spec.heads, pv.k = T, pv.attention = "pv", pv.causal = true;
    pv.scheme = LayerScheme{};
    pv.kv_format = spec.kv;
    pv.attention_mode = spec.attention.mode;
    pv.attention_tile = spec.attention.tile;
    pv.tensors = {{"q", qr}, {"positions", positions}, {"k", kr}, {"v", v}};
    if (record_scores) {
      pv.tensors["scores"] = "";
      if (spec.attention.tile == 0) pv.tensors["probs"] = "";
    }
    const std::string attn = rec.op(pv);
    const std::string o =
        rec.linear(a + "o_proj", "o_proj", a + "pv", attn, gaussian(H, H, wstd, rng, each));
    Layer r1 =
        Recorder::record(p + "attn_residual", Op::residual_add, T, H, {res_from, a + "o_proj"});
    r1.tensors = {{"a", res}, {"b", o}};
    const std::string res1 = rec.op(r1);
    const std::string norm2 = norm(p + "post_attention_layernorm", p + "attn_residual", res1);
    const std::string in2 = p + "post_attention_layernorm";
    const std::string gate =
        rec.linear(p + "mlp.gate_proj", "gate_proj", in2, norm2, gaussian(I, H, wstd, rng, each));
    const std::string up =
        rec.linear(p + "mlp.up_proj", "up_proj", in2, norm2, gaussian(I, H, wstd, rng, each));
    Layer act = Recorder::record(p + "mlp.act", Op::activation, T, I,
                                 {p + "mlp.gate_proj", p + "mlp.up_proj"});
    act.function = "silu_mul";
    act.tensors = {{"g", gate}, {"u", up}};
    const std::string mid = rec.op(act);
    const std::string d =
        rec.linear(p + "mlp.down_proj", "down_proj", p + "mlp.act", mid, gaussian(H, I, wstd, rng, each));
    Layer r2 = Recorder::record(p + "mlp_residual", Op::residual_add, T, H,
                                {p + "attn_residual", p + "mlp.down_proj"});
    r2.tensors = {{"a", res1}, {"b", d}};
    res = rec.op(r2);
    res_from = p + "mlp_residual";
  }
  const std::string final_norm = norm("norm", res_from, res);
  rec.linear("lm_head", "lm_head", "norm", final_norm, gaussian(spec.vocab, H, wstd, rng, each));
  validate(out.trace, "synthetic model trace");
  return out;
}

// Rows [from, from + n) of a tensor along dimension `dim` (0: rows; 1: the query dimension of
// the attention probes [head, query, key]).
Tensor slice(const Tensor& t, std::size_t dim, std::size_t from, std::size_t n) {
  std::size_t outer = 1, inner = safetensors::dtype_size(t.dtype);
  for (std::size_t d = 0; d < dim; ++d) outer *= static_cast<std::size_t>(t.shape[d]);
  for (std::size_t d = dim + 1; d < t.shape.size(); ++d)
    inner *= static_cast<std::size_t>(t.shape[d]);
  const std::size_t len = static_cast<std::size_t>(t.shape[dim]);
  Tensor s = t;
  s.shape[dim] = i64(n);
  s.bytes.resize(outer * n * inner);
  for (std::size_t o = 0; o < outer; ++o)
    std::memcpy(s.bytes.data() + o * n * inner, t.bytes.data() + (o * len + from) * inner,
                n * inner);
  return s;
}

// The roles that hold one row per token (the record's m), by record kind; every other role is a
// parameter (weights, scales, gains, eps, RoPE tables, smoothing factors) or the cache.
bool per_token_role(const Layer& l, const std::string& role) {
  if (l.op == Op::linear)
    return role == "x_f16" || role == "x_q" || role == "x_scale" || role == "x_elems" ||
           role == "x_bscales" || role == "y";
  if (l.op == Op::bmm) return role == "q" || role == "positions" || role == "y";
  if (l.op == Op::rmsnorm) return role == "x" || role == "y";  // g: the gains
  if (l.op == Op::rope) return role == "x" || role == "positions" || role == "y";
  if (l.op == Op::quantize_act) return role != "smoothing";
  return true;  // residual add, SiLU-mul (g is the gate here), kv_append: every role
}

// A decode step from the prefill of context + tokens tokens: every record keeps the last
// `tokens` rows of its per-token tensors. That is the step itself because every operation but
// attention works row by row (per-token quantizers, norms, RoPE at each row's position, the
// GEMMs), and attention of a query at position p reads the keys at positions <= p, which the
// step's attention record holds whole (the cache). `quasar validate` recomputes every record of
// the step from its own inputs: SyntheticModel.DecodeStepValidatesFromItsOwnRows.
SyntheticModelTrace decode_step(SyntheticModelTrace full, std::uint64_t context,
                                std::uint64_t tokens) {
  const std::uint64_t all = context + tokens;
  std::map<std::string, std::size_t> sliced;  // tensor -> dimension it is sliced along
  for (Layer& l : full.trace.layers) {
    if (l.op == Op::bmm && l.attention == "pv" && !l.tensors.empty()) {
      // The cache: the K and V the kv_append records wrote, every position, as their own tensors.
      for (const char* role : {"k", "v"}) {
        const std::string name = l.name + "/" + role + "_cache";
        full.payload.tensors[name] = full.payload.tensors.at(l.tensors.at(role));
        l.tensors[role] = name;
      }
      for (const char* probe : {"scores", "probs"}) {
        const auto it = l.tensors.find(probe);
        if (it != l.tensors.end()) sliced[it->second] = 1;
      }
    }
    for (const auto& [role, name] : l.tensors)
      if (per_token_role(l, role)) sliced.emplace(name, 0);
    // The step's queries see the whole cache: the shape records are not square-causal (their
    // timing counts every key for every query: exact for one new token; T tokens at once count
    // T (T - 1) / 2 scores the data record's positions mask).
    if (l.op == Op::bmm || l.op == Op::softmax) l.causal = false;
    if (l.m != all)
      throw Error("synthetic model: record '" + l.name + "' has m = " + std::to_string(l.m) +
                  ", not the " + std::to_string(all) + " tokens of the pass (no decode slice)");
    l.m = tokens;
  }
  for (const auto& [name, dim] : sliced) {
    Tensor& t = full.payload.tensors.at(name);
    if (t.shape.size() <= dim || static_cast<std::uint64_t>(t.shape[dim]) != all)
      throw Error("synthetic model: tensor '" + name + "' does not hold one row per token");
    t = slice(t, dim, context, tokens);
  }
  // synthetic-llama-h256-l2-t<tokens>-<scheme>-c<context>: the step's tokens, not the pass's.
  const std::string pass_t = "-t" + std::to_string(all) + "-";
  const std::size_t at = full.trace.name.find(pass_t);
  if (at != std::string::npos)
    full.trace.name.replace(at, pass_t.size(), "-t" + std::to_string(tokens) + "-");
  full.trace.name += "-c" + std::to_string(context);
  full.trace.meta["tokens"] = std::to_string(tokens);
  full.trace.meta["context"] = std::to_string(context);
  full.trace.meta["step"] = "decode: " + std::to_string(tokens) + " tokens at positions " +
                            std::to_string(context) + ".." + std::to_string(all - 1) +
                            " after a cache of " + std::to_string(context);
  validate(full.trace, "synthetic model trace");
  return full;
}

}  // namespace

SyntheticModelTrace synthesize_model_trace(const SyntheticModelSpec& spec, const GemmEngine& engine,
                                           const VectorEngine& vector_engine,
                                           const ForEachIndex& each) {
  if (spec.context == 0) return synthesize_prefill(spec, engine, vector_engine, each);
  // NVFP4's activation tensor scale spans every row of the pass: the step's own rows would
  // give another, so the step is not a slice of the pass.
  for (const SchemeInfo& info : all_schemes()) {
    const bool used = info.id == spec.scheme;
    bool overridden = false;
    for (const auto& [cls, s] : spec.overrides) overridden = overridden || s == info.id;
    if ((used || overridden) && info.e4m3_scales)
      throw Error("synthetic model: --context (a decode step) with " + std::string(info.name) +
                  ": its activations' per-tensor scale spans the whole pass, so a step is not a "
                  "slice of it; use another scheme");
  }
  if (spec.tokens > std::numeric_limits<std::uint64_t>::max() - spec.context)
    throw Error("synthetic model: context + tokens overflow");
  SyntheticModelSpec all = spec;
  all.tokens = spec.context + spec.tokens;
  return decode_step(synthesize_prefill(all, engine, vector_engine, each), spec.context,
                     spec.tokens);
}

void write_synthetic_model_trace(const std::string& dir, const SyntheticModelTrace& t) {
  io::OutputSet out(dir, {"trace.yaml", t.trace.payload});
  safetensors::write(out.path(t.trace.payload), t.payload);
  write_manifest(out.path("trace.yaml"), t.trace);
  out.publish();
}

}  // namespace quasar::trace
