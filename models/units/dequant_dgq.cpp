#include "units/dequant_dgq.hpp"

#include "numerics/gemm.hpp"

namespace quasar::units {

DequantDgqResult dequant_dgq(std::uint8_t q, std::uint8_t z, std::int8_t s2) {
  // The same expression and clamp as numerics' dequant_row (two_level_value, then the range).
  const int v = (static_cast<int>(q & 0xFu) - static_cast<int>(z & 0xFu)) * s2;
  if (v < kDgqDequantRange.lo) return {static_cast<std::int8_t>(kDgqDequantRange.lo), true};
  if (v > kDgqDequantRange.hi) return {static_cast<std::int8_t>(kDgqDequantRange.hi), true};
  return {static_cast<std::int8_t>(v), false};
}

}  // namespace quasar::units
