// A core's two DMA engines, as SystemC modules on the DRAM controller (each through its own
// initiator socket: fetches, then writes, in requester order).
//   FetchDma  walks the core's tile stream and fetches each tile's operands (weights,
//             activations, spilled partial sums) into a free buffer slot: a tile's fetch is
//             issued once the previous one has been issued, its slot is free (BufferSlots) and,
//             for a layer's first tile, the layers it reads are written (LayerBarrier). A
//             dequantize-to-memory pass is one stream on the bus before a layer's first tile
//             of each instance. The array asks when tile g's operands are in.
//   WriteDma  writes each tile's outputs (and spilled partial sums) once the edge units have
//             finished them, and closes a layer when its last write is complete; layers without
//             tiles close with the layer before them (at cycle 0 when first; a layer the core
//             has nothing of at cycle 0), so whoever waits for them is never stuck. The vector
//             unit's layers are its own to close. Both walk the layers in the run's order
//             (LayerBarrier::order).
#pragma once

#include <systemc>

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "arch/core/layer_barrier.hpp"
#include "arch/dram/dram_controller.hpp"
#include "arch/sram/buffer_slots.hpp"
#include "arch/workload.hpp"

namespace quasar::arch {

// The write engine's rules for layers it has no tiles of (plain C++, shared with the event-loop
// kernel). A layer this core has nothing of (no instances: another core runs it whole, or split
// heads left this core none) closes at once, at cycle 0, so the layers reading it wait for the
// cores that run it only, not for this core to reach it in its list.
template <class Barrier>
void close_nothing_layers(const std::vector<LayerWork>& work, RunStats& stats, Barrier& b) {
  for (std::size_t l = 0; l < work.size(); ++l) {
    if (work[l].instances != 0 || work[l].vector.present()) continue;
    stats.layers[l].cycles = 0;
    b.close(l, 0);
  }
}
// From position `next` of the order on, the layers without tiles (the vector unit closes its
// own, nothing-layers are closed already) close with the layer before them, at `prev_end`;
// returns the position of the first layer with tiles.
template <class Barrier>
std::size_t close_tileless_layers(const std::vector<LayerWork>& work,
                                  const std::vector<std::size_t>& order, std::size_t next,
                                  std::uint64_t prev_end, RunStats& stats, Barrier& b) {
  for (; next < order.size(); ++next) {
    const LayerWork& lw = work[order[next]];
    if (lw.instances != 0 && played_tiles(lw.tiles, lw.runs) != 0) break;
    if (lw.vector.present() || lw.instances == 0) continue;
    stats.layers[order[next]].cycles = 0;
    b.close(order[next], prev_end);
  }
  return next;
}

class FetchDma : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(FetchDma);
  // `stats` is the core's: the engine counts the DRAM reads it issues.
  FetchDma(sc_core::sc_module_name n, const std::vector<LayerWork>& work, BufferSlots& slots,
           LayerBarrier& barrier, RunStats& stats);

  DramPort port;

  // For the array (a thread): waits until tile g's fetch is issued and complete; returns the
  // cycle its operands were in.
  std::uint64_t ready(std::uint64_t g);
  // Whether tile g's fetch has been issued, and (issued) whether its operands are in by cycle t.
  bool issued(std::uint64_t g) const { return issued_ > g; }
  bool in_hand(std::uint64_t g, std::uint64_t t) const;
  const sc_core::sc_event& issued_event() const { return issued_event_; }
  const std::uint64_t& issued_count() const { return issued_; }  // tiles issued (waveforms)
  // When tile g's fetch was issued, and when its operands were in (for a tile the array has
  // started and whose ring entry the engine has not reused: tile logs).
  std::uint64_t issued_at(std::uint64_t g) const { return fetch_[g % fetch_.size()]->issued_at; }
  std::uint64_t ready_at(std::uint64_t g) const {
    const Fetch& f = *fetch_[g % fetch_.size()];
    return f.req.bytes == 0 ? f.issued_at : f.req.done_cycle;
  }

 private:
  struct Fetch {
    DramRequest req;
    std::uint64_t issued_at = 0;
  };
  void run();
  const std::vector<LayerWork>& work_;
  BufferSlots& slots_;
  LayerBarrier& barrier_;
  RunStats& stats_;
  // Fetched tiles: a ring of depth + 2 entries by tile number (the array has used an entry by
  // the time the engine, held back by the slots, reuses it).
  std::vector<std::unique_ptr<Fetch>> fetch_;
  std::uint64_t issued_ = 0;
  sc_core::sc_event issued_event_;
};

class WriteDma : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(WriteDma);
  WriteDma(sc_core::sc_module_name n, const std::vector<LayerWork>& work, LayerBarrier& barrier,
           RunStats& stats);

  DramPort port;

  // A tile's outputs are ready at cycle `at` (in tile order); `bytes` may be 0 for a layer's
  // last tile, which closes the layer. `tile`: its number in the core's stream (tile logs).
  struct Job {
    std::uint64_t at = 0, bytes = 0;
    std::size_t layer = 0;
    bool last_in_layer = false;
    std::uint64_t tile = 0;
  };
  void push(const Job& j);
  // No more jobs: the engine ends once it has written the ones it has.
  void finish();
  bool done = false;  // every job written and every layer closed; stats.cycles set
  std::uint64_t pending = 0;  // jobs pushed and not yet written (waveforms)
  // When set (before the simulation starts): each write's issue and completion cycles go into
  // (*log)[job.tile] (the core's tile log, whose entry the array has made by then).
  std::vector<TileEvents>* log = nullptr;

 private:
  void run();
  const std::vector<LayerWork>& work_;
  LayerBarrier& barrier_;
  RunStats& stats_;
  std::deque<Job> jobs_;
  bool finished_ = false;
  sc_core::sc_event job_event_;
};

}  // namespace quasar::arch
