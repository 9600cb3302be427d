#include "units/mac.hpp"

namespace quasar::units {

MacInt8::MacInt8(int acc_bits) : acc_bits_(checked_acc_bits(acc_bits, "mac_int8")) {}

MacW4A8::MacW4A8(int acc_bits) : acc_bits_(checked_acc_bits(acc_bits, "mac_w4a8")) {}

MacDint4::MacDint4(DintSet set, int acc_bits)
    : set_(set), acc_bits_(checked_acc_bits(acc_bits, "mac_dint4")), table_(&dint4_table(set)) {}

MacE2m1E4m3::MacE2m1E4m3(int acc_bits) : acc_bits_(checked_acc_bits(acc_bits, "mac_e2m1xe4m3")) {}

MacE2m1E2m1::MacE2m1E2m1(int acc_bits) : acc_bits_(checked_acc_bits(acc_bits, "mac_e2m1xe2m1")) {}

}  // namespace quasar::units
