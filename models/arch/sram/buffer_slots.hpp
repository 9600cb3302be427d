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

class BufferSlots {
 public:
  // Checks that `depth` prefetched tiles' weights fit the weight buffer together, for every
  // layer of `work`.
  BufferSlots(const ArchSpec& a, const std::vector<LayerWork>& work);
  std::uint64_t depth() const { return depth_; }
  // The array: tile g's operands have all entered it by cycle t (published in tile order).
  void release(std::uint64_t g, std::uint64_t t);
  // The fetch engine (a thread): waits until tile g has a free slot.
  void acquire(std::uint64_t g);

 private:
  std::uint64_t depth_;
  std::vector<std::uint64_t> free_at_;  // a ring, by tile number
  std::uint64_t published_ = 0;         // tiles whose slot time is known
  sc_core::sc_event event_;
};

}  // namespace quasar::arch
