#include "counters.hpp"

namespace quasar {

std::string act::add_int(int bits) { return "add.int" + std::to_string(bits); }
std::string act::mul_int(int a_bits, int b_bits) {
  return "mul.int" + std::to_string(a_bits) + "xint" + std::to_string(b_bits);
}

std::string act::intscale_mul(int psum_bits, int scale_bits) {
  return "intscale." + mul_int(psum_bits, scale_bits);
}
std::string act::intscale_add(int acc_bits) { return "intscale." + add_int(acc_bits); }

std::uint64_t GemmCounters::action(const std::string& name) const {
  const auto it = actions.find(name);
  return it == actions.end() ? 0 : it->second;
}

std::uint64_t GemmCounters::overflow_events() const {
  std::uint64_t n = 0;
  for (const auto& kv : overflow) n += stage::is_overflow_stage(kv.first) ? kv.second : 0;
  return n;
}

std::uint64_t GemmCounters::other_events() const {
  std::uint64_t n = 0;
  for (const auto& kv : overflow) n += stage::is_overflow_stage(kv.first) ? 0 : kv.second;
  return n;
}

void GemmCounters::merge(const GemmCounters& o) {
  for (const auto& kv : o.actions) actions[kv.first] += kv.second;
  for (const auto& kv : o.overflow) overflow[kv.first] += kv.second;
  invalid_codes += o.invalid_codes;
}

}  // namespace quasar
