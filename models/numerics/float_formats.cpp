#include "float_formats.hpp"

#include <cmath>
#include <cstring>

namespace quasar {
namespace {

std::uint32_t bits_of(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

float float_of(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// Shift right by `shift` bits rounding to nearest, ties to even.
std::uint32_t shift_rne(std::uint32_t v, unsigned shift) {
  const std::uint32_t kept = v >> shift;
  const std::uint32_t rem = v & ((1u << shift) - 1u);
  const std::uint32_t half = 1u << (shift - 1u);
  return kept + ((rem > half || (rem == half && (kept & 1u))) ? 1u : 0u);
}

}  // namespace

std::uint16_t f32_to_f16(float f) {
  const std::uint32_t x = bits_of(f);
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
    return static_cast<std::uint16_t>(sign | shift_rne(mant, 126u - exp));
  }
  // Normal: rebias the exponent (127 -> 15) and round the 13 dropped mantissa bits; a carry
  // out of the mantissa correctly bumps the exponent.
  return static_cast<std::uint16_t>(sign | shift_rne(a - (112u << 23), 13u));
}

float f16_to_f32(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1fu;
  const std::uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    // Subnormal or zero: mant * 2^-24 is exact in binary32.
    const float mag = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -mag : mag;
  }
  if (exp == 31) return float_of(sign | 0x7f800000u | (mant << 13));
  return float_of(sign | ((exp + 112u) << 23) | (mant << 13));
}

std::uint16_t f32_to_bf16(float f) {
  const std::uint32_t x = bits_of(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((x >> 16) | 0x40u);
  // Adding 0x7fff plus the kept LSB rounds the low half to nearest-even; a carry propagates
  // into the exponent (and to infinity past the largest bfloat16), as RNE requires.
  return static_cast<std::uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

float bf16_to_f32(std::uint16_t h) { return float_of(static_cast<std::uint32_t>(h) << 16); }

std::string_view scale_dtype_name(ScaleDtype d) {
  switch (d) {
    case ScaleDtype::fp16:
      return "fp16";
    case ScaleDtype::bf16:
      return "bf16";
    case ScaleDtype::fp32:
      return "fp32";
  }
  return "?";
}

float round_to_scale_dtype(float s, ScaleDtype d) {
  switch (d) {
    case ScaleDtype::fp16:
      return f16_to_f32(f32_to_f16(s));
    case ScaleDtype::bf16:
      return bf16_to_f32(f32_to_bf16(s));
    case ScaleDtype::fp32:
      return s;
  }
  return s;
}

float exp2_exact(int e) { return std::ldexp(1.0f, e); }

double round_half_even(double v) {
  // nearbyint follows the current rounding mode; quasar never changes it from the default
  // round-to-nearest-even, which is what the spec's RNE means.
  return std::nearbyint(v);
}

}  // namespace quasar
