#include "arch/sram/buffer_slots.hpp"

#include <algorithm>
#include <string>

#include "arch/sim_clock.hpp"
#include "numerics/error.hpp"

namespace quasar::arch {
namespace {

// 2^k - 1 for the least 2^k >= n.
std::uint64_t ring_mask(std::uint64_t n) {
  std::uint64_t m = 1;
  while (m < n) m <<= 1;
  return m - 1;
}

}  // namespace

SlotTimes::SlotTimes(const ArchSpec& a, const std::vector<LayerWork>& work)
    : depth_(prefetch_depth(a.buffers)), mask_(ring_mask(depth_ + 2)), free_at_(mask_ + 1, 0) {
  for (const LayerWork& lw : work) {
    std::uint64_t most = 0;
    for (const Tile& t : lw.tiles) most = std::max(most, t.weight_bytes);
    if (most * depth_ > a.buffers.weight.size_bytes)
      throw Error("layer '" + lw.name + "': " + std::to_string(depth_) + " prefetched tiles of " +
                  std::to_string(most) + " B of weights do not fit the " +
                  std::to_string(a.buffers.weight.size_bytes) +
                  " B weight buffer (buffers.prefetch_depth, buffers.weight.size_kib)");
  }
}

void BufferSlots::release(std::uint64_t g, std::uint64_t t) {
  publish(g, t);
  // Notified at the slot's free time, not at once: the fetch engine would only wake to wait
  // for that time (one activation a tile less; acquire still waits for the time itself, so a
  // notification the kernel merges into an earlier one changes nothing).
  const std::uint64_t now = sim_cycle();
  if (t > now)
    event_.notify(cycles(t - now));
  else
    event_.notify(sc_core::SC_ZERO_TIME);
}

void BufferSlots::acquire(std::uint64_t g) {
  while (!known(g)) sc_core::wait(event_);
  wait_until_cycle(free_at(g));
}

}  // namespace quasar::arch
