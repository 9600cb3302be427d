// IEEE binary16, bfloat16 and binary32 conversions with round-to-nearest-even, subnormals,
// overflow to infinity and quiet NaNs: the F16(x) and F32(x) of the arithmetic spec.
#pragma once

#include <cstdint>
#include <string_view>

namespace quasar {

std::uint16_t f32_to_f16(float f);
float f16_to_f32(std::uint16_t h);
std::uint16_t f32_to_bf16(float f);
float bf16_to_f32(std::uint16_t h);

inline bool f16_is_nan(std::uint16_t h) { return (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu); }
inline bool f16_is_inf(std::uint16_t h) { return (h & 0x7fffu) == 0x7c00u; }

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
