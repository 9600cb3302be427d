// A core's timing rules around its array, in cycles: plain C++ shared by both fidelities, so
// they cannot disagree on anything but the array itself.
//   TileTiming   how long a tile's load takes (weight port, fused dequantizers; OS: until the
//                ports can sustain the stream), when each streamed token can enter (buffer
//                ports), and how long the edge units work on a drained tile.
//   EdgeQueue    the edge units take drained tiles in order, one at a time.
#pragma once

#include <algorithm>
#include <cstdint>

#include "arch/arch_spec.hpp"
#include "arch/tile_command.hpp"

namespace quasar::arch {

inline std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return b ? (a + b - 1) / b : 0; }

struct LoadCycles {
  std::uint64_t total = 0, port_extra = 0, dequant_extra = 0;
};

class TileTiming {
 public:
  explicit TileTiming(const ArchSpec& a) : a_(a) {}

  // Load phase. Weight-stationary: the protocol takes `rows` cycles; the weight buffer's read
  // port (the tile's packed codes and scales) or the fused dequantizers in front of the array
  // may take longer. Output-stationary: no weight preload, but the array cannot take bubbles
  // in its stream, so a tile waits here until the ifmap and weight ports (and the
  // dequantizers) can sustain one step per cycle to its end. The extra cycles are charged to
  // whichever is slower.
  LoadCycles load_cycles(const Tile& t) const {
    const bool ws = a_.array.dataflow == Dataflow::ws;
    const std::uint64_t base = ws ? a_.array.rows : t.stream_steps;
    const std::uint64_t deq =
        t.dequant_ops ? ceil_div(t.dequant_ops, std::max<std::uint32_t>(a_.edge.dequant_units, 1))
                      : 0;
    std::uint64_t port = 0;
    if (ws) {
      port = ceil_div(t.weight_read_bytes, a_.buffers.weight.bytes_per_cycle);
    } else {
      port = std::max(
          ceil_div(t.stream_steps * t.x_bytes_per_step, a_.buffers.ifmap.bytes_per_cycle),
          ceil_div(t.stream_steps * t.w_bytes_per_step, a_.buffers.weight.bytes_per_cycle));
    }
    LoadCycles l;
    const std::uint64_t need = std::max({base, port, deq});
    l.total = ws ? need : need - base;
    if (deq >= port) {
      l.dequant_extra = need - base;
    } else {
      l.port_extra = need - base;
    }
    return l;
  }

  // The stream cycle (0-based) at which token `i` enters the array: one token per cycle unless
  // the ifmap read port (activations) or the ofmap ports (chained partial sums in, results out;
  // separate read and write ports) cannot deliver a token's bytes every cycle. Each port
  // accumulates bytes_per_cycle of credit per cycle; a token goes when every port has its bytes.
  std::uint64_t token_cycle(const Tile& t, std::uint64_t i) const {
    std::uint64_t c = i;
    auto port = [&](std::uint64_t need, std::uint32_t bpc) {
      if (need > bpc) c = std::max(c, ceil_div((i + 1) * need, bpc) - 1);
    };
    port(t.x_bytes_per_step, a_.buffers.ifmap.bytes_per_cycle);
    port(t.psum_in_bytes_per_step, a_.buffers.ofmap.bytes_per_cycle);
    port(t.psum_out_bytes_per_step, a_.buffers.ofmap.bytes_per_cycle);
    return c;
  }

  // Stream cycles of a weight-stationary tile, port bubbles included.
  std::uint64_t ws_stream_cycles(const Tile& t) const {
    return t.stream_steps ? token_cycle(t, t.stream_steps - 1) + 1 : 0;
  }

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
