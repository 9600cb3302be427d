// C++ models of the float units of rtl/units (floatscale_acc, mac_fp16, exp_q): one combinational
// step on binary32 bit patterns, computed with C++ float arithmetic exactly as the numerics
// reference does it (the project builds with -ffp-contract=off: every * and + rounds on its
// own, RNE, with subnormals; no flush-to-zero).
//
// NaN canonicalization [choice]: the RTL returns one NaN, the quiet NaN 0x7fc00000, for every
// NaN result. The payload and sign of a NaN that C++ computes depend on which operand the
// compiler puts first (x86 returns the first NaN operand, and `a * b` may be emitted either
// way) and on the "default NaN" of the host (x86: 0xffc00000), so no RTL could match them.
// The models therefore return the canonical NaN too, and the RTL is compared bit for bit; a
// NaN stays a NaN either way (the reference's outputs F16(NaN) are NaNs in both cases).
#pragma once

#include <cstdint>

namespace quasar::units {

inline constexpr std::uint32_t kCanonicalNanF32 = 0x7fc00000u;

// The bits of f, with any NaN replaced by kCanonicalNanF32.
std::uint32_t canonical_f32_bits(float f);

// floatscale_acc: acc + F32(p) * s, the w4a8-fs group step of gemm_w4a8_fs (convert, multiply,
// add: three RNE roundings in that order).
struct FloatScaleAcc {
  // The step on floats, as the reference writes it (NaN payloads as the host computes them).
  static float step_value(float acc_in, std::int32_t p, float s);
  // The step on the ports' bits: what the RTL's `sum` must equal.
  static std::uint32_t step(std::uint32_t acc_in, std::int32_t p, std::uint32_t s);
};

// mac_fp16: acc + F32(w) * F32(x) with w, x binary16 (the product is exact in binary32, the add
// rounds RNE), one k step of gemm_fp16.
struct MacFp16 {
  static float step_value(float acc_in, std::uint16_t w, std::uint16_t x);
  static std::uint32_t step(std::uint32_t acc_in, std::uint16_t w, std::uint16_t x);
};

// exp_q: quasar::exp_q (models/numerics/exp_q.hpp, arithmetic spec §7) on binary32 bits. Its NaN
// result is already the canonical NaN; step canonicalizes anyway, like the other models.
struct ExpQ {
  static std::uint32_t step(std::uint32_t x);
};

}  // namespace quasar::units
