// One accelerator core as a SystemC module: its fetch DMA, its array (a process here, driving
// the array model of its dataflow), the edge units, its write DMA and, when the design has one,
// its vector unit, talking through the DRAM controller, the buffer slots and a few published
// times, so that fetching, computing and writing overlap.
//   FetchDma  (child module) fetches each tile's operands into a free buffer slot;
//   array     runs the tiles on the MAC array: one at a time, or double-buffered (WS: the next
//             tile's load during this tile's stream and drain; OS: the next tile's stream
//             during this one's unload); hands each drained tile to the edge units (EdgeQueue);
//   WriteDma  (child module) writes each tile's outputs once the edge has finished them and
//             closes a layer when its last write is complete.
// The array process has one loop per buffering mode, for any dataflow (ArrayModel). Fast and
// cycle fidelity differ only there: fast advances by the array's closed forms; cycle ticks the
// register model every cycle and takes each phase's end from its signals. Time: 1 ns of
// simulated time is one cycle.
#pragma once

#include <systemc>

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "arch/arch_spec.hpp"
#include "arch/array/array_model.hpp"
#include "arch/core/layer_barrier.hpp"
#include "arch/core/tile_timing.hpp"
#include "arch/dma/dma.hpp"
#include "arch/dram/dram_controller.hpp"
#include "arch/sram/buffer_slots.hpp"
#include "arch/vector/vector_unit.hpp"
#include "arch/workload.hpp"

namespace quasar::arch {

// Tiles done across every core of one simulation (the caller's progress callback).
class TileMeter {
 public:
  virtual ~TileMeter() = default;
  virtual void tile_done() = 0;
};

class Core : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Core);
  // `work` has every layer of the run (this core's share, possibly without tiles). Bind both
  // DMA engines' ports to the DRAM controller's socket (fetch, then write: their requester
  // order), then the vector unit's.
  Core(sc_core::sc_module_name n, const ArchSpec& a, const std::vector<LayerWork>& work,
       Fidelity f, std::uint32_t id, LayerBarrier& barrier, TileMeter& meter);

  RunStats stats;

  // (Members in construction order: the DMA modules take the slots and the statistics above.)
 private:
  const ArchSpec& a_;
  const std::vector<LayerWork>& work_;
  Fidelity f_;
  std::uint32_t id_;
  LayerBarrier& barrier_;
  TileMeter& meter_;
  TileTiming timing_;
  EdgeQueue edge_;
  std::unique_ptr<ArrayModel> model_;
  BufferSlots slots_;

 public:
  FetchDma fetch;   // operand fetches (and dequantize-to-memory passes)
  WriteDma writer;  // finished outputs and spilled partial sums
  // The vector unit (a child module), when the design has one.
  std::unique_ptr<VectorUnit> vector;
  bool finished() const { return writer.done && (!vector || vector->done); }
  // What the cycle mode's array sees and shows this cycle, for waveforms (sc_trace samples them;
  // the fast mode leaves them 0): a load step, a stream step entering, a result leaving, and
  // the numbers (in the core's tile stream, from 1; 0: none) of the tiles loading and streaming.
  struct Waves {
    bool load = false, stream = false, result = false;
    std::uint64_t loading_tile = 0, streaming_tile = 0;
  } waves;
  // When set before the simulation starts: one entry per tile of the core's stream, in order
  // (TileEvents), filled as the tiles run; the write DMA fills in the writes.
  void log_tiles(std::vector<TileEvents>* log) {
    tile_log_ = log;
    writer.log = log;
  }
  // When this core's last work of the run was complete.
  std::uint64_t end_cycle() const {
    return std::max(stats.cycles, vector ? vector->last_end : std::uint64_t{0});
  }

 private:
  void array();
  void array_single(TileCursor& c);
  void array_double_fast(TileCursor& c);
  void array_double_cycle(TileCursor& c);
  ArrayPhases run_alone_cycles(const Tile& t, const LoadCycles& load, std::uint64_t g);

  std::uint64_t now() const;
  void idle_until(std::uint64_t t);
  bool settle(bool& realign);
  // The double-buffered cycle loop's state for starting tiles (see gate()).
  struct StartGate {
    std::size_t checked_layer = 0;  // 1 + the layer whose producers are known written
    std::uint64_t floor = 0;        // the end of the current layer's producers
    std::uint64_t accept[2] = {0, 0};   // the edge took tile g - 2 / g - 1 (by g % 2)
    std::uint64_t done_at[2] = {0, 0};  // their last results showed (~0: still in flight)
    bool realign = false;           // this cycle's tick is 1 ps late (settle)
  };
  enum class Gate { start, later, again };
  Gate gate(const TileCursor& c, std::uint64_t g, bool in_flight, StartGate& s);
  // A tile in flight in the double-buffered cycle loop (loading or waiting for its ports,
  // loaded, streaming, draining or unloading).
  struct InFlight {
    Tile t;
    std::size_t layer = 0;
    bool last_in_layer = false;
    std::uint64_t g = 0, edge_took = 0, stream_cycles = 0;
    std::uint64_t floor = 0;  // the end of its layer's producers (stall accounting)
    LoadCycles load;
    ArrayTileTimes tt;  // load_start: the load (WS) or port wait (OS) began
    std::uint64_t load_done = 0, streamed = 0, sent = 0, results = 0;
  };
  InFlight& begin_flight(std::deque<InFlight>& q, const TileCursor& c, std::uint64_t g,
                         StartGate& gs);
  void end_flight(std::deque<InFlight>& q, std::uint64_t t1, StartGate& gs, DbAccount& acc);
  void finish_db_tile(DbAccount& acc, StartGate& gs, std::uint64_t g, std::size_t layer,
                      bool last_in_layer, const Tile& t, const LoadCycles& load,
                      std::uint64_t stream_cycles, const ArrayTileTimes& tt,
                      std::uint64_t edge_took, std::uint64_t floor);
  void hand_to_edge(std::size_t layer, bool last_in_layer, const Tile& t, std::uint64_t g,
                    std::uint64_t drained, std::uint64_t* accept_out);
  // Tile g's times into the log, when there is one (the edge's and the writer's come later).
  void log_tile(std::uint64_t g, std::size_t layer, std::uint64_t start, std::uint64_t load_end,
                std::uint64_t stream_start, std::uint64_t stream_end, std::uint64_t done);
  std::vector<TileEvents>* tile_log_ = nullptr;
};

}  // namespace quasar::arch
