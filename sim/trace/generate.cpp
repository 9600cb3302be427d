#include "generate.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "numerics/error.hpp"

namespace quasar::trace {
namespace {

class Builder {
 public:
  Builder(const GenSpec& spec, Trace& t) : spec_(spec), t_(t) {}

  LayerScheme scheme_for(const std::string& cls) const {
    const auto it = spec_.overrides.find(cls);
    if (it != spec_.overrides.end()) return it->second;
    if (cls == "router" || cls == "lm_head" || cls == "attention") return LayerScheme{};  // fp16
    return spec_.linear_scheme;
  }

  // Activation tensors by name, with the records that produce them (a linear's `input`).
  void produces(const std::string& tensor, std::vector<std::string> records) {
    tensors_[tensor] = std::move(records);
  }

  // `input` names the activation tensor the linear reads; a W*A8 linear needs it as int8 (a
  // block-scaled one as blocks of its format: act_format), so the first linear reading it in
  // that format adds one quantize_act (q/k/v and gate/up share theirs), which then is what the
  // linears consume. A second format of the same input (a per-class scheme override) gets its
  // own record, named with the format.
  void linear(const std::string& name, const std::string& cls, const std::string& input,
              std::uint64_t m, std::uint64_t k, std::uint64_t n, std::uint64_t repeat) {
    const LayerScheme s = scheme_for(cls);
    std::vector<std::string> in = tensors_.at(input);
    if (const std::optional<ActFormat> f = act_format(s.scheme)) {
      auto [it, added] = quantized_.try_emplace(input, *f);
      const std::string q = input + ".quantize_act" +
                            (it->second == *f ? "" : "." + std::string(act_format_info(*f).name));
      if (added || (it->second != *f && formats_.insert(q).second)) {
        Layer& r = elementwise(q, Op::quantize_act, m, k, repeat, in);
        if (*f != ActFormat::int8) r.act_format = *f;
      }
      in = {q};
    }
    Layer l;
    l.name = name;
    l.op = Op::linear;
    l.m = m, l.k = k, l.n = n, l.repeat = repeat;
    l.scheme = s;
    l.inputs = std::move(in);
    t_.layers.push_back(l);
  }

  void bmm(const std::string& name, const char* attention, bool causal, std::uint64_t batch,
           std::uint64_t m, std::uint64_t k, std::uint64_t n, std::uint64_t repeat,
           std::vector<std::string> inputs) {
    Layer l;
    l.name = name;
    l.op = Op::bmm;
    l.attention = attention;
    l.causal = causal;
    l.batch = batch, l.m = m, l.k = k, l.n = n, l.repeat = repeat;
    l.scheme = scheme_for("attention");
    l.inputs = std::move(inputs);
    t_.layers.push_back(l);
  }

  Layer& elementwise(const std::string& name, Op op, std::uint64_t m, std::uint64_t n,
                     std::uint64_t repeat, std::vector<std::string> inputs) {
    Layer l;
    l.name = name;
    l.op = op;
    l.m = m, l.n = n, l.repeat = repeat;
    l.inputs = std::move(inputs);
    t_.layers.push_back(l);
    return t_.layers.back();
  }

