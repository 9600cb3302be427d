#include "float_formats.hpp"

#include <cmath>

namespace quasar {
std::uint16_t f32_to_bf16(float f) {
  const std::uint32_t x = detail::bits_of(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((x >> 16) | 0x40u);
  // Adding 0x7fff plus the kept LSB rounds the low half to nearest-even; a carry propagates
  // into the exponent (and to infinity past the largest bfloat16), as RNE requires.
  return static_cast<std::uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

float bf16_to_f32(std::uint16_t h) { return detail::float_of(static_cast<std::uint32_t>(h) << 16); }

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
