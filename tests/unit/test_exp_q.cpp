// exp_q (arithmetic spec §7): the bounds, the flush, exact points, and its accuracy against the
// double-precision exp on a dense sweep (the spec's polynomial has max relative error 5.1e-6 on
// [0, 1); rounding t and f adds a few ulps of t's magnitude).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "numerics/exp_q.hpp"

namespace {

std::uint32_t bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

TEST(ExpQ, ExactPointsAndBounds) {
  EXPECT_EQ(quasar::exp_q(0.0f), 1.0f);
  EXPECT_EQ(quasar::exp_q(-0.0f), 1.0f);
  // t >= 128 is +inf; x = 88.8 gives t = 128.1.
  EXPECT_TRUE(std::isinf(quasar::exp_q(88.8f)));
  EXPECT_GT(quasar::exp_q(88.8f), 0.0f);
  EXPECT_TRUE(std::isinf(quasar::exp_q(INFINITY)));
  // t < -126 flushes to +0 (no subnormal results): x = -87.4 gives t = -126.09.
  EXPECT_EQ(bits(quasar::exp_q(-87.4f)), 0u);
  EXPECT_EQ(bits(quasar::exp_q(-INFINITY)), 0u);
  // The smallest result is normal: t = -126 exactly gives 2^-126.
  const float x126 = -126.0f / 1.44269502162933349609375f;  // t rounds to -126 or just above
  EXPECT_GE(quasar::exp_q(x126), 1.17549435e-38f);
  EXPECT_EQ(bits(quasar::exp_q(NAN)), 0x7fc00000u);
}

TEST(ExpQ, AccurateOverTheRange) {
  double worst = 0;
  for (float x = -87.0f; x < 88.0f; x += 0.0137f) {
    const double want = std::exp(static_cast<double>(x));
    const double got = quasar::exp_q(x);
    worst = std::max(worst, std::fabs(got - want) / want);
  }
  // 5.1e-6 from the polynomial, plus t = F32(x * L) rounding: |t| ulp 2^-17 near 128, times ln 2.
  EXPECT_LT(worst, 2e-5);
  EXPECT_GT(worst, 1e-7);  // it is an approximation: an exact exp here would be a different unit
}

TEST(ExpQ, NearZeroNegativeRoundsFToOne) {
  // t in (-2^-25, 0): n = -1 and F32(t - n) rounds to 1.0; the result stays just below 1.
  const float r = quasar::exp_q(-1e-9f);
  EXPECT_LE(r, 1.0f);
  EXPECT_GT(r, 0.99999f);
}

TEST(ExpQ, MonotoneOnAGrid) {
  float prev = 0;
  for (float x = -80.0f; x < 80.0f; x += 0.25f) {
    const float r = quasar::exp_q(x);
    EXPECT_GT(r, prev) << x;
    prev = r;
  }
}

}  // namespace
