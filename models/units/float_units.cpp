#include "units/float_units.hpp"

#include "numerics/exp_q.hpp"
#include "numerics/float_formats.hpp"

namespace quasar::units {

std::uint32_t canonical_f32_bits(float f) {
  const std::uint32_t u = detail::bits_of(f);
  return (u & 0x7fffffffu) > 0x7f800000u ? kCanonicalNanF32 : u;
}

float FloatScaleAcc::step_value(float acc_in, std::int32_t p, float s) {
  // Written as gemm_w4a8_fs writes it: term first, then acc + term.
  const float term = static_cast<float>(p) * s;
  return acc_in + term;
}

std::uint32_t FloatScaleAcc::step(std::uint32_t acc_in, std::int32_t p, std::uint32_t s) {
  return canonical_f32_bits(step_value(detail::float_of(acc_in), p, detail::float_of(s)));
}

float MacFp16::step_value(float acc_in, std::uint16_t w, std::uint16_t x) {
  // gemm_fp16's inner step: sum + xv * w.
  return acc_in + f16_to_f32(x) * f16_to_f32(w);
}

std::uint32_t MacFp16::step(std::uint32_t acc_in, std::uint16_t w, std::uint16_t x) {
  return canonical_f32_bits(step_value(detail::float_of(acc_in), w, x));
}

std::uint32_t ExpQ::step(std::uint32_t x) { return canonical_f32_bits(exp_q(detail::float_of(x))); }

}  // namespace quasar::units
