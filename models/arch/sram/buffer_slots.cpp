#include "arch/sram/buffer_slots.hpp"

#include <algorithm>
#include <string>

#include "arch/sim_clock.hpp"
#include "numerics/error.hpp"

namespace quasar::arch {

BufferSlots::BufferSlots(const ArchSpec& a, const std::vector<LayerWork>& work)
    : depth_(prefetch_depth(a.buffers)), free_at_(depth_ + 2, 0) {
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
  free_at_[g % free_at_.size()] = t;
  published_ = g + 1;
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
  if (g < depth_) return;
  while (published_ <= g - depth_) sc_core::wait(event_);
  wait_until_cycle(free_at_[(g - depth_) % free_at_.size()]);
}

}  // namespace quasar::arch
