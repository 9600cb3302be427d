#include "arch/core/tile_timing.hpp"

#include <algorithm>

namespace quasar::arch {

// The tile's actions and on-chip traffic: the same in both fidelities (the cost model's input).
void account_tile(const Tile& t, LayerStats& ls) {
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

void DbAccount::tile(LayerStats& ls, const ArrayTileTimes& tt, std::uint64_t edge_took,
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

void account_phases(LayerStats& ls, const Tile& t, const LoadCycles& load,
                       std::uint64_t stream_cycles, std::uint64_t drain_cycles) {
  ls.load += load.total, ls.stream += stream_cycles, ls.drain += drain_cycles;
  ls.stall_port += load.port_extra + (stream_cycles - t.stream_steps);
  ls.stall_dequant += load.dequant_extra;
}

std::uint64_t account_fetch(LayerStats& ls, const Tile& t, const LayerWork& lw, bool first) {
  const std::uint64_t bytes = t.weight_bytes + t.act_bytes + t.spill_read_bytes;
  const std::uint64_t pre_read = first ? lw.materialize_bytes - lw.materialize_write_bytes : 0;
  const std::uint64_t pre_write = first ? lw.materialize_write_bytes : 0;
  ls.dram_read_bytes += bytes + pre_read;
  ls.dram_write_bytes += pre_write;
  if (first) ls.dequant_ops += lw.materialize_dequant_ops;
  return bytes;
}

std::uint64_t single_start(LayerStats& ls, std::uint64_t array_free, std::uint64_t accept_prev,
                           std::uint64_t ready) {
  const std::uint64_t after_edge = std::max(array_free, accept_prev);
  ls.stall_edge += after_edge - array_free;
  const std::uint64_t start = std::max(after_edge, ready);
  ls.stall_dram += start - after_edge;
  return start;
}

}  // namespace quasar::arch
