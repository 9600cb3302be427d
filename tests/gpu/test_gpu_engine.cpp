// Does the CUDA path compute every scheme bit-exactly like the CPU reference, with the same
// counters, including overflow corners? Without a usable GPU these tests skip and say why;
// the CPU fallback and the device choice are tested everywhere.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "gpu/device.hpp"
#include "numerics/error.hpp"
#include "numerics/float_formats.hpp"
#include "numerics/quantize_activations.hpp"
#include "numerics/quantize_two_level.hpp"
#include "numerics/quantize_weights.hpp"
#include "numerics/synthetic.hpp"

namespace quasar {
namespace {

const GemmEngine* gpu_or_skip() {
  bool usable = false;
  const std::string status = gpu_status(usable);
  if (!usable) return nullptr;
  return choose_engine(DeviceChoice::gpu).engine;
}

#define REQUIRE_GPU(var)                                                   \
  const GemmEngine* var = gpu_or_skip();                                   \
  if (!var) {                                                              \
    bool usable_ = false;                                                  \
    GTEST_SKIP() << "GPU test skipped: " << gpu_status(usable_);              \
  }

void expect_same(const GemmResult& gpu, const GemmResult& cpu, const std::string& what) {
  ASSERT_EQ(gpu.y.rows(), cpu.y.rows()) << what;
  ASSERT_EQ(gpu.y.cols(), cpu.y.cols()) << what;
  std::size_t mismatches = 0, first = 0;
  for (std::size_t i = 0; i < cpu.y.size(); ++i) {
    if (gpu.y.values()[i] != cpu.y.values()[i] && mismatches++ == 0) first = i;
  }
  EXPECT_EQ(mismatches, 0u) << what << ": first at flat index " << first << " gpu "
                            << (mismatches ? f16_to_f32(gpu.y.values()[first]) : 0.0f) << " cpu "
                            << (mismatches ? f16_to_f32(cpu.y.values()[first]) : 0.0f);
  EXPECT_EQ(gpu.counters.actions, cpu.counters.actions) << what;
  EXPECT_EQ(gpu.counters.overflow, cpu.counters.overflow) << what;
  EXPECT_EQ(gpu.counters.invalid_codes, cpu.counters.invalid_codes) << what;
}

QuantizedActivations random_acts(std::size_t m, std::size_t k, Rng& rng, bool per_token = true) {
  QuantizedActivations x{MatrixI8(m, k), std::vector<float>(per_token ? m : 1)};
  for (auto& v : x.q.values()) v = static_cast<std::int8_t>(static_cast<int>(rng.next() % 256) - 128);
  for (auto& s : x.scale) s = static_cast<float>(0.001 + 0.05 * rng.uniform());
  return x;
}

QuantizedWeights random_weights(WeightFormat f, std::size_t n, std::size_t k, std::size_t g, Rng& rng,
                                bool asym = false) {
  QuantizedWeights w;
  w.format = f;
  w.group_size = g;
  w.codes = MatrixI8(n, k);
  const IntRange r = code_range(f);
  for (auto& v : w.codes.values()) {
    v = static_cast<std::int8_t>(r.lo + static_cast<std::int64_t>(rng.next() % static_cast<std::uint64_t>(r.hi - r.lo + 1)));
  }
  w.scales = MatrixF(n, k / g);
  for (auto& s : w.scales.values()) {
    s = round_to_scale_dtype(static_cast<float>(0.0005 + 0.02 * rng.uniform()), ScaleDtype::fp16);
  }
  if (asym) {
    w.zeros = MatrixI8(n, k / g);
    for (auto& z : w.zeros.values()) z = static_cast<std::int8_t>(rng.next() % 16);
  }
  return w;
}

TwoLevelWeights random_two_level(std::size_t n, std::size_t k, std::size_t g, int max_scale, Rng& rng) {
  TwoLevelWeights w;
  w.group_size = g;
  w.q = MatrixU8(n, k);
  w.zeros = MatrixU8(n, k / g);
  w.group_scale = MatrixI32(n, k / g);
  for (auto& v : w.q.values()) v = static_cast<std::uint8_t>(rng.next() % 16);
  for (auto& v : w.zeros.values()) v = static_cast<std::uint8_t>(rng.next() % 16);
  for (auto& v : w.group_scale.values()) v = 1 + static_cast<int>(rng.next() % static_cast<std::uint64_t>(max_scale));
  w.channel_scale.resize(n);
  for (auto& s : w.channel_scale) s = static_cast<float>(0.001 + 0.01 * rng.uniform());
  return w;
}

MatrixH random_f16(std::size_t r, std::size_t c, Rng& rng, double scale) {
  MatrixH m(r, c);
  for (auto& v : m.values()) v = f32_to_f16(static_cast<float>(rng.normal() * scale));
  return m;
}

struct Shape {
  std::size_t m, k, n, g;
};
// Ragged tiles (not multiples of 16 or 32), several groups, and LLaMA-2-7B projection shapes.
const Shape kShapes[] = {{1, 64, 1, 32}, {37, 96, 45, 32}, {16, 4096, 512, 128}, {8, 11008, 256, 128}};

TEST(GpuEngine, Fp16AndW4a16MatchReference) {
  REQUIRE_GPU(gpu);
  Rng rng(1);
  for (const Shape& s : kShapes) {
    const MatrixH x = random_f16(s.m, s.k, rng, 1.0), w = random_f16(s.n, s.k, rng, 0.02);
    for (std::size_t tile : {std::size_t{0}, std::size_t{64}, s.k / 3}) {
      GemmOptions o;
      o.k_tile = tile;
      expect_same(gpu->fp16(x, w, o), cpu_engine().fp16(x, w, o), "fp16 k_tile " + std::to_string(tile));
    }
    const QuantizedWeights wq = random_weights(WeightFormat::uint4, s.n, s.k, s.g, rng, true);
    expect_same(gpu->w4a16(x, wq, {}), cpu_engine().w4a16(x, wq, {}), "w4a16");
    const QuantizedWeights ws = random_weights(WeightFormat::int4, s.n, s.k, s.g, rng);
    expect_same(gpu->w4a16(x, ws, {}), cpu_engine().w4a16(x, ws, {}), "w4a16 symmetric");
  }
}

TEST(GpuEngine, W8a8AndDintMatchReference) {
  REQUIRE_GPU(gpu);
  Rng rng(2);
  for (const Shape& s : kShapes) {
    for (bool per_token : {true, false}) {
      const QuantizedActivations x = random_acts(s.m, s.k, rng, per_token);
      QuantizedWeights w8 = random_weights(WeightFormat::int8, s.n, s.k, s.k, rng);
      expect_same(gpu->w8a8(x, w8, {}), cpu_engine().w8a8(x, w8, {}), "w8a8");
      for (DintSet set : {DintSet::A, DintSet::B}) {
        QuantizedWeights wd = random_weights(WeightFormat::dint4, s.n, s.k, s.k, rng);
        wd.dint_set = set;  // random codes include set A's invalid 1000
        expect_same(gpu->w4a8_dint(x, wd, {}), cpu_engine().w4a8_dint(x, wd, {}), "w4a8-dint");
      }
    }
  }
}

TEST(GpuEngine, GroupScaleSchemesMatchReference) {
  REQUIRE_GPU(gpu);
  Rng rng(3);
  for (const Shape& s : kShapes) {
    const QuantizedActivations x = random_acts(s.m, s.k, rng);
    const QuantizedWeights w = random_weights(WeightFormat::int4, s.n, s.k, s.g, rng);
    expect_same(gpu->w4a8_fs(x, w, {}), cpu_engine().w4a8_fs(x, w, {}), "w4a8-fs");
    for (int bits : {6, 10, 16}) {
      const IntegerScales is = to_integer_scales(w, {IntScaleMode::fixed, bits});
      for (int acc : {32, 40, 64}) {
        GemmOptions o;
        o.acc_bits = acc;
        expect_same(gpu->w4a8_is(x, w, is, o), cpu_engine().w4a8_is(x, w, is, o),
                    "w4a8-is 2^" + std::to_string(bits) + " acc " + std::to_string(acc));
      }
    }
  }
}

TEST(GpuEngine, TwoLevelSchemesMatchReferenceBothDequantModes) {
  REQUIRE_GPU(gpu);
  Rng rng(4);
  for (const Shape& s : kShapes) {
    const QuantizedActivations x = random_acts(s.m, s.k, rng);
    for (int max_scale : {8, 127}) {  // 127: a bad trace, dequantized values out of range
      TwoLevelWeights w = random_two_level(s.n, s.k, s.g, max_scale, rng);
      for (DequantMode mode : {DequantMode::fused, DequantMode::materialized}) {
        expect_same(gpu->w4a8_dgq(x, w, mode, {}), cpu_engine().w4a8_dgq(x, w, mode, {}), "w4a8-dgq");
      }
      w.bias.assign(s.n, 0.25f);
      expect_same(gpu->w4a8_dgq(x, w, DequantMode::fused, {}),
                  cpu_engine().w4a8_dgq(x, w, DequantMode::fused, {}), "w4a8-dgq bias");
      w.bias.clear();
      expect_same(gpu->w4a8_qserve(x, w, {}), cpu_engine().w4a8_qserve(x, w, {}), "w4a8-qserve");
    }
  }
}

// Shapes the tensor-core kernel tiles: both block configurations (few rows: M <= 64; many), rows
// and columns ragged inside a block, a K that ends in the middle of an mma step (208 = 6.5 x 32,
// one group), several groups per block k step, M = 1. Every launch must take the tensor-core
// path (the simple kernel is checked by the shapes above), and one that cannot (K = 45) must not.
TEST(GpuEngine, TensorCorePathMatchesReferenceOnItsTilings) {
  REQUIRE_GPU(gpu);
  setenv("QUASAR_GPU_KERNELS", "tensor-cores", 1);  // whatever the default
  const Shape tc_shapes[] = {
      {1, 4096, 72, 128}, {16, 512, 4096, 128}, {300, 384, 136, 64}, {70, 208, 200, 208}, {129, 1024, 264, 128}};
  Rng rng(6);
  for (const Shape& s : tc_shapes) {
    const std::string at = " at " + std::to_string(s.m) + "x" + std::to_string(s.k) + "x" +
                           std::to_string(s.n) + "/" + std::to_string(s.g);
    const auto expect_tc = [&](const GemmResult& g, const GemmResult& c, const std::string& what) {
      EXPECT_EQ(last_gpu_int_kernel(), "tensor cores") << what << at;
      expect_same(g, c, what + at);
    };
    const QuantizedActivations x = random_acts(s.m, s.k, rng);
    const QuantizedWeights w8 = random_weights(WeightFormat::int8, s.n, s.k, s.k, rng);
    expect_tc(gpu->w8a8(x, w8, {}), cpu_engine().w8a8(x, w8, {}), "w8a8");
    QuantizedWeights wd = random_weights(WeightFormat::dint4, s.n, s.k, s.k, rng);
    wd.dint_set = DintSet::A;  // random codes include the invalid 1000: counted once each
    expect_tc(gpu->w4a8_dint(x, wd, {}), cpu_engine().w4a8_dint(x, wd, {}), "w4a8-dint");
    const QuantizedWeights w4 = random_weights(WeightFormat::int4, s.n, s.k, s.g, rng);
    expect_tc(gpu->w4a8_fs(x, w4, {}), cpu_engine().w4a8_fs(x, w4, {}), "w4a8-fs");
    const IntegerScales is = to_integer_scales(w4, {IntScaleMode::fixed, 10});
    for (int acc : {32, 64}) {
      GemmOptions o;
      o.acc_bits = acc;
      expect_tc(gpu->w4a8_is(x, w4, is, o), cpu_engine().w4a8_is(x, w4, is, o),
                "w4a8-is acc " + std::to_string(acc));
    }
    const TwoLevelWeights w2 = random_two_level(s.n, s.k, s.g, 8, rng);
    expect_tc(gpu->w4a8_dgq(x, w2, DequantMode::fused, {}),
              cpu_engine().w4a8_dgq(x, w2, DequantMode::fused, {}), "w4a8-dgq");
    expect_tc(gpu->w4a8_qserve(x, w2, {}), cpu_engine().w4a8_qserve(x, w2, {}), "w4a8-qserve");
  }
  const QuantizedActivations x = random_acts(5, 45, rng);
  const QuantizedWeights w8 = random_weights(WeightFormat::int8, 7, 45, 45, rng);
  expect_same(gpu->w8a8(x, w8, {}), cpu_engine().w8a8(x, w8, {}), "w8a8 K = 45");
  EXPECT_EQ(last_gpu_int_kernel(), "simple") << "K = 45 is not whole 16-byte rows";
  unsetenv("QUASAR_GPU_KERNELS");
}

// Overflow corners: accumulators narrow enough to wrap, saturated operands, huge scales that
// overflow the fp16 output. On both integer kernels: w4a8-is's accumulator wraps (psum 32) go
// through the tensor-core path's checked add.
TEST(GpuEngine, OverflowCornersMatchReference) {
  REQUIRE_GPU(gpu);
  for (const char* kernels : {"simple", "tensor-cores"}) {
  SCOPED_TRACE(kernels);
  setenv("QUASAR_GPU_KERNELS", kernels, 1);
  Rng rng(5);
  QuantizedActivations x = random_acts(19, 512, rng);
  for (auto& v : x.q.values()) v = static_cast<std::int8_t>(v < 0 ? -128 : 127);
  const QuantizedWeights w8 = random_weights(WeightFormat::int8, 23, 512, 512, rng);
  const QuantizedWeights w4 = random_weights(WeightFormat::int4, 23, 512, 64, rng);
  for (int bits : {12, 16, 20}) {
    GemmOptions o;
    o.acc_bits = bits;
    o.psum_bits = bits;
    expect_same(gpu->w8a8(x, w8, o), cpu_engine().w8a8(x, w8, o), "w8a8 acc " + std::to_string(bits));
    expect_same(gpu->w4a8_fs(x, w4, o), cpu_engine().w4a8_fs(x, w4, o), "fs psum " + std::to_string(bits));
    const IntegerScales is = to_integer_scales(w4, {IntScaleMode::fixed, 20});
    o.psum_bits = 32;
    expect_same(gpu->w4a8_is(x, w4, is, o), cpu_engine().w4a8_is(x, w4, is, o), "is acc " + std::to_string(bits));
  }
  QuantizedActivations big = x;
  for (auto& s : big.scale) s = 60000.0f;  // outputs overflow fp16 (and some fp32 products)
  expect_same(gpu->w8a8(big, w8, {}), cpu_engine().w8a8(big, w8, {}), "w8a8 fp16 overflow");
  const GemmResult r = cpu_engine().w8a8(big, w8, {});
  EXPECT_GT(r.counters.overflow.at(stage::kOutputFp16Inf), 0u) << "the corner must be exercised";
  }
  unsetenv("QUASAR_GPU_KERNELS");
}

TEST(GpuEngine, RejectsBadInputLikeTheReference) {
  REQUIRE_GPU(gpu);
  Rng rng(6);
  const QuantizedActivations x = random_acts(4, 64, rng);
  QuantizedWeights w = random_weights(WeightFormat::int4, 4, 64, 32, rng);
  w.codes(1, 1) = 9;
  EXPECT_THROW(gpu->w4a8_fs(x, w, {}), Error);
}

TEST(DeviceChoice, CpuIsAlwaysAvailable) {
  const EngineChoice c = choose_engine(DeviceChoice::cpu);
  EXPECT_EQ(c.engine->name(), "cpu");
}

// The CPU runs models/cpu's fast engine unless QUASAR_CPU_ENGINE=reference asks for the
// reference itself; the note says which.
TEST(DeviceChoice, CpuIsTheFastEngineUnlessTheReferenceIsAskedFor) {
  ::unsetenv("QUASAR_CPU_ENGINE");
  const EngineChoice fast = choose_engine(DeviceChoice::cpu);
  EXPECT_NE(fast.engine, &cpu_engine());
  EXPECT_THAT(fast.note, ::testing::StartsWith("device: cpu, fast CPU kernels ("));
  ::setenv("QUASAR_CPU_ENGINE", "reference", 1);
  const EngineChoice ref = choose_engine(DeviceChoice::cpu);
  EXPECT_EQ(ref.engine, &cpu_engine());
  EXPECT_EQ(ref.note, "device: cpu, reference (QUASAR_CPU_ENGINE=reference)");
  ::unsetenv("QUASAR_CPU_ENGINE");
}

TEST(DeviceChoice, AutomaticFallsBackToCpuWithAReasonOrPicksTheGpu) {
  bool usable = false;
  const std::string status = gpu_status(usable);
  const EngineChoice c = choose_engine(DeviceChoice::automatic);
  if (usable) {
    EXPECT_EQ(c.engine->name(), "gpu");
  } else {
    EXPECT_EQ(c.engine->name(), "cpu");
    EXPECT_THAT(c.note, ::testing::HasSubstr("fallback: " + status));
    EXPECT_THAT([] { choose_engine(DeviceChoice::gpu); },
                ::testing::ThrowsMessage<Error>(::testing::HasSubstr("--device gpu: ")));
  }
}

// The fallback computes the reference itself: a scheme run through the chosen engine equals
// the reference on any machine.
TEST(DeviceChoice, AutomaticEngineMatchesReference) {
  Rng rng(7);
  const QuantizedActivations x = random_acts(5, 128, rng);
  const QuantizedWeights w = random_weights(WeightFormat::int4, 6, 128, 32, rng);
  const GemmEngine* e = choose_engine(DeviceChoice::automatic).engine;
  expect_same(e->w4a8_fs(x, w, {}), gemm_w4a8_fs(x, w, {}), "automatic engine");
}

}  // namespace
}  // namespace quasar
