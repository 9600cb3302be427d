// dint4: the dINT paper's 4-bit hybrid integer + denormal weight code (spec section 1).
// The decode tables below are the single source of truth; encoders are derived from them.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace quasar {

// [choice, spec section 1] The paper does not publish its code table. Set A is the default.
enum class DintSet { A, B };
std::string_view dint_set_name(DintSet s);

struct Dint4Table {
  std::string_view name;
  // w2 = 2 * value, in half-LSB units of the weight scale, indexed by the 4-bit code.
  std::array<std::int8_t, 16> w2;
  // false for codes a well-formed encoder never emits (set A: 1000); they decode as 0 and
  // count as invalid-code events.
  std::array<bool, 16> valid;
  // Largest |value| (the level a per-channel scale maps max|W| to): 6 for A, 7 for B.
  int max_level;
};

const Dint4Table& dint4_table(DintSet s);

// Nearest code to u = w / s (value in units of the scale), ties to the larger magnitude
// [choice]; set B has no zero: +0 goes to +0.5 and -0 to -0.5 (the sign bit breaks the tie).
// u must be finite.
std::uint8_t dint4_encode(float u, DintSet s);

}  // namespace quasar
