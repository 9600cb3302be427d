// Bit fields of Verilated ports, for the arrays whose vector ports are wider than one scalar:
// a `width`-bit field at bit `lsb` of a plain integer port (<= 64 bits) or a VlWide (32-bit
// words).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace quasar::rtl {

template <class Port>
void set_field(Port& port, int lsb, int width, std::uint64_t value) {
  for (int b = 0; b < width; ++b) {
    const std::uint64_t bit = (value >> b) & 1u;
    const int at = lsb + b;
    if constexpr (std::is_integral_v<Port>) {
      const auto m = static_cast<Port>(Port{1} << at);
      port = static_cast<Port>(bit ? (port | m) : (port & static_cast<Port>(~m)));
    } else {
      auto& word = port[static_cast<std::size_t>(at / 32)];
      const std::uint32_t m = 1u << (at % 32);
      word = bit ? (word | m) : (word & ~m);
    }
  }
}

template <class Port>
std::uint64_t get_field(const Port& port, int lsb, int width) {
  std::uint64_t v = 0;
  for (int b = 0; b < width; ++b) {
    const int at = lsb + b;
    std::uint64_t bit;
    if constexpr (std::is_integral_v<Port>) {
      bit = (static_cast<std::uint64_t>(port) >> at) & 1u;
    } else {
      bit = (port[static_cast<std::size_t>(at / 32)] >> (at % 32)) & 1u;
    }
    v |= bit << b;
  }
  return v;
}

}  // namespace quasar::rtl
