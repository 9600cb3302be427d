// The on-chip SRAM buffers (ifmap, weight, ofmap) as the core's timing and the mapping use
// them: plain C++ rules, in cycles and bytes. A buffer's banks are interleaved behind its port,
// so a port moves `bytes_per_cycle` whatever the bank count (banks set the macro size the cost
// model prices); double buffering halves what one tile may use (the other half fills
// meanwhile). The slots the fetch engine fills and the array frees: buffer_slots.hpp.
#pragma once

#include <cstdint>

#include "arch/arch_spec.hpp"

namespace quasar::arch {

// ceil(a / b) without the a + b - 1 overflow (plans size huge layers with it); 0 when b is 0.
inline std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) {
  return b ? a / b + (a % b != 0) : 0;
}

// Bytes of the buffer one tile may use.
inline std::uint64_t usable_bytes(const BufferSpec& b) {
  return b.double_buffered ? b.size_bytes / 2 : b.size_bytes;
}

// Cycles the buffer's port needs to move `bytes`.
inline std::uint64_t port_cycles(const BufferSpec& b, std::uint64_t bytes) {
  return ceil_div(bytes, b.bytes_per_cycle);
}

// The cycle (0-based, from the stream's start) by which the port has delivered step i's bytes
// when every step needs `need` bytes: the port gains bytes_per_cycle of credit a cycle, so one
// step a cycle unless the port is short. A stream step goes when all its ports have its bytes.
inline std::uint64_t port_step_ready(const BufferSpec& b, std::uint64_t need, std::uint64_t i) {
  return need > b.bytes_per_cycle ? ceil_div((i + 1) * need, b.bytes_per_cycle) - 1 : i;
}

}  // namespace quasar::arch
