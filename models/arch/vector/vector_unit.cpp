#include "arch/vector/vector_unit.hpp"

#include <algorithm>
#include <deque>

namespace quasar::arch {

std::uint64_t vector_block_cycles(const VectorSpec& v, const VectorWork& w, std::uint64_t rows,
                                  bool first) {
  const auto cd = [](std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; };
  const std::uint64_t lane = cd(rows * w.lane_ops + (first ? w.fixed_lane_ops : 0), v.lanes);
  const std::uint64_t sfu = w.sfu_ops ? cd(rows * w.sfu_ops, v.sfu_lanes) : 0;
  return std::max(lane, sfu) + w.passes * v.latency_cycles;
}

VectorUnit::VectorUnit(sc_core::sc_module_name n, const ArchSpec& a,
                       const std::vector<LayerWork>& work, LayerBarrier& barrier, RunStats& stats)
    : sc_module(n),
      read_port("read_port"),
      write_port("write_port"),
      a_(a),
      work_(work),
      barrier_(barrier),
      stats_(stats) {
  SC_THREAD(run);
}

void VectorUnit::run() {
  std::deque<DramRequest> reads, writes;  // stable addresses while in flight
  for (const std::size_t l : barrier_.order()) {
    const LayerWork& lw = work_[l];
    const VectorWork& v = lw.vector;
    if (!v.present()) continue;
    std::uint64_t end = barrier_.wait_for(lw.after);
    LayerStats& ls = stats_.layers[l];
    const std::uint64_t rpb = std::max<std::uint64_t>(v.rows_per_block, 1);
    const std::uint64_t per_inst = (v.rows + rpb - 1) / rpb;
    const std::uint64_t blocks = per_inst * lw.instances;
    const auto rows_of = [&](std::uint64_t b) {
      const std::uint64_t i = b % per_inst;
      return std::min(rpb, v.rows - i * rpb);
    };
    // Block b's read: its rows, and the per-instance bytes with an instance's first block.
    const auto issue_read = [&](std::uint64_t b) {
      reads.emplace_back();
      DramRequest& r = reads.back();
      r.dir = DramDir::read;
      r.bytes = rows_of(b) * v.read_bytes + (b % per_inst == 0 ? v.fixed_read_bytes : 0);
      ls.dram_read_bytes += r.bytes;
      if (r.bytes > 0) read_port.submit(r);
    };
    if (blocks > 0) issue_read(0);
    if (blocks > 1) issue_read(1);
    for (std::uint64_t b = 0; b < blocks; ++b) {
      DramRequest& r = reads.front();
      if (r.bytes > 0) DramPort::wait_done(r);
      reads.pop_front();
      const std::uint64_t rows = rows_of(b);
      const bool first = b % per_inst == 0;
      const std::uint64_t c = vector_block_cycles(a_.vector, v, rows, first);
      wait_until_cycle(sim_cycle() + c);
      ls.vector_busy += c;
      ls.vector_lane_ops += rows * v.lane_ops + (first ? v.fixed_lane_ops : 0);
      ls.vector_sfu_ops += rows * v.sfu_ops;
      ++ls.vector_blocks;
      end = std::max(end, sim_cycle());
      // The block's half of the scratchpad is free: the block after next loads into it.
      if (b + 2 < blocks) issue_read(b + 2);
      // Answered writes only matter by when they complete: fold them in and let them go.
      while (!writes.empty() && writes.front().resolved) {
        end = std::max(end, writes.front().done_cycle);
        writes.pop_front();
      }
      if (rows * v.write_bytes > 0) {
        writes.emplace_back();
        DramRequest& w = writes.back();
        w.dir = DramDir::write;
        w.bytes = rows * v.write_bytes;
        ls.dram_write_bytes += w.bytes;
        write_port.submit(w);
      }
    }
    for (DramRequest& w : writes) {
      DramPort::wait_done(w);
      end = std::max(end, w.done_cycle);
    }
    writes.clear();
    wait_until_cycle(end);
    barrier_.close(l, end);
    last_end = std::max(last_end, end);
  }
  done = true;
}

}  // namespace quasar::arch
