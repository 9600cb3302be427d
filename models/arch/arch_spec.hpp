// The hardware parameters of an accelerator, as the SystemC model (models/arch) consumes them:
// plain structs owned by models/, filled and validated by sim/config from YAML
// (configs/arch/*.yaml, docs/config-reference.md). Units are in the names.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "numerics/attention.hpp"
#include "numerics/kv_cache.hpp"
#include "numerics/scheme.hpp"

namespace quasar::arch {

// Weight-, output- and input-stationary. Input-stationary is counted under SCALE-Sim accounting
// only: the native model has no IS array (the config says so).
enum class Dataflow { ws, os, is };
// How cycles are counted: `native` runs the SystemC model (the RTL-validated protocol, memory,
// ports, edge units); `scalesim` reproduces SCALE-Sim v2's stall-free per-fold count of a GEMM
// (sim/mapping/scalesim_timing.hpp), for comparison with published SCALE-Sim numbers.
enum class Accounting { native, scalesim };
// What one processing element multiplies, and which schemes it runs: numerics/scheme.hpp's
// table.
using quasar::PeKind;
using quasar::pe_kind_name;
using quasar::pe_runs;

// Weight-stationary loop order when the activations do not fit the ifmap buffer:
//   n_outer   every n-tile streams all M tokens: weights fetched once, activations again for
//             each n-tile (longest streams, fewest weight loads: the time-optimal order);
//   m_blocked M is cut into blocks whose activations fit the ifmap buffer, each block runs all
//             n-tiles: activations fetched once, weights again for each block unless all of W
//             fits the weight buffer (shorter streams, more weight loads);
//   min_dram  per layer, whichever of the two moves fewer DRAM bytes (n_outer on a tie).
enum class WsOrder { n_outer, m_blocked, min_dram };

const char* dataflow_name(Dataflow d);
const char* ws_order_name(WsOrder o);

struct ArraySpec {
  std::uint32_t rows = 32, cols = 32;
  Dataflow dataflow = Dataflow::ws;
  PeKind pe = PeKind::int8;
  std::uint32_t acc_bits = 32;  // PE partial-sum width
  WsOrder ws_order = WsOrder::n_outer;  // weight-stationary loop order (ignored by OS)
  // Weight-stationary: two weight registers per PE, so the next tile's weights load while this
  // tile streams and drains (units::WsDoubleBufferedSchedule); k-tiles then accumulate at the
  // array's output. Output-stationary: a shadow accumulator per PE, so the next tile streams
  // while this one's results unload (units::OsDoubleBufferedSchedule).
  bool double_buffer = false;
  // Register stages of a PE's multiply-add (issue 18): a MAC that cannot finish in one clock is
  // pipelined on the partial-sum path (units::SystolicWsArray), which delays a weight-stationary
  // array's results by (pe_stages - 1) ROWS cycles. Output-stationary PEs accumulate in place
  // every cycle, so they stay at 1. `timing: derived` sets it from static timing.
  std::uint32_t pe_stages = 1;
};

// Units at the array's edge that finish what the PEs start.
struct EdgeSpec {
  std::uint32_t intscale_units = 0;  // P * S integer-scale accumulators (w4a8-is)
  std::uint32_t intscale_latency_cycles = 1;
  std::uint32_t intscale_acc_bits = 32;
  std::uint32_t floatscale_units = 0;  // int->fp32, fp32 multiply-add (w4a8-fs)
  std::uint32_t floatscale_latency_cycles = 4;
  std::uint32_t dequant_units =
      0;  // weight dequantizers in front of the array (DGQ, QServe, w4a16)
  // Block-scale accumulators (the MX and NVFP4 schemes, spec §5): each adds a block's exact
  // integer sum, scaled by its two block scales, into an output's accumulator: fp32 (one
  // rounding per block) or shift-aligned fixed point of block_acc_bits with block_frac_bits
  // fraction bits (no multipliers). NVFP4 always takes the fp32 path.
  std::uint32_t block_units = 0;
  std::uint32_t block_latency_cycles = 2;
  BlockAcc block_acc = BlockAcc::fp32;
  std::uint32_t block_acc_bits = kBlockAccBits;
  std::uint32_t block_frac_bits = kBlockFracBits;
  std::uint32_t epilogue_units = 32;  // scale multiply + fp16 convert of finished outputs
  std::uint32_t epilogue_latency_cycles = 2;
};

// How many units of a scale-holding kind the edge has.
using quasar::ScaleUnit;
inline std::uint32_t scale_units(const EdgeSpec& e, ScaleUnit u) {
  switch (u) {
    case ScaleUnit::intscale:
      return e.intscale_units;
    case ScaleUnit::floatscale:
      return e.floatscale_units;
    case ScaleUnit::dequant:
      return e.dequant_units;
    case ScaleUnit::block:
      return e.block_units;
  }
  return 0;
}
// Cycles from a rescale entering a unit of the kind to its result (dequantizers: 1).
inline std::uint32_t scale_unit_latency(const EdgeSpec& e, ScaleUnit u) {
  switch (u) {
    case ScaleUnit::intscale:
      return e.intscale_latency_cycles;
    case ScaleUnit::floatscale:
      return e.floatscale_latency_cycles;
    case ScaleUnit::block:
      return e.block_latency_cycles;
    case ScaleUnit::dequant:
      break;
  }
  return 1;
}
const char* block_acc_name(BlockAcc b);

struct BufferSpec {
  std::uint64_t size_bytes = 0;
  std::uint32_t banks = 1;
  std::uint32_t bytes_per_cycle = 64;  // per port
  bool double_buffered = true;         // load the next tile while this one computes
};

struct BufferSet {
  BufferSpec ifmap, weight, ofmap;
  // Tiles whose operands the fetch engine may have on chip or on their way at once (a tile's
  // slot is free again once it has streamed). 0: 2 when the ifmap and weight buffers are double
  // buffered, else 1. A deeper prefetch hides DRAM latency that one tile's work cannot.
  std::uint32_t prefetch_depth = 0;
};
std::uint32_t prefetch_depth(const BufferSet& b);

// The memory system, in units independent of the accelerator's clock (GB/s = 1e9 bytes/s,
// ns). Timing rules: dram/dram_timing.hpp; presets with their sources: dram_presets().
struct DramSpec {
  std::string standard = "lpddr5";  // names the energy table row (cost model)
  std::uint32_t channels = 1;       // each with its own data bus, shared by reads and writes
  double bandwidth_gbps = 64.0;     // peak over all channels
  std::uint32_t burst_bytes = 64;   // bytes a burst moves on one channel
  double latency_ns = 100.0;        // after a transaction's last burst, until its data is there
  double turnaround_ns = 0.0;       // a channel's bus switching between read and write
  double trefi_ns = 0.0, trfc_ns = 0.0;  // every tREFI a channel refreshes for tRFC (0: none)
  double capacity_gib = 0.0;        // 0: not checked
};

// How a multi-core design divides one GEMM layer between its cores: split_n gives each core a
// share of the output channels (n-tiles; every core reads all the activations), split_m a share
// of the tokens (every core reads all the weights).
enum class Partition { split_n, split_m };
const char* partition_name(Partition p);

// Which linear layers a multi-core design divides at all. split: every one, over all cores
// (`linear_partition`). whole: linear layers that do not depend on each other run whole on
// different cores at once. The run's simulated layers fall into waves (a layer's wave is one
// more than the latest wave of the layers it reads); a wave's linear layers, when it has two
// or more, each go whole to one core (largest MAC count first, onto the core with the fewest
// of the wave's MACs, the lowest id on a tie); the other cores have nothing of that layer. A
// wave with one linear layer is split as `linear_partition` says. Attention and vector records
// are split as before (heads, rows) under both.
enum class LayerPartition { split, whole };
const char* layer_partition_name(LayerPartition p);

// The path between the cores and the DRAM controller: one link per core, `latency_cycles` each
// way, `bytes_per_cycle` of data (0: not a limit). All 0: the cores talk to the controller
// directly. Model: interconnect/interconnect.hpp.
struct InterconnectSpec {
  std::uint32_t latency_cycles = 0;
  double bytes_per_cycle = 0.0;
  bool present() const { return latency_cycles > 0 || bytes_per_cycle > 0; }
};

// The vector unit of each core (models/arch/vector): the non-GEMM work of a transformer (norms,
// RoPE, softmax, activations, residual adds, activation quantization, KV-cache appends). `lanes`
// fp32 lanes each do one add, multiply, compare or convert per cycle; `sfu_lanes` special-
// function lanes each one exp_q, reciprocal, square root or divide per cycle; each pass over a
// block of rows costs `latency_cycles` of pipeline fill; the `buffer_kib` scratchpad holds two
// blocks (one computing while the next loads). lanes = 0: no vector unit, and the design runs
// no non-GEMM record (the report lists them as not run).
struct VectorSpec {
  std::uint32_t lanes = 0;
  std::uint32_t sfu_lanes = 1;
  std::uint32_t latency_cycles = 8;
  std::uint32_t buffer_kib = 64;
  bool present() const { return lanes > 0; }
};

// How a design runs attention (the trace's bmm records marked qk / pv, its softmax and its KV
// appends; arithmetic spec §6-§7):
//   mode fp32  QK^T and PV on the vector unit's lanes, fp32 (a multiply and an add per MAC);
//        int8  on the MAC array as int8 GEMMs (queries and probabilities quantized per row, the
//              int8 KV cache's codes as the stationary operand); needs kv int8 and PEs that run
//              w8a8;
//   kv         the KV cache's format in DRAM (bytes: numerics/kv_cache.hpp);
//   tile       flash-style tiling, keys per tile: scores and probabilities stay on chip, and
//              softmax rescales its running sums once per tile; 0: unfused, scores and
//              probabilities go through DRAM. int8 attention is unfused (numerics choice 20:
//              its probabilities are quantized over the whole row).
using quasar::AttentionMode;  // numerics/attention.hpp: the arithmetic the modes compute
using quasar::attention_mode_name;
struct AttentionSpec {
  AttentionMode mode = AttentionMode::fp32;
  KvFormat kv = KvFormat::fp16;
  std::uint32_t tile = 0;
};

// The process the design is built in: a node of the scaling table (cost/node_scaling.hpp,
// Stillmaker & Baas 2017) and its supply voltage, within the node's range. The cost model prices
// the design there (energy, area, leakage from the 45 nm, 0.9 V tables).
struct ProcessSpec {
  std::uint32_t node_nm = 45;
  double voltage_v = 0.9;
};

// Where the edge units' latencies come from: `derived`, the pipeline stages each unit needs at
// the design's node, supply and clock from static timing (cost/timing.hpp; a design file's
// default, applied by the loader, which also refuses a clock the PEs cannot meet), or `given`,
// the numbers as written (unchecked; a spec built in code).
enum class LatencySource { given, derived };
const char* latency_source_name(LatencySource s);
struct TimingSpec {
  LatencySource latencies = LatencySource::given;
};

struct ArchSpec {
  std::string name;
  double clock_mhz = 1000.0;
  ProcessSpec process;
  TimingSpec timing;
  Accounting accounting = Accounting::native;
  // Identical cores (array, edge units, buffers each), sharing the DRAM. A layer's next layer
  // starts on any core once every core has written its share.
  std::uint32_t cores = 1;
  Partition linear_partition = Partition::split_n;
  LayerPartition layer_partition = LayerPartition::split;
  ArraySpec array;
  std::vector<Scheme> schemes;  // the schemes this design runs
  EdgeSpec edge;
  BufferSet buffers;
  DramSpec dram;
  InterconnectSpec interconnect;
  VectorSpec vector;
  AttentionSpec attention;
};


// Consistency of a spec built in code or parsed (sim/config adds file:line to the message):
// every listed scheme runs on the PE kind and has the edge units it needs. Returns "" when
// consistent, else the first problem, phrased for a user.
std::string check_consistency(const ArchSpec& a);
// The attention block's part of it: "" when the design can run its attention mode and KV format,
// else the problem (without the "attention: " key the callers put before it).
std::string attention_problem(const ArchSpec& a);

// The bounds a spec read from elsewhere than a design config (a report.json) must meet for the
// models to be sound; the config reader enforces the same ranges with file:line. "" when met.
std::string check_ranges(const ArchSpec& a);

}  // namespace quasar::arch
