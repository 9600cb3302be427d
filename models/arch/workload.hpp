// What the accelerator model runs and what it reports: layers as tile command streams in, and
// cycles, stalls by cause, traffic and utilization out (per layer and total). Plain C++.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch/tile_command.hpp"

namespace quasar::arch {

// A non-GEMM record on the vector unit: `rows` independent rows (a token's hidden vector, one
// row of scores), worked through in blocks of `rows_per_block` (what half the scratchpad holds).
// Per row: lane and SFU operations, and the DRAM bytes read and written; per instance, bytes
// read once (a norm's gains, RoPE's tables). Each block also costs `passes` pipeline fills (a
// pass waits for the previous one's reduction: a norm's sum of squares, softmax's max and sum).
// sim/mapping/vector_plan derives it from the record's op and shape (one cost table).
struct VectorWork {
  std::uint64_t rows = 0, rows_per_block = 1;
  std::uint64_t lane_ops = 0, sfu_ops = 0, passes = 1;  // per row (passes: per block)
  std::uint64_t read_bytes = 0, write_bytes = 0;       // per row
  std::uint64_t fixed_read_bytes = 0;                  // per instance
  std::uint64_t fixed_lane_ops = 0;  // per instance, with its first block (attention: K or V
                                     // dequantized once, shared by the instance's queries)
  bool present() const { return rows > 0; }
};

struct LayerWork {
  std::string name;
  std::vector<Tile> tiles;      // one instance, laid out by `runs` (play_tiles)
  std::vector<TileRun> runs;    // empty: every tile once, in order
  std::uint64_t instances = 1;  // the tiles run this many times (batch x repeat)
  // A dequantize-to-memory pass before the tiles, per instance: its DRAM bytes (read and
  // written), of which written, and the weights it dequantizes.
  std::uint64_t materialize_bytes = 0, materialize_write_bytes = 0, materialize_dequant_ops = 0;
  // The earlier layers of the run whose outputs this one reads (indices into the run's layer
  // list): its fetches and tiles wait until every core has written them. Layers that do not
  // depend on each other (q, k, v; MoE experts) follow each other without that wait.
  std::vector<std::size_t> after;
  // A record the vector unit runs (no tiles then): its work per instance.
  VectorWork vector;
  // Every core and vector unit works through the run's layers in order of `wave`, then of
  // their index (the same order everywhere, so no core waits on one that waits on it). 0 for
  // every layer: the list's order. Under partition.layers: whole, sim/mapping sets each
  // layer's wave (one more than the latest wave of the layers it reads), so a core does not
  // hold a later wave's layer, waiting for its inputs, ahead of an earlier wave's.
  std::size_t wave = 0;
};

// The order the cores and vector units of a run work through its layers: by wave, then by
// index (LayerWork::wave; one core's list, the others' have the same waves).
std::vector<std::size_t> run_order(const std::vector<LayerWork>& work);

// One tile's times as a core ran it, in cycles (SimJob::tile_log, for validation against RTL:
// tests/tile). Phases: [start, load_end) the load, [stream_start, stream_end) the stream
// (stream_start = load_end unless double-buffered weights make the loaded tile wait for the
// previous stream; the slot is released at stream_end), `done` the cycle its last result
// shows; the edge units take it at edge_accept and finish it at edge_finish; its write (only
// `written` tiles: outputs or spilled partial sums) goes to the DRAM at write_issue and is
// complete at write_done.
struct TileEvents {
  std::size_t layer = 0;
  std::uint64_t fetch_issue = 0, fetch_ready = 0;  // its operands' fetch was issued; they were in
  std::uint64_t start = 0, load_end = 0, stream_start = 0, stream_end = 0, done = 0;
  std::uint64_t edge_accept = 0, edge_finish = 0;
  bool written = false;
  std::uint64_t write_issue = 0, write_done = 0;
};

enum class Fidelity { fast, cycle };
const char* fidelity_name(Fidelity f);

// Per-layer statistics. Every counter is listed once in layer_stat_fields() (name, unit,
// meaning), which drives equality, totals, report.json and the CSV, so a new counter cannot be
// forgotten by one of them. Actions and buffer traffic are the cost model's input (issue 6).
struct LayerStats {
  std::string name;
  std::uint64_t cycles = 0;      // this layer's share of the timeline (sums to the total)
  std::uint64_t array_busy = 0;  // load + stream + drain cycles of the array
  std::uint64_t load = 0, stream = 0, drain = 0;
  std::uint64_t stall_dram = 0;     // array idle waiting for operands
  std::uint64_t stall_edge = 0;     // array idle waiting for the edge units to take a tile
  std::uint64_t stall_port = 0;     // load/stream cycles lost to buffer port bandwidth
  std::uint64_t stall_dequant = 0;  // load cycles lost to the fused dequantizers
  std::uint64_t dram_read_bytes = 0, dram_write_bytes = 0;
  std::uint64_t ifmap_read_bytes = 0, ifmap_write_bytes = 0;
  std::uint64_t weight_read_bytes = 0, weight_write_bytes = 0;
  std::uint64_t ofmap_read_bytes = 0, ofmap_write_bytes = 0;
  std::uint64_t macs = 0;            // useful multiply-accumulates (PE kind: the design's)
  std::uint64_t dequant_ops = 0;     // weights dequantized by the fused dequant units
  std::uint64_t intscale_ops = 0;    // P * S integer-scale accumulations
  std::uint64_t floatscale_ops = 0;  // int32 -> fp32, fp32 multiply, fp32 add (one op)
  std::uint64_t block_ops = 0;       // a block sum scaled into its accumulator (spec §5; one op)
  std::uint64_t epilogue_ops = 0;    // outputs scaled and converted to fp16
  std::uint64_t scale_writes = 0;    // group-scale words written into the units' register files
  std::uint64_t scale_reads = 0;     // group-scale words read from them
  std::uint64_t tiles = 0;
  std::uint64_t vector_busy = 0;      // cycles the vector unit computed (fills included)
  std::uint64_t vector_lane_ops = 0;  // fp32 add / multiply / compare / convert in its lanes
  std::uint64_t vector_sfu_ops = 0;   // exp_q, reciprocal, square root, divide
  std::uint64_t vector_blocks = 0;    // blocks of rows it worked through
  bool operator==(const LayerStats& o) const;
};

struct StatField {
  const char* name;  // report.json / CSV key
  std::uint64_t LayerStats::*member;
  const char* unit;  // "cycles", "bytes", "ops", "tiles"
};
const std::vector<StatField>& layer_stat_fields();

struct RunStats {
  Fidelity fidelity = Fidelity::fast;
  std::uint64_t cycles = 0;
  std::vector<LayerStats> layers;  // summed over cores; cycles: the layer's share of the time
  // One entry per core when there are several: its counters summed over layers (name "coreN";
  // cycles: when its last write of the run was complete).
  std::vector<LayerStats> cores;
  std::uint64_t pe_count = 0;  // rows x cols x cores
  double utilization() const;  // MACs / (cycles x PEs)
  std::uint64_t total(std::uint64_t LayerStats::*field) const;
};

// The tile stream of a run in order, one tile at a time (each process has its own cursor).
class TileCursor {
 public:
  // Walks the layers of `work` in `order` (LayerBarrier::order).
  TileCursor(const std::vector<LayerWork>& work, const std::vector<std::size_t>& order)
      : w_(work), order_(order) {
    seek();
  }
  // tile() points into the work list or at the cursor's own copy: not copyable.
  TileCursor(const TileCursor&) = delete;
  TileCursor& operator=(const TileCursor&) = delete;
  bool done() const { return p_ >= order_.size(); }
  const Tile& tile() const { return *tp_; }
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
  std::uint64_t played_ = 0;  // the current layer's played tiles per instance (played_tiles)
  // The current tile: the work list's own when its place needs no change, else cur_ (a run's
  // repetition moves m0). Copying every tile took 5% of a decode step's host time (perf).
  const Tile* tp_ = nullptr;
  Tile cur_;
};

}  // namespace quasar::arch
