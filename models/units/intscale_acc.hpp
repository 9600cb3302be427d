// C++ model of rtl/units/intscale_acc.v: the Integer Scale group accumulator of spec w4a8-is,
// acc_out = wrap_W(acc_in + P * S) with the product exact, W in 32/40/48/64 (any 2..64 here).
#pragma once

#include <cstdint>

#include "units/acc_step.hpp"

namespace quasar::units {

class IntScaleAcc {
 public:
  explicit IntScaleAcc(int acc_bits = 32);
  int acc_bits() const { return acc_bits_; }
  // p: the group partial sum (int32 port), s: the integer group scale (int32 port). The
  // product of two int64 values is exact in 128 bits, so any port widths up to 64 are modelled.
  AccStep step(std::int64_t acc_in, std::int64_t p, std::int64_t s) const {
    return accumulate(acc_in, static_cast<int128_t>(p) * s, acc_bits_);
  }

 private:
  int acc_bits_;
};

}  // namespace quasar::units
