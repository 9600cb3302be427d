// Is the fp16/bf16 conversion right? Checked exhaustively (all 65,536 codes both ways, every
// rounding tie between neighbouring codes) and on a large random sample of floats, against
// independent implementations: the compiler's _Float16 (libgcc soft-float) for fp16, and a
// nearest-neighbour search in double for bf16.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "numerics/float_formats.hpp"
#include "numerics/synthetic.hpp"

namespace quasar {
namespace {

float from_bits(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
std::uint32_t to_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

std::uint16_t compiler_f16(float f) {
  const _Float16 h = static_cast<_Float16>(f);
  std::uint16_t u;
  std::memcpy(&u, &h, sizeof u);
  return u;
}
float compiler_f16_to_f32(std::uint16_t u) {
  _Float16 h;
  std::memcpy(&h, &u, sizeof h);
  return static_cast<float>(h);
}

// Independent bf16 RNE: pick the nearer of the two bf16 neighbours of f by exact comparison
// in double; ties go to the even code.
std::uint16_t nearest_bf16(float f) {
  const std::uint32_t u = to_bits(f);
  const std::uint32_t down = u & 0xffff0000u;  // toward zero
  const std::uint32_t up = down + 0x10000u;    // away from zero (may become inf)
  const double df = std::fabs(static_cast<double>(f));
  const double d_down = df - std::fabs(static_cast<double>(from_bits(down)));
  double up_mag = std::fabs(static_cast<double>(from_bits(up)));
  if (std::isinf(up_mag)) up_mag = std::ldexp(1.0, 128);  // the rounding boundary beyond max
  const double d_up = up_mag - df;
  if (d_down < d_up) return static_cast<std::uint16_t>(down >> 16);
  if (d_up < d_down) return static_cast<std::uint16_t>(up >> 16);
  return static_cast<std::uint16_t>(((down >> 16) & 1u) ? up >> 16 : down >> 16);
}

bool same_f16(std::uint16_t a, std::uint16_t b) {
  // NaNs agree on NaN-ness and sign; payloads of quieted NaNs may differ by implementation.
  if (f16_is_nan(a) || f16_is_nan(b))
    return f16_is_nan(a) && f16_is_nan(b) && ((a ^ b) & 0x8000u) == 0;
  return a == b;
}

TEST(Fp16, AllCodesToF32MatchCompiler) {
  for (std::uint32_t c = 0; c < 65536; ++c) {
    const auto h = static_cast<std::uint16_t>(c);
    const float ours = f16_to_f32(h), ref = compiler_f16_to_f32(h);
    if (std::isnan(ref)) {
      ASSERT_TRUE(std::isnan(ours)) << std::hex << c;
    } else {
      ASSERT_EQ(to_bits(ours), to_bits(ref)) << std::hex << c;
    }
  }
}

TEST(Fp16, AllCodesRoundTripAndMatchCompiler) {
  for (std::uint32_t c = 0; c < 65536; ++c) {
    const auto h = static_cast<std::uint16_t>(c);
    const float f = f16_to_f32(h);
    ASSERT_TRUE(same_f16(f32_to_f16(f), f16_is_nan(h) ? std::uint16_t(h | 0x200u) : h))
        << std::hex << c;
    ASSERT_TRUE(same_f16(f32_to_f16(f), compiler_f16(f))) << std::hex << c;
  }
}

// Every midpoint between adjacent finite fp16 values (the RNE ties), and one float-ulp either
// side of it, for both signs.
TEST(Fp16, AllTiesAndNeighboursMatchCompiler) {
  for (std::uint32_t c = 0; c < 0x7c00u; ++c) {
    const double lo = f16_to_f32(static_cast<std::uint16_t>(c));
    const double hi = c + 1 == 0x7c00u ? 65536.0 : f16_to_f32(static_cast<std::uint16_t>(c + 1));
    const auto mid = static_cast<float>((lo + hi) / 2);  // exact in fp32
    for (float f : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, INFINITY)}) {
      for (float s : {f, -f}) {
        ASSERT_EQ(f32_to_f16(s), compiler_f16(s)) << s;
      }
    }
  }
}

TEST(Fp16, RandomFloatsMatchCompiler) {
  Rng rng(2024);
  for (int i = 0; i < 4'000'000; ++i) {
    const float f = from_bits(static_cast<std::uint32_t>(rng.next()));
    ASSERT_TRUE(same_f16(f32_to_f16(f), compiler_f16(f))) << std::hex << to_bits(f);
  }
  // The same count concentrated on fp16's own exponent range, where rounding is interesting.
  for (int i = 0; i < 4'000'000; ++i) {
    const auto u = static_cast<std::uint32_t>(rng.next());
    const float f = from_bits((u & 0x807fffffu) | ((100u + (u >> 23) % 45u) << 23));
    ASSERT_EQ(f32_to_f16(f), compiler_f16(f)) << std::hex << to_bits(f);
  }
}

TEST(Fp16, NamedCases) {
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7bffu);               // largest finite
  EXPECT_EQ(f32_to_f16(65519.99f), 0x7bffu);              // just below the tie rounds down
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00u);               // the tie goes to even = inf
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -24)), 0x0001u);  // smallest subnormal
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000u);  // tie to even zero
  EXPECT_EQ(f32_to_f16(std::ldexp(1.5f, -25)), 0x0001u);
  EXPECT_EQ(f32_to_f16(-0.0f), 0x8000u);
  EXPECT_EQ(f32_to_f16(INFINITY), 0x7c00u);
  EXPECT_TRUE(f16_is_nan(f32_to_f16(NAN)));
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00u);      // tie, even is 1.0
  EXPECT_EQ(f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02u);  // tie, even is up
}

