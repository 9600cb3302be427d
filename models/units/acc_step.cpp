#include "units/acc_step.hpp"

#include <string>

#include "numerics/error.hpp"

namespace quasar::units {

int checked_acc_bits(int acc_bits, const char* unit) {
  if (acc_bits < 2 || acc_bits > 64) {
    throw Error(std::string(unit) + ": accumulator width " + std::to_string(acc_bits) +
                " out of range; accepted: 2..64");
  }
  return acc_bits;
}

}  // namespace quasar::units
