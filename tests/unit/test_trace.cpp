// Are traces right? Model configs give the published parameter counts; generated prefill and
// decode traces hold the GEMMs and MAC totals the model's shapes imply; manifests round-trip
// and every malformed one is rejected naming file, line and key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "numerics/error.hpp"
#include "trace/generate.hpp"
#include "trace/model_config.hpp"
#include "trace/trace.hpp"

namespace quasar::trace {
namespace {

using ::testing::HasSubstr;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

const Layer& find(const Trace& t, const std::string& name) {
  for (const Layer& l : t.layers) {
    if (l.name == name) return l;
  }
  throw std::runtime_error("no layer " + name);
}

// Published sizes (billions, two decimals) from ../shared/docs/models-and-checkpoints.md.
TEST(ModelConfig, ParameterCountsMatchPublishedSizes) {
  const std::map<std::string, double> published{
      {"llama-2-7b", 6.74},   {"llama-2-13b", 13.02},  {"llama-2-70b", 68.98}, {"llama-3-8b", 8.03},
      {"llama-3-70b", 70.55}, {"mixtral-8x7b", 46.70}, {"opt-6.7b", 6.66},     {"opt-13b", 12.85},
      {"opt-30b", 29.97},     {"opt-66b", 65.72},      {"qwen2.5-7b", 7.62}};
  ASSERT_EQ(embedded_model_names().size(), published.size());
  for (const auto& [name, billions] : published) {
    const double count = static_cast<double>(parameter_count(embedded_model(name))) / 1e9;
    EXPECT_NEAR(count, billions, 0.0051) << name << " has " << count << " B";
  }
}

TEST(ModelConfig, ReadsFieldsAndRejectsBadConfigs) {
  const ModelConfig m = embedded_model("llama-2-70b");
  EXPECT_EQ(m.kv_heads, 8u);
  EXPECT_EQ(m.head_dim, 128u);
  EXPECT_THAT(error_of([] { embedded_model("gpt-5"); }),
              HasSubstr("unknown model 'gpt-5' (known: "));
  EXPECT_THAT(error_of([] { parse_model_config(R"({"model_type": "bert"})", "x", "c.json"); }),
              HasSubstr("c.json: model_type 'bert' is not supported"));
  EXPECT_THAT(error_of([] {
                parse_model_config(R"({"model_type": "llama", "hidden_size": 64})", "x", "c.json");
              }),
              HasSubstr("config field 'intermediate_size' is missing"));
  EXPECT_THAT(error_of([] { parse_model_config("{", "x", "c.json"); }),
              HasSubstr("c.json: not valid JSON"));
}

GenSpec spec_for(const std::string& model, Phase phase) {
  GenSpec s;
  s.model = embedded_model(model);
  s.phase = phase;
  return s;
}

// LLaMA-2-7B prefill, S = 2048: every GEMM and the MAC total, from the published shapes.
TEST(Generate, Llama2PrefillGemmsAndMacs) {
  GenSpec s = spec_for("llama-2-7b", Phase::prefill);
  s.seq = 2048;
  s.linear_scheme.scheme = Scheme::w4a8_is;
  const Trace t = generate(s);
  const std::uint64_t T = 2048, H = 4096, I = 11008, V = 32000, L = 32;
  struct G {
    const char* name;
    std::uint64_t batch, m, k, n;
  };
  for (const G& g :
       {G{"layer.q_proj", 1, T, H, H}, G{"layer.k_proj", 1, T, H, H}, G{"layer.v_proj", 1, T, H, H},
        G{"layer.o_proj", 1, T, H, H}, G{"layer.gate_proj", 1, T, H, I},
        G{"layer.up_proj", 1, T, H, I}, G{"layer.down_proj", 1, T, I, H},
        G{"layer.attn_qk", 32, T, 128, T}, G{"layer.attn_pv", 32, T, T, 128}}) {
    const Layer& l = find(t, g.name);
    EXPECT_EQ(l.batch, g.batch) << g.name;
    EXPECT_EQ(l.m, g.m) << g.name;
    EXPECT_EQ(l.k, g.k) << g.name;
    EXPECT_EQ(l.n, g.n) << g.name;
    EXPECT_EQ(l.repeat, L) << g.name;
  }
  EXPECT_EQ(find(t, "lm_head").m, T);
  EXPECT_EQ(find(t, "lm_head").n, V);
  const std::uint64_t linear = T * (4 * H * H + 3 * H * I) * L;
  const std::uint64_t attention = 2 * 32 * T * T * 128 * L;
  EXPECT_EQ(t.total_macs(), linear + attention + T * H * V);
  EXPECT_NEAR(2.0 * static_cast<double>(t.total_macs()) / 1e12, 29.26, 0.01);  // TFLOP
  std::size_t quantize = 0;
  for (const Layer& l : t.layers) quantize += l.op == Op::quantize_act;
  EXPECT_EQ(quantize, 4u) << "attn in, attn out, mlp in, mlp mid: one quantization each";
}

// Decode with GQA folding: LLaMA-2-70B, batch 16, KV length 4096.
TEST(Generate, DecodeFoldsGqaIntoM) {
  GenSpec s = spec_for("llama-2-70b", Phase::decode);
  s.batch = 16;
  s.context = 4096;
  const Trace t = generate(s);
  const Layer& qk = find(t, "layer.attn_qk");
  EXPECT_EQ(qk.batch, 16u * 8u);
  EXPECT_EQ(qk.m, 8u);  // 64 query heads / 8 KV heads
  EXPECT_EQ(qk.k, 128u);
  EXPECT_EQ(qk.n, 4096u);
  const Layer& pv = find(t, "layer.attn_pv");
  EXPECT_EQ(pv.k, 4096u);
  EXPECT_EQ(pv.n, 128u);
  EXPECT_EQ(find(t, "layer.k_proj").n, 1024u);
  EXPECT_EQ(find(t, "layer.q_proj").m, 16u);
  EXPECT_EQ(find(t, "lm_head").m, 16u);
  const std::uint64_t H = 8192, I = 28672, kv = 1024, L = 80;
  const std::uint64_t linear = 16 * (2 * H * H + 2 * H * kv + 3 * H * I) * L;
  const std::uint64_t attention = 2 * 16 * 64 * 4096 * 128 * L;
  EXPECT_EQ(t.total_macs(), linear + attention + 16 * H * 32000);
}

// Mistral's sliding window caps what decode attends to; Qwen2 applies its window only when
// use_sliding_window is true; a null head_dim means hidden / heads.
TEST(Generate, SlidingWindowCapsDecodeAttention) {
  const std::string base =
      R"("hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 2,
         "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 32000,
         "head_dim": null, "sliding_window": 4096)";
  GenSpec s;
  s.model = parse_model_config(R"({"model_type": "mistral", )" + base + "}", "m", "m.json");
  EXPECT_EQ(s.model.head_dim, 128u);
  EXPECT_EQ(s.model.sliding_window, 4096u);
  s.phase = Phase::decode;
  s.context = 10000;
  Trace t = generate(s);
  EXPECT_EQ(find(t, "layer.attn_qk").n, 4096u);
  EXPECT_EQ(find(t, "layer.attn_pv").k, 4096u);
  EXPECT_THAT(t.meta.at("sliding_window"), HasSubstr("4096"));
  s.context = 100;
  EXPECT_EQ(find(generate(s), "layer.attn_qk").n, 100u);
  s.context = 10000;
  s.model = parse_model_config(
      R"({"model_type": "qwen2", "use_sliding_window": false, )" + base + "}", "q", "q.json");
  EXPECT_EQ(find(generate(s), "layer.attn_qk").n, 10000u);
}

TEST(Generate, MixtralRoutesTokensToExperts) {
  GenSpec s = spec_for("mixtral-8x7b", Phase::prefill);
  s.seq = 100;
  Trace t = generate(s);
  std::uint64_t rows = 0;
  for (const Layer& l : t.layers) {
    if (l.name.find(".gate_proj") != std::string::npos) rows += l.m;
  }
  EXPECT_EQ(rows, 200u) << "top-2 of 100 tokens";
  EXPECT_EQ(find(t, "layer.expert0.gate_proj").m, 25u);
  EXPECT_EQ(find(t, "layer.router").n, 8u);
  s.expert_tokens = {100, 0, 100, 0, 0, 0, 0, 0};
  t = generate(s);
  EXPECT_EQ(find(t, "layer.expert0.down_proj").m, 100u);
  EXPECT_THROW(find(t, "layer.expert1.down_proj"), std::runtime_error)
      << "idle experts emit no GEMM";
  s.expert_tokens = {200, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_THAT(error_of([&] { generate(s); }),
              HasSubstr("gives expert 0 200 tokens; there are only 100"));
  s.expert_tokens = {1, 2, 3};
  EXPECT_THAT(error_of([&] { generate(s); }), HasSubstr("the model has 8 experts"));
  s.expert_tokens = {1, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_THAT(error_of([&] { generate(s); }), HasSubstr("sums to 8; top_k x tokens = 200"));
}

TEST(Generate, OptUsesFcLayersReluAndLayerNorm) {
  GenSpec moe = spec_for("opt-6.7b", Phase::prefill);
  moe.expert_tokens = {1, 1};
  EXPECT_THAT(error_of([&] { generate(moe); }), HasSubstr("opt-6.7b has no experts"));
  const Trace t = generate(spec_for("opt-6.7b", Phase::prefill));
  EXPECT_EQ(find(t, "layer.fc1").n, 16384u);
  EXPECT_EQ(find(t, "layer.act").function, "relu");
  EXPECT_EQ(find(t, "layer.input_norm").op, Op::layernorm);
  EXPECT_THROW(find(t, "layer.rope"), std::runtime_error);
}

TEST(Generate, PerClassSchemesAndDefaults) {
  GenSpec s = spec_for("llama-3-8b", Phase::prefill);
  s.linear_scheme.scheme = Scheme::w4a8_is;
  LayerScheme w8;
  w8.scheme = Scheme::w8a8;
  s.overrides["down_proj"] = w8;
  const Trace t = generate(s);
  EXPECT_EQ(find(t, "layer.down_proj").scheme->scheme, Scheme::w8a8);
  EXPECT_EQ(find(t, "layer.up_proj").scheme->scheme, Scheme::w4a8_is);
  EXPECT_EQ(find(t, "lm_head").scheme->scheme, Scheme::fp16);
  EXPECT_EQ(find(t, "layer.attn_qk").scheme->scheme, Scheme::fp16);
  s.overrides["fc1"] = w8;
  EXPECT_THAT(error_of([&] { generate(s); }), HasSubstr("no layer class 'fc1' in llama-3-8b"));
}

TEST(Manifest, RoundTripsAndIsDeterministic) {
  GenSpec s = spec_for("qwen2.5-7b", Phase::decode);
  s.linear_scheme.scheme = Scheme::w4a8_dgq;
  s.linear_scheme.dequant = DequantMode::materialized;
  const Trace t = generate(s);
  const std::string yaml = to_yaml(t);
  const Trace back = parse_manifest(yaml, "mem.yaml");
  ASSERT_EQ(back.layers.size(), t.layers.size());
  for (std::size_t i = 0; i < t.layers.size(); ++i) {
    const Layer &a = t.layers[i], &b = back.layers[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.op, b.op);
    EXPECT_EQ(std::tie(a.batch, a.m, a.k, a.n, a.repeat, a.top_k, a.function),
              std::tie(b.batch, b.m, b.k, b.n, b.repeat, b.top_k, b.function));
    EXPECT_EQ(a.scheme.has_value(), b.scheme.has_value());
    if (a.scheme) {
      EXPECT_TRUE(*a.scheme == *b.scheme) << a.name;
    }
    EXPECT_GT(b.line, 0);
    EXPECT_EQ(a.inputs, b.inputs) << a.name;
  }
  EXPECT_EQ(back.meta, t.meta);
  EXPECT_EQ(to_yaml(back), yaml);
}

std::string manifest(const std::string& layers) {
  return "quasar_trace: 1\nname: t\nlayers:\n" + layers;
}
const std::string kLinear = "  - name: a\n    op: linear\n    m: 4\n    k: 256\n    n: 8\n";

// Block-scaled layers (issue 17): the block is the group (no group_size key), acc_bits defaults
// to the fixed accumulator's 48, block_acc/frac_bits round-trip, and NVFP4 takes none of them.
TEST(Manifest, BlockScaledKeys) {
  const Trace t = parse_manifest(
      manifest(kLinear + "    scheme: w4a8-mx\n    block_acc: fixed\n    frac_bits: 16\n"),
      "t.yaml");
  const LayerScheme& s = *t.layers.at(0).scheme;
  EXPECT_EQ(s.group_size, 32u);
  EXPECT_EQ(s.acc_bits, kBlockAccBits);
  EXPECT_EQ(s.block_acc, BlockAcc::fixed);
  EXPECT_EQ(s.frac_bits, 16);
  const std::string yaml = to_yaml(t);
  EXPECT_NE(yaml.find("block_acc: fixed"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("frac_bits: 16"), std::string::npos) << yaml;
  EXPECT_TRUE(*parse_manifest(yaml, "back.yaml").layers.at(0).scheme == s);
  EXPECT_EQ(parse_manifest(manifest(kLinear + "    scheme: w4a4-nvfp4\n"), "t.yaml")
                .layers.at(0).scheme->group_size, 16u);
  EXPECT_THAT(error_of([&] {
                parse_manifest(manifest(kLinear + "    scheme: w4a4-nvfp4\n    block_acc: fixed\n"),
                               "t.yaml");
              }),
              HasSubstr("does not apply to scheme w4a4-nvfp4"));
  EXPECT_THAT(error_of([&] {
                parse_manifest(manifest(kLinear + "    scheme: w4a8-mx\n    group_size: 64\n"),
                               "t.yaml");
              }),
              HasSubstr("does not apply to scheme w4a8-mx"));
  const std::string k48 = "  - name: a\n    op: linear\n    m: 4\n    k: 48\n    n: 8\n";
  EXPECT_THAT(error_of([&] { parse_manifest(manifest(k48 + "    scheme: w4a4-mxfp4\n"), "t.yaml"); }),
              HasSubstr("k = 48 is not a multiple of scheme w4a4-mxfp4's block of 32"));
}

// quantize_act's act_format (issue 17): what it quantizes to, round-tripped; a quantizing
// linear must read its own format; the key is refused on other records. The generator gives a
// block-scaled linear's quantize_act its format, and a second format of one input its own record.
TEST(Manifest, QuantizeActFormats) {
  const std::string q = "  - name: q\n    op: quantize_act\n    m: 4\n    n: 256\n";
  const std::string mx = kLinear + "    scheme: w4a8-mx\n";
  const Trace t = parse_manifest(manifest(q + "    act_format: mxfp8\n" + mx), "t.yaml");
  EXPECT_EQ(t.layers.at(0).act_format, ActFormat::mxfp8);
  EXPECT_NE(to_yaml(t).find("act_format: mxfp8"), std::string::npos);
  EXPECT_THAT(error_of([&] { parse_manifest(manifest(q + mx), "t.yaml"); }),
              HasSubstr("t.yaml:8: layer 'a': scheme w4a8-mx reads activations as mxfp8, but its "
                        "input 'q' quantizes to int8 (set act_format: mxfp8 on 'q')"));
  EXPECT_THAT(error_of([&] {
                parse_manifest(manifest(q + "    act_format: nvfp4\n" + kLinear +
                                        "    scheme: w8a8\n"),
                               "t.yaml");
              }),
              HasSubstr("scheme w8a8 reads activations as int8, but its input 'q' quantizes to "
                        "nvfp4"));
  EXPECT_THAT(error_of([&] { parse_manifest(manifest(mx + "    act_format: mxfp8\n"), "t.yaml"); }),
              HasSubstr("act_format"));
  // An fp16 linear after a quantize_act (a chain) is not checked: it reads no quantized input.
  EXPECT_NO_THROW(parse_manifest(manifest(q + kLinear + "    scheme: fp16\n"), "t.yaml"));

  GenSpec spec = spec_for("llama-2-7b", Phase::decode);
  spec.linear_scheme = for_scheme(Scheme::w4a4_nvfp4);
  LayerScheme w8;
  w8.scheme = Scheme::w8a8;
  spec.overrides["k_proj"] = w8;
  const Trace gen = generate(spec);
  EXPECT_EQ(find(gen, "layer.attn_in.quantize_act").act_format, ActFormat::nvfp4);
  EXPECT_EQ(find(gen, "layer.mlp_in.quantize_act").act_format, ActFormat::nvfp4);
  EXPECT_FALSE(find(gen, "layer.attn_in.quantize_act.int8").act_format.has_value());
  EXPECT_EQ(*find(gen, "layer.k_proj").inputs,
            std::vector<std::string>{"layer.attn_in.quantize_act.int8"});
  EXPECT_NO_THROW(parse_manifest(to_yaml(gen), "gen.yaml"));
}

// `inputs`: what a record consumes. Absent means the record before it; the generator names
// them so q, k, v (and gate, up; MoE experts) do not depend on each other.
TEST(Manifest, InputsFormAGraphOfEarlierRecords) {
  const std::string a =
      "  - name: a\n    op: linear\n    m: 4\n    k: 256\n    n: 8\n    scheme: w8a8\n";
  const std::string b =
      "  - name: b\n    op: linear\n    m: 4\n    k: 256\n    n: 8\n    scheme: w8a8\n";
  const std::string c = "  - name: c\n    op: rmsnorm\n    m: 4\n    n: 8\n";
  const Trace chain = parse_manifest(manifest(a + b + c), "t.yaml");
  EXPECT_EQ(producers(chain, 0), std::vector<std::size_t>{});
  EXPECT_EQ(producers(chain, 2), std::vector<std::size_t>{1});
  const Trace fork = parse_manifest(
      manifest(a + b + "    inputs: []\n" + c + "    inputs: [b, a]\n"), "t.yaml");
  EXPECT_EQ(producers(fork, 1), std::vector<std::size_t>{});
  EXPECT_EQ(producers(fork, 2), (std::vector<std::size_t>{1, 0}));
  EXPECT_THAT(error_of([&] { parse_manifest(manifest(a + b + "    inputs: [x]\n"), "t.yaml"); }),
              HasSubstr("t.yaml:10: layer 'b': inputs: no record is named 'x' (a missing producer)"));
  EXPECT_THAT(error_of([&] { parse_manifest(manifest(a + "    inputs: [b]\n" + b), "t.yaml"); }),
              HasSubstr("layer 'a': inputs: 'b' comes later in the trace; records are listed in "
                        "an order they can run in, so a later producer is a dependency cycle"));
  EXPECT_THAT(error_of([&] { parse_manifest(manifest(a + "    inputs: [a]\n"), "t.yaml"); }),
              HasSubstr("inputs: 'a' is the record itself (a dependency cycle)"));
  EXPECT_THAT(error_of([&] { parse_manifest(manifest(a + b + "    inputs: [a, a]\n"), "t.yaml"); }),
              HasSubstr("inputs: 'a' is listed twice"));
  EXPECT_THAT(error_of([&] { parse_manifest(manifest(a + "    inputs: a\n"), "t.yaml"); }),
              HasSubstr("inputs: expected a list of the names of earlier records"));

  GenSpec spec = spec_for("llama-2-7b", Phase::decode);
  spec.linear_scheme.scheme = Scheme::w4a8_is;
  const Trace gen = generate(spec);
  auto index = [&](const std::string& name) {
    for (std::size_t i = 0; i < gen.layers.size(); ++i)
      if (gen.layers[i].name == name) return i;
    return gen.layers.size();
  };
  const std::size_t q = index("layer.q_proj"), k = index("layer.k_proj");
  const std::size_t v = index("layer.v_proj"), qa = index("layer.attn_in.quantize_act");
  for (std::size_t i : {q, k, v}) EXPECT_EQ(producers(gen, i), std::vector<std::size_t>{qa});
  EXPECT_EQ(producers(gen, index("layer.up_proj")),
            std::vector<std::size_t>{index("layer.mlp_in.quantize_act")});
  for (const Layer& l : gen.layers) EXPECT_TRUE(l.inputs.has_value()) << l.name;
}

// Found by fuzz_manifest: a meta value holding bytes that are not UTF-8 parsed, but could not
// be written back as the same YAML. YAML is Unicode text: such input is now rejected, naming
// the line; real UTF-8 round-trips.
TEST(Manifest, RejectsTextThatIsNotUtf8AndKeepsUtf8) {
  const std::string head = "quasar_trace: 1\nname: t\nmeta:\n";
  const std::string bad = head +
                          "  generator: \"quasar g\xe5\x8f\xfe"
                          "emm\"\nlayers:\n" +
                          kLinear + "    scheme: w8a8\n";
  EXPECT_THAT(error_of([&] { parse_manifest(bad, "t.yaml"); }),
              HasSubstr("t.yaml:4: not UTF-8 text (byte 52); YAML files must be UTF-8"));
  const std::string overlong =
      head + "  note: \"\xc0\xaf\"\nlayers:\n" + kLinear + "    scheme: w8a8\n";
  EXPECT_THAT(error_of([&] { parse_manifest(overlong, "t.yaml"); }), HasSubstr("not UTF-8 text"));
  std::string nul = head + "  note: x\nlayers:\n" + kLinear + "    scheme: w8a8\n";
  nul[nul.find("x\n")] = '\0';
  EXPECT_THAT(error_of([&] { parse_manifest(nul, "t.yaml"); }),
              HasSubstr("t.yaml:4: character U+0000 (byte 38) is not allowed in YAML"));
  const std::string good = head +
                           "  note: \"\xc2\xb5s, \xe2\x86\x92, \xf0\x9f\x94\xa5\"\nlayers:\n" +
                           kLinear + "    scheme: w8a8\n";
  const Trace t = parse_manifest(good, "t.yaml");
  EXPECT_EQ(t.meta.at("note"), "\xc2\xb5s, \xe2\x86\x92, \xf0\x9f\x94\xa5");
  EXPECT_EQ(to_yaml(parse_manifest(to_yaml(t), "again.yaml")), to_yaml(t));
  // Found by fuzz_manifest too: a name holding a line break, tab or other control character
  // (written escaped) reads back as itself.
  Trace c = t;
  c.meta["odd"] = "two\nlines\tand \"quotes\" \\ \r\x01";
  c.layers[0].name = "a\nb";
  const Trace back = parse_manifest(to_yaml(c), "again.yaml");
  EXPECT_EQ(back.meta.at("odd"), c.meta.at("odd"));
  EXPECT_EQ(back.layers[0].name, "a\nb");
  EXPECT_EQ(to_yaml(back), to_yaml(c));
}

TEST(Manifest, RejectsMalformedInputNamingFileLineAndKey) {
  auto err = [](const std::string& text) {
    return error_of([&] { parse_manifest(text, "t.yaml"); });
  };
  EXPECT_THAT(
      err(manifest(kLinear + "    scheme: w8a8\n    colour: red\n")),
      HasSubstr("t.yaml:10: layers[0].colour: unknown key 'colour' (accepted: name, op, m, n"));
  EXPECT_THAT(err("quasar_trace: 2\nname: t\nlayers: []\n"),
              HasSubstr("t.yaml:1: quasar_trace: trace format version 2 is not supported"));
  EXPECT_THAT(err(manifest(kLinear)), HasSubstr("layers[0]: missing required key 'scheme'"));
  EXPECT_THAT(err(manifest(kLinear + "    scheme: w8a8\n    alpha_bits: 10\n")),
              HasSubstr("layers[0].alpha_bits: does not apply to scheme w8a8"));
  EXPECT_THAT(err(manifest(kLinear + "    scheme: w4a8-is\n    group_size: 100\n")),
              HasSubstr("layer 'a': group_size 100 does not divide k = 256"));
  EXPECT_THAT(err(manifest(kLinear + "    scheme: w8a8\n" + kLinear + "    scheme: w8a8\n")),
              HasSubstr("layer 'a': name is used by an earlier layer"));
  EXPECT_THAT(err(manifest(kLinear + "    scheme: w8a8\n    tensors: {x_q: a/x_q, colour: c}\n")),
              HasSubstr("tensor role 'colour' is not one of scheme w8a8's roles"));
  EXPECT_THAT(err(manifest(kLinear + "    scheme: w8a8\n    tensors: {x_q: a/x_q}\n")),
              HasSubstr("data-bearing layer lacks tensor role 'x_scale'"));
  EXPECT_THAT(err(manifest(kLinear + "    scheme: w9a9\n")),
              HasSubstr("'w9a9' is not accepted; accepted: fp16, w8a8"));
  EXPECT_THAT(err(manifest("  - name: a\n    op: linear\n    m: 1099511627776\n    k: 4096\n"
                           "    n: 4096\n    scheme: w8a8\n")),
              HasSubstr("layer 'a': batch x m x k x n x repeat is above 2^62"));
  EXPECT_THAT(err(manifest("  - name: a\n    op: linear\n    m: -4\n")),
              HasSubstr("layers[0].m: '-4' is not a non-negative integer"));
  EXPECT_THAT(err(manifest("  - name: n\n    op: rmsnorm\n    m: 4\n    n: 8\n    scheme: w8a8\n")),
              HasSubstr("unknown key 'scheme'"));
  EXPECT_THAT(err("quasar_trace: 1\nname: [unclosed\n"), HasSubstr("t.yaml:"));
  // yaml-cpp decodes \_ (U+00A0) to the lone byte 0xA0, which cannot be written back as YAML
  // (fuzz_manifest: a tensor name that failed to read back after to_yaml).
  EXPECT_THAT(err("quasar_trace: 1\nname: \"a\\_b\"\nlayers: []\n"),
              HasSubstr("t.yaml:2: name: the string holds an escape that does not decode to UTF-8"));
  EXPECT_THAT(err("quasar_trace: 1\nname: t\nmeta: {\"k\\Nx\": v}\nlayers: []\n"),
              HasSubstr("a key holds an escape that does not decode to UTF-8"));
  EXPECT_THAT(err("quasar_trace: 1\nname: t\nlayers: []\npayload: p.safetensors\n"),
              HasSubstr("payload 'p.safetensors' is named but no layer references a tensor"));
  EXPECT_THAT(error_of([] { read_manifest("/nonexistent/t.yaml"); }), HasSubstr("t.yaml: trace manifest does not exist"));
  // Found by fuzz_manifest: a complex (non-scalar) mapping key used to escape as a yaml-cpp
  // exception and abort the process.
  EXPECT_THAT(err("quasar_trace: 1\nname: t\n? {a: 1}\n: 2\nlayers: []\n"),
              HasSubstr("t.yaml:3: mapping keys must be plain strings"));
  EXPECT_THAT(err(manifest(kLinear + "    scheme: w8a8\n    ? [x]\n    : 1\n")),
              HasSubstr("mapping keys must be plain strings"));
}

// Non-GEMM records may carry exactly their op's tensor roles (docs/trace-format.md); the
// attention keys sit on the records they describe; both read back as written.
TEST(Manifest, NonGemmRecordsCarryExactlyTheirRoles) {
  auto err = [](const std::string& layers) {
    return error_of([&] { parse_manifest(manifest(layers), "t.yaml"); });
  };
  const std::string norm = "  - name: n\n    op: rmsnorm\n    m: 4\n    n: 8\n";
  const std::string pv =
      "  - name: pv\n    op: bmm\n    batch: 2\n    m: 4\n    k: 4\n    n: 8\n"
      "    attention: pv\n    scheme: fp16\n";
  const Trace t = parse_manifest(
      manifest(norm + "    tensors: {x: n/x, g: n/g, eps: n/eps, y: n/y}\n" + pv +
               "    kv_format: int8\n    attention_mode: int8\n    attention_tile: 0\n"
               "    tensors: {q: q, positions: p, k: k, v: v, y: o, scores: s}\n"
               "  - name: kv\n    op: kv_append\n    batch: 2\n    m: 4\n    n: 8\n"
               "    kv_format: int4\n    tensors: {x: k, codes: c, scales: s16, zeros: z}\n"),
      "t.yaml");
  EXPECT_TRUE(t.layers[0].op_data());
  EXPECT_EQ(t.layers[1].kv_format, KvFormat::int8);
  EXPECT_EQ(t.layers[1].attention_options().mode, AttentionMode::int8);
  EXPECT_EQ(t.layers[2].kv_format, KvFormat::int4);
  EXPECT_EQ(to_yaml(parse_manifest(to_yaml(t), "again.yaml")), to_yaml(t));
  EXPECT_THAT(to_yaml(t), HasSubstr("    kv_format: int8\n    attention_mode: int8\n"
                                    "    attention_tile: 0\n"));

  EXPECT_THAT(err(norm + "    tensors: {x: n/x, g: n/g, eps: n/eps, y: n/y, w: n/w}\n"),
              HasSubstr("t.yaml:4: layer 'n': tensor role 'w' is not one of the rmsnorm record's "
                        "roles (x, g, eps, y)"));
  EXPECT_THAT(
      err(norm + "    tensors: {x: n/x, g: n/g, y: n/y}\n"),
      HasSubstr("t.yaml:4: layer 'n': data-bearing rmsnorm record lacks tensor role 'eps'"));
  EXPECT_THAT(err("  - name: s\n    op: softmax\n    m: 4\n    n: 4\n    tensors: {x: s/x}\n"),
              HasSubstr("layer 's': softmax records carry no tensors in format 1"));
  EXPECT_THAT(err("  - name: a\n    op: activation\n    function: gelu\n    m: 4\n    n: 4\n"
                  "    tensors: {g: a/g}\n"),
              HasSubstr("activation gelu carries no tensors: the reference has silu_mul only"));
  EXPECT_THAT(
      err("  - name: qk\n    op: bmm\n    m: 4\n    k: 8\n    n: 4\n    attention: qk\n"
          "    scheme: fp16\n    tensors: {q: q}\n"),
      HasSubstr("an attention qk record carries no tensors: attention is recorded as a unit on "
                "its pv record"));
  // The KV format decides the cache write's outputs; the tiled softmax has no probabilities.
  EXPECT_THAT(err("  - name: kv\n    op: kv_append\n    m: 4\n    n: 8\n    kv_format: int8\n"
                  "    tensors: {x: k, y: y}\n"),
              HasSubstr("tensor role 'y' is not one of the kv_append record's roles (x, codes, "
                        "scales)"));
  EXPECT_THAT(err(pv + "    attention_tile: 16\n"
                       "    tensors: {q: q, positions: p, k: k, v: v, y: o, probs: p}\n"),
              HasSubstr("tensor role 'probs' is not one of the attention pv record's roles (q, "
                        "positions, k, v, y, scores (optional))"));
  EXPECT_THAT(err(pv + "    attention_mode: int8\n"),
              HasSubstr("layer 'pv': attention_mode int8 needs kv_format int8 (got fp16)"));
  EXPECT_THAT(err(pv + "    kv_format: int8\n    attention_mode: int8\n    attention_tile: 4\n"),
              HasSubstr("attention_mode int8 is defined for the unfused softmax only"));
  EXPECT_THAT(err("  - name: qk\n    op: bmm\n    m: 4\n    k: 8\n    n: 4\n    attention: qk\n"
                  "    scheme: fp16\n    attention_tile: 4\n"),
              HasSubstr("attention_mode and attention_tile: on attention: pv records only"));
  EXPECT_THAT(err(norm + "    kv_format: int8\n"), HasSubstr("unknown key 'kv_format'"));
  EXPECT_THAT(err(pv + "    kv_format: int2\n"),
              HasSubstr("'int2' is not accepted; accepted: fp16"));
}

}  // namespace
}  // namespace quasar::trace
