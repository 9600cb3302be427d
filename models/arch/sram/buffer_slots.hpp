// The operand buffers' slots, between a core's fetch engine and its array: the engine fills one
// slot per tile, at most `depth` tiles ahead of the array (buffers.prefetch_depth), and a slot
// is free again once its tile's operands have all entered the array. A channel, not a module:
// it holds no process, only the times the array publishes and an event the fetch engine waits
// on.
#pragma once

#include <systemc>

#include <cstdint>
#include <vector>

#include "arch/arch_spec.hpp"
#include "arch/workload.hpp"

namespace quasar::arch {

// The slots' times (plain C++: BufferSlots and the event-loop kernel add how the fetch engine
// waits for them).
class SlotTimes {
 public:
  // Checks that `depth` prefetched tiles' weights fit the weight buffer together, for every
  // layer of `work`.
  SlotTimes(const ArchSpec& a, const std::vector<LayerWork>& work);
  std::uint64_t depth() const { return depth_; }
  // The ring size for state kept per tile in flight (a power of two, at least depth + 2).
  std::uint64_t ring() const { return mask_ + 1; }
  // The array: tile g's operands have all entered it by cycle t (published in tile order).
  void publish(std::uint64_t g, std::uint64_t t) {
    free_at_[g & mask_] = t;
    published_ = g + 1;
  }
  // Whether tile g's slot time is known (its slot is tile g - depth's), and that time (0:
  // one of the first `depth` tiles, whose slots are free from the start).
  bool known(std::uint64_t g) const { return g < depth_ || published_ > g - depth_; }
  std::uint64_t free_at(std::uint64_t g) const {
    return g < depth_ ? 0 : free_at_[(g - depth_) & mask_];
  }

 private:
  std::uint64_t depth_;
  // A ring by tile number of a power of two entries, at least depth + 2 (indexing by a mask:
  // a division a tile was a tenth of the event-loop kernel's time).
  std::uint64_t mask_;
  std::vector<std::uint64_t> free_at_;
  std::uint64_t published_ = 0;         // tiles whose slot time is known
};

class BufferSlots : public SlotTimes {
 public:
  using SlotTimes::SlotTimes;
  // The array: tile g's operands have all entered it by cycle t (published in tile order).
  void release(std::uint64_t g, std::uint64_t t);
  // The fetch engine (a thread): waits until tile g has a free slot.
  void acquire(std::uint64_t g);

 private:
  sc_core::sc_event event_;
};

}  // namespace quasar::arch
