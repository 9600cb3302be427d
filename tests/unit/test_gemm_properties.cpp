// Properties of the reference GEMMs that must hold on any data: Integer Scale approaches the
// float-scale result as alpha grows; a w4a8-is accumulator reports overflow exactly when the
// exact sum leaves its range (checked with Boost.Multiprecision); wrapped values are the exact
// sums modulo 2^W; DGQ fused and materialized agree; outputs are deterministic for a seed.
#include <gtest/gtest.h>

#include <boost/multiprecision/cpp_int.hpp>
#include <cmath>
#include <cstring>

#include "numerics/error_metrics.hpp"
#include "numerics/gemm.hpp"
#include "numerics/int_kernels.hpp"
#include "numerics/quantize_weights.hpp"
#include "numerics/scheme_runner.hpp"
#include "numerics/synthetic.hpp"

namespace quasar {
namespace {

using boost::multiprecision::cpp_int;

// Independent wrap: reduce an exact cpp_int into the signed `bits` range.
cpp_int wrap_exact(cpp_int v, int bits) {
  const cpp_int mod = cpp_int(1) << bits, half = cpp_int(1) << (bits - 1);
  v %= mod;
  if (v < 0) v += mod;
  if (v >= half) v -= mod;
  return v;
}
bool in_range(const cpp_int& v, int bits) {
  const cpp_int half = cpp_int(1) << (bits - 1);
  return v >= -half && v < half;
}

QuantizedActivations random_acts(std::size_t m, std::size_t k, Rng& rng, int lo = -128,
                                 int hi = 127) {
  QuantizedActivations x{MatrixI8(m, k), std::vector<float>(m, 0.01f)};
  for (auto& v : x.q.values())
    v = static_cast<std::int8_t>(lo + static_cast<int>(rng.next() % (hi - lo + 1)));
  return x;
}

QuantizedWeights random_int4(std::size_t n, std::size_t k, std::size_t g, Rng& rng) {
  QuantizedWeights w;
  w.format = WeightFormat::int4;
  w.group_size = g;
  w.codes = MatrixI8(n, k);
  for (auto& v : w.codes.values())
    v = static_cast<std::int8_t>(static_cast<int>(rng.next() % 16) - 8);
  w.scales = MatrixF(n, k / g);
  for (auto& s : w.scales.values()) {
    s = round_to_scale_dtype(static_cast<float>(0.001 + 0.05 * rng.uniform()), ScaleDtype::fp16);
  }
  return w;
}

TEST(IntegerScale, ApproachesFloatScaleAsAlphaGrows) {
  Rng rng(3);
  const QuantizedActivations x = random_acts(8, 256, rng);
  const QuantizedWeights w = random_int4(16, 256, 32, rng);
  const GemmResult fs = gemm_w4a8_fs(x, w);
  GemmOptions wide;
  wide.acc_bits = 64;
  double previous = INFINITY;
  for (int bits : {2, 6, 10, 14, 20}) {
    const GemmResult is =
        gemm_w4a8_is(x, w, to_integer_scales(w, {IntScaleMode::fixed, bits}), wide);
    double worst = 0;
    for (std::size_t i = 0; i < fs.y.size(); ++i) {
      const double a = f16_to_f32(fs.y.values()[i]), b = f16_to_f32(is.y.values()[i]);
      worst = std::max(worst, std::fabs(a - b) / std::max(1e-3, std::fabs(a)));
    }
    EXPECT_LE(worst, previous) << "alpha = 2^" << bits;
    previous = worst;
    if (bits == 20) {
      EXPECT_LT(worst, 2e-3) << "within fp16 rounding of the float-scale result";
    }
    if (bits == 2) {
      EXPECT_GT(worst, 0.05) << "a tiny alpha must visibly distort";
    }
  }
}

// With a 32-bit accumulator, w4a8-is counts an overflow exactly when an exact prefix sum of
// P * S leaves int32, and the value it keeps is the exact sum modulo 2^32.
TEST(IntegerScale, Int32OverflowReportedExactlyWhenExactSumLeavesRange) {
  Rng rng(99);
  int overflowing = 0, clean = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const std::size_t G = 64, groups = 8;
    // Saturated operands of one sign per group, so partial sums are large and sums drift.
    const QuantizedActivations x = random_acts(1, G * groups, rng, 100, 127);
    QuantizedWeights w = random_int4(1, G * groups, G, rng);
    for (std::size_t g = 0; g < groups; ++g) {
      const int sign = rng.next() % 3 ? 1 : -1;
      for (std::size_t k = g * G; k < (g + 1) * G; ++k) {
        w.codes(0, k) =
            static_cast<std::int8_t>(sign > 0 ? 7 - static_cast<int>(rng.next() % 2) : -8);
      }
    }
    IntegerScales s{20, MatrixI32(1, groups)};
    // Scale magnitudes sweep from small (never overflows) to large (often does).
    for (auto& v : s.S.values()) v = 1000 + static_cast<int>(rng.next() % (1000 + 200 * trial));
    const GemmResult r = gemm_w4a8_is(x, w, s);

    cpp_int exact = 0, wrapped = 0;
    bool left = false;
    std::uint64_t expected_events = 0;
    for (std::size_t g = 0; g < groups; ++g) {
      cpp_int p = 0;
      for (std::size_t k = g * G; k < (g + 1) * G; ++k) p += cpp_int(x.q(0, k)) * w.codes(0, k);
      exact += p * s.S(0, g);
      left = left || !in_range(exact, 32);
      const cpp_int next = wrapped + p * s.S(0, g);
      if (!in_range(next, 32)) ++expected_events;
      wrapped = wrap_exact(next, 32);
    }
    const auto events = r.counters.overflow.count(stage::kIntScaleAcc)
                            ? r.counters.overflow.at(stage::kIntScaleAcc)
                            : 0;
    ASSERT_EQ(events > 0, left) << "trial " << trial;
    ASSERT_EQ(events, expected_events) << "trial " << trial;
    ASSERT_EQ(wrapped, wrap_exact(exact, 32));
    const float expected_y = static_cast<float>(wrapped.convert_to<std::int64_t>()) *
                             (x.scale[0] * std::ldexp(1.0f, -20));
    ASSERT_EQ(r.y(0, 0), f32_to_f16(expected_y)) << "trial " << trial;
    (left ? overflowing : clean)++;
  }
  EXPECT_GT(overflowing, 20) << "the data must exercise the overflow path";
  EXPECT_GT(clean, 20) << "and the clean path";
}

TEST(IntKernels, WrappingSumIsExactSumModuloWidth) {
  Rng rng(5);
  for (int bits : {12, 16, 20, 32, 64}) {
    const QuantizedActivations x = random_acts(3, 777, rng);
    MatrixI8 w(5, 777);
    for (auto& v : w.values())
      v = static_cast<std::int8_t>(static_cast<int>(rng.next() % 256) - 128);
    const Int8GemmResult r = int8_gemm(x.q, w, bits);
    std::uint64_t expected_wraps = 0;
    for (std::size_t m = 0; m < 3; ++m) {
      for (std::size_t n = 0; n < 5; ++n) {
        cpp_int exact = 0, acc = 0;
        for (std::size_t k = 0; k < 777; ++k) {
          exact += cpp_int(x.q(m, k)) * w(n, k);
          const cpp_int next = acc + cpp_int(x.q(m, k)) * w(n, k);
          if (!in_range(next, bits)) ++expected_wraps;
          acc = wrap_exact(next, bits);
        }
        ASSERT_EQ(cpp_int(r.acc[m * 5 + n]), wrap_exact(exact, bits)) << bits;
      }
    }
    EXPECT_EQ(r.wraps, expected_wraps) << bits;
    if (bits >= 32) {
      EXPECT_EQ(r.wraps, 0u);
    }
    if (bits <= 16) {
      EXPECT_GT(r.wraps, 0u);
    }
  }
}

TEST(Dgq, FusedAndMaterializedAgreeIncludingOutOfRangeTraces) {
  Rng rng(21);
  for (int trial = 0; trial < 4; ++trial) {
    const std::size_t N = 150, K = 96, G = 32;  // N spans several fused tiles, ragged last one
    const QuantizedActivations x = random_acts(7, K, rng);
    TwoLevelWeights w;
    w.group_size = G;
    w.q = MatrixU8(N, K);
    w.zeros = MatrixU8(N, K / G);
    w.group_scale = MatrixI32(N, K / G);
    for (auto& v : w.q.values()) v = static_cast<std::uint8_t>(rng.next() % 16);
    for (auto& v : w.zeros.values()) v = static_cast<std::uint8_t>(rng.next() % 16);
    // Trial 0..1: well-formed small scales; 2..3: a bad trace with scales up to 127.
    for (auto& v : w.group_scale.values())
      v = 1 + static_cast<int>(rng.next() % (trial < 2 ? 8 : 127));
    w.channel_scale.assign(N, 0.004f);
    const GemmResult fused = gemm_w4a8_dgq(x, w, DequantMode::fused);
    const GemmResult mat = gemm_w4a8_dgq(x, w, DequantMode::materialized);
    EXPECT_EQ(fused.y, mat.y);
    EXPECT_EQ(fused.counters.overflow, mat.counters.overflow);
    EXPECT_EQ(mat.counters.action(act::kMemWriteBytes), N * K);
    EXPECT_EQ(fused.counters.action(act::kMemWriteBytes), 0u);
    if (trial >= 2) {
      EXPECT_GT(fused.counters.overflow.at(stage::kDequantRange), 0u);
    }
  }
}

TEST(Schemes, DeterministicForASeedAndSensitiveToIt) {
  SyntheticSpec syn;
  syn.m = 16, syn.k = 256, syn.n = 32, syn.seed = 42;
  const GemmData a = synthetic_llm_gemm(syn), b = synthetic_llm_gemm(syn);
  EXPECT_EQ(a.x, b.x);
  EXPECT_EQ(a.w, b.w);
  syn.seed = 43;
  EXPECT_NE(synthetic_llm_gemm(syn).x, a.x);
  const MatrixF ref = float_reference(a.x, a.w);
  SchemeConfig cfg;
  cfg.group_size = 64;
  for (const SchemeInfo& s : all_schemes()) {
    const SchemeRun r1 = run_scheme(s.id, a.x, a.w, cfg, ref);
    const SchemeRun r2 = run_scheme(s.id, b.x, b.w, cfg, ref);
    EXPECT_EQ(r1.result.y, r2.result.y) << s.name;
    EXPECT_EQ(r1.result.counters, r2.result.counters) << s.name;
  }
}

TEST(Schemes, CountActionsOfTheRightKindAndConversions) {
  SyntheticSpec syn;
  syn.m = 8, syn.k = 128, syn.n = 16, syn.seed = 2;
  const GemmData d = synthetic_llm_gemm(syn);
  const MatrixF ref = float_reference(d.x, d.w);
  SchemeConfig cfg;
  cfg.group_size = 32;
  const std::uint64_t mn = 8 * 16, mnk = mn * 128, groups = 128 / 32;
  auto run = [&](Scheme s) { return run_scheme(s, d.x, d.w, cfg, ref).result.counters; };
  EXPECT_EQ(run(Scheme::fp16).action(act::kMulFp16xFp16), mnk);
  EXPECT_EQ(run(Scheme::fp16).int_to_float_conversions(), 0u);
  EXPECT_EQ(run(Scheme::w8a8).action(act::kMulInt8xInt8), mnk);
  EXPECT_EQ(run(Scheme::w8a8).int_to_float_conversions(), mn);
  EXPECT_EQ(run(Scheme::w4a8_fs).action(act::kMulInt4xInt8), mnk);
  EXPECT_EQ(run(Scheme::w4a8_fs).int_to_float_conversions(), mn * groups);
  EXPECT_EQ(run(Scheme::w4a8_fs).action(act::kAddFp32), mn * groups);
  const GemmCounters is = run(Scheme::w4a8_is);
  EXPECT_EQ(is.int_to_float_conversions(), mn);
  EXPECT_EQ(is.action(act::intscale_add(32)), mn * groups);
  EXPECT_EQ(is.action(act::add_int(32)), mnk) << "the array's partial-sum adds";
  EXPECT_EQ(is.action(act::kAddFp32), 0u) << "Integer Scale removes the fp32 group adds";
  EXPECT_EQ(run(Scheme::w4a8_dgq).action(act::kDequantTwoLevel), 16u * 128u);
  EXPECT_EQ(run(Scheme::w4a8_dint).action(act::kMulDint4xInt8), mnk);
  EXPECT_EQ(run(Scheme::w4a8_dint).invalid_codes, 0u) << "the encoder never emits code 1000";
  EXPECT_EQ(run(Scheme::w4a8_qserve).overflow_events(), 0u);
}

TEST(Schemes, Fp16IsTheMostAccurate) {
  SyntheticSpec syn;
  syn.m = 16, syn.k = 256, syn.n = 32, syn.seed = 8;
  const GemmData d = synthetic_llm_gemm(syn);
  const MatrixF ref = float_reference(d.x, d.w);
  SchemeConfig cfg;
  cfg.group_size = 64;
  const double fp16 = run_scheme(Scheme::fp16, d.x, d.w, cfg, ref).error.sqnr_db;
  EXPECT_GT(fp16, 50.0);
  for (const SchemeInfo& s : all_schemes()) {
    if (s.id == Scheme::fp16) continue;
    const double db = run_scheme(s.id, d.x, d.w, cfg, ref).error.sqnr_db;
    EXPECT_LT(db, fp16) << s.name;
    EXPECT_GT(db, 10.0) << s.name << " should still be a usable approximation";
  }
}

TEST(ErrorMetrics, ExactOutputHasInfiniteSqnr) {
  MatrixF ref(1, 3);
  ref(0, 0) = 1.0f, ref(0, 1) = -2.0f, ref(0, 2) = 0.5f;
  MatrixH y(1, 3);
  for (std::size_t i = 0; i < 3; ++i) y.values()[i] = f32_to_f16(ref.values()[i]);
  ErrorReport e = compare_to_reference(y, ref);
  EXPECT_EQ(e.max_abs, 0.0);
  EXPECT_TRUE(std::isinf(e.sqnr_db));
  y(0, 0) = f32_to_f16(1.5f);  // error 0.5 on one of three; signal 1 + 4 + 0.25
  e = compare_to_reference(y, ref);
  EXPECT_DOUBLE_EQ(e.max_abs, 0.5);
  EXPECT_DOUBLE_EQ(e.mse, 0.25 / 3);
  EXPECT_NEAR(e.sqnr_db, 10 * std::log10(5.25 / 0.25), 1e-12);
}

// The reference product is each output's fp64 sum in k order, whatever lanes the code sums side
// by side: compared bit for bit with the one-output-at-a-time loop on magnitudes spread over
// 2^-20..2^20 plus two 2^60 terms that cancel (where the order of an fp64 sum shows), with N
// not a multiple of the lanes.
TEST(ErrorMetrics, FloatReferenceIsEachOutputsFp64SumInKOrder) {
  Rng rng(17);
  for (std::size_t n : {1u, 8u, 19u}) {
    MatrixF x(5, 301), w(n, 301);
    for (auto* m : {&x, &w})
      for (auto& v : m->values())
        v = static_cast<float>(rng.normal() * std::ldexp(1.0, static_cast<int>(rng.next() % 41) - 20));
    // Two terms that cancel first in k order; summed in another order they swallow the rest.
    for (std::size_t i = 0; i < x.rows(); ++i) x(i, 0) = 0x1p60f, x(i, 1) = -0x1p60f;
    for (std::size_t j = 0; j < n; ++j) w(j, 0) = 1.0f, w(j, 1) = 1.0f;
    const MatrixF ref = float_reference(x, w);
    std::size_t differ = 0;
    for (std::size_t i = 0; i < x.rows(); ++i)
      for (std::size_t j = 0; j < n; ++j) {
        double acc = 0.0;
        for (std::size_t k = 0; k < x.cols(); ++k)
          acc += static_cast<double>(x(i, k)) * static_cast<double>(w(j, k));
        const float want = static_cast<float>(acc), got = ref(i, j);
        differ += std::memcmp(&want, &got, sizeof want) != 0;
      }
    EXPECT_EQ(differ, 0u) << "N = " << n;
  }
}

}  // namespace
}  // namespace quasar
