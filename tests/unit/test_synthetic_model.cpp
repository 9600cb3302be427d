// Does the synthetic quantized model produce a valid data-bearing trace for every scheme, whose
// recorded outputs the reference reproduces bit for bit, with LLM-like outlier activations, and
// the same bytes for the same seed?
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "numerics/attention.hpp"
#include "numerics/error.hpp"
#include "numerics/float_formats.hpp"
#include "numerics/gemm_block.hpp"
#include "numerics/kv_cache.hpp"
#include "numerics/scheme_runner.hpp"
#include "numerics/synthetic.hpp"
#include "numerics/vector_engine.hpp"
#include "numerics/vector_ops.hpp"
#include "trace/layer_data.hpp"
#include "trace/op_data.hpp"
#include "trace/synthetic_model.hpp"

namespace quasar::trace {
namespace {

SyntheticModelSpec small(Scheme s) {
  SyntheticModelSpec spec;
  spec.hidden = 128;
  spec.intermediate = 256;
  spec.heads = 4;
  spec.kv_heads = 2;
  spec.layers = 1;
  spec.tokens = 8;
  spec.vocab = 64;
  spec.scheme = s;
  return spec;
}

const Layer& find(const Trace& t, const std::string& name) {
  for (const Layer& l : t.layers) {
    if (l.name == name) return l;
  }
  throw std::runtime_error("no record " + name);
}

// Every data-bearing record as `quasar validate` checks it: a linear on the engine, a non-GEMM
// record by the numerics reference from its recorded inputs; returns the records checked.
std::size_t check_every_record(const SyntheticModelTrace& t, const std::string& what) {
  std::size_t checked = 0;
  for (const Layer& l : t.trace.layers) {
    if (l.tensors.empty()) continue;
    ++checked;
    if (l.op_data()) {
      const OpResult r = run_op_record(l, t.payload, "mem");
      EXPECT_FALSE(r.outputs.empty()) << what << " " << l.name;
      for (const auto& [role, tensor] : r.outputs) {
        const safetensors::Tensor& want = t.payload.tensors.at(l.tensors.at(role));
        EXPECT_EQ(tensor.bytes, want.bytes) << what << " " << l.name << " " << role;
        EXPECT_EQ(tensor.shape, want.shape) << what << " " << l.name << " " << role;
      }
      continue;
    }
    const LayerData d = load_layer_data(l, t.payload, "mem");
    EXPECT_TRUE(d.expected_y.has_value()) << what << " " << l.name;
    if (d.expected_y) {
      EXPECT_EQ(run_layer(cpu_engine(), l, d.operands).y, *d.expected_y) << what << " " << l.name;
    }
  }
  return checked;
}

std::size_t count(const Trace& t, Op op) {
  std::size_t n = 0;
  for (const Layer& l : t.layers) n += l.op == op ? 1 : 0;
  return n;
}

// A block-scaled linear reads its activations from a quantize_act record in its scheme's block
// format (act_format), whose outputs are the linear's x_elems / x_bscales (/ x_tscale) tensors
// themselves, and which the reference reproduces from the fp16 input alone.
TEST(SyntheticModel, BlockSchemesQuantizeTheirActivationsInARecord) {
  for (const SchemeInfo& info : all_schemes()) {
    if (!block_scaled(info)) continue;
    const SyntheticModelTrace t = synthesize_model_trace(small(info.id), cpu_engine());
    const Layer& q = find(t.trace, "layers.0.input_layernorm.quantize_act");
    ASSERT_TRUE(q.act_format.has_value()) << info.name;
    EXPECT_EQ(*q.act_format, *act_format(info.id)) << info.name;
    const Layer& lin = find(t.trace, "layers.0.self_attn.q_proj");
    EXPECT_EQ(lin.inputs, std::vector<std::string>{q.name}) << info.name;
    std::size_t shared = 0;
    for (const OpRole& r : op_roles(q)) {
      if (!r.output) continue;
      ++shared;
      EXPECT_EQ(lin.tensors.at(r.name), q.tensors.at(r.name)) << info.name << " " << r.name;
    }
    EXPECT_EQ(shared, info.e4m3_scales ? 3u : 2u) << info.name;
  }
  // A per-class override of another format gets its own record for the same input.
  SyntheticModelSpec o = small(Scheme::w8a8);
  o.overrides["down_proj"] = Scheme::w4a4_mxfp4;
  const SyntheticModelTrace t = synthesize_model_trace(o, cpu_engine());
  const Layer& down = find(t.trace, "layers.0.mlp.down_proj");
  ASSERT_TRUE(down.inputs && down.inputs->size() == 1);
  EXPECT_EQ(find(t.trace, down.inputs->front()).act_format, ActFormat::mxfp4);
  EXPECT_EQ(check_every_record(t, "override"), 8 + 11 + 4u);
}

// The loops `quasar trace synth` runs on every core (the fp64 reference, the weights' normals)
// give the same payload whatever runs them: here blocks in reverse order, which a loop that
// carried state from one block to the next would notice.
TEST(SyntheticModel, ItsLoopsInAnyOrderGiveTheSamePayload) {
  const ForEachIndex reversed = [](std::size_t n, const std::function<void(std::size_t)>& body) {
    for (std::size_t i = n; i-- > 0;) body(i);
  };
  const SyntheticModelSpec spec = small(Scheme::w4a8_is);
  const SyntheticModelTrace a = synthesize_model_trace(spec, cpu_engine());
  const SyntheticModelTrace b =
      synthesize_model_trace(spec, cpu_engine(), cpu_vector_engine(), reversed);
  ASSERT_EQ(a.payload.tensors.size(), b.payload.tensors.size());
  for (const auto& [name, t] : a.payload.tensors) {
    const auto it = b.payload.tensors.find(name);
    ASSERT_NE(it, b.payload.tensors.end()) << name;
    EXPECT_EQ(t.bytes, it->second.bytes) << name;
  }
}

TEST(SyntheticModel, EverySchemeRecordsEveryOperationTheReferenceReproduces) {
  for (const SchemeInfo& info : all_schemes()) {
    const SyntheticModelTrace t = synthesize_model_trace(small(info.id), cpu_engine());
    std::size_t linears = 0;
    for (const Layer& l : t.trace.layers) {
      if (l.op != Op::linear) continue;
      ++linears;
      EXPECT_EQ(l.scheme->scheme, l.name == "lm_head" ? Scheme::fp16 : info.id);
    }
    EXPECT_EQ(linears, 8u) << "7 linears per decoder layer + lm_head";
    // Per decoder layer 2 norms, 2 ropes, 2 KV appends, attention (pv), SiLU-mul, 2 residual
    // adds; the final norm; and a quantize_act per distinct quantized input (int8 or blocks):
    // q/k/v share one (AQAS smooths each linear on its own), gate/up share one.
    const std::size_t quant = count(t.trace, Op::quantize_act);
    const std::size_t want_quant = !act_format(info.id)             ? 0
                                   : info.id == Scheme::w4a8_dint ? 7
                                                                   : 4;
    EXPECT_EQ(quant, want_quant) << info.name;
    EXPECT_EQ(check_every_record(t, std::string(info.name)), 8 + 11 + quant) << info.name;
    // Only QK^T and the softmax are shape records: their work is checked on the pv record.
    EXPECT_EQ(t.trace.layers.size(), 8 + 11 + quant + 2) << info.name;
  }
}

// Each record reads what its producers wrote: every input role of a data-bearing record names
// an output tensor of a record it lists in `inputs` (parameters aside), so validating every
// record checks the whole chain, from the embeddings to the logits.
TEST(SyntheticModel, EveryRecordReadsItsProducersOutputs) {
  for (Scheme s : {Scheme::fp16, Scheme::w4a8_dint, Scheme::w4a16}) {
    const SyntheticModelTrace t = synthesize_model_trace(small(s), cpu_engine());
    std::map<std::string, std::set<std::string>> outputs;  // record -> its output tensors
    const std::set<std::string> parameters{"g",        "eps",         "positions",    "cos",
                                           "sin",      "smoothing",   "w_f16",        "w_codes",
                                           "w_scales", "w_zeros",     "int_scales",   "q",
                                           "zeros",    "group_scale", "channel_scale"};
    std::size_t links = 0;
    for (const Layer& l : t.trace.layers) {
      if (l.tensors.empty()) continue;
      for (const auto& [role, tensor] : l.tensors) {
        const bool output = l.op_data() ? [&] {
          for (const OpRole& r : op_roles(l))
            if (r.name == role) return r.output;
          return false;
        }()
                                        : role == "y";
        if (output) {
          outputs[l.name].insert(tensor);
          continue;
        }
        if (parameters.count(role) && !(l.op == Op::bmm && role == "q")) continue;
        if (tensor == "embeddings/y") continue;  // the model's input
        bool found = false;
        for (const std::string& in : l.inputs.value_or(std::vector<std::string>{}))
          found = found || outputs[in].count(tensor);
        // attention reads K and V as its kv_append records did (their input, not output).
        if (l.op == Op::bmm && (role == "k" || role == "v")) {
          const std::string append = l.name.substr(0, l.name.size() - 2) + role + "_append";
          for (const Layer& a : t.trace.layers)
            found = found || (a.name == append && a.tensors.at("x") == tensor);
        }
        EXPECT_TRUE(found) << scheme_name(s) << " " << l.name << " role " << role << " reads '"
                           << tensor << "', which no record in its inputs wrote";
        ++links;
      }
    }
    EXPECT_GT(links, 20u);
  }
}

// The records hold what the reference ops compute, called here directly (not through the
// validator's own path): RMSNorm, per-token quantization, the KV writes and attention.
TEST(SyntheticModel, RecordsEqualTheNumericsOpsCalledDirectly) {
  SyntheticModelSpec spec = small(Scheme::w8a8);
  spec.kv = KvFormat::int4;
  const SyntheticModelTrace t = synthesize_model_trace(spec, cpu_engine());
  auto tensor = [&](const std::string& record, const std::string& role) {
    return t.payload.tensors.at(find(t.trace, record).tensors.at(role));
  };
  auto f16 = [&](const std::string& record, const std::string& role) {
    const safetensors::Tensor& x = tensor(record, role);
    MatrixH m(static_cast<std::size_t>(x.shape[0]), static_cast<std::size_t>(x.shape[1]));
    std::memcpy(m.values().data(), x.bytes.data(), x.bytes.size());
    return m;
  };
  const MatrixH x = f16("layers.0.input_layernorm", "x");
  const safetensors::Tensor& g = tensor("layers.0.input_layernorm", "g");
  std::vector<std::uint16_t> gains(g.numel());
  std::memcpy(gains.data(), g.bytes.data(), g.bytes.size());
  const MatrixH y = rmsnorm(x, gains, 1e-6f);
  EXPECT_EQ(f16("layers.0.input_layernorm", "y"), y);
  const QuantizedActivations q = quantize_tokens(y);
  EXPECT_EQ(tensor("layers.0.input_layernorm.quantize_act", "x_q").bytes,
            safetensors::from_matrix(q.q).bytes);
  EXPECT_EQ(find(t.trace, "layers.0.self_attn.q_proj").tensors.at("x_q"),
            find(t.trace, "layers.0.input_layernorm.quantize_act").tensors.at("x_q"));
  // int4 cache: codes 0..15 and the zero point of each (token, kv-head).
  const MatrixH k = f16("layers.0.self_attn.k_append", "x");
  const std::vector<KvCache> kc = make_kv_caches(KvFormat::int4, k, spec.kv_heads);
  const safetensors::Tensor& codes = tensor("layers.0.self_attn.k_append", "codes");
  const safetensors::Tensor& zeros = tensor("layers.0.self_attn.k_append", "zeros");
  ASSERT_EQ(codes.dtype, safetensors::DType::U8);
  const std::size_t d = spec.hidden / spec.heads;
  for (std::size_t tok = 0; tok < spec.tokens; ++tok) {
    for (std::size_t j = 0; j < spec.kv_heads; ++j) {
      EXPECT_EQ(zeros.bytes[tok * spec.kv_heads + j], kc[j].stored(tok).z);
      for (std::size_t i = 0; i < d; ++i)
        EXPECT_EQ(codes.bytes[(tok * spec.kv_heads + j) * d + i], kc[j].stored(tok).codes[i]);
    }
  }
  // Attention on those caches, causal over positions 0..T-1.
  const MatrixH v = f16("layers.0.self_attn.v_append", "x");
  const std::vector<KvCache> vc = make_kv_caches(KvFormat::int4, v, spec.kv_heads);
  std::vector<std::size_t> pos(spec.tokens);
  for (std::size_t i = 0; i < pos.size(); ++i) pos[i] = i;
  AttentionOptions opt;
  const AttentionResult a =
      attention(f16("layers.0.self_attn.pv", "q"), spec.heads, pos, kc, vc, opt);
  EXPECT_EQ(f16("layers.0.self_attn.pv", "y"), a.out);
  // Scores: key t of query p is scored for t <= p only (-inf past it), probabilities sum to ~1.
  const safetensors::Tensor& sc = tensor("layers.0.self_attn.pv", "scores");
  const safetensors::Tensor& pr = tensor("layers.0.self_attn.pv", "probs");
  ASSERT_EQ(sc.shape, (std::vector<std::int64_t>{4, 8, 8}));
  std::vector<float> s(sc.numel()), p(pr.numel());
  std::memcpy(s.data(), sc.bytes.data(), sc.bytes.size());
  std::memcpy(p.data(), pr.bytes.data(), pr.bytes.size());
  for (std::size_t r = 0; r < 8; ++r) {
    double sum = 0;
    for (std::size_t key = 0; key < 8; ++key) {
      EXPECT_EQ(std::isinf(s[r * 8 + key]), key > r) << r << " " << key;
      sum += p[r * 8 + key];
    }
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
}

// Every KV format and attention order gives a trace the reference reproduces record by record;
// the tiled softmax forms no probabilities, so its pv record has none.
TEST(SyntheticModel, EveryKvFormatAndAttentionOrder) {
  struct Case {
    KvFormat kv;
    AttentionMode mode;
    std::size_t tile;
  };
  for (const Case& c :
       {Case{KvFormat::fp16, AttentionMode::fp32, 3}, Case{KvFormat::int8, AttentionMode::int8, 0},
        Case{KvFormat::int8, AttentionMode::fp32, 0},
        Case{KvFormat::int4, AttentionMode::fp32, 4}}) {
    SyntheticModelSpec spec = small(Scheme::w4a8_is);
    spec.kv = c.kv;
    spec.attention.mode = c.mode;
    spec.attention.tile = c.tile;
    const SyntheticModelTrace t = synthesize_model_trace(spec, cpu_engine());
    const std::string what = std::string(kv_format_name(c.kv)) + "/" +
                             std::string(attention_mode_name(c.mode)) + "/" +
                             std::to_string(c.tile);
    EXPECT_EQ(check_every_record(t, what), 8u + 11u + 4u) << what;
    const Layer& pv = find(t.trace, "layers.0.self_attn.pv");
    EXPECT_EQ(pv.kv_format, c.kv);
    EXPECT_EQ(pv.attention_options().tile, c.tile);
    EXPECT_EQ(pv.tensors.count("probs"), c.tile == 0 ? 1u : 0u) << what;
    // The manifest says so, and reads back the same.
    EXPECT_EQ(to_yaml(parse_manifest(to_yaml(t.trace), "again.yaml")), to_yaml(t.trace));
  }
  SyntheticModelSpec bad = small(Scheme::w8a8);
  bad.attention.mode = AttentionMode::int8;
  EXPECT_THROW(synthesize_model_trace(bad, cpu_engine()), Error);
}

// A recorded non-GEMM output that differs from what its inputs give is found: one changed
// element, at its index, in that record only (its consumer reads the changed tensor as input
// and recomputes from it, so it may differ too).
TEST(SyntheticModel, ChangedNonGemmOutputIsFoundAtItsIndex) {
  SyntheticModelTrace t = synthesize_model_trace(small(Scheme::fp16), cpu_engine());
  for (const std::string record :
       {"layers.0.input_layernorm", "layers.0.self_attn.q_rope", "layers.0.self_attn.pv",
        "layers.0.mlp.act", "layers.0.mlp_residual", "layers.0.self_attn.k_append"}) {
    const Layer& l = find(t.trace, record);
    safetensors::File tampered = t.payload;
    std::vector<std::uint8_t>& bytes = tampered.tensors.at(l.tensors.at("y")).bytes;
    bytes.at(2 * 5 + 1) ^= 0x01;  // element 5's high byte: its exponent's lowest bit
    const OpResult r = run_op_record(l, tampered, "mem");
    const std::vector<std::uint8_t>& got = r.outputs.at("y").bytes;
    std::size_t differ = 0, first = 0;
    for (std::size_t i = 0; i < got.size(); i += 2) {
      if ((got[i] != bytes[i] || got[i + 1] != bytes[i + 1]) && differ++ == 0) first = i / 2;
    }
    EXPECT_EQ(differ, 1u) << record;
    EXPECT_EQ(first, 5u) << record;
  }
}

// A decode step (--context P): T new tokens at positions P.. attending the P cached tokens and
// their own. Every record holds T rows and is recomputed from them alone (validate's check),
// attention from the T queries and the whole cache; its outputs are the last T rows of the
// P + T token pass's.
TEST(SyntheticModel, DecodeStepValidatesFromItsOwnRows) {
  for (const auto& [scheme, kv, mode] :
       {std::tuple{Scheme::w4a8_is, KvFormat::fp16, AttentionMode::fp32},
        std::tuple{Scheme::w8a8, KvFormat::int8, AttentionMode::int8},
        std::tuple{Scheme::w4a8_dint, KvFormat::int4, AttentionMode::fp32},
        std::tuple{Scheme::w4a4_mxfp4, KvFormat::fp16, AttentionMode::fp32}}) {
    SyntheticModelSpec spec = small(scheme);
    spec.kv = kv;
    spec.attention.mode = mode;
    spec.context = 11;
    spec.tokens = 2;
    const SyntheticModelTrace d = synthesize_model_trace(spec, cpu_engine());
    const std::string what = std::string(scheme_name(scheme));
    const std::size_t quant = count(d.trace, Op::quantize_act);
    EXPECT_EQ(check_every_record(d, what), 8 + 11 + quant) << what;
    SyntheticModelSpec whole = spec;
    whole.context = 0;
    whole.tokens = 13;
    const SyntheticModelTrace f = synthesize_model_trace(whole, cpu_engine());
    for (const Layer& l : d.trace.layers) {
      EXPECT_EQ(l.m, 2u) << what << " " << l.name;
      const auto y = l.tensors.find("y");
      if (y == l.tensors.end()) continue;
      const safetensors::Tensor& got = d.payload.tensors.at(y->second);
      const safetensors::Tensor& all = f.payload.tensors.at(find(f.trace, l.name).tensors.at("y"));
      const std::size_t row = all.bytes.size() / 13;
      ASSERT_EQ(got.bytes.size(), 2 * row) << what << " " << l.name;
      EXPECT_TRUE(std::equal(got.bytes.begin(), got.bytes.end(), all.bytes.end() - 2 * row))
          << what << " " << l.name;
    }
    const Layer& pv = find(d.trace, "layers.0.self_attn.pv");
    EXPECT_EQ(pv.k, 13u);
    EXPECT_EQ(d.payload.tensors.at(pv.tensors.at("k")).shape[0], 13);
    EXPECT_EQ(d.payload.tensors.at(pv.tensors.at("positions")).bytes,
              (std::vector<std::uint8_t>{11, 0, 0, 0, 12, 0, 0, 0}));
  }
  SyntheticModelSpec nv = small(Scheme::w4a4_nvfp4);
  nv.context = 4;
  EXPECT_THROW(synthesize_model_trace(nv, cpu_engine()), Error);
}

// The reference behind the VectorEngine interface, counting the calls by operation and, when
// `flip` names one, changing the lowest bit of its first output value: what `validate --device
// gpu` hands run_op_record instead of the reference.
class RecordingEngine final : public VectorEngine {
 public:
  mutable std::map<std::string, int> calls;
  std::string flip;
  std::string_view name() const override { return "recording engine"; }
  KvWriteResult kv_write(KvFormat f, const MatrixH& x, std::size_t kv_heads) const override {
    ++calls["kv_write"];
    KvWriteResult r = ref().kv_write(f, x, kv_heads);
    if (flip == "kv_write" && !r.vectors.empty()) {
      KvVector& v = r.vectors.front();
      if (!v.f16.empty()) v.f16.front() ^= 1;
      if (!v.codes.empty()) v.codes.front() ^= 1;
    }
    return r;
  }
  AttentionResult attention(const MatrixH& q, std::size_t heads,
                            const std::vector<std::size_t>& positions,
                            const std::vector<KvCache>& k, const std::vector<KvCache>& v,
                            const AttentionOptions& opt) const override {
    ++calls["attention"];
    AttentionResult r = ref().attention(q, heads, positions, k, v, opt);
    if (flip == "attention") r.out.values().front() ^= 1;
    return r;
  }
  VectorResult rmsnorm(const MatrixH& x, const std::vector<std::uint16_t>& g,
                       float eps) const override {
    return counted("rmsnorm", ref().rmsnorm(x, g, eps));
  }
  VectorResult rope(const RopeTables& t, const MatrixH& x,
                    const std::vector<std::size_t>& positions) const override {
    return counted("rope", ref().rope(t, x, positions));
  }
  VectorResult swiglu(const MatrixH& gate, const MatrixH& up) const override {
    return counted("swiglu", ref().swiglu(gate, up));
  }
  VectorResult silu(const MatrixH& g) const override { return counted("silu", ref().silu(g)); }
  VectorResult residual_add(const MatrixH& a, const MatrixH& b) const override {
    return counted("residual_add", ref().residual_add(a, b));
  }
  TokenQuantResult quantize_tokens(const MatrixH& x) const override {
    ++calls["quantize_tokens"];
    TokenQuantResult r = ref().quantize_tokens(x);
    if (flip == "quantize_tokens") r.q.q.values().front() ^= 1;
    return r;
  }
  std::vector<float> exp_q(const std::vector<float>& x) const override { return ref().exp_q(x); }

 private:
  static const VectorEngine& ref() { return cpu_vector_engine(); }
  VectorResult counted(const char* op, VectorResult r) const {
    ++calls[op];
    if (flip == op) r.y.values().front() ^= 1;
    return r;
  }
};

// run_op_record runs every record on the engine it is given (validate --device gpu's path): each
// operation is called, the records' outputs equal the reference's, and an engine that computes
// one value wrong shows in that operation's records only.
TEST(SyntheticModel, NonGemmRecordsRunOnTheEngineGiven) {
  SyntheticModelSpec spec = small(Scheme::w4a8_is);
  spec.kv = KvFormat::int8;
  const SyntheticModelTrace t = synthesize_model_trace(spec, cpu_engine());
  const auto run_all = [&](const RecordingEngine& e) {
    std::set<std::string> differ;
    for (const Layer& l : t.trace.layers) {
      if (l.tensors.empty() || !l.op_data()) continue;
      const OpResult r = run_op_record(l, t.payload, "mem", e);
      for (const auto& [role, tensor] : r.outputs)
        if (tensor.bytes != t.payload.tensors.at(l.tensors.at(role)).bytes) differ.insert(l.name);
    }
    return differ;
  };
  RecordingEngine e;
  EXPECT_TRUE(run_all(e).empty());
  for (const char* op :
       {"rmsnorm", "rope", "swiglu", "residual_add", "quantize_tokens", "kv_write", "attention"})
    EXPECT_GT(e.calls[op], 0) << op;
  const std::map<std::string, std::set<std::string>> broken = {
      {"rmsnorm", {"layers.0.input_layernorm", "layers.0.post_attention_layernorm", "norm"}},
      {"rope", {"layers.0.self_attn.q_rope", "layers.0.self_attn.k_rope"}},
      {"kv_write", {"layers.0.self_attn.k_append", "layers.0.self_attn.v_append"}},
      {"attention", {"layers.0.self_attn.pv"}},
  };
  for (const auto& [op, records] : broken) {
    RecordingEngine wrong;
    wrong.flip = op;
    EXPECT_EQ(run_all(wrong), records) << op;
  }
}

// A non-GEMM record's payload that disagrees with the record is an error naming the payload,
// the record, the tensor and its role; so is a value the operation cannot take.
TEST(SyntheticModel, NonGemmPayloadErrorsNameTheTensor) {
  const SyntheticModelTrace t = synthesize_model_trace(small(Scheme::w8a8), cpu_engine());
  auto err = [&](const std::string& record, const std::function<void(safetensors::File&)>& f) {
    safetensors::File p = t.payload;
    f(p);
    try {
      run_op_record(find(t.trace, record), p, "p.safetensors");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  const Layer& norm = find(t.trace, "layers.0.input_layernorm");
  EXPECT_THAT(
      err(norm.name,
          [&](safetensors::File& p) {
            p.tensors[norm.tensors.at("g")] = safetensors::from_vector({1.0f});
          }),
      ::testing::HasSubstr("p.safetensors: layer 'layers.0.input_layernorm': tensor '" +
                           norm.tensors.at("g") + "' (role g) has dtype F32, expected F16"));
  const Layer& rope = find(t.trace, "layers.0.self_attn.q_rope");
  EXPECT_THAT(err(rope.name,
                  [&](safetensors::File& p) {
                    p.tensors[rope.tensors.at("positions")].bytes[4] = 99;  // position 99 of 8
                  }),
              ::testing::HasSubstr("tensor 'rope/positions' (role positions) element [1] = 99 is "
                                   "outside 0..7 (the rows of cos and sin)"));
  EXPECT_THAT(err(rope.name,
                  [&](safetensors::File& p) {
                    auto& x = p.tensors[rope.tensors.at("x")].bytes;
                    x[6] = 0x00, x[7] = 0x7c;  // element 3 = +inf
                  }),
              ::testing::HasSubstr("p.safetensors: layer 'layers.0.self_attn.q_rope': "));
  const Layer& pv = find(t.trace, "layers.0.self_attn.pv");
  EXPECT_THAT(err(pv.name,
                  [&](safetensors::File& p) {
                    p.tensors[pv.tensors.at("k")] = safetensors::from_matrix(MatrixH(8, 96));
                  }),
              ::testing::HasSubstr("(role k) has shape [8, 96], expected [8, kv_heads x 32] with "
                                   "kv_heads dividing the 4 query heads"));
  EXPECT_THAT(err(pv.name, [&](safetensors::File& p) { p.tensors.erase(pv.tensors.at("v")); }),
              ::testing::HasSubstr("is missing"));
}

// A block quantize_act record holds what the block quantizer makes of its fp16 input, counts
// its saturations and, for NVFP4 only, its divides; bad input names the record and tensor.
TEST(SyntheticModel, BlockQuantizeActEqualsTheQuantizerCalledDirectly) {
  for (Scheme s : {Scheme::w4a8_mx, Scheme::w4a4_nvfp4}) {
    const SyntheticModelTrace t = synthesize_model_trace(small(s), cpu_engine());
    const Layer& q = find(t.trace, "layers.0.post_attention_layernorm.quantize_act");
    const safetensors::Tensor& xt = t.payload.tensors.at(q.tensors.at("x"));
    MatrixH x(static_cast<std::size_t>(xt.shape[0]), static_cast<std::size_t>(xt.shape[1]));
    std::memcpy(x.values().data(), xt.bytes.data(), xt.bytes.size());
    BlockQuantStats stats;
    const BlockTensor b = quantize_block_acts(*act_format(s), to_f32(x), "x", &stats);
    EXPECT_EQ(t.payload.tensors.at(q.tensors.at("x_elems")).bytes,
              safetensors::from_matrix(b.codes).bytes);
    EXPECT_EQ(t.payload.tensors.at(q.tensors.at("x_bscales")).bytes,
              safetensors::from_matrix(b.scales).bytes);
    const OpResult r = run_op_record(q, t.payload, "p.safetensors");
    const auto sat = r.counters.overflow.find(stage::kActSaturate);
    EXPECT_EQ(sat == r.counters.overflow.end() ? 0 : sat->second, stats.saturated)
        << scheme_name(s);
    EXPECT_EQ(r.counters.action(vec_act::kQuantFp32ToBlock), x.size());
    EXPECT_EQ(r.counters.action(vec_act::kDivFp32) > 0, s == Scheme::w4a4_nvfp4);
    auto err = [&](const std::function<void(safetensors::File&)>& f) {
      safetensors::File p = t.payload;
      f(p);
      try {
        run_op_record(q, p, "p.safetensors");
      } catch (const Error& e) {
        return std::string(e.what());
      }
      return std::string("(no error)");
    };
    EXPECT_THAT(err([&](safetensors::File& p) {
                  auto& bytes = p.tensors[q.tensors.at("x")].bytes;
                  bytes[2 * 5] = 0x00, bytes[2 * 5 + 1] = 0x7e;  // element [0, 5] = NaN
                }),
                ::testing::HasSubstr("(role x) element [0, 5] is NaN"));
    Layer smoothed = q;
    smoothed.tensors["smoothing"] = q.tensors.at("x");
    EXPECT_THAT(
        [&] { run_op_record(smoothed, t.payload, "p.safetensors"); },
        ::testing::ThrowsMessage<Error>(::testing::HasSubstr("takes no smoothing factors")));
  }
}

TEST(SyntheticModel, ActivationsHaveOutlierChannels) {
  const SyntheticModelTrace t = synthesize_model_trace(small(Scheme::fp16), cpu_engine());
  const Layer& q = find(t.trace, "layers.0.self_attn.q_proj");
  const LayerData d = load_layer_data(q, t.payload, "mem");
  std::vector<float> col_max(q.k, 0.0f);
  for (std::size_t m = 0; m < q.m; ++m) {
    for (std::size_t k = 0; k < q.k; ++k) {
      col_max[k] = std::max(col_max[k], std::fabs(f16_to_f32((*d.operands.x_f16)(m, k))));
    }
  }
  std::vector<float> sorted = col_max;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_GT(sorted.back(), 10.0f * sorted[sorted.size() / 2])
      << "largest channel vs median channel";
}

TEST(SyntheticModel, SameSeedSameBytesOtherSeedOtherBytes) {
  SyntheticModelSpec spec = small(Scheme::w4a8_dgq);
  const auto a = safetensors::serialize(synthesize_model_trace(spec, cpu_engine()).payload);
  const auto b = safetensors::serialize(synthesize_model_trace(spec, cpu_engine()).payload);
  EXPECT_EQ(a, b);
  spec.seed = 2;
  EXPECT_NE(safetensors::serialize(synthesize_model_trace(spec, cpu_engine()).payload), a);
}

// A payload that disagrees with its manifest is an error naming the file, layer, tensor and role.
TEST(SyntheticModel, PayloadThatDisagreesWithTheManifestIsRejected) {
  SyntheticModelTrace t = synthesize_model_trace(small(Scheme::w8a8), cpu_engine());
  const Layer& q = find(t.trace, "layers.0.self_attn.q_proj");
  const std::string x_q = q.tensors.at("x_q");
  auto err = [&](const safetensors::File& payload) {
    try {
      load_layer_data(q, payload, "p.safetensors");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  safetensors::File wrong_dtype = t.payload;
  wrong_dtype.tensors[x_q] = safetensors::from_matrix(MatrixF(q.m, q.k));
  EXPECT_NE(err(wrong_dtype)
                .find("p.safetensors: layer 'layers.0.self_attn.q_proj': tensor '" + x_q +
                      "' (role x_q) has dtype F32, expected I8"),
            std::string::npos)
      << err(wrong_dtype);
  safetensors::File wrong_shape = t.payload;
  wrong_shape.tensors[x_q] = safetensors::from_matrix(MatrixI8(q.m + 1, q.k));
  EXPECT_NE(err(wrong_shape).find("has shape [9, 128], expected [8, 128]"), std::string::npos)
      << err(wrong_shape);
  safetensors::File missing = t.payload;
  missing.tensors.erase(x_q);
  EXPECT_NE(err(missing).find("tensor '" + x_q + "' is missing"), std::string::npos)
      << err(missing);
}

// Issue 14: a payload value the engine rejects was named by the engine's operand ('w.codes');
// the error names the payload tensor ("<layer>/w_codes") and its role, for every role of every
// scheme that the engine checks.
TEST(SyntheticModel, OperandErrorsNameThePayloadTensor) {
  using Tamper = std::function<void(SchemeOperands&)>;
  const std::vector<std::pair<std::string, Tamper>> tampers = {
      {"x_f16", [](SchemeOperands& o) { (*o.x_f16)(0, 0) = 0x7C00; }},  // fp16 inf
      {"w_f16", [](SchemeOperands& o) { (*o.w_f16)(0, 1) = 0x7E00; }},  // fp16 NaN
      {"x_scale", [](SchemeOperands& o) { o.x_q->scale[0] = -1.0f; }},
      {"w_codes", [](SchemeOperands& o) { o.w_q->codes(0, 0) = 100; }},
      {"w_scales", [](SchemeOperands& o) { o.w_q->scales(0, 0) = 0.0f; }},
      {"w_zeros", [](SchemeOperands& o) { o.w_q->zeros(0, 0) = 100; }},
      {"int_scales", [](SchemeOperands& o) { o.int_scales->S(0, 0) = 0; }},
      {"q", [](SchemeOperands& o) { o.two_level->q(0, 0) = 200; }},
      {"zeros", [](SchemeOperands& o) { o.two_level->zeros(0, 0) = 100; }},
      {"group_scale", [](SchemeOperands& o) { o.two_level->group_scale(0, 0) = 0; }},
      {"channel_scale", [](SchemeOperands& o) { o.two_level->channel_scale[0] = 0.0f; }},
  };
  for (const SchemeInfo& info : all_schemes()) {
    if (block_scaled(info)) continue;  // refused with a clear error (BlockSchemesAreRefused)
    const SyntheticModelTrace t = synthesize_model_trace(small(info.id), cpu_engine());
    const Layer& q = find(t.trace, "layers.0.self_attn.q_proj");
    std::size_t tried = 0;
    for (const auto& [role, tamper] : tampers) {
      if (!q.tensors.count(role)) continue;
      if (role == "w_codes" && info.id == Scheme::w8a8) continue;  // every int8 is a w8a8 code
      ++tried;
      LayerData d = load_layer_data(q, t.payload, "mem");
      tamper(d.operands);
      std::string what = "(no error)";
      try {
        run_layer(cpu_engine(), q, d.operands);
      } catch (const Error& e) {
        what = e.what();
      }
      EXPECT_EQ(what.rfind("tensor '" + q.tensors.at(role) + "' (role " + role + ")", 0), 0u)
          << info.name << " " << role << ": " << what;
      EXPECT_EQ(what.find("'w."), std::string::npos) << what;
    }
    EXPECT_GE(tried, 2u) << info.name;
  }
}

// A data-bearing block-scaled layer (quasar gemm --trace-out writes these): it reruns bit for
// bit from its payload, and a code or scale no file may carry is an error naming the payload
// tensor, the row and the element or block (issue 17, "Bad input").
TEST(BlockLayerData, RerunsFromItsPayloadAndRejectsBadCodes) {
  SyntheticSpec syn;
  syn.m = 3, syn.k = 64, syn.n = 5, syn.seed = 7;
  const GemmData g = synthetic_llm_gemm(syn);
  for (const SchemeInfo& info : all_schemes()) {
    if (!block_scaled(info)) continue;
    SchemeConfig cfg;
    const SchemeRun run = run_scheme(info.id, g.x, g.w, cfg, float_reference(g.x, g.w));
    safetensors::File payload;
    const Layer l = layer_from_run("lin", run, cfg, payload);
    const LayerData d = load_layer_data(l, payload, "p.safetensors");
    EXPECT_EQ(run_layer(cpu_engine(), l, d.operands).y, run.result.y) << info.name;
    // One bad byte per case: the tensor's first element, or its second block's scale.
    const std::uint8_t bad_elem = info.w_elem == BlockElem::mxint8 ? 0x80 : info.w_elem == BlockElem::e2m1 ? 0x10 : 0x7f;
    const std::uint8_t bad_scale = info.e4m3_scales ? 0x81 : 0xff;
    const std::vector<std::tuple<std::string, std::size_t, std::uint8_t, std::string>> cases = {
        {"w_elems", 0, bad_elem, "element [0, 0]"},
        {"w_bscales", 1, bad_scale, "block [0, 1] (K "},
    };
    for (const auto& [role, at, byte, where] : cases) {
      safetensors::File bad = payload;
      bad.tensors.at(l.tensors.at(role)).bytes.at(at) = byte;
      std::string what = "(no error)";
      try {
        (void)load_layer_data(l, bad, "p.safetensors");
      } catch (const Error& e) {
        what = e.what();
      }
      EXPECT_EQ(what.rfind("p.safetensors: layer 'lin': tensor 'lin/" + role + "' (role " + role + ")", 0), 0u) << what;
      EXPECT_NE(what.find(where), std::string::npos) << info.name << " " << role << ": " << what;
      EXPECT_NE(what.find("accepted"), std::string::npos) << what;
    }
    if (info.e4m3_scales) {
      safetensors::File bad = payload;
      const float nan = std::nanf("");
      std::memcpy(bad.tensors.at(l.tensors.at("w_tscale")).bytes.data(), &nan, sizeof nan);
      EXPECT_THROW((void)load_layer_data(l, bad, "p.safetensors"), Error) << info.name;
    }
  }
}

TEST(SyntheticModel, RejectsImpossibleShapes) {
  SyntheticModelSpec spec = small(Scheme::w8a8);
  spec.heads = 3;
  EXPECT_THROW(synthesize_model_trace(spec, cpu_engine()), Error);
}

}  // namespace
}  // namespace quasar::trace
