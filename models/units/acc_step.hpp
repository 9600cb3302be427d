// One step of a fixed-width signed accumulator, the shared back end of every MAC-shaped unit.
// Same rule as numerics' WrappingAccumulator (spec preamble): the term is exact, the kept value
// is the exact sum modulo 2^W, and the step is an overflow event when the exact sum leaves W bits.
#pragma once

#include <cstdint>

#include "numerics/int_formats.hpp"

namespace quasar::units {

struct AccStep {
  std::int64_t acc;  // wrap_W(acc_in + term)
  bool overflow;     // acc_in + term (exact) is outside the W-bit signed range
};

// acc_in must already lie in the acc_bits range (it is what a W-bit register can hold).
inline AccStep accumulate(std::int64_t acc_in, int128_t term, int acc_bits) {
  const int128_t exact = static_cast<int128_t>(acc_in) + term;
  if (fits_signed(exact, acc_bits)) return {static_cast<std::int64_t>(exact), false};
  return {wrap_signed(exact, acc_bits), true};
}

// Accepted accumulator widths (2..64); throws quasar::Error naming the unit otherwise.
int checked_acc_bits(int acc_bits, const char* unit);

// The value a `bits`-wide two's complement port carries in its low bits (bits 1..64).
inline std::int64_t sign_extend(std::uint64_t raw, int bits) {
  return wrap_signed(static_cast<int128_t>(raw), bits);
}

}  // namespace quasar::units
