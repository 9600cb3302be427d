// One accelerator core as a SystemC module: three processes that talk through the DRAM
// controller and a few published times, so that fetching, computing and writing overlap.
//   dma     walks the tile stream, fetching each tile's operands into a free buffer slot (a
//           slot is free again once the tile `slots` earlier has streamed through the array);
//   array   runs the tiles on the MAC array: one at a time, or with double-buffered weights
//           (WS) the next tile's load during this tile's stream and drain; hands each drained
//           tile to the edge units (EdgeQueue);
//   writer  writes each tile's outputs once the edge has finished them, and closes a layer when
//           its last write is complete (the next layer's fetches and tiles wait for that).
// Fast and cycle fidelity differ only inside the array process: fast advances by the array's
// closed forms (units::systolic_ws_timing, units::WsDoubleBufferedSchedule); cycle ticks the
// register model (units::SystolicWsArray / SystolicOsArray) every cycle and takes each phase's
// end from its signals. Time: 1 ns of simulated time is one cycle.
#pragma once

#include <systemc>

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "arch/arch_spec.hpp"
#include "arch/core/layer_barrier.hpp"
#include "arch/core/tile_timing.hpp"
#include "arch/dram/dram_controller.hpp"
#include "arch/vector/vector_unit.hpp"
#include "arch/workload.hpp"
#include "units/systolic_os.hpp"
#include "units/systolic_ws.hpp"

namespace quasar::arch {

// Tiles done across every core of one simulation (the caller's progress callback).
class TileMeter {
 public:
  virtual ~TileMeter() = default;
  virtual void tile_done() = 0;
};

// The tile stream of a run in order, one tile at a time (each process has its own cursor).
class TileCursor {
 public:
  // Walks the layers of `work` in `order` (LayerBarrier::order).
  TileCursor(const std::vector<LayerWork>& work, const std::vector<std::size_t>& order)
      : w_(work), order_(order) {
    seek();
  }
  bool done() const { return p_ >= order_.size(); }
  const Tile& tile() const { return cur_; }
  std::size_t layer() const { return l_; }
  std::uint64_t index_in_instance() const { return pos_; }
  bool first_in_layer() const { return inst_ == 0 && pos_ == 0; }
  bool last_in_layer() const;
  void next();

