// Do the CUDA kernels of the non-GEMM operations (KV writes, attention, RMSNorm, RoPE,
// SiLU/SwiGLU, residual add, per-token quantization, exp_q) compute every output bit like the
// CPU reference, with the same counters, on random and corner inputs? Without a usable GPU these
// tests skip and say why; the CPU fallback and the device choice are tested everywhere.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "gpu/vector_engine.hpp"
#include "numerics/error.hpp"
#include "numerics/float_formats.hpp"
#include "numerics/synthetic.hpp"

namespace quasar {
namespace {

const VectorEngine* gpu_or_skip() {
  bool usable = false;
  gpu_status(usable);
  if (!usable) return nullptr;
  return choose_vector_engine(DeviceChoice::gpu).engine;
}

#define REQUIRE_GPU(var)                                         \
  const VectorEngine* var = gpu_or_skip();                       \
  if (!var) {                                                    \
    bool usable_ = false;                                        \
    GTEST_SKIP() << "GPU test skipped: " << gpu_status(usable_); \
  }

const VectorEngine& cpu() { return cpu_vector_engine(); }

std::uint32_t bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

float from_bits(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

std::uint16_t h(float f) { return f32_to_f16(f); }

// Every element bit for bit; the first mismatch named.
template <class T>
void expect_same_values(const std::vector<T>& gpu, const std::vector<T>& ref,
                        const std::string& what) {
  ASSERT_EQ(gpu.size(), ref.size()) << what;
  std::size_t mismatches = 0, first = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    if (std::memcmp(&gpu[i], &ref[i], sizeof(T)) != 0 && mismatches++ == 0) first = i;
  }
  if (mismatches) {
    ADD_FAILURE() << what << ": " << mismatches << " of " << ref.size()
                  << " differ; first at flat index " << first << ": gpu " << +gpu[first] << " cpu "
                  << +ref[first];
  }
}

void expect_same_counters(const GemmCounters& gpu, const GemmCounters& ref,
                          const std::string& what) {
  EXPECT_EQ(gpu.actions, ref.actions) << what;
  EXPECT_EQ(gpu.overflow, ref.overflow) << what;
  EXPECT_EQ(gpu.invalid_codes, ref.invalid_codes) << what;
}

void expect_same(const VectorResult& gpu, const VectorResult& ref, const std::string& what) {
  ASSERT_EQ(gpu.y.rows(), ref.y.rows()) << what;
  ASSERT_EQ(gpu.y.cols(), ref.y.cols()) << what;
  expect_same_values(gpu.y.values(), ref.y.values(), what);
  expect_same_counters(gpu.counters, ref.counters, what);
}

std::vector<std::uint32_t> float_bits(const std::vector<float>& v) {
  std::vector<std::uint32_t> b(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) b[i] = bits(v[i]);
  return b;
}

MatrixH random_f16(std::size_t r, std::size_t c, Rng& rng, double scale) {
  MatrixH m(r, c);
  for (auto& v : m.values()) v = h(static_cast<float>(rng.normal() * scale));
  return m;
}

// A random finite fp16 code of any magnitude (uniform over the finite bit patterns).
std::uint16_t random_finite_code(Rng& rng) {
  for (;;) {
    const auto c = static_cast<std::uint16_t>(rng.next() & 0xffffu);
    if ((c & 0x7c00u) != 0x7c00u) return c;
  }
}

// Rows of corner kinds, cycling: random normal, zeros, one constant, a range without zero,
// tiny subnormals, values near the fp16 maximum, one outlier, any finite bit pattern.
MatrixH corner_rows(std::size_t rows, std::size_t cols, Rng& rng) {
  MatrixH m(rows, cols);
  for (std::size_t r = 0; r < rows; ++r) {
    std::uint16_t* x = m.row(r);
    for (std::size_t i = 0; i < cols; ++i) {
      switch (r % 8) {
        case 0:
          x[i] = h(static_cast<float>(rng.normal()));
          break;
        case 1:
          x[i] = static_cast<std::uint16_t>(i % 3 == 1 ? 0x8000u : 0u);  // +0 and -0
          break;
        case 2:
          x[i] = h(5.0f);
          break;
        case 3:
          x[i] = h(static_cast<float>(10.0 + rng.uniform()));
          break;
        case 4:
          x[i] = static_cast<std::uint16_t>((rng.next() % 200) | ((rng.next() & 1) << 15));
          break;
        case 5:
          x[i] = h(static_cast<float>((rng.uniform() < 0.5 ? -1 : 1) *
                                      (60000.0 + 5504 * rng.uniform())));
          break;
        case 6:
          x[i] = i == cols / 2 ? h(30000.0f) : h(static_cast<float>(0.01 * rng.normal()));
          break;
        default:
          x[i] = random_finite_code(rng);
          break;
      }
    }
  }
  return m;
}

// ---- KV writes -------------------------------------------------------------------------------

void expect_same_kv(const KvWriteResult& gpu, const KvWriteResult& ref, const std::string& what) {
  ASSERT_EQ(gpu.d, ref.d) << what;
  ASSERT_EQ(gpu.vectors.size(), ref.vectors.size()) << what;
  std::size_t bad = 0;
  for (std::size_t i = 0; i < ref.vectors.size(); ++i) {
    const KvVector &g = gpu.vectors[i], &c = ref.vectors[i];
    const bool same = g.format == c.format && g.f16 == c.f16 && g.codes == c.codes &&
                      g.s16 == c.s16 && g.z == c.z && g.code_clamps == c.code_clamps &&
                      g.zero_clamps == c.zero_clamps;
    if (!same && bad++ == 0) {
      ADD_FAILURE() << what << ": vector " << i << " differs (s16 gpu " << g.s16 << " cpu " << c.s16
                    << ", z gpu " << +g.z << " cpu " << +c.z << ")";
    }
  }
  EXPECT_EQ(bad, 0u) << what;
  ASSERT_EQ(gpu.values.rows(), ref.values.rows()) << what;
  expect_same_values(float_bits(gpu.values.values()), float_bits(ref.values.values()), what + " v̂");
  expect_same_counters(gpu.counters, ref.counters, what);
}

TEST(GpuVectorOps, KvWriteMatchesReference) {
  REQUIRE_GPU(gpu);
  Rng rng(11);
  struct Case {
    std::size_t tokens, kv_heads, d;
  };
  const Case cases[] = {{5, 1, 1}, {9, 3, 7}, {37, 4, 64}, {64, 8, 128}, {16, 2, 4096}};
  GemmCounters all;
  for (const Case& c : cases) {
    const MatrixH x = corner_rows(c.tokens, c.kv_heads * c.d, rng);
    for (KvFormat f : {KvFormat::fp16, KvFormat::int8, KvFormat::int4}) {
      const std::string what = std::string(kv_format_name(f)) + " " + std::to_string(c.tokens) +
                               "x" + std::to_string(c.kv_heads) + "x" + std::to_string(c.d);
      const KvWriteResult ref = cpu().kv_write(f, x, c.kv_heads);
      expect_same_kv(gpu->kv_write(f, x, c.kv_heads), ref, what);
      all.merge(ref.counters);
    }
  }
  // The clamps of both formats were exercised.
  EXPECT_GT(all.overflow[kv_stage::kCodeClamp], 0u);
  EXPECT_GT(all.overflow[kv_stage::kZeroClamp], 0u);
}

// The unit tests' hand-checked corners, and every positive finite fp16 value a as a vector's
// largest magnitude (int8 on {a, -F16(0.37 a), F16(0.5 a)}, int4 on {-F16(0.3 a), a,
// F16(0.61 a)}): subnormal and flushed scales, ties, clamped codes and zero points.
TEST(GpuVectorOps, KvWriteCornersAndEveryLargestValue) {
  REQUIRE_GPU(gpu);
  const std::vector<std::vector<std::uint16_t>> corners = {
      {150, 0x8000 | 128, 100, 0},               // subnormal scale, two codes clamp
      {60, 0x8000 | 30, 0, 0},                   // scale flushes to zero: stored as 2^-24
      {0, 0x8000, 0, 0},                         // all zero
      {h(-7.5f), h(7.5f), h(0.0f), h(1.0f)},     // int4 ties at both ends
      {h(10.0f), h(11.0f), h(10.5f), h(10.0f)},  // a range without zero
      {h(5.0f), h(5.0f), h(5.0f), h(5.0f)},      // constant
      {h(65504.0f), h(-65504.0f), h(0.0f), h(1.0f)},
      {h(65504.0f), h(65504.0f), h(65472.0f), h(65504.0f)},
  };
  MatrixH x(corners.size(), 4);
  for (std::size_t r = 0; r < corners.size(); ++r)
    std::copy(corners[r].begin(), corners[r].end(), x.row(r));
  for (KvFormat f : {KvFormat::int8, KvFormat::int4}) {
    expect_same_kv(gpu->kv_write(f, x, 1), cpu().kv_write(f, x, 1),
                   std::string("corners ") + std::string(kv_format_name(f)));
  }
  MatrixH x8(0x7c00 - 1, 3), x4(0x7c00 - 1, 3);
  for (std::uint16_t ab = 1; ab < 0x7c00; ++ab) {
    const float a = f16_to_f32(ab);
    const std::uint16_t r8[] = {ab, h(-0.37f * a), h(0.5f * a)};
    const std::uint16_t r4[] = {h(-0.3f * a), ab, h(0.61f * a)};
    std::copy(r8, r8 + 3, x8.row(ab - 1u));
    std::copy(r4, r4 + 3, x4.row(ab - 1u));
  }
  expect_same_kv(gpu->kv_write(KvFormat::int8, x8, 1), cpu().kv_write(KvFormat::int8, x8, 1),
                 "int8, every largest value");
  expect_same_kv(gpu->kv_write(KvFormat::int4, x4, 1), cpu().kv_write(KvFormat::int4, x4, 1),
                 "int4, every largest value");
}

// ---- attention -------------------------------------------------------------------------------

void expect_same_attention(const AttentionResult& gpu, const AttentionResult& ref,
                           const std::string& what) {
  ASSERT_EQ(gpu.out.rows(), ref.out.rows()) << what;
  ASSERT_EQ(gpu.out.cols(), ref.out.cols()) << what;
  expect_same_values(gpu.out.values(), ref.out.values(), what);
  expect_same_counters(gpu.counters, ref.counters, what);
}

struct AttnCase {
  std::size_t heads, kv_heads, d, tokens;
  double q_scale, kv_scale;
  std::vector<std::size_t> positions;
  std::string name;
};

// Runs every K/V format pair and order the reference defines on one shape; returns the
// reference's counters summed, so callers can check that a corner was exercised.
GemmCounters run_attention_case(const VectorEngine& gpu, const AttnCase& c, Rng& rng) {
  const MatrixH q = random_f16(c.positions.size(), c.heads * c.d, rng, c.q_scale);
  const MatrixH kx = random_f16(c.tokens, c.kv_heads * c.d, rng, c.kv_scale);
  const MatrixH vx = random_f16(c.tokens, c.kv_heads * c.d, rng, c.kv_scale);
  GemmCounters seen;
  const std::pair<KvFormat, KvFormat> formats[] = {{KvFormat::fp16, KvFormat::fp16},
                                                   {KvFormat::int8, KvFormat::int8},
                                                   {KvFormat::int4, KvFormat::int4},
                                                   {KvFormat::fp16, KvFormat::int4},
                                                   {KvFormat::int8, KvFormat::fp16}};
  for (const auto& [kf, vf] : formats) {
    const std::vector<KvCache> k = make_kv_caches(kf, kx, c.kv_heads);
    const std::vector<KvCache> v = make_kv_caches(vf, vx, c.kv_heads);
    std::vector<AttentionOptions> opts;
    for (std::size_t tile :
         {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{64}, c.tokens + 5}) {
      opts.push_back({AttentionMode::fp32, tile});
    }
    if (kf == KvFormat::int8 && vf == KvFormat::int8) opts.push_back({AttentionMode::int8, 0});
    for (const AttentionOptions& o : opts) {
      const std::string what = c.name + " K " + std::string(kv_format_name(kf)) + " V " +
                               std::string(kv_format_name(vf)) + " " +
                               std::string(attention_mode_name(o.mode)) + " tile " +
                               std::to_string(o.tile);
      const AttentionResult ref = quasar::attention(q, c.heads, c.positions, k, v, o);
      expect_same_attention(gpu.attention(q, c.heads, c.positions, k, v, o), ref, what);
      seen.merge(ref.counters);
    }
  }
  return seen;
}

std::vector<std::size_t> iota_positions(std::size_t n) {
  std::vector<std::size_t> p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = i;
  return p;
}

TEST(GpuVectorOps, AttentionMatchesReference) {
  REQUIRE_GPU(gpu);
  Rng rng(12);
  const AttnCase cases[] = {
      // GQA 8:2, a causal prefill of every position.
      {8, 2, 64, 40, 1.0, 1.0, iota_positions(40), "gqa 8:2 d64 prefill"},
      // Decode rows at scattered positions, MQA, more keys than a block has threads.
      {4, 1, 128, 300, 1.0, 1.0, {0, 1, 127, 128, 255, 299, 299}, "mqa 4:1 d128"},
      // Multi-head, odd d, repeated rows.
      {4, 4, 3, 17, 2.0, 0.5, {16, 0, 5, 16}, "mha d3"},
      // A single head and a single key.
      {1, 1, 1, 1, 1.0, 1.0, {0}, "d1 one key"},
      // Large magnitudes: scores far apart (one-hot softmax, e_t flushed to 0).
      {4, 2, 64, 33, 3000.0, 3000.0, {0, 15, 32}, "large"},
  };
  for (const AttnCase& c : cases) run_attention_case(*gpu, c, rng);
}

// q, K and V at the fp16 maximum, and all-zero q: int8 KV's v̂ = 127 * F16(65504 / 127) = 65532
// overflows the fp16 output; zeros give a uniform softmax.
TEST(GpuVectorOps, AttentionCornersMatchReference) {
  REQUIRE_GPU(gpu);
  const std::size_t H = 4, Hkv = 2, d = 32, T = 20;
  const std::vector<std::size_t> pos = {0, 9, 19};
  GemmCounters seen;
  for (int pattern = 0; pattern < 3; ++pattern) {
    MatrixH q(pos.size(), H * d), kx(T, Hkv * d), vx(T, Hkv * d);
    for (std::size_t i = 0; i < q.size(); ++i) {
      q.values()[i] = pattern == 1 ? std::uint16_t{0} : h(i % 2 ? 65504.0f : -65504.0f);
    }
    for (std::size_t i = 0; i < kx.size(); ++i) {
      kx.values()[i] = h(pattern == 2 ? (i % 5 ? 65504.0f : -65504.0f) : 65504.0f);
      vx.values()[i] = pattern == 1 ? static_cast<std::uint16_t>(i % 3) : h(65504.0f);
    }
    for (KvFormat f : {KvFormat::fp16, KvFormat::int8, KvFormat::int4}) {
      const std::vector<KvCache> k = make_kv_caches(f, kx, Hkv), v = make_kv_caches(f, vx, Hkv);
      std::vector<AttentionOptions> opts = {{AttentionMode::fp32, 0}, {AttentionMode::fp32, 4}};
      if (f == KvFormat::int8) opts.push_back({AttentionMode::int8, 0});
      for (const AttentionOptions& o : opts) {
        const AttentionResult ref = quasar::attention(q, H, pos, k, v, o);
        expect_same_attention(
            gpu->attention(q, H, pos, k, v, o), ref,
            "pattern " + std::to_string(pattern) + " kv " + std::string(kv_format_name(f)) + " " +
                std::string(attention_mode_name(o.mode)) + " tile " + std::to_string(o.tile));
        seen.merge(ref.counters);
      }
    }
  }
  EXPECT_GT(seen.overflow[stage::kOutputFp16Inf], 0u) << "the fp16 output overflow corner";
}

// int8 attention's int32 QK accumulator wraps when d * 127 * 127 exceeds 2^31 (d = 140000 with
// q and K at their largest codes): the wrap is counted and the wrapped value used, as the
// reference does.
TEST(GpuVectorOps, AttentionInt8AccumulatorWrapMatchesReference) {
  REQUIRE_GPU(gpu);
  const std::size_t d = 140000, T = 2;
  MatrixH q(1, d, h(65504.0f)), kx(T, d, h(65504.0f)), vx(T, d, h(1.0f));
  for (std::size_t i = 0; i < d; i += 7) vx(1, i) = h(-3.0f);
  const std::vector<KvCache> k = make_kv_caches(KvFormat::int8, kx, 1);
  const std::vector<KvCache> v = make_kv_caches(KvFormat::int8, vx, 1);
  for (const AttentionOptions o :
       {AttentionOptions{AttentionMode::int8, 0}, AttentionOptions{AttentionMode::fp32, 0}}) {
    const AttentionResult ref = quasar::attention(q, 1, {1}, k, v, o);
    expect_same_attention(gpu->attention(q, 1, {1}, k, v, o), ref,
                          std::string("d 140000 ") + std::string(attention_mode_name(o.mode)));
    if (o.mode == AttentionMode::int8) {
      EXPECT_GT(ref.counters.overflow.at(stage::kAccumulator), 0u) << "the wrap corner";
    }
  }
}

// ---- RMSNorm, RoPE -----------------------------------------------------------------------

TEST(GpuVectorOps, RmsNormMatchesReference) {
  REQUIRE_GPU(gpu);
  Rng rng(13);
  GemmCounters seen;
  for (const std::size_t D :
       {std::size_t{1}, std::size_t{3}, std::size_t{129}, std::size_t{4096}}) {
    const MatrixH x = corner_rows(24, D, rng);
    std::vector<std::uint16_t> g(D), g_big(D);
    for (std::size_t i = 0; i < D; ++i) {
      g[i] = h(static_cast<float>(1.0 + 0.1 * rng.normal()));
      g_big[i] = h(static_cast<float>(i % 2 ? 60000.0 : -3000.0 * rng.uniform()));
    }
    for (const float eps : {1e-5f, 1e-6f, 0.5f}) {
      for (const auto* gains : {&g, &g_big}) {
        const VectorResult ref = cpu().rmsnorm(x, *gains, eps);
        expect_same(gpu->rmsnorm(x, *gains, eps), ref,
                    "rmsnorm D " + std::to_string(D) + " eps " + std::to_string(eps));
        seen.merge(ref.counters);
      }
    }
  }
  EXPECT_GT(seen.overflow[stage::kOutputFp16Inf], 0u) << "the fp16 output overflow corner";
}

TEST(GpuVectorOps, RopeMatchesReference) {
  REQUIRE_GPU(gpu);
  Rng rng(14);
  struct Case {
    std::size_t max_pos, d, heads;
    double base;
  };
  const Case cases[] = {{4096, 128, 4, 10000.0}, {64, 2, 3, 1e6}, {1000, 64, 2, 500000.0}};
  GemmCounters seen;
  for (const Case& c : cases) {
    const RopeTables t = make_rope_tables(c.max_pos, c.d, c.base);
    const std::size_t rows = 40;
    const MatrixH x = corner_rows(rows, c.heads * c.d, rng);
    std::vector<std::size_t> pos(rows);
    for (std::size_t r = 0; r < rows; ++r) pos[r] = rng.next() % c.max_pos;
    pos[0] = 0;
    pos[1] = c.max_pos - 1;
    const VectorResult ref = cpu().rope(t, x, pos);
    expect_same(gpu->rope(t, x, pos), ref, "rope d " + std::to_string(c.d));
    seen.merge(ref.counters);
  }
  EXPECT_GT(seen.overflow[stage::kOutputFp16Inf], 0u) << "the fp16 output overflow corner";
}

// ---- element-wise, exhaustive over the fp16 inputs ----------------------------------------

// Every finite fp16 code, as a 62 x 1024 matrix.
MatrixH every_finite_f16() {
  MatrixH m(62, 1024);
  std::size_t i = 0;
  for (std::uint32_t c = 0; c < 0x10000u; ++c) {
    if ((c & 0x7c00u) != 0x7c00u) m.values()[i++] = static_cast<std::uint16_t>(c);
  }
  return m;
}

TEST(GpuVectorOps, SiluSwigluResidualOverEveryFp16Input) {
  REQUIRE_GPU(gpu);
  Rng rng(15);
  const MatrixH g = every_finite_f16();
  expect_same(gpu->silu(g), cpu().silu(g), "silu, every finite g");
  MatrixH u_rand(g.rows(), g.cols()), u_max(g.rows(), g.cols(), h(65504.0f));
  for (auto& v : u_rand.values()) v = random_finite_code(rng);
  expect_same(gpu->swiglu(g, u_rand), cpu().swiglu(g, u_rand), "swiglu, random u");
  const VectorResult ref = cpu().swiglu(g, u_max);
  expect_same(gpu->swiglu(g, u_max), ref, "swiglu, u = 65504");
  EXPECT_GT(ref.counters.overflow.at(stage::kOutputFp16Inf), 0u);
  expect_same(gpu->residual_add(g, g), cpu().residual_add(g, g), "residual a + a");
  expect_same(gpu->residual_add(g, u_rand), cpu().residual_add(g, u_rand), "residual random");
  MatrixH neg = g;
  for (auto& v : neg.values()) v = static_cast<std::uint16_t>(v ^ 0x8000u);
  expect_same(gpu->residual_add(g, neg), cpu().residual_add(g, neg), "residual a - a");
  const MatrixH a = random_f16(37, 11008, rng, 2.0), b = random_f16(37, 11008, rng, 2.0);
  expect_same(gpu->swiglu(a, b), cpu().swiglu(a, b), "swiglu 37 x 11008");
}

TEST(GpuVectorOps, QuantizeTokensMatchesReference) {
  REQUIRE_GPU(gpu);
  Rng rng(16);
  for (const std::size_t cols : {std::size_t{1}, std::size_t{5}, std::size_t{4096}}) {
    const MatrixH x = corner_rows(33, cols, rng);
    const TokenQuantResult g = gpu->quantize_tokens(x), c = cpu().quantize_tokens(x);
    const std::string what = "quantize_tokens cols " + std::to_string(cols);
    expect_same_values(g.q.q.values(), c.q.q.values(), what + " codes");
    expect_same_values(float_bits(g.q.scale), float_bits(c.q.scale), what + " scales");
    expect_same_counters(g.counters, c.counters, what);
  }
  const MatrixH every = every_finite_f16();
  const TokenQuantResult g = gpu->quantize_tokens(every), c = cpu().quantize_tokens(every);
  expect_same_values(g.q.q.values(), c.q.q.values(), "every finite fp16, codes");
  expect_same_values(float_bits(g.q.scale), float_bits(c.q.scale), "every finite fp16, scales");
  expect_same_counters(g.counters, c.counters, "every finite fp16");
}

// exp_q on any bit pattern: NaNs of every sign and payload (-> the canonical quiet NaN), the
// infinities, zeros, subnormals, both flush/overflow boundaries densely, and random patterns.
TEST(GpuVectorOps, ExpQMatchesReferenceOnAnyBitPattern) {
  REQUIRE_GPU(gpu);
  Rng rng(17);
  std::vector<float> x;
  for (std::uint32_t u : {0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u,
                          0xffc00000u, 0x7f800001u, 0xffbfffffu, 0x00000001u, 0x807fffffu,
                          0x3f800000u, 0xbf800000u, 0x7f7fffffu, 0xff7fffffu}) {
    x.push_back(from_bits(u));
  }
  for (const float edge : {88.0f, 88.72283935546875f, -87.0f, -87.33654785156250f, 0.0f, -1.0f}) {
    float lo = edge, hi = edge;
    for (int i = 0; i < 2000; ++i) {
      lo = std::nextafter(lo, -std::numeric_limits<float>::infinity());
      hi = std::nextafter(hi, std::numeric_limits<float>::infinity());
      x.push_back(lo);
      x.push_back(hi);
    }
  }
  for (int i = 0; i < (1 << 20); ++i)
    x.push_back(from_bits(static_cast<std::uint32_t>(rng.next())));
  for (int i = 0; i < (1 << 18); ++i)
    x.push_back(static_cast<float>(200.0 * rng.uniform() - 100.0));
  expect_same_values(float_bits(gpu->exp_q(x)), float_bits(cpu().exp_q(x)), "exp_q");
}

// ---- bad input: the reference's errors ------------------------------------------------------

TEST(GpuVectorOps, RejectsBadInputLikeTheReference) {
  REQUIRE_GPU(gpu);
  Rng rng(18);
  MatrixH x = random_f16(3, 8, rng, 1.0), nan = x, inf = x;
  nan(1, 2) = 0x7e00u;
  inf(2, 5) = 0xfc00u;
  const std::vector<std::uint16_t> g(8, h(1.0f));
  for (const VectorEngine* e : {gpu, &cpu()}) {
    const std::string who(e->name());
    EXPECT_THROW(e->rmsnorm(nan, g, 1e-5f), Error) << who;
    EXPECT_THROW(e->rmsnorm(x, g, 0.0f), Error) << who;
    EXPECT_THROW(e->rmsnorm(x, std::vector<std::uint16_t>(8, 0x7c00u), 1e-5f), Error) << who;
    EXPECT_THROW(e->swiglu(x, inf), Error) << who;
    EXPECT_THROW(e->silu(nan), Error) << who;
    EXPECT_THROW(e->residual_add(inf, x), Error) << who;
    EXPECT_THROW(e->residual_add(x, random_f16(3, 7, rng, 1.0)), Error) << who;
    EXPECT_THROW(e->quantize_tokens(nan), Error) << who;
    EXPECT_THROW(e->kv_write(KvFormat::int8, nan, 2), Error) << who;
    EXPECT_THROW(e->kv_write(KvFormat::int4, x, 3), Error) << who;
    const RopeTables t = make_rope_tables(4, 8, 10000.0);
    EXPECT_THROW(e->rope(t, x, {0, 1, 4}), Error) << who;
    EXPECT_THROW(e->rope(t, inf, {0, 1, 2}), Error) << who;
    const std::vector<KvCache> k8 = make_kv_caches(KvFormat::int8, x, 2);
    const std::vector<KvCache> kf = make_kv_caches(KvFormat::fp16, x, 2);
    const MatrixH q = random_f16(1, 16, rng, 1.0);
    EXPECT_THROW(e->attention(q, 4, {3}, k8, k8, {}), Error) << who;  // beyond the cache
    EXPECT_THROW(e->attention(q, 3, {0}, k8, k8, {}), Error) << who;  // H_kv does not divide
    EXPECT_THROW(e->attention(q, 4, {0}, kf, kf, {AttentionMode::int8, 0}), Error) << who;
    EXPECT_THROW(e->attention(q, 4, {0}, k8, k8, {AttentionMode::int8, 4}), Error) << who;
    MatrixH qn = q;
    qn(0, 9) = 0x7c01u;
    EXPECT_THROW(e->attention(qn, 4, {0}, k8, k8, {}), Error) << who;
  }
}

// ---- kernel times at LLaMA-2-7B sizes (printed; checked bit for bit too) --------------------

TEST(GpuVectorOps, Llama7bShapesMatchAndReportKernelTimes) {
  REQUIRE_GPU(gpu);
  Rng rng(19);
  const std::size_t tokens = 2048, D = 4096, F = 11008, H = 32, d = 128;
  auto timed = [](const char* what, auto&& run) {
    run();  // warm-up
    run();
    std::cout << "[kernel ms] " << what << ": " << last_gpu_vector_kernel_ms() << "\n";
  };
  const MatrixH x = random_f16(tokens, D, rng, 1.0);
  const std::vector<std::uint16_t> g(D, h(1.0f));
  timed("rmsnorm 2048 x 4096",
        [&] { expect_same(gpu->rmsnorm(x, g, 1e-5f), cpu().rmsnorm(x, g, 1e-5f), "rmsnorm"); });
  const RopeTables t = make_rope_tables(4096, d, 10000.0);
  const std::vector<std::size_t> pos = iota_positions(tokens);
  timed("rope 2048 x 32 heads x 128",
        [&] { expect_same(gpu->rope(t, x, pos), cpu().rope(t, x, pos), "rope"); });
  const MatrixH a = random_f16(tokens, F, rng, 2.0), b = random_f16(tokens, F, rng, 2.0);
  timed("swiglu 2048 x 11008",
        [&] { expect_same(gpu->swiglu(a, b), cpu().swiglu(a, b), "swiglu"); });
  timed("residual_add 2048 x 4096",
        [&] { expect_same(gpu->residual_add(x, x), cpu().residual_add(x, x), "residual"); });
  timed("quantize_tokens 2048 x 4096", [&] {
    const TokenQuantResult gq = gpu->quantize_tokens(x), cq = cpu().quantize_tokens(x);
    expect_same_values(gq.q.q.values(), cq.q.q.values(), "quantize_tokens");
  });
  timed("kv_write int8 2048 x 32 kv-heads x 128", [&] {
    expect_same_kv(gpu->kv_write(KvFormat::int8, x, H), cpu().kv_write(KvFormat::int8, x, H),
                   "kv int8");
  });
  timed("kv_write int4 2048 x 32 kv-heads x 128", [&] {
    expect_same_kv(gpu->kv_write(KvFormat::int4, x, H), cpu().kv_write(KvFormat::int4, x, H),
                   "kv int4");
  });
  // Decode: 16 query rows at positions 2032..2047 over a 2048-token cache, 32 heads.
  const MatrixH q = random_f16(16, H * d, rng, 1.0);
  std::vector<std::size_t> qpos(16);
  for (std::size_t r = 0; r < 16; ++r) qpos[r] = tokens - 16 + r;
  const std::vector<KvCache> kf = make_kv_caches(KvFormat::fp16, x, H),
                             k8 = make_kv_caches(KvFormat::int8, x, H);
  for (const AttentionOptions o :
       {AttentionOptions{AttentionMode::fp32, 0}, AttentionOptions{AttentionMode::fp32, 64},
        AttentionOptions{AttentionMode::int8, 0}}) {
    const std::vector<KvCache>& k = o.mode == AttentionMode::int8 ? k8 : kf;
    const std::string what = std::string("attention ") + std::string(attention_mode_name(o.mode)) +
                             " tile " + std::to_string(o.tile) +
                             ", 16 rows x 32 heads over 2048 keys";
    timed(what.c_str(), [&] {
      expect_same_attention(gpu->attention(q, H, qpos, k, k, o),
                            quasar::attention(q, H, qpos, k, k, o), what);
    });
  }
}

// ---- everywhere: the device choice and the CPU fallback ----------------------------------

TEST(VectorDeviceChoice, CpuIsAlwaysAvailable) {
  const VectorEngineChoice c = choose_vector_engine(DeviceChoice::cpu);
  EXPECT_EQ(c.engine->name(), "cpu");
}

TEST(VectorDeviceChoice, AutomaticFallsBackToCpuWithAReasonOrPicksTheGpu) {
  bool usable = false;
  const std::string status = gpu_status(usable);
  const VectorEngineChoice c = choose_vector_engine(DeviceChoice::automatic);
  if (usable) {
    EXPECT_EQ(c.engine->name(), "gpu");
  } else {
    EXPECT_EQ(c.engine->name(), "cpu");
    EXPECT_THAT(c.note, ::testing::HasSubstr("fallback: " + status));
    EXPECT_THAT([] { choose_vector_engine(DeviceChoice::gpu); },
                ::testing::ThrowsMessage<Error>(::testing::HasSubstr("--device gpu: ")));
  }
}

// Whatever engine is chosen computes the reference itself.
TEST(VectorDeviceChoice, AutomaticEngineMatchesReference) {
  Rng rng(20);
  const VectorEngine& e = *choose_vector_engine(DeviceChoice::automatic).engine;
  const MatrixH x = random_f16(5, 64, rng, 1.0), y = random_f16(5, 64, rng, 1.0);
  const std::vector<std::uint16_t> g(64, h(0.75f));
  GemmCounters c;
  const MatrixH ref = rmsnorm(x, g, 1e-5f, &c);
  const VectorResult r = e.rmsnorm(x, g, 1e-5f);
  EXPECT_EQ(r.y, ref);
  EXPECT_EQ(r.counters, c);
  GemmCounters cs;
  EXPECT_EQ(e.swiglu(x, y).y, swiglu(x, y, &cs));
  const std::vector<KvCache> k = make_kv_caches(KvFormat::int4, y, 2);
  const AttentionResult a = e.attention(x, 2, {0, 1, 2, 3, 4}, k, k, {});
  const AttentionResult ar = attention(x, 2, {0, 1, 2, 3, 4}, k, k, {});
  EXPECT_EQ(a.out, ar.out);
  EXPECT_EQ(a.counters, ar.counters);
  const KvWriteResult kw = e.kv_write(KvFormat::int8, y, 2);
  ASSERT_EQ(kw.vectors.size(), 10u);
  EXPECT_EQ(kw.vectors[3].codes, kv_quantize(KvFormat::int8, y.row(1) + 32, 32).codes);
}

}  // namespace
}  // namespace quasar