 private:
  const GenSpec& spec_;
  Trace& t_;
  std::map<std::string, ActFormat> quantized_;  // input -> the format its first record has
  std::set<std::string> formats_;                // records of a second format of an input
  std::map<std::string, std::vector<std::string>> tensors_;
};

std::vector<std::uint64_t> expert_split(const GenSpec& spec, std::uint64_t tokens) {
  const ModelConfig& m = spec.model;
  const std::uint64_t routed = m.top_k * tokens;
  if (!spec.expert_tokens.empty()) {
    if (spec.expert_tokens.size() != m.experts) {
      throw Error("expert token split has " + std::to_string(spec.expert_tokens.size()) +
                  " entries; the model has " + std::to_string(m.experts) + " experts");
    }
    std::uint64_t sum = 0;
    for (std::size_t e = 0; e < spec.expert_tokens.size(); ++e) {
      // top-k picks distinct experts: an expert sees each token at most once.
      if (spec.expert_tokens[e] > tokens) {
        throw Error("expert token split gives expert " + std::to_string(e) + " " +
                    std::to_string(spec.expert_tokens[e]) + " tokens; there are only " +
                    std::to_string(tokens) + " (top-k routes a token to distinct experts)");
      }
      sum += spec.expert_tokens[e];
    }
    if (sum != routed) {
      throw Error("expert token split sums to " + std::to_string(sum) +
                  "; top_k x tokens = " + std::to_string(routed));
    }
    return spec.expert_tokens;
  }
  std::vector<std::uint64_t> split(m.experts, routed / m.experts);
  for (std::uint64_t e = 0; e < routed % m.experts; ++e) ++split[e];
  return split;
}

}  // namespace

std::vector<std::string> layer_classes(const ModelConfig& m) {
  std::vector<std::string> c{"q_proj", "k_proj", "v_proj", "o_proj"};
  if (m.family == Family::opt) {
    c.insert(c.end(), {"fc1", "fc2"});
  } else {
    c.insert(c.end(), {"gate_proj", "up_proj", "down_proj"});
  }
  if (m.family == Family::mixtral) c.push_back("router");
  c.insert(c.end(), {"lm_head", "attention"});
  return c;
}

Trace generate(const GenSpec& spec) {
  const ModelConfig& m = spec.model;
  const std::vector<std::string> classes = layer_classes(m);
  for (const auto& [cls, s] : spec.overrides) {
    bool known = false;
    for (const auto& c : classes) known = known || c == cls;
    if (!known) {
      std::string list;
      for (const auto& c : classes) list += (list.empty() ? "" : ", ") + c;
      throw Error("no layer class '" + cls + "' in " + m.name + " (classes: " + list + ")");
    }
  }
  if (!spec.expert_tokens.empty() && m.experts == 0)
    throw Error("an expert token split was given, but " + m.name + " has no experts (not MoE)");
  if (spec.batch == 0 || spec.seq == 0 || spec.context == 0) {
    throw Error("batch, sequence length and context must be >= 1");
  }
  const bool prefill = spec.phase == Phase::prefill;
  const std::uint64_t T = prefill ? spec.seq * spec.batch : spec.batch;  // tokens in flight
  const std::uint64_t H = m.hidden, I = m.intermediate, hd = m.head_dim;
  const std::uint64_t L = spec.decoder_layers ? spec.decoder_layers : m.layers;
  const std::uint64_t g = m.heads / m.kv_heads;

  Trace t;
  t.name = m.name +
           (prefill ? "-prefill-s" + std::to_string(spec.seq)
                    : "-decode-l" + std::to_string(spec.context)) +
           "-b" + std::to_string(spec.batch);
  t.meta["model"] = m.name;
  t.meta["phase"] = prefill ? "prefill" : "decode";
  t.meta["batch"] = std::to_string(spec.batch);
  t.meta[prefill ? "seq" : "context"] = std::to_string(prefill ? spec.seq : spec.context);
  t.meta["decoder_layers"] = std::to_string(L);
  t.meta["model_layers"] = std::to_string(m.layers);
  t.meta["parameters"] = std::to_string(parameter_count(m));
  t.meta["generator"] = "quasar trace gen";
  if (m.sliding_window) {
    t.meta["sliding_window"] =
        std::to_string(m.sliding_window) +
        (prefill ? " (prefill attention is counted dense, S x S, as for other models)"
                 : " (decode attends to min(context, window) positions)");
  }
  Builder b(spec, t);

  // Every record names what it consumes (`inputs`), so independent work (q, k and v; gate and
  // up; MoE experts) can overlap. The decoder block is listed once with repeat = L: its first
  // record consumes nothing named here (the embeddings, or the previous block's output).
  const Op norm = m.family == Family::opt ? Op::layernorm : Op::rmsnorm;
  b.elementwise("layer.input_norm", norm, T, H, L, {});
  b.produces("layer.attn_in", {"layer.input_norm"});
  b.linear("layer.q_proj", "q_proj", "layer.attn_in", T, H, m.q_dim(), L);
  b.linear("layer.k_proj", "k_proj", "layer.attn_in", T, H, m.kv_dim(), L);
  b.linear("layer.v_proj", "v_proj", "layer.attn_in", T, H, m.kv_dim(), L);
  std::string q_out = "layer.q_proj", k_out = "layer.k_proj";
  if (m.family != Family::opt) {
    // One row per token and head (query and key heads), so the vector unit knows the head
    // dimension its cos and sin tables span.
    b.elementwise("layer.rope", Op::rope, T, hd, L, {"layer.q_proj", "layer.k_proj"}).batch =
        m.heads + m.kv_heads;
    q_out = k_out = "layer.rope";
  }
  // One row per token and K or V head: the cache's format quantizes per (token, kv-head).
  b.elementwise("layer.kv_append", Op::kv_append, T, hd, L, {k_out, "layer.v_proj"}).batch =
      2 * m.kv_heads;
  // Scores read the queries and the cache (which now holds this step's keys).
  const std::vector<std::string> qk_in{q_out, "layer.kv_append"};
  if (prefill) {
    // Causal attention per head: query p sees keys 0..p (the design counts the triangle).
    b.bmm("layer.attn_qk", "qk", true, spec.batch * m.heads, spec.seq, hd, spec.seq, L, qk_in);
    Layer& sm = b.elementwise("layer.attn_softmax", Op::softmax, spec.seq, spec.seq, L,
                              {"layer.attn_qk"});
    sm.batch = spec.batch * m.heads;
    sm.causal = true;
    b.bmm("layer.attn_pv", "pv", true, spec.batch * m.heads, spec.seq, spec.seq, hd, L,
          {"layer.attn_softmax", "layer.kv_append"});
  } else {
    // GQA folded: the g query heads sharing a KV head form the M dimension of one matmul. A
    // sliding-window model attends to the last `sliding_window` positions only (its KV cache is
    // a rolling buffer of that size).
    const std::uint64_t kv =
        m.sliding_window ? std::min(spec.context, m.sliding_window) : spec.context;
    b.bmm("layer.attn_qk", "qk", false, spec.batch * m.kv_heads, g, hd, kv, L, qk_in);
    b.elementwise("layer.attn_softmax", Op::softmax, g, kv, L, {"layer.attn_qk"}).batch =
        spec.batch * m.kv_heads;
    b.bmm("layer.attn_pv", "pv", false, spec.batch * m.kv_heads, g, kv, hd, L,
          {"layer.attn_softmax", "layer.kv_append"});
  }
  b.produces("layer.attn_out", {"layer.attn_pv"});
  b.linear("layer.o_proj", "o_proj", "layer.attn_out", T, m.q_dim(), H, L);
  b.elementwise("layer.attn_residual", Op::residual_add, T, H, L, {"layer.o_proj"});
  b.elementwise("layer.post_attn_norm", norm, T, H, L, {"layer.attn_residual"});
  b.produces("layer.mlp_in", {"layer.post_attn_norm"});
  std::vector<std::string> mlp_out;
  if (m.family == Family::opt) {
    b.linear("layer.fc1", "fc1", "layer.mlp_in", T, H, I, L);
    b.elementwise("layer.act", Op::activation, T, I, L, {"layer.fc1"}).function = "relu";
    b.produces("layer.mlp_mid", {"layer.act"});
    b.linear("layer.fc2", "fc2", "layer.mlp_mid", T, I, H, L);
    mlp_out = {"layer.fc2"};
  } else if (m.family == Family::mixtral) {
    b.linear("layer.router", "router", "layer.mlp_in", T, H, m.experts, L);
    b.elementwise("layer.route", Op::moe_router, T, m.experts, L, {"layer.router"}).top_k =
        m.top_k;
    const std::vector<std::uint64_t> split = expert_split(spec, T);
    for (std::uint64_t e = 0; e < m.experts; ++e) {
      if (split[e] == 0) continue;
      const std::string p = "layer.expert" + std::to_string(e) + ".";
      // An expert reads the routed tokens: the router's choice and the block's input.
      b.produces(p + "in", {"layer.route", "layer.post_attn_norm"});
      b.linear(p + "gate_proj", "gate_proj", p + "in", split[e], H, I, L);
      b.linear(p + "up_proj", "up_proj", p + "in", split[e], H, I, L);
      b.elementwise(p + "act", Op::activation, split[e], I, L, {p + "gate_proj", p + "up_proj"})
          .function = "silu_mul";
      b.produces(p + "mid", {p + "act"});
      b.linear(p + "down_proj", "down_proj", p + "mid", split[e], I, H, L);
      mlp_out.push_back(p + "down_proj");
    }
  } else {
    b.linear("layer.gate_proj", "gate_proj", "layer.mlp_in", T, H, I, L);
    b.linear("layer.up_proj", "up_proj", "layer.mlp_in", T, H, I, L);
    b.elementwise("layer.act", Op::activation, T, I, L, {"layer.gate_proj", "layer.up_proj"})
        .function = "silu_mul";
    b.produces("layer.mlp_mid", {"layer.act"});
    b.linear("layer.down_proj", "down_proj", "layer.mlp_mid", T, I, H, L);
    mlp_out = {"layer.down_proj"};
  }
  mlp_out.push_back("layer.attn_residual");
  b.elementwise("layer.mlp_residual", Op::residual_add, T, H, L, mlp_out);
  b.elementwise("final_norm", norm, T, H, 1, {"layer.mlp_residual"});
  b.produces("final_out", {"final_norm"});
  const std::uint64_t head_rows = prefill && spec.lm_head_last_token ? spec.batch : T;
  b.linear("lm_head", "lm_head", "final_out", head_rows, H, m.vocab, 1);
  validate(t, "generated trace " + t.name);
  return t;
}

}  // namespace quasar::trace