 private:
  void seek();  // to the first tile at or after the current position (skips empty layers)
  void load();
  const std::vector<LayerWork>& w_;
  const std::vector<std::size_t>& order_;
  std::size_t p_ = 0, l_ = 0;  // position in the order, and the layer there
  std::uint64_t inst_ = 0, pos_ = 0;  // instance, position in the instance's played tiles
  std::size_t run_ = 0, i_ = 0;       // run, tile index
  std::uint64_t rep_ = 0;
  Tile cur_;
};

class Core : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Core);
  // `work` has every layer of the run (this core's share, possibly without tiles). Bind both
  // ports to the DRAM controller's socket (fetches, then writes: their requester order).
  Core(sc_core::sc_module_name n, const ArchSpec& a, const std::vector<LayerWork>& work,
       Fidelity f, std::uint32_t id, LayerBarrier& barrier, TileMeter& meter);

  DramPort fetch_port;  // operand fetches (and dequantize-to-memory passes)
  DramPort write_port;  // finished outputs and spilled partial sums

  RunStats stats;
  bool done = false;  // the writer is done (finished(): the vector unit too)
  // The vector unit (a child module), when the design has one: bind its ports after the core's.
  std::unique_ptr<VectorUnit> vector;
  bool finished() const { return done && (!vector || vector->done); }
  // When this core's last work of the run was complete.
  std::uint64_t end_cycle() const {
    return std::max(stats.cycles, vector ? vector->last_end : std::uint64_t{0});
  }

 private:
  struct Fetch {
    DramRequest req;
    std::uint64_t issued_at = 0;
  };
  struct WriteJob {
    std::uint64_t at = 0, bytes = 0;
    std::size_t layer = 0;
    bool last_in_layer = false;
  };

  void dma();
  void array();
  void writer();
  void array_single(TileCursor& c);
  void array_double_fast(TileCursor& c);
  void array_double_cycle(TileCursor& c);
  void array_os_double_cycle(TileCursor& c);

  std::uint64_t now() const;
  void idle_until(std::uint64_t t);
  // Waits until every layer `layer` reads from is closed; returns the latest of their ends.
  std::uint64_t wait_producers(std::size_t layer);
  bool producers_closed(std::size_t layer) const;
  std::uint64_t producers_end(std::size_t layer) const;
  std::uint64_t operands_ready(std::uint64_t g);   // waits; the cycle tile g's operands are in
  void publish_slot_free(std::uint64_t g, std::uint64_t t);
  bool settle(bool& realign);
  // The double-buffered cycle loops' state for starting tiles (see gate()).
  struct StartGate {
    std::size_t checked_layer = 0;  // 1 + the layer whose producers are known written
    std::uint64_t floor = 0;        // the end of the current layer's producers
    std::uint64_t accept[2] = {0, 0};   // the edge took tile g - 2 / g - 1 (by g % 2)
    std::uint64_t done_at[2] = {0, 0};  // their last results showed (~0: still in flight)
    bool realign = false;           // this cycle's tick is 1 ps late (settle)
  };
  enum class Gate { start, later, again };
  Gate gate(const TileCursor& c, std::uint64_t g, bool in_flight, StartGate& s);
  // Statistics of double-buffered tiles (overlapping phases, busy union, idle gaps).
  struct DbAccount {
    std::uint64_t busy_until = 0;
    void tile(LayerStats& ls, const units::WsTileTimes& tt, std::uint64_t edge_took,
              std::uint64_t floor);
  };
  // A tile in flight in a double-buffered cycle loop (WS: loading, streaming, draining; OS:
  // waiting for its ports, streaming, unloading).
  struct InFlight {
    Tile t;
    std::size_t layer = 0;
    bool last_in_layer = false;
    std::uint64_t g = 0, edge_took = 0, stream_cycles = 0;
    std::uint64_t floor = 0;  // the end of its layer's producers (stall accounting)
    LoadCycles load;
    units::WsTileTimes tt;  // load_start: the load (WS) or port wait (OS) began
    std::uint64_t load_done = 0, streamed = 0, sent = 0, results = 0;
  };
  InFlight& begin_flight(std::deque<InFlight>& q, const TileCursor& c, std::uint64_t g,
                         StartGate& gs);
  void end_flight(std::deque<InFlight>& q, std::uint64_t t1, std::uint64_t drain, StartGate& gs,
                  DbAccount& acc);
  void finish_db_tile(DbAccount& acc, StartGate& gs, std::uint64_t g, std::size_t layer,
                      bool last_in_layer, const Tile& t, const LoadCycles& load,
                      std::uint64_t stream_cycles, std::uint64_t drain,
                      const units::WsTileTimes& tt, std::uint64_t edge_took,
                      std::uint64_t floor);
  void hand_to_edge(std::size_t layer, bool last_in_layer, const Tile& t, std::uint64_t drained,
                    std::uint64_t* accept_out);
  units::SystolicWsPhases compute_ws_cycles(const Tile& t, const LoadCycles& load,
                                            std::uint64_t g);
  units::SystolicWsPhases compute_os_cycles(const Tile& t, const LoadCycles& load,
                                            std::uint64_t g);
  bool empty_layer(std::size_t l) const;
  static void account(const Tile& t, LayerStats& ls);

  const ArchSpec& a_;
  const std::vector<LayerWork>& work_;
  Fidelity f_;
  std::uint32_t id_;
  LayerBarrier& barrier_;
  TileMeter& meter_;
  TileTiming timing_;
  EdgeQueue edge_;
  std::uint64_t slots_;

  // dma -> array: fetched tiles (a ring of slots + 2 entries, indexed by tile number)
  std::vector<std::unique_ptr<Fetch>> fetch_;
  std::uint64_t issued_ = 0;
  sc_core::sc_event issued_event_;
  // array -> dma: when each tile's buffer slot is free again
  std::vector<std::uint64_t> slot_free_;
  std::uint64_t slots_published_ = 0;
  sc_core::sc_event slot_event_;
  // array -> writer
  std::deque<WriteJob> jobs_;
  bool array_done_ = false;
  sc_core::sc_event job_event_;

  units::SystolicWsArray ws_array_;
  units::SystolicOsArray os_array_;
};

}  // namespace quasar::arch
