// Are the offline quantizers of spec section 3 right: RTN per tensor/channel/group, the dint4
// tables and encoder, integer-scale conversion, DGQ's grid search and clamp, percentile
// smoothing, AQAS, QServe, and the activation quantizers?
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "numerics/aqas.hpp"
#include "numerics/dint4.hpp"
#include "numerics/error.hpp"
#include "numerics/quantize_activations.hpp"
#include "numerics/quantize_two_level.hpp"
#include "numerics/quantize_weights.hpp"
#include "numerics/scheme_runner.hpp"
#include "numerics/synthetic.hpp"

namespace quasar {
namespace {

MatrixF random_matrix(std::size_t r, std::size_t c, std::uint64_t seed, double std = 1.0) {
  Rng rng(seed);
  MatrixF m(r, c);
  for (float& v : m.values()) v = static_cast<float>(rng.normal() * std);
  return m;
}

TEST(Dint4, TablesMatchSpec) {
  // Set A: {0, +-0.5, +-1..+-6}; 0111 = +0.5, 1001 = -0.5, 1000 invalid; 1010..1111 = -6..-1.
  const Dint4Table& a = dint4_table(DintSet::A);
  const std::array<double, 16> va{0, 1, 2, 3, 4, 5, 6, 0.5, 0, -0.5, -6, -5, -4, -3, -2, -1};
  for (int c = 0; c < 16; ++c) EXPECT_EQ(a.w2[c], va[c] * 2) << c;
  for (int c = 0; c < 16; ++c) EXPECT_EQ(a.valid[c], c != 8) << c;
  // Set B: sign-magnitude, magnitude 000 = 0.5.
  const Dint4Table& b = dint4_table(DintSet::B);
  const std::array<double, 16> vb{0.5, 1, 2, 3, 4, 5, 6, 7, -0.5, -1, -2, -3, -4, -5, -6, -7};
  for (int c = 0; c < 16; ++c) EXPECT_EQ(b.w2[c], vb[c] * 2) << c;
  for (int c = 0; c < 16; ++c) EXPECT_TRUE(b.valid[c]);
}

TEST(Dint4, EncoderFollowsSpecThresholds) {
  // |u| < 0.25 -> 0; < 0.75 -> 0.5; < 1.5 -> 1; n for [n-0.5, n+0.5); clip at 6.
  const std::vector<std::pair<float, int>> cases{
      {0.0f, 0},   {0.24f, 0},  {0.25f, 7},   {0.74f, 7},  {0.75f, 1},  {1.49f, 1},
      {1.5f, 2},   {2.49f, 2},  {2.5f, 3},    {5.49f, 5},  {5.5f, 6},   {100.0f, 6},
      {-0.25f, 9}, {-0.74f, 9}, {-0.75f, 15}, {-1.5f, 14}, {-6.2f, 10}, {-0.1f, 0}};
  for (const auto& [u, code] : cases) EXPECT_EQ(dint4_encode(u, DintSet::A), code) << u;
  EXPECT_EQ(dint4_encode(0.0f, DintSet::B), 0);    // +0.5 [choice]
  EXPECT_EQ(dint4_encode(-0.1f, DintSet::B), 8);   // -0.5
  EXPECT_EQ(dint4_encode(0.75f, DintSet::B), 1);   // tie 0.5/1 -> larger
  EXPECT_EQ(dint4_encode(9.0f, DintSet::B), 7);    // clip at 7
  EXPECT_EQ(dint4_encode(-6.5f, DintSet::B), 15);  // tie 6/7 -> 7
}

TEST(RtnQuantizer, SymmetricInt4PerGroupBoundsTheError) {
  const MatrixF w = random_matrix(8, 64, 11);
  WeightQuantSpec spec;  // int4, per group 128 -> use 16
  spec.group_size = 16;
  const QuantizedWeights q = quantize_weights_rtn(w, spec);
  ASSERT_EQ(q.scales.rows(), 8u);
  ASSERT_EQ(q.scales.cols(), 4u);
  for (std::size_t n = 0; n < 8; ++n) {
    for (std::size_t g = 0; g < 4; ++g) {
      const float s = q.scale(n, g);
      EXPECT_EQ(round_to_scale_dtype(s, ScaleDtype::fp16), s) << "scale exact in fp16";
      int max_code = 0;
      for (std::size_t k = g * 16; k < (g + 1) * 16; ++k) {
        EXPECT_GE(q.codes(n, k), -7);
        EXPECT_LE(q.codes(n, k), 7);
        max_code = std::max(max_code, std::abs(static_cast<int>(q.codes(n, k))));
        EXPECT_LE(std::fabs(dequantize_weight(q, n, k) - w(n, k)), 0.5f * s * 1.01f);
      }
      EXPECT_EQ(max_code, 7) << "the group's largest weight maps to the top code";
    }
  }
}

TEST(RtnQuantizer, GranularitiesShapeTheScales) {
  const MatrixF w = random_matrix(4, 32, 12);
  WeightQuantSpec spec;
  spec.format = WeightFormat::int8;
  spec.granularity = Granularity::per_tensor;
  QuantizedWeights t = quantize_weights_rtn(w, spec);
  EXPECT_EQ(t.scales.rows(), 1u);
  EXPECT_EQ(t.scales.cols(), 1u);
  EXPECT_TRUE(t.per_tensor);
  spec.granularity = Granularity::per_channel;
  QuantizedWeights c = quantize_weights_rtn(w, spec);
  EXPECT_EQ(c.scales.rows(), 4u);
  EXPECT_EQ(c.scales.cols(), 1u);
  EXPECT_EQ(c.group_size, 32u);
  for (std::size_t n = 0; n < 4; ++n) {
    float amax = 0;
    for (std::size_t k = 0; k < 32; ++k) amax = std::max(amax, std::fabs(w(n, k)));
    EXPECT_EQ(c.scale(n, 0), round_to_scale_dtype(amax / 127.0f, ScaleDtype::fp16));
  }
}

TEST(RtnQuantizer, AsymmetricUint4KeepsZeroAndRange) {
  MatrixF w = random_matrix(4, 32, 13);
  for (float& v : w.values()) v = std::fabs(v) + 0.5f;  // all positive: zero point at 0
  WeightQuantSpec spec;
  spec.format = WeightFormat::uint4;
  spec.symmetric = false;
  spec.group_size = 8;
  const QuantizedWeights q = quantize_weights_rtn(w, spec);
  for (std::size_t n = 0; n < 4; ++n) {
    for (std::size_t g = 0; g < 4; ++g) {
      EXPECT_EQ(q.zero(n, g), 0);  // the range [0, max] always contains 0
      for (std::size_t k = g * 8; k < g * 8 + 8; ++k) {
        EXPECT_LE(std::fabs(dequantize_weight(q, n, k) - w(n, k)), 0.5f * q.scale(n, g) * 1.01f);
      }
    }
  }
  spec.format = WeightFormat::int8;  // asymmetric int8: zero point in -128..127
  const QuantizedWeights q8 = quantize_weights_rtn(random_matrix(2, 16, 3), spec);
  EXPECT_FALSE(q8.symmetric());
}

TEST(RtnQuantizer, DintPerChannelUsesLevelSix) {
  MatrixF w(1, 4);
  w(0, 0) = 0.6f, w(0, 1) = -0.3f, w(0, 2) = 0.05f, w(0, 3) = 0.2f;
  WeightQuantSpec spec;
  spec.format = WeightFormat::dint4;
  spec.granularity = Granularity::per_channel;
  spec.scale_dtype = ScaleDtype::fp32;
  const QuantizedWeights q = quantize_weights_rtn(w, spec);
  EXPECT_FLOAT_EQ(q.scale(0, 0), 0.1f);  // 0.6 / 6
  // u = 6, -3, 0.5, 2 -> codes 6, 1101, 0111, 2
  EXPECT_EQ(q.codes(0, 0), 6);
  EXPECT_EQ(q.codes(0, 1), 13);
  EXPECT_EQ(q.codes(0, 2), 7);
  EXPECT_EQ(q.codes(0, 3), 2);
}

TEST(RtnQuantizer, RejectsBadInput) {
  MatrixF w = random_matrix(2, 10, 1);
  WeightQuantSpec spec;
  spec.group_size = 4;
  EXPECT_THAT([&] { quantize_weights_rtn(w, spec); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr("does not divide K = 10")));
  w(1, 3) = NAN;
  spec.granularity = Granularity::per_channel;
  EXPECT_THAT(
      [&] { quantize_weights_rtn(w, spec); },
      ::testing::ThrowsMessage<Error>(::testing::HasSubstr("tensor 'w': element [1, 3] is NaN")));
  spec.format = WeightFormat::dint4;
  spec.symmetric = false;
  EXPECT_THROW(quantize_weights_rtn(random_matrix(2, 8, 1), spec), Error);
}

TEST(IntegerScale, FixedAlphaRoundsAndClampsToOne) {
  QuantizedWeights w;
  w.format = WeightFormat::int4;
  w.group_size = 2;
  w.codes = MatrixI8(1, 6);
  w.scales = MatrixF(1, 3);
  // s * 1024: 0.0004 -> 0.41 -> max(1, 0) = 1; 0.0126 -> 12.9 -> 13; 2.5/1024 -> 2.5 -> 2 (even)
  w.scales(0, 0) = 0.0004f;
  w.scales(0, 1) = 0.0126f;
  w.scales(0, 2) = 2.5f / 1024.0f;
  const IntegerScales s = to_integer_scales(w, {});
  EXPECT_EQ(s.bits, 10);
  EXPECT_EQ(s.S(0, 0), 1);
  EXPECT_EQ(s.S(0, 1), 13);
  EXPECT_EQ(s.S(0, 2), 2);
}

TEST(IntegerScale, PerLayerHeuristicIsSmallestSufficientPowerOfTwo) {
  QuantizedWeights w;
  w.group_size = 1;
  w.codes = MatrixI8(1, 2);
  w.scales = MatrixF(1, 2);
  w.scales(0, 0) = 0.003f;  // 0.003 * 2^8 = 0.768 < 1; * 2^9 = 1.536 >= 1
  w.scales(0, 1) = 0.05f;
  EXPECT_EQ(integer_scale_heuristic_bits(w), 9);
  const IntegerScales s = to_integer_scales(w, {IntScaleMode::per_layer, 0});
  EXPECT_EQ(s.bits, 9);
  EXPECT_EQ(s.S(0, 0), 2);   // 1.536 -> 2
  EXPECT_EQ(s.S(0, 1), 26);  // 25.6 -> 26
  w.scales(0, 0) = 1.0f;
  w.scales(0, 1) = 3.0f;
  EXPECT_EQ(integer_scale_heuristic_bits(w), 0);
}

TEST(Dgq, RatioGridsMatchSpec) {
  const auto r1 = dgq_phase1_ratios(), r2 = dgq_phase2_ratios();
  ASSERT_EQ(r1.size(), 20u);
  ASSERT_EQ(r2.size(), 80u);
  EXPECT_FLOAT_EQ(r1.front(), 1.009f);
  EXPECT_FLOAT_EQ(r1.back(), 0.80f);
  EXPECT_FLOAT_EQ(r2.front(), 1.00975f);
  EXPECT_FLOAT_EQ(r2.back(), 0.20f);
}

// The property DGQ's Eq. 5 clamp guarantees: every dequantized weight fits in [-127, 127].
TEST(Dgq, DequantizedWeightsAlwaysFitInt8) {
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    MatrixF w = random_matrix(6, 64, seed, 0.02);
    Rng rng(seed * 77);
    for (int i = 0; i < 12; ++i) w(rng.next() % 6, rng.next() % 64) *= 40.0f;  // heavy tails
    const MatrixF x = random_matrix(8, 64, seed + 100);
    for (bool search : {true, false}) {
      DgqSpec spec;
      spec.group_size = 16;
      spec.search = search;
      const TwoLevelWeights q = quantize_dgq(w, x, spec);
      for (std::size_t n = 0; n < 6; ++n) {
        for (std::size_t g = 0; g < 4; ++g) {
          EXPECT_GE(q.group_scale(n, g), 1);
          EXPECT_LE(q.group_scale(n, g), 127);
          EXPECT_LE(q.zeros(n, g), 15);
        }
        for (std::size_t k = 0; k < 64; ++k) {
          const int v = two_level_value(q, n, k);
          ASSERT_GE(v, -127) << seed;
          ASSERT_LE(v, 127) << seed;
          ASSERT_LE(q.q(n, k), 15);
        }
      }
    }
  }
}

TEST(Dgq, SearchReducesOutputErrorOnCalibration) {
  const MatrixF w = random_matrix(16, 128, 5, 0.02);
  const MatrixF x = random_matrix(16, 128, 6);
  auto loss = [&](const TwoLevelWeights& q) {
    double l = 0;
    for (std::size_t m = 0; m < x.rows(); ++m) {
      for (std::size_t n = 0; n < w.rows(); ++n) {
        double e = 0;
        for (std::size_t k = 0; k < 128; ++k) {
          e += x(m, k) *
               (w(n, k) - static_cast<double>(two_level_value(q, n, k)) * q.channel_scale[n]);
        }
        l += e * e;
      }
    }
    return l;
  };
  DgqSpec spec;
  spec.group_size = 32;
  const double searched = loss(quantize_dgq(w, x, spec));
  spec.search = false;
  const double plain = loss(quantize_dgq(w, x, spec));
  EXPECT_LT(searched, plain);
}

TEST(Dgq, PercentileSmoothingDividesOnlyChannelsAboveThreshold) {
  // C = 200 channels: b = floor(0.005 * 200 + 1.5) = 2, threshold = the 2nd largest a_j.
  MatrixF x(2, 200, 1.0f);
  x(1, 7) = -12.0f;  // a_7 = 12
  x(0, 9) = 3.0f;    // a_9 = 3 (the 2nd largest)
  const std::vector<float> f = dgq_smoothing_factors(x);
  for (std::size_t j = 0; j < 200; ++j) EXPECT_EQ(f[j], j == 7 ? 4.0f : 1.0f) << j;
  MatrixF w(1, 200, 1.0f);
  apply_channel_smoothing(x, w, f);
  EXPECT_EQ(x(1, 7), -3.0f);
  EXPECT_EQ(w(0, 7), 4.0f);
}

TEST(Aqas, SmoothingBeatsPlainQuantizationOnOutlierChannels) {
  SyntheticSpec syn;
  syn.m = 32, syn.k = 128, syn.n = 32, syn.seed = 9;
  const GemmData d = synthetic_llm_gemm(syn);
  const AqasResult r = aqas_search(d.w, d.x, {});
  // alpha is NaN only when no smoothing (s = 1, always a candidate) had the lowest loss.
  ASSERT_FALSE(std::isnan(r.alpha)) << "some smoothing should win on outlier activations";
  EXPECT_GE(r.alpha, 0.0f);
  EXPECT_LE(r.alpha, 1.0f);
  ASSERT_EQ(r.smoothing.size(), 128u);
  // A coarser grid ({0, 1} and s = 1) is a subset of the default one: never a lower loss.
  const AqasResult coarse = aqas_search(d.w, d.x, {DintSet::A, 2, ScaleDtype::fp16});
  EXPECT_LE(r.loss, coarse.loss);
}

// Issue 14: subnormal weights (1e-42) made the a = 0 candidate 1/max|W_j| = 1e42, beyond fp32,
// so smoothing turned finite weights into inf and dINT failed with "element [0, 0] is
// infinite". Such candidates keep s_j = 1 (docs/numerics.md row 17); the GEMM runs.
TEST(Aqas, SubnormalWeightsGiveFiniteSmoothing) {
  MatrixF x = random_matrix(8, 16, 3);
  MatrixF w(4, 16);
  for (std::size_t i = 0; i < w.size(); ++i) w.values()[i] = (i % 3 ? 1e-42f : -1e-42f);
  ASSERT_TRUE(std::fpclassify(w(0, 0)) == FP_SUBNORMAL);
  for (int grid : {2, 11}) {
    const AqasResult r = aqas_search(w, x, {DintSet::A, grid, ScaleDtype::fp16});
    ASSERT_EQ(r.smoothing.size(), 16u);
    for (float s : r.smoothing) {
      EXPECT_TRUE(std::isfinite(s) && s > 0.0f) << s;
    }
    EXPECT_TRUE(std::isfinite(r.loss));
    MatrixF xs = x, ws = w;
    apply_aqas_smoothing(xs, ws, r.smoothing);
    for (float v : ws.values()) EXPECT_TRUE(std::isfinite(v));
    for (float v : xs.values()) EXPECT_TRUE(std::isfinite(v));
  }
  // The whole scheme, as `quasar gemm --scheme w4a8-dint` runs it.
  SchemeConfig cfg;
  cfg.group_size = 16;
  const SchemeRun run = run_scheme(Scheme::w4a8_dint, x, w, cfg, float_reference(x, w));
  EXPECT_EQ(run.operands.smoothing.size(), 16u);
  EXPECT_EQ(run.result.y.rows(), 8u);
  // One subnormal channel among normal ones: only its unusable candidates fall back.
  MatrixF mixed = random_matrix(4, 16, 5);
  for (std::size_t n = 0; n < 4; ++n) mixed(n, 3) = 1e-42f;
  const AqasResult m = aqas_search(mixed, x, {DintSet::A, 2, ScaleDtype::fp16});
  for (float s : m.smoothing) EXPECT_TRUE(std::isfinite(s) && s > 0.0f) << s;
}

// Non-finite values are still refused, and the message says which tensor truly holds one.
TEST(Aqas, InfiniteInputsAreNamedAndSmoothingOverflowIsExplained) {
  MatrixF x = random_matrix(4, 8, 3), w = random_matrix(2, 8, 4);
  w(1, 2) = INFINITY;
  try {
    aqas_search(w, x, {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("tensor 'w': element [1, 2] is infinite"));
  }
  // A row beyond the calibration rows that overflows when divided by its factor.
  MatrixF xs(2, 1), ws(1, 1, 1.0f);
  xs(0, 0) = 1e-30f;
  xs(1, 0) = 1e10f;
  try {
    apply_aqas_smoothing(xs, ws, {1e-30f});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("AQAS: x[1, 0] overflows fp32"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("s_0 = 1e-30 chosen on the calibration rows"));
  }
}

TEST(QServe, ProtectiveRangeKeepsDequantInInt8) {
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    MatrixF w = random_matrix(8, 64, seed, 0.02);
    w(0, 0) = 1.0f;  // one large weight per matrix
    const TwoLevelWeights q = quantize_qserve(w, 16);
    for (std::size_t n = 0; n < 8; ++n) {
      for (std::size_t k = 0; k < 64; ++k) {
        const int v = two_level_value(q, n, k);
        ASSERT_GE(v, -128);
        ASSERT_LE(v, 127);
        // Level 0 rounds by <= s0/2; level 1 by <= s1/2, or one step s1 where the zero
        // point's rounding pushes the top code past 15.
        EXPECT_LE(std::fabs(static_cast<double>(v) * q.channel_scale[n] - w(n, k)),
                  (q.group_scale(n, k / 16) + 0.5) * q.channel_scale[n] * 1.01);
      }
      for (std::size_t g = 0; g < 4; ++g) {
        EXPECT_GE(q.group_scale(n, g), 1);
        EXPECT_LE(q.group_scale(n, g), 16);  // (119 - -119) / 15 rounds to at most 16
      }
    }
  }
}

TEST(ActivationQuant, PerTokenMapsRowMaxToCode127) {
  MatrixF x(2, 3);
  x(0, 0) = 0.5f, x(0, 1) = -2.54f, x(0, 2) = 1.27f;
  x(1, 0) = 0.0f, x(1, 1) = 0.0f, x(1, 2) = 0.0f;
  const QuantizedActivations q = quantize_per_token(x);
  EXPECT_FLOAT_EQ(q.scale[0], 0.02f);
  EXPECT_EQ(q.q(0, 1), -127);
  EXPECT_EQ(q.q(0, 2), 64);  // 1.27 / 0.02 = 63.5 (in fp32 slightly above) -> 64
  EXPECT_EQ(q.q(0, 0), 25);
  EXPECT_EQ(q.scale[1], 1.0f);  // all-zero row [choice]
  EXPECT_EQ(q.q(1, 0), 0);
}

TEST(ActivationQuant, PerTensorStaticSaturatesAndCounts) {
  MatrixF x(1, 4);
  x(0, 0) = 1.0f, x(0, 1) = 3.0f, x(0, 2) = -5.0f, x(0, 3) = 0.5f;
  GemmCounters c;
  const QuantizedActivations q = quantize_per_tensor(x, 1.27f, &c);  // s = 0.01
  EXPECT_EQ(q.q(0, 0), 100);
  EXPECT_EQ(q.q(0, 1), 127);
  EXPECT_EQ(q.q(0, 2), -128);
  EXPECT_EQ(c.overflow.at(stage::kActSaturate), 2u);
  EXPECT_EQ(calibrate_amax(x), 5.0f);
  MatrixF bad = x;
  bad(0, 2) = INFINITY;
  EXPECT_THROW(quantize_per_token(bad), Error);
}

}  // namespace
}  // namespace quasar
