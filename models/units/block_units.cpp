#include "units/block_units.hpp"

#include "numerics/float_formats.hpp"
#include "units/acc_step.hpp"
#include "units/float_units.hpp"

namespace quasar::units {

BlockDot block_dot(BlockElem w_fmt, const std::uint8_t* w, BlockElem x_fmt, const std::uint8_t* x,
                   int n) {
  BlockDot d;
  for (int k = 0; k < n; ++k) {
    d.n_invalid += !elem_valid(w_fmt, w[k]);
    d.n_invalid += !elem_valid(x_fmt, x[k]);
    d.sum += elem_int(x_fmt, x[k]) * elem_int(w_fmt, w[k]);
  }
  return d;
}

MxFixedStep MxFixedAcc::step(std::int64_t acc_in, std::int32_t sum, std::uint8_t sx,
                             std::uint8_t sw, int unit, int acc_bits, int frac_bits) {
  MxFixedStep r;
  if (!e8m0_valid(sx) || !e8m0_valid(sw)) {
    r.acc = acc_in;
    r.invalid_scale = true;
    return r;
  }
  const FixedTerm t = block_term_fixed(sum, mx_block_shift(sx, sw, unit) + frac_bits, acc_bits);
  const AccStep a = accumulate(acc_in, t.value, acc_bits);
  r.acc = a.acc;
  r.overflow = t.overflow || a.overflow;
  r.align_round = t.rounded;
  return r;
}

MxFp32Step MxFp32Acc::step(std::uint32_t acc_in, std::int32_t sum, std::uint8_t sx, std::uint8_t sw,
                           int unit) {
  MxFp32Step r;
  const float term = block_term_fp32(sum, mx_block_shift(sx, sw, unit));
  r.term = detail::bits_of(term);
  r.invalid_scale = !e8m0_valid(sx) || !e8m0_valid(sw);
  r.acc = r.invalid_scale ? acc_in : canonical_f32_bits(detail::float_of(acc_in) + term);
  return r;
}

Nvfp4Fp32Step Nvfp4Fp32Acc::step(std::uint32_t acc_in, std::int32_t sum, std::uint8_t sx,
                                 std::uint8_t sw) {
  Nvfp4Fp32Step r;
  const float term = nvfp4_block_term(sum, sx, sw);
  r.scale = detail::bits_of(nvfp4_scale_product(sx, sw));
  r.term = detail::bits_of(term);
  r.acc = canonical_f32_bits(detail::float_of(acc_in) + term);
  return r;
}

}  // namespace quasar::units
