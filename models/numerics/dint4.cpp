#include "dint4.hpp"

#include <cmath>
#include <cstdlib>

namespace quasar {

namespace {

// Set A: two's complement int4 with 0111 = +0.5, 1001 = -0.5, 1000 unused.
constexpr Dint4Table kSetA{"dint4",
                           {0, 2, 4, 6, 8, 10, 12, 1, 0, -1, -12, -10, -8, -6, -4, -2},
                           {true, true, true, true, true, true, true, true, false, true, true, true,
                            true, true, true, true},
                           6};

// Set B: sign-magnitude s|mmm, magnitude 000 read as 0.5; no exact zero.
constexpr Dint4Table kSetB{"dint4b",
                           {1, 2, 4, 6, 8, 10, 12, 14, -1, -2, -4, -6, -8, -10, -12, -14},
                           {true, true, true, true, true, true, true, true, true, true, true, true,
                            true, true, true, true},
                           7};

}  // namespace

std::string_view dint_set_name(DintSet s) { return dint4_table(s).name; }

const Dint4Table& dint4_table(DintSet s) { return s == DintSet::A ? kSetA : kSetB; }

std::uint8_t dint4_encode(float u, DintSet s) {
  const Dint4Table& t = dint4_table(s);
  const double target = 2.0 * static_cast<double>(u);  // exact
  int best = -1;
  double best_dist = 0.0;
  for (int code = 0; code < 16; ++code) {
    if (!t.valid[code]) continue;
    const double dist = std::fabs(target - t.w2[code]);
    const bool better =
        best < 0 || dist < best_dist ||
        (dist == best_dist &&
         (std::abs(t.w2[code]) > std::abs(t.w2[best]) ||
          // equal magnitudes tie only between +v and -v: prefer the sign of u
          (std::abs(t.w2[code]) == std::abs(t.w2[best]) && (t.w2[code] > 0) == !std::signbit(u))));
    if (better) {
      best = code;
      best_dist = dist;
    }
  }
  return static_cast<std::uint8_t>(best);
}

}  // namespace quasar
