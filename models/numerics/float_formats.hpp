// IEEE binary16, bfloat16 and binary32 conversions with round-to-nearest-even, subnormals,
// overflow to infinity and quiet NaNs: the F16(x) and F32(x) of the arithmetic spec.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include "hd.hpp"

namespace quasar {

namespace detail {
QUASAR_HD inline std::uint32_t bits_of(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
QUASAR_HD inline float float_of(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
// Shift right by `shift` (1..31) bits rounding to nearest, ties to even.
QUASAR_HD inline std::uint32_t shift_rne(std::uint32_t v, unsigned shift) {
  const std::uint32_t kept = v >> shift;
  const std::uint32_t rem = v & ((1u << shift) - 1u);
  const std::uint32_t half = 1u << (shift - 1u);
  return kept + ((rem > half || (rem == half && (kept & 1u))) ? 1u : 0u);
}
}  // namespace detail

// Inline and host/device: the CUDA path converts with exactly this code.
QUASAR_HD inline std::uint16_t f32_to_f16(float f) {
  const std::uint32_t x = detail::bits_of(f);
  const auto sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  const std::uint32_t a = x & 0x7fffffffu;
  if (a > 0x7f800000u) {  // NaN: keep the top payload bits, force quiet
    return static_cast<std::uint16_t>(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
  }
  // 65520 = halfway between the largest half (65504) and 2^16; ties-to-even goes up to inf.
  if (a >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);
  if (a < 0x38800000u) {                // below 2^-14: half subnormal or zero
    if (a <= 0x33000000u) return sign;  // <= 2^-25 (the tie at 2^-25 goes to even zero)
    const std::uint32_t exp = a >> 23;
    const std::uint32_t mant = (a & 0x7fffffu) | 0x800000u;
    // value = mant * 2^(exp-150); in units of 2^-24 that is mant >> (126 - exp).
    return static_cast<std::uint16_t>(sign | detail::shift_rne(mant, 126u - exp));
  }
  // Normal: rebias the exponent (127 -> 15) and round the 13 dropped mantissa bits; a carry
  // out of the mantissa correctly bumps the exponent.
  return static_cast<std::uint16_t>(sign | detail::shift_rne(a - (112u << 23), 13u));
}

QUASAR_HD inline float f16_to_f32(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1fu;
  const std::uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    // Subnormal or zero: mant * 2^-24, exact in binary32.
    const float mag = static_cast<float>(mant) * 5.9604644775390625e-08f;
    return sign ? -mag : mag;
  }
  if (exp == 31) return detail::float_of(sign | 0x7f800000u | (mant << 13));
  return detail::float_of(sign | ((exp + 112u) << 23) | (mant << 13));
}
std::uint16_t f32_to_bf16(float f);
float bf16_to_f32(std::uint16_t h);

QUASAR_HD inline bool f16_is_nan(std::uint16_t h) {
  return (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu);
}
QUASAR_HD inline bool f16_is_inf(std::uint16_t h) { return (h & 0x7fffu) == 0x7c00u; }

// Storage types accepted for scales (spec section 1). A scale is kept as the float value it
// has after rounding to its storage type, so every later F32(s) is exact.
enum class ScaleDtype { fp16, bf16, fp32 };
std::string_view scale_dtype_name(ScaleDtype d);
float round_to_scale_dtype(float s, ScaleDtype d);

// 2^e as a float, exact for e in [-149, 127].
float exp2_exact(int e);

// RNE of a float to the nearest integer (ties to even), as a double so no range is lost.
double round_half_even(double v);

}  // namespace quasar
