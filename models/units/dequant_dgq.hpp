// C++ model of rtl/units/dequant_dgq.v: DGQ's level-2 dequantization of one weight,
// w8 = (q - z) * S2 (spec w4a8-dgq), saturated to numerics' kDgqDequantRange.
#pragma once

#include <cstdint>

namespace quasar::units {

struct DequantDgqResult {
  std::int8_t w8;     // (q - z) * S2, clamped to kDgqDequantRange
  bool out_of_range;  // the exact value was outside the range (a bad trace): counted, clamped
};

// q and z: uint4 in the low 4 bits of their bytes; s2: the int8 group scale port. Valid traces
// have S2 in 1..127 and values in range; any other input still gets the defined clamp.
DequantDgqResult dequant_dgq(std::uint8_t q, std::uint8_t z, std::int8_t s2);

}  // namespace quasar::units
