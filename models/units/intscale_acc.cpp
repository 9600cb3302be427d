#include "units/intscale_acc.hpp"

namespace quasar::units {

IntScaleAcc::IntScaleAcc(int acc_bits) : acc_bits_(checked_acc_bits(acc_bits, "intscale_acc")) {}

}  // namespace quasar::units
