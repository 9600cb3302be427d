// A core's edge units' timing rules, in cycles: plain C++ shared by both fidelities (the array's
// own rules, load and stream included: arch/array/array_model.hpp).
//   TileTiming   how long the edge units work on a drained tile.
//   EdgeQueue    the edge units take drained tiles in order, one at a time.
// And the statistics a core keeps of its tiles, shared by the SystemC model (core/core.cpp) and
// the event-loop kernel (arch/event_loop), so both count the same way.
#pragma once

#include <algorithm>
#include <cstdint>

#include "arch/arch_spec.hpp"
#include "arch/array/array_model.hpp"
#include "arch/sram/buffer.hpp"
#include "arch/tile_command.hpp"
#include "arch/workload.hpp"

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

// The tile's actions and on-chip traffic: the same in both fidelities (the cost model's input).
void account_tile(const Tile& t, LayerStats& ls);

// A tile's operand fetch (and, with an instance's first tile, its layer's dequantize-to-memory
// pass) in the layer's DRAM traffic; returns the bytes the tile's fetch reads.
std::uint64_t account_fetch(LayerStats& ls, const Tile& t, const LayerWork& lw, bool first);

// A tile's phases as if alone (double-buffered tiles overlap, so theirs add up to more than the
// time) and the cycles its ports and dequantizers cost.
void account_phases(LayerStats& ls, const Tile& t, const LoadCycles& load,
                       std::uint64_t stream_cycles, std::uint64_t drain_cycles);

// A single-buffered tile's start: once the array is free, the edge has taken the previous
// tile and its operands are in (`ready`); the idle time before it charged to the edge, then to
// the operands.
std::uint64_t single_start(LayerStats& ls, std::uint64_t array_free, std::uint64_t accept_prev,
                           std::uint64_t ready);

// Statistics of double-buffered tiles: the array busy over the union of its tiles' [load start,
// done), and an idle gap before a tile charged to the edge while it still held the bank's
// previous tile, the rest to the operands.
struct DbAccount {
  std::uint64_t busy_until = 0;
  void tile(LayerStats& ls, const ArrayTileTimes& tt, std::uint64_t edge_took,
            std::uint64_t floor);
};

// ---- definitions (inline: they run for every tile of a fast-mode run) ----

inline void account_tile(const Tile& t, LayerStats& ls) {
  ls.macs += t.m * t.rows_used * t.cols_used;
  ls.dequant_ops += t.dequant_ops;
  (t.rescale_unit == ScaleUnit::intscale ? ls.intscale_ops
   : t.rescale_unit == ScaleUnit::block  ? ls.block_ops
                                         : ls.floatscale_ops) += t.rescale_ops;
  ls.epilogue_ops += t.epilogue_ops;
  ls.scale_writes += t.scale_writes;
  ls.scale_reads += t.scale_reads;
  ls.ifmap_write_bytes += t.act_bytes;
  ls.ifmap_read_bytes += t.ifmap_read_bytes;
  ls.weight_write_bytes += t.weight_bytes;
  ls.weight_read_bytes += t.weight_read_bytes;
  ls.ofmap_read_bytes += t.ofmap_read_bytes;
  ls.ofmap_write_bytes += t.ofmap_write_bytes;
  ls.dram_write_bytes += t.out_bytes + t.spill_write_bytes;  // (reads: counted as fetched)
  ++ls.tiles;
}

inline void DbAccount::tile(LayerStats& ls, const ArrayTileTimes& tt, std::uint64_t edge_took,
                            std::uint64_t floor) {
  const std::uint64_t from = std::max(busy_until, floor);
  if (tt.load_start > from) {
    const std::uint64_t gap = tt.load_start - from;
    const std::uint64_t edge = std::min(gap, edge_took > from ? edge_took - from : 0);
    ls.stall_edge += edge;
    ls.stall_dram += gap - edge;
  }
  ls.array_busy += tt.done - std::max(tt.load_start, busy_until);
  busy_until = std::max(busy_until, tt.done);
}

inline void account_phases(LayerStats& ls, const Tile& t, const LoadCycles& load,
                       std::uint64_t stream_cycles, std::uint64_t drain_cycles) {
  ls.load += load.total, ls.stream += stream_cycles, ls.drain += drain_cycles;
  ls.stall_port += load.port_extra + (stream_cycles - t.stream_steps);
  ls.stall_dequant += load.dequant_extra;
}

inline std::uint64_t account_fetch(LayerStats& ls, const Tile& t, const LayerWork& lw, bool first) {
  const std::uint64_t bytes = t.weight_bytes + t.act_bytes + t.spill_read_bytes;
  const std::uint64_t pre_read = first ? lw.materialize_bytes - lw.materialize_write_bytes : 0;
  const std::uint64_t pre_write = first ? lw.materialize_write_bytes : 0;
  ls.dram_read_bytes += bytes + pre_read;
  ls.dram_write_bytes += pre_write;
  if (first) ls.dequant_ops += lw.materialize_dequant_ops;
  return bytes;
}

inline std::uint64_t single_start(LayerStats& ls, std::uint64_t array_free,
                                  std::uint64_t accept_prev, std::uint64_t ready) {
  const std::uint64_t after_edge = std::max(array_free, accept_prev);
  ls.stall_edge += after_edge - array_free;
  const std::uint64_t start = std::max(after_edge, ready);
  ls.stall_dram += start - after_edge;
  return start;
}

}  // namespace quasar::arch
