// Does the synthetic quantized model produce a valid data-bearing trace for every scheme, whose
// recorded outputs the reference reproduces bit for bit, with LLM-like outlier activations, and
// the same bytes for the same seed?
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "numerics/error.hpp"
#include "numerics/float_formats.hpp"
#include "trace/layer_data.hpp"
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

TEST(SyntheticModel, EverySchemeRecordsLayersTheReferenceReproduces) {
  for (const SchemeInfo& info : all_schemes()) {
    const SyntheticModelTrace t = synthesize_model_trace(small(info.id), cpu_engine());
    std::size_t data_layers = 0;
    for (const Layer& l : t.trace.layers) {
      if (l.tensors.empty()) continue;
      ++data_layers;
      const LayerData d = load_layer_data(l, t.payload, "mem");
      ASSERT_TRUE(d.expected_y.has_value());
      EXPECT_EQ(run_layer(cpu_engine(), l, d.operands).y, *d.expected_y)
          << info.name << " " << l.name;
      EXPECT_EQ(l.scheme->scheme, l.name == "lm_head" ? Scheme::fp16 : info.id);
    }
    EXPECT_EQ(data_layers, 8u) << "7 linears per decoder layer + lm_head";
  }
}

TEST(SyntheticModel, ActivationsHaveOutlierChannels) {
  const SyntheticModelTrace t = synthesize_model_trace(small(Scheme::fp16), cpu_engine());
  const Layer& q = t.trace.layers[1];  // after the input norm
  ASSERT_EQ(q.name, "layers.0.self_attn.q_proj");
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
  const Layer& q = t.trace.layers[1];
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
    const SyntheticModelTrace t = synthesize_model_trace(small(info.id), cpu_engine());
    const Layer& q = t.trace.layers[1];
    ASSERT_EQ(q.name, "layers.0.self_attn.q_proj");
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

TEST(SyntheticModel, RejectsImpossibleShapes) {
  SyntheticModelSpec spec = small(Scheme::w8a8);
  spec.heads = 3;
  EXPECT_THROW(synthesize_model_trace(spec, cpu_engine()), Error);
}

}  // namespace
}  // namespace quasar::trace
