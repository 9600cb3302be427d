// The MAC array of a core behind one interface, whatever its dataflow: the timing rules of a
// tile's phases around it (load, stream, drain), the closed-form controller schedule the fast
// mode uses, and the register model the cycle mode ticks. The core (core/core.cpp) drives any
// dataflow through this interface with one loop per buffering mode; each dataflow reads only
// its own command type from a tile (tile_command.hpp). Plain C++: the core owns simulated time.
//   ws  weight-stationary (units::SystolicWsArray, units::WsDoubleBufferedSchedule): the load
//       preloads the tile's weights (ROWS cycles, longer when the weight port or the fused
//       dequantizers are short); tokens stream, one result row per token; with two weight banks
//       the next tile's load overlaps this tile's stream and drain.
//   os  output-stationary (units::SystolicOsArray, units::OsDoubleBufferedSchedule): no preload;
//       the "load" is the wait until the ports can sustain the bubble-free stream; the k-chunk
//       streams; ROWS result rows unload; with shadow accumulators the next tile streams while
//       this one unloads, no sooner than ROWS cycles after this one's stream ended.
#pragma once

#include <cstdint>
#include <memory>

#include "arch/arch_spec.hpp"
#include "arch/tile_command.hpp"

namespace quasar::arch {

// A tile's load phase, and whichever resource made it longer than the protocol's own.
struct LoadCycles {
  std::uint64_t total = 0, port_extra = 0, dequant_extra = 0;
};

// A tile's phases alone on the array (they add up to its time when nothing overlaps).
struct ArrayPhases {
  std::uint64_t load = 0, stream = 0, drain = 0;
  std::uint64_t total() const { return load + stream + drain; }
};

// One tile's times on a double-buffered array, in cycles: its load (WS) or port wait (OS)
// starts at load_start; stream_end is exclusive; done is when its last result shows.
struct ArrayTileTimes {
  std::uint64_t load_start = 0, stream_start = 0, stream_end = 0, done = 0;
};

// What the array's inputs carry in one cycle (control only: the core's model moves no data).
struct ArrayCycle {
  bool loading = false;          // a tile is in its load phase ...
  std::uint64_t load_step = 0;   // ... at this cycle of it
  int load_bank = 0;             // into this weight bank (WS double buffering)
  bool valid = false;            // a stream step enters this cycle ...
  bool last = false;             // ... and it is its tile's last
  int stream_bank = 0;           // from / into this bank
};

class ArrayModel {
 public:
  virtual ~ArrayModel() = default;

  // ---- timing rules (both fidelities) ----
  virtual LoadCycles load_cycles(const Tile& t) const = 0;
  // The cycle (0-based, from the stream's start) at which stream step i may enter: i unless a
  // buffer port is short of its bytes.
  virtual std::uint64_t step_ready(const Tile& t, std::uint64_t i) const = 0;
  // Stream cycles, port bubbles included.
  std::uint64_t stream_cycles(const Tile& t) const {
    return t.stream_steps ? step_ready(t, t.stream_steps - 1) + 1 : 0;
  }
  // Cycles from a tile's stream end until its last result shows (the protocol's closed form,
  // proven on the RTL; the same with one or two banks).
  virtual std::uint64_t drain_cycles() const = 0;
  // Results a tile shows at the array's output (WS: one per token; OS: one per row).
  virtual std::uint64_t results(const Tile& t) const = 0;

  // ---- fast mode, double-buffered: the controller rules in closed form ----
  // The next tile's times when it may start at `earliest` (its operands are in, its bank free).
  virtual ArrayTileTimes schedule(std::uint64_t earliest, std::uint64_t load,
                                  std::uint64_t stream) = 0;

  // ---- cycle mode: the register model and the controller's rules between tiles ----
  virtual void reset() = 0;
  // One clock edge; true when a result shows at the output this cycle.
  virtual bool tick(const ArrayCycle& in) = 0;
  // Double-buffered: whether the next tile's load may overlap this one's stream (WS: yes, into
  // the other weight bank), or waits until the stream has ended (OS: the wait is for the same
  // ports the stream reads).
  virtual bool load_overlaps_stream() const = 0;
  // Double-buffered: whether a loaded tile of `steps` stream steps may start streaming at cycle
  // t (OS: no sooner than ROWS cycles after the previous stream's end), and that a stream ended
  // at t1 (exclusive).
  virtual bool stream_may_start(std::uint64_t t, std::uint64_t steps) const = 0;
  virtual void stream_ended(std::uint64_t t1) = 0;
};

// The design's array (its dataflow; double_buffer sets the banks).
std::unique_ptr<ArrayModel> make_array_model(const ArchSpec& a);

}  // namespace quasar::arch
