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

VectorBlocks::VectorBlocks(const VectorWork& w, std::uint64_t instances)
    : v(w),
      per_row_block(std::max<std::uint64_t>(w.rows_per_block, 1)),
      per_instance((w.rows + per_row_block - 1) / per_row_block),
      count(per_instance * instances) {}

std::uint64_t VectorBlocks::rows(std::uint64_t b) const {
  return std::min(per_row_block, v.rows - (b % per_instance) * per_row_block);
}

std::uint64_t VectorBlocks::read_bytes(std::uint64_t b) const {
  return rows(b) * v.read_bytes + (first(b) ? v.fixed_read_bytes : 0);
}

void account_vector_block(LayerStats& ls, const VectorWork& v, std::uint64_t rows, bool first,
                          std::uint64_t c) {
  ls.vector_busy += c;
  ls.vector_lane_ops += rows * v.lane_ops + (first ? v.fixed_lane_ops : 0);
  ls.vector_sfu_ops += rows * v.sfu_ops;
  ++ls.vector_blocks;
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
    const VectorBlocks bl(v, lw.instances);
    const std::uint64_t blocks = bl.count;
    // Block b's read: its rows, and the per-instance bytes with an instance's first block.
    const auto issue_read = [&](std::uint64_t b) {
      issue_block_read(reads, ls, bl.read_bytes(b), [&](DramRequest& r) { read_port.submit(r); });
    };
    if (blocks > 0) issue_read(0);
    if (blocks > 1) issue_read(1);
    for (std::uint64_t b = 0; b < blocks; ++b) {
      DramRequest& r = reads.front();
      if (r.bytes > 0) DramPort::wait_done(r);
      reads.pop_front();
      const std::uint64_t rows = bl.rows(b);
      const std::uint64_t c = vector_block_cycles(a_.vector, v, rows, bl.first(b));
      wait_until_cycle(sim_cycle() + c);
      account_vector_block(ls, v, rows, bl.first(b), c);
      end = std::max(end, sim_cycle());
      // The block's half of the scratchpad is free: the block after next loads into it.
      if (b + 2 < blocks) issue_read(b + 2);
      fold_answered(writes, end);
      issue_block_write(writes, ls, rows * v.write_bytes,
                        [&](DramRequest& w) { write_port.submit(w); });
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
