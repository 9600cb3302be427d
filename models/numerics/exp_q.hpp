// exp_q: the one fp32 exponential every implementation uses (arithmetic spec §7), since IEEE
// fixes no exp. Written once, inline and host/device, so the reference, the accelerator
// datapath and the CUDA path run this very code; the Verilog unit (rtl/units) is proven equal
// to it bit for bit.
//   t = F32(x * L), L = F32(log2 e); t >= 128 -> +inf; t < -126 -> +0 [choice: flush, as the
//   spec states]; n = floor(t); f = F32(t - n) in [0, 1); p = Horner in fp32, every multiply and
//   add rounded on its own (no FMA: the build uses -ffp-contract=off); result p * 2^n, exact.
// NaN in -> NaN out (t is NaN, neither bound holds, and the polynomial keeps it) [choice: the
// canonical quiet NaN 0x7fc00000, so every implementation can match the bits].
#pragma once

#include <cstdint>

#include "float_formats.hpp"
#include "hd.hpp"

namespace quasar {

namespace exp_q_consts {
inline constexpr std::uint32_t kLog2e = 0x3FB8AA3Bu;
inline constexpr std::uint32_t kC0 = 0x3F800000u, kC1 = 0x3F3168B1u, kC2 = 0x3E773CD3u,
                               kC3 = 0x3D5509F0u, kC4 = 0x3C5DBDF8u;
inline constexpr std::uint32_t kCanonicalNan = 0x7fc00000u;
}  // namespace exp_q_consts

QUASAR_HD inline float exp_q(float x) {
  using namespace exp_q_consts;
  using detail::float_of;
  const float t = x * float_of(kLog2e);
  if (t != t) return float_of(kCanonicalNan);
  if (t >= 128.0f) return float_of(0x7f800000u);
  if (t < -126.0f) return 0.0f;
  // -126 <= t < 128: n fits an int and floor is exact.
  int n = static_cast<int>(t);
  if (static_cast<float>(n) > t) --n;
  // F32(t - n): exact for t >= 0; for t in (-1, 0) it rounds, and may round to 1.0 (t > -2^-25),
  // where p(1) = 1.99999...: p stays in [1, 2), so the exponent add below stays exact.
  const float f = t - static_cast<float>(n);
  float p = float_of(kC4);
  p = p * f + float_of(kC3);
  p = p * f + float_of(kC2);
  p = p * f + float_of(kC1);
  p = p * f + float_of(kC0);
  // p in [1, 2), n in [-126, 127]: p * 2^n is a normal float, built exactly by adding n to the
  // exponent field.
  return float_of(detail::bits_of(p) + (static_cast<std::uint32_t>(n) << 23));
}

}  // namespace quasar
