// Two's complement integer formats and fixed-width accumulators. A named width W wraps modulo
// 2^W (spec preamble); every wrap is an overflow event the caller counts.
#pragma once

#include <cstdint>
#include <string_view>

#include "hd.hpp"

namespace quasar {

// GCC/Clang 128-bit integer: exact sums of two 64-bit values, for detecting 64-bit wraps.
__extension__ typedef __int128 int128_t;
__extension__ typedef unsigned __int128 uint128_t;

// Weight code formats of spec section 1 (dint4's value set is chosen separately, DintSet).
enum class WeightFormat { int8, int4, uint4, dint4 };
std::string_view weight_format_name(WeightFormat f);

struct IntRange {
  std::int64_t lo;
  std::int64_t hi;
  bool contains(std::int64_t v) const { return v >= lo && v <= hi; }
};

// Range of the stored codes of a weight format (dint4: the raw 4-bit code, 0..15).
IntRange code_range(WeightFormat f);

constexpr IntRange signed_range(int bits) {
  return bits >= 64
             ? IntRange{INT64_MIN, INT64_MAX}
             : IntRange{-(std::int64_t{1} << (bits - 1)), (std::int64_t{1} << (bits - 1)) - 1};
}

QUASAR_HD inline bool fits_signed(int128_t v, int bits) {
  const int128_t lim = int128_t{1} << (bits - 1);
  return v >= -lim && v < lim;
}

// Reduce v modulo 2^bits into the signed range (two's complement wrap).
QUASAR_HD inline std::int64_t wrap_signed(int128_t v, int bits) {
  const auto u = static_cast<uint128_t>(v);
  const uint128_t mask = (static_cast<uint128_t>(1) << bits) - 1;
  uint128_t low = u & mask;
  if (low >> (bits - 1)) low |= ~mask;  // sign-extend
  return static_cast<std::int64_t>(static_cast<int128_t>(low));
}

// A signed accumulator of `bits` (2..64) that wraps and counts every wrap.
class WrappingAccumulator {
 public:
  QUASAR_HD explicit WrappingAccumulator(int bits) : bits_(bits) {}
  QUASAR_HD void add(int128_t term) {
    const int128_t exact = static_cast<int128_t>(value_) + term;
    if (fits_signed(exact, bits_)) {
      value_ = static_cast<std::int64_t>(exact);
    } else {
      value_ = wrap_signed(exact, bits_);
      ++wraps_;
    }
  }
  QUASAR_HD std::int64_t value() const { return value_; }
  QUASAR_HD std::uint64_t wraps() const { return wraps_; }

 private:
  int bits_;
  std::int64_t value_ = 0;
  std::uint64_t wraps_ = 0;
};

}  // namespace quasar
