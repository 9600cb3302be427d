// The vector unit of a core, as a SystemC module: the non-GEMM records of a run (norms, RoPE,
// softmax, activations, residual adds, activation quantization, KV-cache appends) on fp32
// lanes and special-function (SFU) lanes, next to the MAC array and independent of it.
//
// It walks its core's layers in order and runs those with vector work (LayerWork::vector): it
// waits for the layers they read (LayerBarrier), then works through the rows in blocks. Its
// scratchpad holds two blocks, so the next block's read overlaps this block's compute; each
// block's results are written behind it without stalling the unit. A layer is closed when its
// last write is complete. Timing rules (plain C++, the same in both fidelities: the vector unit
// has no register model; its cycles follow from the block's shape and the unit's widths):
//   block cycles = max(ceil((rows x lane_ops [+ fixed_lane_ops on an instance's first block])
//                           / lanes), ceil(rows x sfu_ops / sfu_lanes)) + passes x latency_cycles.
// It has its own DMA: a read and a write port on the DRAM controller, after its core's two.
#pragma once

#include <systemc>

#include <cstdint>
#include <vector>

#include "arch/arch_spec.hpp"
#include "arch/core/layer_barrier.hpp"
#include "arch/dram/dram_controller.hpp"
#include "arch/workload.hpp"

namespace quasar::arch {

// Cycles the unit computes one block of `rows` rows of `w` (`first`: an instance's first block).
std::uint64_t vector_block_cycles(const VectorSpec& v, const VectorWork& w, std::uint64_t rows,
                                  bool first = false);

// The rows of block b of a record's instance-major blocks, and the bytes its read moves (its
// rows, and the per-instance bytes with an instance's first block).
struct VectorBlocks {
  explicit VectorBlocks(const VectorWork& w, std::uint64_t instances);
  std::uint64_t rows(std::uint64_t b) const;
  bool first(std::uint64_t b) const { return b % per_instance == 0; }
  std::uint64_t read_bytes(std::uint64_t b) const;
  const VectorWork& v;
  std::uint64_t per_row_block, per_instance, count;
};
// A computed block in the layer's statistics (`c`: its cycles).
void account_vector_block(LayerStats& ls, const VectorWork& v, std::uint64_t rows, bool first,
                          std::uint64_t c);

// The unit's DMA, for either kernel: a block's read goes into `q` (always: the unit takes its
// blocks' reads in order, empty ones too) and to the DRAM when it has bytes; a block's write
// only when it has bytes. Each counts in the layer's DRAM traffic; `submit(request)` sends one.
template <class Q, class Submit>
void issue_block_read(Q& q, LayerStats& ls, std::uint64_t bytes, Submit&& submit) {
  q.emplace_back();
  auto& r = q.back();
  r.dir = DramDir::read;
  r.bytes = bytes;
  ls.dram_read_bytes += bytes;
  if (bytes > 0) submit(r);
}
template <class Q, class Submit>
void issue_block_write(Q& q, LayerStats& ls, std::uint64_t bytes, Submit&& submit) {
  if (bytes == 0) return;
  q.emplace_back();
  auto& w = q.back();
  w.dir = DramDir::write;
  w.bytes = bytes;
  ls.dram_write_bytes += bytes;
  submit(w);
}

class VectorUnit : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(VectorUnit);
  // `stats` is the core's: the unit adds to the layers it runs.
  VectorUnit(sc_core::sc_module_name n, const ArchSpec& a, const std::vector<LayerWork>& work,
             LayerBarrier& barrier, RunStats& stats);

  DramPort read_port, write_port;
  bool done = false;
  std::uint64_t last_end = 0;  // when its last layer was complete

 private:
  void run();
  const ArchSpec& a_;
  const std::vector<LayerWork>& work_;
  LayerBarrier& barrier_;
  RunStats& stats_;
};

}  // namespace quasar::arch
