// A core's edge units' timing rules, in cycles: plain C++ shared by both fidelities (the array's
// own rules, load and stream included: arch/array/array_model.hpp).
//   TileTiming   how long the edge units work on a drained tile.
//   EdgeQueue    the edge units take drained tiles in order, one at a time.
#pragma once

#include <algorithm>
#include <cstdint>

#include "arch/arch_spec.hpp"
#include "arch/sram/buffer.hpp"
#include "arch/tile_command.hpp"

namespace quasar::arch {

class TileTiming {
 public:
  explicit TileTiming(const ArchSpec& a) : a_(a) {}

  // Cycles the edge needs for a drained tile: group rescales, then the epilogue.
  std::uint64_t edge_cycles(const Tile& t) const {
    std::uint64_t c = 0;
    if (t.rescale_ops) {
      const std::uint64_t units = scale_units(a_.edge, t.rescale_unit);
      const std::uint64_t lat = scale_unit_latency(a_.edge, t.rescale_unit);
      c += ceil_div(t.rescale_ops, std::max<std::uint64_t>(units, 1)) + lat;
    }
    if (t.epilogue_ops)
      c += ceil_div(t.epilogue_ops, a_.edge.epilogue_units) + a_.edge.epilogue_latency_cycles;
    return c;
  }

 private:
  const ArchSpec& a_;
};

// The edge units take drained tiles in order, each once free of the previous one.
class EdgeQueue {
 public:
  struct Taken {
    std::uint64_t accept = 0;  // the edge takes the tile (the array's results are handed off)
    std::uint64_t finish = 0;  // its outputs are ready to write
  };
  Taken take(std::uint64_t drained, std::uint64_t edge_cycles) {
    Taken t;
    t.accept = std::max(drained, free_);
    t.finish = free_ = t.accept + edge_cycles;
    return t;
  }

 private:
  std::uint64_t free_ = 0;
};

}  // namespace quasar::arch