TEST(Bf16, AllCodesRoundTrip) {
  for (std::uint32_t c = 0; c < 65536; ++c) {
    const auto h = static_cast<std::uint16_t>(c);
    const float f = bf16_to_f32(h);
    ASSERT_EQ(to_bits(f), c << 16);
    const std::uint16_t back = f32_to_bf16(f);
    if (std::isnan(f)) {
      ASSERT_TRUE(std::isnan(bf16_to_f32(back)));
    } else {
      ASSERT_EQ(back, h) << std::hex << c;
    }
  }
}

TEST(Bf16, AllTiesAndRandomFloatsMatchNearestSearch) {
  for (std::uint32_t c = 0; c < 0x7f80u; ++c) {
    const float mid = from_bits((c << 16) | 0x8000u);  // exactly between code c and c + 1
    for (float f : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, INFINITY)}) {
      for (float s : {f, -f}) ASSERT_EQ(f32_to_bf16(s), nearest_bf16(s)) << std::hex << to_bits(s);
    }
  }
  Rng rng(7);
  for (int i = 0; i < 4'000'000; ++i) {
    const float f = from_bits(static_cast<std::uint32_t>(rng.next()));
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_bf16(f), nearest_bf16(f)) << std::hex << to_bits(f);
  }
}

TEST(ScaleDtype, RoundsToStorageType) {
  EXPECT_EQ(round_to_scale_dtype(0.1f, ScaleDtype::fp32), 0.1f);
  EXPECT_EQ(round_to_scale_dtype(0.1f, ScaleDtype::fp16), f16_to_f32(f32_to_f16(0.1f)));
  EXPECT_NE(round_to_scale_dtype(0.1f, ScaleDtype::fp16), 0.1f);
  EXPECT_EQ(round_to_scale_dtype(0.1f, ScaleDtype::bf16), bf16_to_f32(f32_to_bf16(0.1f)));
}

TEST(Rounding, HalfEven) {
  EXPECT_EQ(round_half_even(0.5), 0.0);
  EXPECT_EQ(round_half_even(1.5), 2.0);
  EXPECT_EQ(round_half_even(2.5), 2.0);
  EXPECT_EQ(round_half_even(-2.5), -2.0);
  EXPECT_EQ(round_half_even(-3.5), -4.0);
}

}  // namespace
}  // namespace quasar
