// Does the SystemC accelerator model give the same cycles and statistics in its fast and cycle
// fidelities, over dataflow-independent corners (ragged tiles, memory-bound, edge-bound, no
// double buffering, DGQ fused and materialized)? Do its cycles equal a hand count?
//
// One simulation per process (SystemC cannot elaborate twice): ctest runs each test alone.
// libsystemc defines main() and calls sc_main, so this file defines sc_main (toolchain trap 1).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <iostream>
#include <memory>
#include <optional>
#include <ostream>
#include <systemc>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

#include "arch/accelerator.hpp"
#include "config/arch_config.hpp"
#include "mapping/gemm_tiling.hpp"
#include "mapping/workload.hpp"
#include "numerics/error.hpp"
#include "trace/generate.hpp"
#include "trace/model_config.hpp"

namespace quasar::arch {
namespace {

ArchSpec design(const std::string& name) {
  return config::read_arch_config(std::string(QUASAR_SOURCE_DIR) + "/configs/arch/" + name +
                                  ".yaml");
}

LayerWork work_for(const ArchSpec& a, std::uint64_t m, std::uint64_t k, std::uint64_t n, Scheme s,
                   std::uint64_t repeat = 1, DequantMode dq = DequantMode::fused) {
  trace::Layer l;
  l.name = "g";
  l.op = trace::Op::linear;
  l.m = m, l.k = k, l.n = n, l.repeat = repeat;
  trace::LayerScheme ls;
  ls.scheme = s;
  ls.dequant = dq;
  l.scheme = ls;
  const mapping::GemmPlan p = mapping::plan_gemm(a, l);
  return {l.name,
          p.tiles,
          p.runs,
          p.instances,
          p.materialize_bytes,
          p.materialize_write_bytes,
          p.materialize_dequant_ops,
          {},
          {}};
}

struct Case {
  const char* name;
  const char* design;
  std::uint64_t m, k, n;
  Scheme scheme;
  double dram_bytes_per_cycle;  // 0: the design's
  std::uint32_t edge_units;     // 0: the design's
  bool double_buffered;
  DequantMode dequant;
  std::uint32_t port_bytes_per_cycle = 0;  // 0: the design's (every buffer port)
  Dataflow dataflow = Dataflow::ws;
  std::uint32_t rows = 8, cols = 8;
  WsOrder ws_order = WsOrder::n_outer;
  std::uint64_t ifmap_bytes = 0;  // 0: the design's
  std::uint64_t ofmap_bytes = 0;  // 0: the design's
  bool weight_double_buffer = false;  // two weight banks per PE (array.double_buffer)
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class FastEqualsCycle : public ::testing::TestWithParam<Case> {};

TEST_P(FastEqualsCycle, SameCyclesAndStatistics) {
  const Case c = GetParam();
  ArchSpec a = design(c.design);
  a.array.rows = c.rows;  // small, so the cycle mode stays quick
  a.array.cols = c.cols;
  a.array.dataflow = c.dataflow;
  // The shipped fp16 design pipelines its PEs (3 stages at 1 GHz, static timing): kept on its WS
  // array, so fast and cycle modes are compared with pipelined PEs; an OS array has one stage.
  if (c.dataflow != Dataflow::ws) a.array.pe_stages = 1;
  a.array.ws_order = c.ws_order;
  a.array.double_buffer = c.weight_double_buffer;
  if (c.ifmap_bytes) a.buffers.ifmap.size_bytes = c.ifmap_bytes;
  if (c.ofmap_bytes) a.buffers.ofmap.size_bytes = c.ofmap_bytes;
  if (c.dram_bytes_per_cycle > 0) a.dram.bandwidth_gbps = c.dram_bytes_per_cycle * a.clock_mhz / 1000;
  if (c.edge_units) {
    a.edge.floatscale_units = a.edge.intscale_units = a.edge.epilogue_units = c.edge_units;
    a.edge.dequant_units = c.edge_units;
  }
  a.buffers.ifmap.double_buffered = a.buffers.weight.double_buffered = c.double_buffered;
  if (c.port_bytes_per_cycle) {
    a.buffers.ifmap.bytes_per_cycle = a.buffers.weight.bytes_per_cycle =
        a.buffers.ofmap.bytes_per_cycle = c.port_bytes_per_cycle;
  }
  std::vector<LayerWork> w{work_for(a, c.m, c.k, c.n, c.scheme, 2, c.dequant),
                           work_for(a, c.m + 3, c.k, c.n, c.scheme, 1, c.dequant)};
  w[1].after = {0};  // the second layer reads the first's outputs
  const std::vector<RunStats> r = simulate(a, w, {Fidelity::fast, Fidelity::cycle});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_GT(r[0].cycles, 0u);
  EXPECT_EQ(r[0].cycles, r[1].cycles);
  ASSERT_EQ(r[0].layers.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i)
    EXPECT_TRUE(r[0].layers[i] == r[1].layers[i]) << "layer " << i;
  EXPECT_EQ(r[0].total(&LayerStats::macs), 2 * c.m * c.k * c.n + (c.m + 3) * c.k * c.n);
  // Without port or dequantizer stalls every tile's phases are the RTL-validated closed form
  // (units::systolic_ws_timing / systolic_os_timing, asserted equal to the Verilated arrays in
  // tests/rtl): WS load rows, stream M, drain rows + cols - 2 (pe_stages x rows + cols - 2 with
  // pipelined PEs, tests/rtl's model test); OS stream = the k-chunk, drain 2 rows + cols - 2. So
  // the cycle mode's measured phases are the RTL's.
  for (std::size_t i = 0; i < 2; ++i) {
    const LayerStats& l = r[1].layers[i];
    if (l.stall_port + l.stall_dequant != 0) continue;
    std::uint64_t load = 0, stream = 0, drain = 0;
    for (std::uint64_t inst = 0; inst < w[i].instances; ++inst) {
      play_tiles(w[i].tiles, w[i].runs, [&](const Tile& t, std::uint64_t) {
        load += c.dataflow == Dataflow::ws ? c.rows : 0;
        stream += c.dataflow == Dataflow::ws ? t.m : t.rows_used;
        drain += c.dataflow == Dataflow::ws ? a.array.pe_stages * c.rows + c.cols - 2
                                            : 2 * c.rows + c.cols - 2;
      });
    }
    EXPECT_EQ(l.load, load) << "layer " << i;
    EXPECT_EQ(l.stream, stream) << "layer " << i;
    EXPECT_EQ(l.drain, drain) << "layer " << i;
  }
  // The corners must really be corners: the bottleneck they are named after shows as stalls.
  const std::string name = c.name;
  if (name.find("edge_bound") != std::string::npos) {
    // Double-buffered, two buffer slots expose the 100-cycle fetch latency as well (a tile's
    // fetch starts when the tile two back has streamed), so the edge's share is smaller.
    EXPECT_GT(r[0].total(&LayerStats::stall_edge), r[0].cycles / (c.weight_double_buffer ? 6 : 5))
        << "busy " << r[0].total(&LayerStats::array_busy) << " dram "
        << r[0].total(&LayerStats::stall_dram) << " of " << r[0].cycles;
  }
  if (name == "is_spills") {
    // 12 tokens x 8 columns x 8 B = 768 B held, 256 B fit: 512 B out and back at each of the
    // 31 k-tile boundaries of each of the 2 n-tiles, for each of the 2 instances of layer 0.
    EXPECT_EQ(r[0].layers[0].dram_write_bytes - 2 * 12 * 16 * 2, 2u * 2u * 31u * 512u);
  }
  if (name == "is_groups") {
    EXPECT_EQ(r[0].total(&LayerStats::stall_edge), 0u) << "32 integer-scale units keep up";
  }
  if (name.find("memory_bound") != std::string::npos) {
    EXPECT_GT(r[0].total(&LayerStats::stall_dram), r[0].cycles / 2);
  }
  if (name.find("slow_dequant") != std::string::npos) {
    const std::uint64_t protocol_load =
        c.dataflow == Dataflow::ws ? c.rows * r[0].total(&LayerStats::tiles) : 0;
    EXPECT_GT(r[0].total(&LayerStats::load), protocol_load);
    EXPECT_EQ(r[0].total(&LayerStats::stall_dequant),
              r[0].total(&LayerStats::load) - protocol_load);
  }
  if (name.find("port_bound") != std::string::npos) {
    // WS streams with bubbles; OS waits before its stream until the ports can keep up.
    EXPECT_GT(r[0].total(&LayerStats::stall_port),
              c.dataflow == Dataflow::ws ? r[0].total(&LayerStats::stream) / 2 : 0u);
  } else {
    EXPECT_EQ(r[0].total(&LayerStats::stall_port), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Matrix, FastEqualsCycle,
    ::testing::Values(
        Case{"w8a8_ragged", "int8-baseline", 5, 20, 13, Scheme::w8a8, 0, 0, true,
             DequantMode::fused},
        Case{"is_groups", "intscale", 12, 256, 16, Scheme::w4a8_is, 0, 0, true, DequantMode::fused},
        Case{"fs_edge_bound", "floatscale", 40, 256, 24, Scheme::w4a8_fs, 0, 1, true,
             DequantMode::fused},
        Case{"memory_bound", "int8-baseline", 3, 64, 64, Scheme::w8a8, 0.5, 0, true,
             DequantMode::fused},
        Case{"single_buffered", "dint", 7, 40, 17, Scheme::w4a8_dint, 2, 0, false,
             DequantMode::fused},
        Case{"dgq_fused_slow_dequant", "dgq", 4, 128, 16, Scheme::w4a8_dgq, 0, 1, true,
             DequantMode::fused},
        Case{"dgq_materialized", "dgq", 4, 128, 16, Scheme::w4a8_dgq, 0, 0, true,
             DequantMode::materialized},
        Case{"fp16", "fp16-w4a16", 9, 24, 9, Scheme::fp16, 0, 0, true, DequantMode::fused},
        // 7 B/cycle ports: an 8-row token (8 B) or 8 partial sums (32 B) need several cycles.
        Case{"w8a8_port_bound", "int8-baseline", 11, 20, 13, Scheme::w8a8, 0, 0, true,
             DequantMode::fused, 7},
        Case{"is_port_bound", "intscale", 6, 256, 12, Scheme::w4a8_is, 0, 0, true,
             DequantMode::fused, 7},
        // Output-stationary: m-tiles of 8 tokens, whole-K chunks (one group per chunk for
        // w4a8-fs/is), ragged in every dimension.
        Case{"os_w8a8_ragged", "int8-baseline", 13, 20, 13, Scheme::w8a8, 0, 0, true,
             DequantMode::fused, 0, Dataflow::os},
        Case{"os_is_groups", "intscale", 12, 256, 16, Scheme::w4a8_is, 0, 0, true,
             DequantMode::fused, 0, Dataflow::os},
        Case{"os_fs_one_unit", "floatscale", 40, 256, 24, Scheme::w4a8_fs, 0, 1, true,
             DequantMode::fused, 0, Dataflow::os},
        Case{"os_memory_bound", "int8-baseline", 3, 64, 64, Scheme::w8a8, 0.5, 0, true,
             DequantMode::fused, 0, Dataflow::os},
        Case{"os_single_buffered", "dint", 7, 40, 17, Scheme::w4a8_dint, 2, 0, false,
             DequantMode::fused, 0, Dataflow::os},
        Case{"os_dgq_fused_slow_dequant", "dgq", 4, 128, 16, Scheme::w4a8_dgq, 0, 1, true,
             DequantMode::fused, 0, Dataflow::os},
        Case{"os_fp16", "fp16-w4a16", 9, 24, 9, Scheme::fp16, 0, 0, true, DequantMode::fused, 0,
             Dataflow::os},
        Case{"os_w8a8_port_bound", "int8-baseline", 11, 20, 13, Scheme::w8a8, 0, 0, true,
             DequantMode::fused, 3, Dataflow::os},
        // Other array shapes: tall, wide, and 16 x 16 with groups of 16 (one group per tile).
        Case{"w8a8_tall_4x12", "int8-baseline", 9, 30, 27, Scheme::w8a8, 0, 0, true,
             DequantMode::fused, 0, Dataflow::ws, 12, 4},
        Case{"os_w8a8_wide_4x12", "int8-baseline", 9, 30, 27, Scheme::w8a8, 0, 0, true,
             DequantMode::fused, 0, Dataflow::os, 4, 12},
        Case{"is_16x16", "intscale", 20, 256, 40, Scheme::w4a8_is, 0, 0, true, DequantMode::fused,
             0, Dataflow::ws, 16, 16},
        Case{"os_fs_16x16", "floatscale", 20, 256, 40, Scheme::w4a8_fs, 0, 0, true,
             DequantMode::fused, 0, Dataflow::os, 16, 16},
        // Weight-stationary m-blocks: a 1 KiB ifmap buffer (512 B per half) holds 8 tokens of
        // K = 64 (5 blocks of 40) or 2 of K = 256 (6 blocks of 12, 8 of 15).
        Case{"w8a8_m_blocked", "int8-baseline", 40, 64, 24, Scheme::w8a8, 0, 0, true,
             DequantMode::fused, 0, Dataflow::ws, 8, 8, WsOrder::m_blocked, 1024},
        Case{"is_m_blocked_memory_bound", "intscale", 12, 256, 16, Scheme::w4a8_is, 0.5, 0, true,
             DequantMode::fused, 0, Dataflow::ws, 8, 8, WsOrder::m_blocked, 1024},
        // Partial sums spilled: a 512 B ofmap (256 B per half) against 12 tokens x 8 columns x
        // 8 B = 768 B held by an n-tile of w4a8-is.
        Case{"is_spills", "intscale", 12, 256, 16, Scheme::w4a8_is, 0, 0, true, DequantMode::fused,
             0, Dataflow::ws, 8, 8, WsOrder::n_outer, 0, 512},
        // Double-buffered weights (two banks per PE): loads overlap streams and drains, up to
        // three tiles in flight; the same corners.
        Case{"db_w8a8_ragged", "int8-baseline", 5, 20, 13, Scheme::w8a8, 0, 0, true,
             DequantMode::fused, 0, Dataflow::ws, 8, 8, WsOrder::n_outer, 0, 0, true},
        Case{"db_w8a8_long_stream", "int8-baseline", 37, 20, 13, Scheme::w8a8, 0, 0, true,
             DequantMode::fused, 0, Dataflow::ws, 8, 8, WsOrder::n_outer, 0, 0, true},
        Case{"db_is_groups", "intscale", 12, 256, 16, Scheme::w4a8_is, 0, 0, true,
             DequantMode::fused, 0, Dataflow::ws, 8, 8, WsOrder::n_outer, 0, 0, true},
        Case{"db_fs_edge_bound", "floatscale", 40, 256, 24, Scheme::w4a8_fs, 0, 1, true,
             DequantMode::fused, 0, Dataflow::ws, 8, 8, WsOrder::n_outer, 0, 0, true},
        Case{"db_memory_bound", "int8-baseline", 3, 64, 64, Scheme::w8a8, 0.5, 0, true,
             DequantMode::fused, 0, Dataflow::ws, 8, 8, WsOrder::n_outer, 0, 0, true},
        Case{"db_single_slot", "dint", 7, 40, 17, Scheme::w4a8_dint, 2, 0, false,
             DequantMode::fused, 0, Dataflow::ws, 8, 8, WsOrder::n_outer, 0, 0, true},
        Case{"db_dgq_fused_slow_dequant", "dgq", 4, 128, 16, Scheme::w4a8_dgq, 0, 1, true,
             DequantMode::fused, 0, Dataflow::ws, 8, 8, WsOrder::n_outer, 0, 0, true},
        Case{"db_dgq_materialized", "dgq", 4, 128, 16, Scheme::w4a8_dgq, 0, 0, true,
             DequantMode::materialized, 0, Dataflow::ws, 8, 8, WsOrder::n_outer, 0, 0, true},
        Case{"db_w8a8_port_bound", "int8-baseline", 11, 20, 13, Scheme::w8a8, 0, 0, true,
             DequantMode::fused, 7, Dataflow::ws, 8, 8, WsOrder::n_outer, 0, 0, true},
        Case{"db_w8a8_tall_4x12", "int8-baseline", 9, 30, 27, Scheme::w8a8, 0, 0, true,
             DequantMode::fused, 0, Dataflow::ws, 12, 4, WsOrder::n_outer, 0, 0, true},
        Case{"db_is_m_blocked_memory_bound", "intscale", 12, 256, 16, Scheme::w4a8_is, 0.5, 0,
             true, DequantMode::fused, 0, Dataflow::ws, 8, 8, WsOrder::m_blocked, 1024, 0, true},
        Case{"db_is_spills", "intscale", 12, 256, 16, Scheme::w4a8_is, 0, 0, true,
             DequantMode::fused, 0, Dataflow::ws, 8, 8, WsOrder::n_outer, 0, 512, true},
        // Output-stationary with double-buffered accumulators: the next tile streams while
        // this one's results unload.
        Case{"os_db_w8a8_ragged", "int8-baseline", 13, 20, 13, Scheme::w8a8, 0, 0, true,
             DequantMode::fused, 0, Dataflow::os, 8, 8, WsOrder::n_outer, 0, 0, true},
        Case{"os_db_is_groups", "intscale", 12, 256, 16, Scheme::w4a8_is, 0, 0, true,
             DequantMode::fused, 0, Dataflow::os, 8, 8, WsOrder::n_outer, 0, 0, true},
        Case{"os_db_fs_one_unit", "floatscale", 40, 256, 24, Scheme::w4a8_fs, 0, 1, true,
             DequantMode::fused, 0, Dataflow::os, 8, 8, WsOrder::n_outer, 0, 0, true},
        Case{"os_db_memory_bound", "int8-baseline", 3, 64, 64, Scheme::w8a8, 0.5, 0, true,
             DequantMode::fused, 0, Dataflow::os, 8, 8, WsOrder::n_outer, 0, 0, true},
        Case{"os_db_single_slot", "dint", 7, 40, 17, Scheme::w4a8_dint, 2, 0, false,
             DequantMode::fused, 0, Dataflow::os, 8, 8, WsOrder::n_outer, 0, 0, true},
        Case{"os_db_dgq_fused_slow_dequant", "dgq", 4, 128, 16, Scheme::w4a8_dgq, 0, 1, true,
             DequantMode::fused, 0, Dataflow::os, 8, 8, WsOrder::n_outer, 0, 0, true},
        Case{"os_db_w8a8_port_bound", "int8-baseline", 11, 20, 13, Scheme::w8a8, 0, 0, true,
             DequantMode::fused, 3, Dataflow::os, 8, 8, WsOrder::n_outer, 0, 0, true},
        Case{"os_db_short_chunks_4x12", "int8-baseline", 9, 30, 27, Scheme::w8a8, 0, 0, true,
             DequantMode::fused, 0, Dataflow::os, 4, 12, WsOrder::n_outer, 0, 0, true},
        Case{"os_db_fs_16x16", "floatscale", 20, 256, 40, Scheme::w4a8_fs, 0, 0, true,
             DequantMode::fused, 0, Dataflow::os, 16, 16, WsOrder::n_outer, 0, 0, true},
        // k-chunks of 10 on 16 rows: each stream must end ROWS cycles after the previous one
        // (the shadow registers' rule), so streams wait 6 cycles.
        Case{"os_db_chunks_shorter_than_rows", "int8-baseline", 20, 10, 13, Scheme::w8a8, 0, 0,
             true, DequantMode::fused, 0, Dataflow::os, 16, 8, WsOrder::n_outer, 0, 0, true}),
    [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

// Each core's share of GEMMs m x k x n (one layer each), planned as sim/mapping plans a trace.
std::vector<std::vector<LayerWork>> core_work_for(
    const ArchSpec& a, const std::vector<std::array<std::uint64_t, 3>>& gemms, Scheme s) {
  trace::Trace t;
  t.name = "multi";
  for (std::size_t i = 0; i < gemms.size(); ++i) {
    trace::Layer l;
    l.name = "g" + std::to_string(i);
    l.op = trace::Op::linear;
    l.m = gemms[i][0], l.k = gemms[i][1], l.n = gemms[i][2];
    trace::LayerScheme ls;
    ls.scheme = s;
    l.scheme = ls;
    t.layers.push_back(l);
  }
  return mapping::plan_trace(a, t).cores;
}

// Several cores on one DRAM: both fidelities agree, core by core and layer by layer, with the
// cores contending for the bus (memory-bound) and not (compute-bound), both partitions, one
// and two weight banks. Layers are barriers across the cores.
TEST(MultiCore, FastEqualsCycleUnderContention) {
  struct Run {
    ArchSpec a;
    std::vector<std::vector<LayerWork>> w;
    std::string what;
  };
  std::vector<std::unique_ptr<Run>> runs;  // stable addresses for the jobs
  std::vector<SimJob> jobs;
  for (const std::uint32_t cores : {2u, 3u}) {
    for (const Partition part : {Partition::split_n, Partition::split_m}) {
      for (const double gbps : {0.5, 64.0}) {
        for (const bool db : {false, true}) {
          auto run = std::make_unique<Run>();
          ArchSpec& a = run->a;
          a = design("intscale");
          a.array.rows = a.array.cols = 8;
          a.cores = cores;
          a.linear_partition = part;
          a.dram.bandwidth_gbps = gbps;
          a.array.double_buffer = db;
          // split_m cases go through an interconnect (3 cycles each way, 4 B a cycle a core).
          if (part == Partition::split_m) a.interconnect = {3, 4.0};
          run->w = core_work_for(a, {{13, 64, 40}, {9, 128, 24}}, Scheme::w4a8_is);
          run->what = std::to_string(cores) + " cores, " + partition_name(part) + ", " +
                      std::to_string(gbps) + " GB/s, banks " + (db ? "2" : "1");
          runs.push_back(std::move(run));
        }
      }
    }
  }
  for (const auto& run : runs) {
    jobs.push_back({&run->a, nullptr, Fidelity::fast, &run->w});
    jobs.push_back({&run->a, nullptr, Fidelity::cycle, &run->w});
  }
  const std::vector<RunStats> all = simulate_jobs(jobs);
  ASSERT_EQ(all.size(), 32u);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const RunStats* r = &all[2 * i];
    const std::string& what = runs[i]->what;
    const std::uint32_t cores = runs[i]->a.cores;
    EXPECT_EQ(r[0].cycles, r[1].cycles) << what;
    ASSERT_EQ(r[0].layers.size(), 2u) << what;
    for (std::size_t l = 0; l < 2; ++l) EXPECT_TRUE(r[0].layers[l] == r[1].layers[l]) << what;
    ASSERT_EQ(r[0].cores.size(), cores) << what;
    for (std::size_t c = 0; c < cores; ++c) EXPECT_TRUE(r[0].cores[c] == r[1].cores[c]) << what;
    EXPECT_EQ(r[0].total(&LayerStats::macs), 13u * 64u * 40u + 9u * 128u * 24u) << what;
    std::uint64_t core_macs = 0, latest = 0;
    for (const LayerStats& c : r[0].cores) {
      core_macs += c.macs;
      latest = std::max(latest, c.cycles);
      EXPECT_GT(c.tiles, 0u) << what << ": every core has a share";
    }
    EXPECT_EQ(core_macs, r[0].total(&LayerStats::macs)) << what;
    EXPECT_EQ(latest, r[0].cycles) << what << ": the run ends with its last core";
  }
}

// Four cores split the output channels of a compute-bound GEMM: about 4x faster than one.
// Memory-bound, they share one DRAM bus: barely faster (the shared controller is what makes
// it so; private buses per core would make this test fail).
TEST(MultiCore, ScalesWhenComputeBoundNotWhenMemoryBound) {
  auto make = [](std::uint32_t cores, double gbps) {
    ArchSpec a = design("int8-baseline");
    a.array.rows = a.array.cols = 16;
    a.cores = cores;
    a.dram.bandwidth_gbps = gbps;
    return a;
  };
  const ArchSpec c1 = make(1, 1000), c4 = make(4, 1000), m1 = make(1, 2), m4 = make(4, 2);
  const std::vector<std::array<std::uint64_t, 3>> g{{256, 256, 256}};
  const auto w1 = core_work_for(c1, g, Scheme::w8a8), w4 = core_work_for(c4, g, Scheme::w8a8);
  const auto wm1 = core_work_for(m1, g, Scheme::w8a8), wm4 = core_work_for(m4, g, Scheme::w8a8);
  const std::vector<RunStats> r = simulate_jobs({{&c1, nullptr, Fidelity::fast, &w1},
                                                 {&c4, nullptr, Fidelity::fast, &w4},
                                                 {&m1, nullptr, Fidelity::fast, &wm1},
                                                 {&m4, nullptr, Fidelity::fast, &wm4}});
  const double compute = static_cast<double>(r[0].cycles) / static_cast<double>(r[1].cycles);
  const double memory = static_cast<double>(r[2].cycles) / static_cast<double>(r[3].cycles);
  EXPECT_GT(compute, 3.5);
  EXPECT_LE(compute, 4.0);
  EXPECT_LT(memory, 1.1);
  EXPECT_GT(r[3].total(&LayerStats::stall_dram), r[3].cycles) << "summed over four cores";
}

TEST(MultiCore, PartitionsThatLeaveACoreIdleAreErrors) {
  ArchSpec a = design("int8-baseline");  // 32 columns
  a.cores = 4;
  trace::Layer l;
  l.name = "narrow", l.op = trace::Op::linear, l.m = 2, l.k = 64, l.n = 96;  // 3 n-tiles
  try {
    (void)mapping::core_share(a, l, 0);
    FAIL() << "split_n over 4 cores of 3 n-tiles";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("layer 'narrow': split_n cannot give 4 cores work"),
              std::string::npos)
        << e.what();
  }
  a.linear_partition = Partition::split_m;
  EXPECT_THROW((void)mapping::core_share(a, l, 0), Error);  // 2 tokens, 4 cores
  a.cores = 2;
  EXPECT_EQ(mapping::core_share(a, l, 0).m + mapping::core_share(a, l, 1).m, 2u);
  a.linear_partition = Partition::split_n;
  EXPECT_EQ(mapping::core_share(a, l, 0).n, 64u);  // 2 of the 3 n-tiles
  EXPECT_EQ(mapping::core_share(a, l, 1).n, 32u);
}

// A linear layer m x k x n of scheme s reading the records `inputs` names (absent: the record
// before it, a chain).
trace::Layer linear_layer(const std::string& name, std::uint64_t m, std::uint64_t k,
                          std::uint64_t n, Scheme s,
                          std::optional<std::vector<std::string>> inputs = std::nullopt) {
  trace::Layer l;
  l.name = name;
  l.op = trace::Op::linear;
  l.m = m, l.k = k, l.n = n;
  trace::LayerScheme ls;
  ls.scheme = s;
  l.scheme = ls;
  l.inputs = std::move(inputs);
  return l;
}

using Names = std::vector<std::string>;

// partition.layers: whole. A norm, then q, k and v, each reading the norm and not each other:
// on three cores each runs whole on a core of its own, at once, so every core's statistics hold
// exactly one layer's MACs, and the run takes little more than one layer's time where one core
// runs the three in a row. (Assigning every layer to core 0 fails this test.)
TEST(MultiCore, IndependentLayersRunWholeOnCoresOfTheirOwn) {
  auto make = [](std::uint32_t cores, LayerPartition lp) {
    ArchSpec a = design("int8-baseline");
    a.array.rows = a.array.cols = 8;
    a.cores = cores;
    a.layer_partition = lp;
    return a;
  };
  trace::Trace t;
  t.name = "qkv";
  trace::Layer norm;
  norm.name = "norm", norm.op = trace::Op::rmsnorm, norm.m = 16, norm.n = 64;
  t.layers = {norm, linear_layer("q", 16, 64, 64, Scheme::w8a8, Names{"norm"}),
              linear_layer("k", 16, 64, 64, Scheme::w8a8, Names{"norm"}),
              linear_layer("v", 16, 64, 64, Scheme::w8a8, Names{"norm"})};
  const ArchSpec whole = make(3, LayerPartition::whole), one = make(1, LayerPartition::whole),
                 split = make(3, LayerPartition::split);
  const auto w3 = mapping::plan_trace(whole, t).cores, w1 = mapping::plan_trace(one, t).cores,
             ws = mapping::plan_trace(split, t).cores;
  // Equal layers: q to core 0, k to core 1, v to core 2; the others hold nothing of each.
  for (std::uint32_t c = 0; c < 3; ++c)
    for (std::size_t l = 1; l < 4; ++l)
      EXPECT_EQ(w3[c][l].instances > 0, l == c + 1) << "core " << c << " layer " << l;
  const std::vector<RunStats> r = simulate_jobs({{&whole, nullptr, Fidelity::fast, &w3},
                                                 {&one, nullptr, Fidelity::fast, &w1},
                                                 {&split, nullptr, Fidelity::fast, &ws}});
  ASSERT_EQ(r[0].cores.size(), 3u);
  for (std::size_t c = 0; c < 3; ++c) {
    EXPECT_EQ(r[0].cores[c].macs, 16u * 64u * 64u) << "core " << c;
    EXPECT_EQ(r[0].cores[c].tiles, 64u) << "core " << c << ": 8 n-tiles x 8 k-tiles";
  }
  EXPECT_EQ(r[0].total(&LayerStats::macs), r[1].total(&LayerStats::macs));
  // One core runs 192 tiles in a row, the three cores 64 each at once on the shared DRAM:
  // more than twice as fast. Split, each layer's 8 n-tiles go 3, 3, 2 to the cores, so the
  // busiest core runs 9 tiles of every 8 whole runs: whole is faster here.
  EXPECT_LT(2 * r[0].cycles, r[1].cycles) << "whole on 3 cores " << r[0].cycles << ", 1 core "
                                          << r[1].cycles;
  EXPECT_LT(r[0].cycles, r[2].cycles) << "whole " << r[0].cycles << ", split " << r[2].cycles;
  std::cout << "q, k, v 16 x 64 x 64 on 8 x 8: 1 core " << r[1].cycles << " cycles, 3 cores split "
            << r[2].cycles << ", 3 cores whole " << r[0].cycles << "\n";
}

// A decoder-like graph under partition.layers: whole: q, k and v independent (a wave of three),
// o reads them (alone: split), gate and up read o (a wave of two), down reads both (split).
// Both fidelities agree core by core and layer by layer, on 2 and 3 cores, memory- and
// compute-bound, one and two weight banks, through the interconnect and directly.
TEST(MultiCore, WholeLayersFastEqualsCycle) {
  struct Run {
    ArchSpec a;
    std::vector<std::vector<LayerWork>> w;
    std::string what;
  };
  trace::Trace t;
  t.name = "block";
  const Scheme is = Scheme::w4a8_is;
  t.layers = {linear_layer("q", 13, 64, 40, is, Names{}), linear_layer("k", 13, 64, 24, is, Names{}),
              linear_layer("v", 13, 64, 24, is, Names{}),
              linear_layer("o", 13, 64, 40, is, Names{"q", "k", "v"}),
              linear_layer("gate", 9, 128, 24, is, Names{"o"}),
              linear_layer("up", 9, 128, 40, is, Names{"o"}),
              linear_layer("down", 9, 128, 40, is, Names{"gate", "up"})};
  std::vector<std::unique_ptr<Run>> runs;
  for (const std::uint32_t cores : {2u, 3u}) {
    for (const double gbps : {0.5, 64.0}) {
      for (const bool db : {false, true}) {
        for (const bool net : {false, true}) {
          auto run = std::make_unique<Run>();
          ArchSpec& a = run->a;
          a = design("intscale");
          a.array.rows = a.array.cols = 8;
          a.cores = cores;
          a.layer_partition = LayerPartition::whole;
          a.dram.bandwidth_gbps = gbps;
          a.array.double_buffer = db;
          if (net) a.interconnect = {3, 4.0};
          run->w = mapping::plan_trace(a, t).cores;
          run->what = std::to_string(cores) + " cores, " + std::to_string(gbps) + " GB/s, banks " +
                      (db ? "2" : "1") + (net ? ", interconnect" : "");
          runs.push_back(std::move(run));
        }
      }
    }
  }
  std::vector<SimJob> jobs;
  for (const auto& run : runs) {
    jobs.push_back({&run->a, nullptr, Fidelity::fast, &run->w});
    jobs.push_back({&run->a, nullptr, Fidelity::cycle, &run->w});
  }
  const std::vector<RunStats> all = simulate_jobs(jobs);
  ASSERT_EQ(all.size(), 2 * runs.size());
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const RunStats* r = &all[2 * i];
    const Run& run = *runs[i];
    const std::uint32_t cores = run.a.cores;
    // The largest of each wave on core 0 alone (q, up); o and down on every core.
    for (std::uint32_t c = 0; c < cores; ++c) {
      EXPECT_EQ(run.w[c][0].instances > 0, c == 0) << run.what << " q, core " << c;
      EXPECT_EQ(run.w[c][5].instances > 0, c == 0) << run.what << " up, core " << c;
      EXPECT_GT(run.w[c][3].instances, 0u) << run.what << " o, core " << c;
      EXPECT_GT(run.w[c][6].instances, 0u) << run.what << " down, core " << c;
    }
    EXPECT_EQ(r[0].cycles, r[1].cycles) << run.what;
    ASSERT_EQ(r[0].layers.size(), 7u) << run.what;
    for (std::size_t l = 0; l < 7; ++l)
      EXPECT_TRUE(r[0].layers[l] == r[1].layers[l]) << run.what << " layer " << l;
    ASSERT_EQ(r[0].cores.size(), cores) << run.what;
    std::uint64_t core_macs = 0;
    for (std::size_t c = 0; c < cores; ++c) {
      EXPECT_TRUE(r[0].cores[c] == r[1].cores[c]) << run.what << " core " << c;
      core_macs += r[0].cores[c].macs;
    }
    EXPECT_EQ(core_macs, t.total_macs()) << run.what;
    EXPECT_EQ(r[0].total(&LayerStats::macs), t.total_macs()) << run.what;
  }
}

// Under partition.layers: whole, every core works through the layers wave by wave, not in the
// trace's order. Two experts, each gate and up (reading the input) and down (reading both),
// on two cores: the gates go to core 0, the ups to core 1, e0.down to core 0 and e1.down to
// core 1. In the trace's order core 0 would hold e1.gate behind e0.down, which waits for e0.up
// on core 1, and core 1's e1.down waits for that e1.gate: four layers' time. Wave by wave
// each core runs its two wave-0 layers, then its down: three. Both fidelities agree.
TEST(MultiCore, WholeLayersRunWaveByWave) {
  ArchSpec a = design("int8-baseline");
  a.array.rows = a.array.cols = 8;
  a.cores = 2;
  a.layer_partition = LayerPartition::whole;
  trace::Trace t;
  t.name = "experts";
  for (const std::string e : {"e0", "e1"}) {
    t.layers.push_back(linear_layer(e + ".gate", 16, 64, 64, Scheme::w8a8, Names{}));
    t.layers.push_back(linear_layer(e + ".up", 16, 64, 64, Scheme::w8a8, Names{}));
    t.layers.push_back(
        linear_layer(e + ".down", 16, 64, 64, Scheme::w8a8, Names{e + ".gate", e + ".up"}));
  }
  const mapping::PlannedTrace p = mapping::plan_trace(a, t);
  const std::vector<std::vector<std::size_t>> placed{{0, 2, 3}, {1, 4, 5}};  // core -> layers
  for (std::uint32_t c = 0; c < 2; ++c)
    for (std::size_t l = 0; l < 6; ++l) {
      EXPECT_EQ(p.cores[c][l].instances > 0,
                std::count(placed[c].begin(), placed[c].end(), l) == 1)
          << "core " << c << " layer " << l;
      EXPECT_EQ(p.cores[c][l].wave, l % 3 == 2 ? 1u : 0u) << "core " << c << " layer " << l;
    }
  std::vector<std::vector<LayerWork>> listed = p.cores;  // the trace's order
  for (auto& core : listed)
    for (LayerWork& w : core) w.wave = 0;
  const std::vector<RunStats> r = simulate_jobs(
      {{&a, nullptr, Fidelity::fast, &p.cores}, {&a, nullptr, Fidelity::cycle, &p.cores},
       {&a, nullptr, Fidelity::fast, &listed}, {&a, nullptr, Fidelity::cycle, &listed}});
  for (std::size_t i = 0; i < 4; i += 2) {
    EXPECT_EQ(r[i].cycles, r[i + 1].cycles) << i;
    for (std::size_t l = 0; l < 6; ++l) EXPECT_TRUE(r[i].layers[l] == r[i + 1].layers[l]) << i;
    for (std::size_t c = 0; c < 2; ++c) EXPECT_TRUE(r[i].cores[c] == r[i + 1].cores[c]) << i;
  }
  EXPECT_LT(static_cast<double>(r[0].cycles), 0.85 * static_cast<double>(r[2].cycles))
      << "wave by wave " << r[0].cycles << ", in the trace's order " << r[2].cycles;
  std::cout << "two experts on two cores: wave by wave " << r[0].cycles
            << " cycles, in the trace's order " << r[2].cycles << "\n";
}

// Under partition.layers: whole, a layer waits for the layers it reads on whichever core they
// ran, and for those only. a (long) and b (short) run at once on cores 0 and 1; of the next
// wave, d (the larger, reading b) goes to core 0 and c (reading a) to core 1, so core 1 runs b,
// then c once a is written: it ends a DRAM latency or more after a ends. The same plan with c
// reading nothing, or reading b, lets core 1 finish long before a ends: core 0, which has
// nothing of b, does not hold b's end back until it has run a.
TEST(MultiCore, AWholeLayerWaitsForItsProducerOnAnotherCore) {
  ArchSpec a = design("int8-baseline");
  a.array.rows = a.array.cols = 8;
  a.cores = 2;
  a.layer_partition = LayerPartition::whole;
  trace::Trace t;
  t.name = "cross";
  t.layers = {linear_layer("a", 64, 64, 64, Scheme::w8a8, Names{}),
              linear_layer("b", 8, 64, 16, Scheme::w8a8, Names{}),
              linear_layer("c", 8, 64, 16, Scheme::w8a8, Names{"a"}),
              linear_layer("d", 8, 64, 32, Scheme::w8a8, Names{"b"})};
  const mapping::PlannedTrace p = mapping::plan_trace(a, t);
  const std::vector<std::vector<std::size_t>> placed{{0, 3}, {1, 2}};  // core -> its layers
  for (std::uint32_t c = 0; c < 2; ++c)
    for (std::size_t l = 0; l < 4; ++l)
      EXPECT_EQ(p.cores[c][l].instances > 0,
                std::count(placed[c].begin(), placed[c].end(), l) == 1)
          << "core " << c << " layer " << l;
  EXPECT_EQ(p.cores[1][2].after, std::vector<std::size_t>{0});
  std::vector<std::vector<LayerWork>> free = p.cores, on_b = p.cores;  // c reading nothing, b
  for (auto& core : free) core[2].after.clear();
  for (auto& core : on_b) core[2].after = {1};
  const std::vector<RunStats> r = simulate_jobs(
      {{&a, nullptr, Fidelity::fast, &p.cores}, {&a, nullptr, Fidelity::cycle, &p.cores},
       {&a, nullptr, Fidelity::fast, &free}, {&a, nullptr, Fidelity::cycle, &free},
       {&a, nullptr, Fidelity::fast, &on_b}, {&a, nullptr, Fidelity::cycle, &on_b}});
  const std::uint64_t a_end = r[0].layers[0].cycles;  // the first layer's share: its end
  for (std::size_t i = 0; i < 6; i += 2) {
    EXPECT_EQ(r[i].cycles, r[i + 1].cycles) << i;
    EXPECT_EQ(r[i].layers[0].cycles, a_end) << i;
    for (std::size_t c = 0; c < 2; ++c) EXPECT_TRUE(r[i].cores[c] == r[i + 1].cores[c]) << i;
  }
  EXPECT_GE(r[0].cores[1].cycles, a_end + static_cast<std::uint64_t>(a.dram.latency_ns))
      << "c waits for a";
  EXPECT_LT(r[2].cores[1].cycles, a_end) << "c reading nothing follows b at once";
  EXPECT_LT(r[4].cores[1].cycles, a_end) << "c reading b waits for b only";
  std::cout << "a ends at " << a_end << "; core 1 ends at " << r[0].cores[1].cycles
            << " (c reads a), " << r[2].cores[1].cycles << " (nothing), " << r[4].cores[1].cycles
            << " (b)\n";
}

// The plan's dependencies pass through records the design does not run: on the intscale
// design (w4a8-is linears only) q, k and v depend on nothing simulated, o_proj on all three
// (through attention, which it does not run), gate and up on o_proj, down on gate and up.
TEST(Dependencies, PlanPassesThroughRecordsTheDesignDoesNotRun) {
  trace::GenSpec s;
  s.model = trace::embedded_model("llama-2-7b");
  s.phase = trace::Phase::decode;
  s.linear_scheme.scheme = Scheme::w4a8_is;
  const trace::Trace t = trace::generate(s);
  ArchSpec a = design("intscale");
  a.vector = VectorSpec{};  // no vector unit: the norms, attention etc. are not run
  const mapping::PlannedTrace p = mapping::plan_trace(a, t);
  ASSERT_EQ(p.cores.size(), 1u);
  const std::vector<LayerWork>& w = p.cores[0];
  ASSERT_EQ(w.size(), 7u);
  const std::vector<std::vector<std::size_t>> want{{}, {}, {}, {0, 1, 2}, {3}, {3}, {4, 5}};
  for (std::size_t i = 0; i < w.size(); ++i) EXPECT_EQ(w[i].after, want[i]) << w[i].name;
}

// Layers as a graph, both fidelities: g1 does not read g0, g2 reads g0, g3 reads g1 and g2, so
// g2 may start while g1's tiles are in flight once g0 is written. Single and double buffered,
// WS and OS, memory-bound and not.
TEST(Dependencies, FastEqualsCycleOnAGraph) {
  struct Run {
    ArchSpec a;
    std::vector<LayerWork> w;
  };
  std::vector<std::unique_ptr<Run>> runs;
  for (const Dataflow df : {Dataflow::ws, Dataflow::os}) {
    for (const bool db : {false, true}) {
      for (const double gbps : {1.0, 64.0}) {
        auto run = std::make_unique<Run>();
        run->a = design("int8-baseline");
        run->a.array.rows = run->a.array.cols = 8;
        run->a.array.dataflow = df;
        run->a.array.double_buffer = db;
        run->a.dram.bandwidth_gbps = gbps;
        run->w = {work_for(run->a, 9, 40, 24, Scheme::w8a8), work_for(run->a, 5, 16, 40, Scheme::w8a8),
                  work_for(run->a, 12, 24, 16, Scheme::w8a8), work_for(run->a, 3, 64, 8, Scheme::w8a8)};
        run->w[2].after = {0};
        run->w[3].after = {1, 2};
        runs.push_back(std::move(run));
      }
    }
  }
  std::vector<SimJob> jobs;
  for (const auto& run : runs) {
    jobs.push_back({&run->a, &run->w, Fidelity::fast});
    jobs.push_back({&run->a, &run->w, Fidelity::cycle});
  }
  const std::vector<RunStats> r = simulate_jobs(jobs);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const std::string what = std::string(dataflow_name(runs[i]->a.array.dataflow)) +
                             (runs[i]->a.array.double_buffer ? " double" : " single") + ", " +
                             std::to_string(runs[i]->a.dram.bandwidth_gbps) + " GB/s";
    EXPECT_EQ(r[2 * i].cycles, r[2 * i + 1].cycles) << what;
    for (std::size_t l = 0; l < 4; ++l)
      EXPECT_TRUE(r[2 * i].layers[l] == r[2 * i + 1].layers[l]) << what << " layer " << l;
  }
}

// The DRAM's bandwidth is its own, not the core clock's: a memory-bound layer takes the same
// time at 1 and 2 GHz (twice the cycles), where version 1's bytes_per_cycle doubled with the
// clock. Compute-bound, the time halves.
TEST(Accelerator, MemoryTimeDoesNotScaleWithTheClock) {
  auto make = [](double mhz, double gbps) {
    ArchSpec a = design("int8-baseline");
    a.array.rows = a.array.cols = 16;
    a.clock_mhz = mhz;
    a.dram.bandwidth_gbps = gbps;
    return a;
  };
  const ArchSpec m1 = make(1000, 2), m2 = make(2000, 2), c1 = make(1000, 4000),
                 c2 = make(2000, 4000);
  const std::vector<LayerWork> w{work_for(m1, 4, 512, 512, Scheme::w8a8)};
  const std::vector<LayerWork> wc{work_for(c1, 256, 256, 256, Scheme::w8a8)};
  const std::vector<RunStats> r = simulate_jobs({{&m1, &w, Fidelity::fast},
                                                 {&m2, &w, Fidelity::fast},
                                                 {&c1, &wc, Fidelity::fast},
                                                 {&c2, &wc, Fidelity::fast}});
  const double memory = static_cast<double>(r[1].cycles) / static_cast<double>(r[0].cycles);
  const double compute = static_cast<double>(r[3].cycles) / static_cast<double>(r[2].cycles);
  EXPECT_GT(memory, 1.95);  // the same nanoseconds: twice the cycles
  EXPECT_LT(memory, 2.05);
  EXPECT_GT(compute, 0.95);  // the same cycles: half the nanoseconds
  EXPECT_LT(compute, 1.10);
}

// A model whose weights the DRAM cannot hold is an error naming the trace, the design, the
// figure and the key: LLaMA-2-7B in w4a8-is is 3.11 GiB of codes and group scales (6.5 G
// weights x 0.5 B + 2 B per group of 128 per channel), and its fp16 KV cache at batch 1,
// context 4096 2 GiB (K and V: 32 layers x 32 heads x 4096 x 256 B each): more than 2 GiB,
// less than 6 GiB.
TEST(Capacity, AModelTheDramCannotHoldIsAnError) {
  trace::GenSpec s;
  s.model = trace::embedded_model("llama-2-7b");
  s.phase = trace::Phase::decode;
  s.linear_scheme.scheme = Scheme::w4a8_is;
  const trace::Trace t = trace::generate(s);
  ArchSpec a = design("intscale");
  a.dram.capacity_gib = 2;
  try {
    (void)mapping::plan_trace(a, t);
    FAIL() << "5.11 GiB of weights and KV cache in 2 GiB";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("its layers hold 3.11 GiB of weights and 2.00 GiB of KV "
                                         "cache, more than dram.capacity_gib = 2"),
              std::string::npos)
        << e.what();
  }
  a.dram.capacity_gib = 6;
  EXPECT_NO_THROW((void)mapping::plan_trace(a, t));
}

// The DRAM holds the activations too, at their peak: a, b and c each write 1 GiB of fp16
// outputs (2^19 tokens x 1024 channels) from under 3 MiB of weights in all. In a chain a's
// outputs are freed once b has read them, so at most two layers' outputs are live (2 GiB: b
// runs with a's outputs in and its own out; c's stay to the end). With c reading a too, all
// three are live at c (3 GiB).
TEST(Capacity, ActivationsCountAtTheirPeak) {
  ArchSpec a = design("int8-baseline");
  trace::Trace t;
  t.name = "acts";
  const std::uint64_t m = std::uint64_t{1} << 19;
  t.layers = {linear_layer("a", m, 32, 1024, Scheme::w8a8, Names{}),
              linear_layer("b", m, 1024, 1024, Scheme::w8a8, Names{"a"}),
              linear_layer("c", m, 1024, 1024, Scheme::w8a8, Names{"b"})};
  const auto refused = [&](double gib) -> std::string {
    a.dram.capacity_gib = gib;
    try {
      (void)mapping::plan_trace(a, t);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  std::string e = refused(1.5);
  EXPECT_NE(e.find("its layers hold 0.00 GiB of weights and 0.00 GiB of KV cache, more than "
                   "dram.capacity_gib = 1.5 can hold with 2.00 GiB of activations"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("at layer 'b'"), std::string::npos) << e;
  EXPECT_EQ(refused(2.5), "") << "a chain holds two layers' outputs at once, not three";
  t.layers[2].inputs = Names{"a", "b"};
  e = refused(2.5);
  EXPECT_NE(e.find("can hold with 3.00 GiB of activations"), std::string::npos) << e;
  EXPECT_NE(e.find("at layer 'c'"), std::string::npos) << e;
  EXPECT_EQ(refused(3.5), "");
}

// The activations' peak follows the order the cores run the layers. Two experts (gate and up
// reading the input, down reading both), every layer writing 1 GiB: in the trace's order at
// most four outputs are live (e1's gate, up and down, and e0's down, a step output); under
// partition.layers: whole the cores run both gates and ups first, so five are live at e0's
// down.
TEST(Capacity, ActivationsFollowTheRunOrder) {
  ArchSpec a = design("int8-baseline");
  a.dram.capacity_gib = 4.5;
  trace::Trace t;
  t.name = "experts";
  const std::uint64_t m = std::uint64_t{1} << 19;
  for (const std::string e : {"e0", "e1"}) {
    t.layers.push_back(linear_layer(e + ".gate", m, 32, 1024, Scheme::w8a8, Names{}));
    t.layers.push_back(linear_layer(e + ".up", m, 32, 1024, Scheme::w8a8, Names{}));
    t.layers.push_back(
        linear_layer(e + ".down", m, 32, 1024, Scheme::w8a8, Names{e + ".gate", e + ".up"}));
  }
  EXPECT_NO_THROW((void)mapping::plan_trace(a, t));
  a.cores = 2;
  EXPECT_NO_THROW((void)mapping::plan_trace(a, t));  // split: the trace's order
  a.layer_partition = LayerPartition::whole;
  try {
    (void)mapping::plan_trace(a, t);
    FAIL() << "five 1 GiB outputs live at once in 4.5 GiB";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("can hold with 5.00 GiB of activations (the layers' "
                                         "outputs live at once at layer 'e0.down'"),
              std::string::npos)
        << e.what();
  }
}

// Decode (M = 16 tokens, a 4096 x 4096 projection) on a 64 x 64 double-buffered array whose
// prefetch covers the DRAM latency, at 16 GB/s: the time is the DRAM's, within 10% of the
// roofline (bytes moved / bandwidth), and halving the weights (dINT4 against int8, per-channel
// scales) makes it about 1.9x faster. (The two-bank array needs (M + 2 rows + cols - 2) / 2 =
// 103 cycles a tile here, units::WsDoubleBufferedSchedule: above about 21 B a cycle the
// 4-bit design's 2176 B tiles are array-bound, and the memory stops setting the time.) Without double-buffered weights the array, not the memory, sets
// the time and the 4-bit design gains far less: the defect the v2 model fixes.
TEST(Accelerator, DecodeIsMemoryBoundWithDoubleBufferedWeights) {
  auto decode_design = [](const char* name, bool db) {
    ArchSpec a = design(name);
    a.array.rows = a.array.cols = 64;
    a.array.double_buffer = db;
    a.buffers.prefetch_depth = 8;
    a.dram.bandwidth_gbps = 16.0;  // 16 B a cycle at 1 GHz
    return a;
  };
  const ArchSpec i8 = decode_design("int8-baseline", true), d4 = decode_design("dint", true);
  const ArchSpec i8s = decode_design("int8-baseline", false), d4s = decode_design("dint", false);
  const std::vector<LayerWork> w8{work_for(i8, 16, 4096, 4096, Scheme::w8a8)};
  const std::vector<LayerWork> w4{work_for(d4, 16, 4096, 4096, Scheme::w4a8_dint)};
  const std::vector<RunStats> r = simulate_jobs(
      {{&i8, &w8, Fidelity::fast}, {&d4, &w4, Fidelity::fast},
       {&i8s, &w8, Fidelity::fast}, {&d4s, &w4, Fidelity::fast}});
  for (std::size_t i = 0; i < 2; ++i) {
    const double bytes = static_cast<double>(r[i].total(&LayerStats::dram_read_bytes) +
                                             r[i].total(&LayerStats::dram_write_bytes));
    const double roofline = bytes / 16.0;
    EXPECT_GE(static_cast<double>(r[i].cycles), roofline) << i;
    EXPECT_LE(static_cast<double>(r[i].cycles), 1.10 * roofline) << i;
  }
  const double speedup = static_cast<double>(r[0].cycles) / static_cast<double>(r[1].cycles);
  EXPECT_GT(speedup, 1.8);
  EXPECT_LT(speedup, 2.0);
  const double single_speedup =
      static_cast<double>(r[2].cycles) / static_cast<double>(r[3].cycles);
  EXPECT_LT(single_speedup, 1.3) << "single-buffered, the 4-bit design is array-bound";
  EXPECT_GT(static_cast<double>(r[3].cycles), 1.4 * static_cast<double>(r[1].cycles));
  std::cout << "decode 16 x 4096 x 4096 on 64 x 64 at 16 GB/s, cycles: int8 " << r[0].cycles
            << ", dint4 " << r[1].cycles << " (double-buffered), int8 " << r[2].cycles
            << ", dint4 " << r[3].cycles << " (single)\n";
}

// One 8x8 tile of w8a8, M = 4, by hand: operands (8*8 weights + 8 fp16... see plan) arrive
// after the DRAM latency plus ceil(bytes / bandwidth); then load 8 + stream 4 + drain 8+8-2 = 14
// cycles; the epilogue takes ceil(4*8 / 32 units) + 4 = 5 cycles (its fp32 multiply and add
// need 4 stages at 1 GHz, 45 nm: the design's derived latency); the 64 output bytes go out in
// 1 cycle + 100 latency.
TEST(Accelerator, OneTileByHand) {
  ArchSpec a = design("int8-baseline");
  ASSERT_EQ(a.edge.epilogue_latency_cycles, 4u);
  a.array.rows = a.array.cols = 8;
  const std::vector<LayerWork> w{work_for(a, 4, 8, 8, Scheme::w8a8)};
  ASSERT_EQ(w[0].tiles.size(), 1u);
  const Tile& t = w[0].tiles[0];
  EXPECT_EQ(t.weight_bytes, 8u * 8u + 8u * 2u);           // int8 codes + fp16 channel scales
  EXPECT_EQ(t.act_bytes, 4u * 8u + 4u * 4u);              // int8 activations + fp32 token scales
  const std::uint64_t ready = 100 + (80 + 48 + 63) / 64;  // latency + ceil(128 / 64) = 102
  const std::uint64_t drained = ready + 8 + 4 + 14;
  const std::uint64_t edge_done = drained + 1 + 4;
  const std::uint64_t written = edge_done + 1 + 100;
  const std::vector<RunStats> r = simulate(a, w, {Fidelity::cycle});
  EXPECT_EQ(r[0].cycles, written);
  EXPECT_EQ(r[0].layers[0].stall_dram, ready);
  EXPECT_EQ(r[0].layers[0].drain, 14u);
  // Actions and buffer traffic: 4 tokens of 8 int8 activations in, 4 x 8 int32 partial sums
  // out, the 80 weight bytes read once, the 64 fp16 output bytes read by the DMA.
  const LayerStats& l = r[0].layers[0];
  EXPECT_EQ(l.macs, 4u * 8u * 8u);
  EXPECT_EQ(l.ifmap_read_bytes, 4u * 8u);
  EXPECT_EQ(l.ifmap_write_bytes, t.act_bytes);
  EXPECT_EQ(l.weight_read_bytes, 80u);
  EXPECT_EQ(l.ofmap_write_bytes, 4u * 8u * 4u);
  EXPECT_EQ(l.ofmap_read_bytes, 64u);
  EXPECT_EQ(l.epilogue_ops, 32u);
  EXPECT_EQ(l.dequant_ops + l.intscale_ops + l.floatscale_ops + l.stall_port, 0u);
}

// One output-stationary 8x8 tile of w8a8, M = 4, K = 8, by hand: the same 128 operand bytes
// (ready at 102), no preload, stream K = 8, drain 2*8 + 8 - 2 = 22 (units::systolic_os_timing:
// the last PE finishes, then 8 result rows are unloaded), epilogue 1 + 4, write 1 + 100.
TEST(Accelerator, OneOsTileByHand) {
  ArchSpec a = design("int8-baseline");
  ASSERT_EQ(a.edge.epilogue_latency_cycles, 4u);
  a.array.rows = a.array.cols = 8;
  a.array.dataflow = Dataflow::os;
  const std::vector<LayerWork> w{work_for(a, 4, 8, 8, Scheme::w8a8)};
  ASSERT_EQ(w[0].tiles.size(), 1u);
  const std::vector<RunStats> r = simulate(a, w, {Fidelity::cycle, Fidelity::fast});
  for (const RunStats& s : r) {
    EXPECT_EQ(s.layers[0].stall_dram, 102u);
    EXPECT_EQ(s.layers[0].load, 0u);
    EXPECT_EQ(s.layers[0].stream, 8u);
    EXPECT_EQ(s.layers[0].drain, 22u);
    EXPECT_EQ(s.cycles, 102u + 8u + 22u + 5u + 101u);
    EXPECT_EQ(s.layers[0].macs, 4u * 8u * 8u);
  }
}

// DRAM requests move whole bursts: the tile's 128 operand bytes take one 256-byte burst,
// ceil(256 / 64) = 4 cycles of the channel, then the 100-cycle latency.
TEST(Accelerator, DramBurstsByHand) {
  ArchSpec a = design("int8-baseline");
  a.array.rows = a.array.cols = 8;
  a.dram.burst_bytes = 256;
  const std::vector<LayerWork> w{work_for(a, 4, 8, 8, Scheme::w8a8)};
  const std::vector<RunStats> r = simulate(a, w, {Fidelity::fast});
  EXPECT_EQ(r[0].layers[0].stall_dram, 100u + 4u);
  EXPECT_EQ(r[0].layers[0].dram_read_bytes, 128u) << "statistics count the bytes requested";
}

// Layers run in order: a small layer after one with a long output write-back (64 x 4096 fp16
// outputs at 8 B/cycle) waits for those outputs, so every layer's span covers its own array
// time (the second layer's utilization cannot exceed 100 %) and the spans add up to the run.
// Fast and cycle agree.
TEST(Accelerator, LayersWaitForThePreviousLayersOutputs) {
  ArchSpec a = design("int8-baseline");
  a.array.rows = a.array.cols = 8;
  a.dram.bandwidth_gbps = 8;  // 8 B/cycle at 1 GHz
  std::vector<LayerWork> w{work_for(a, 64, 8, 4096, Scheme::w8a8),
                           work_for(a, 64, 64, 8, Scheme::w8a8)};
  w[1].name = "small";
  w[1].after = {0};
  std::vector<LayerWork> free = w;  // the same layers, the second not reading the first
  free[1].after = {};
  const std::vector<RunStats> r =
      simulate_jobs({{&a, &w, Fidelity::fast}, {&a, &w, Fidelity::cycle},
                     {&a, &free, Fidelity::fast}, {&a, &free, Fidelity::cycle}});
  ASSERT_EQ(r[0].layers.size(), 2u);
  std::uint64_t span = 0;
  for (const LayerStats& l : r[0].layers) {
    EXPECT_GE(l.cycles, l.array_busy + l.stall_dram + l.stall_edge) << l.name;
    EXPECT_LE(l.macs, l.cycles * r[0].pe_count) << l.name;
    span += l.cycles;
  }
  EXPECT_EQ(span, r[0].cycles);
  // The small layer's first operands are requested after the first layer's last write: at
  // least the DRAM latency passes before its first tile.
  EXPECT_GE(r[0].layers[1].stall_dram, a.dram.latency_ns);  // ns = cycles at 1 GHz
  EXPECT_EQ(r[0].cycles, r[1].cycles);
  // Independent, the small layer's fetches follow the first layer's without waiting for its
  // writes: less time, and the two fidelities still agree.
  EXPECT_LT(r[2].cycles, r[0].cycles);
  EXPECT_EQ(r[2].cycles, r[3].cycles);
  for (std::size_t l = 0; l < 2; ++l) EXPECT_TRUE(r[2].layers[l] == r[3].layers[l]) << l;
}

// A port-bound stream by hand: an 8 x 8 w8a8 tile with 3 B/cycle ifmap port. Token i (8 B)
// enters at cycle ceil(8 (i + 1) / 3) - 1: 2, 5, 7, 10 -> the stream takes 11 cycles, 7 of
// them bubbles; the drain is still rows + cols - 2 after the last token.
TEST(Accelerator, PortBoundStreamByHand) {
  ArchSpec a = design("int8-baseline");
  a.array.rows = a.array.cols = 8;
  a.buffers.ifmap.bytes_per_cycle = 3;
  const std::vector<LayerWork> w{work_for(a, 4, 8, 8, Scheme::w8a8)};
  const std::vector<RunStats> r = simulate(a, w, {Fidelity::cycle, Fidelity::fast});
  for (const RunStats& s : r) {
    EXPECT_EQ(s.layers[0].stream, 11u);
    EXPECT_EQ(s.layers[0].stall_port, 7u);
    EXPECT_EQ(s.layers[0].drain, 14u);
  }
}

// After a simulation, does AddressSanitizer take this thread's stack for the stack it runs on?
// SystemC's coroutine switches left it holding the last coroutine's (freed) stack, which made
// LeakSanitizer crash at exit on some hosts (arch::simulate_jobs, restore_sanitizer_stack).
// Deterministic on every host: ASan's recorded bounds are read back with a fiber switch to the
// stack we are on (which is also what the fix does), and must contain a local variable.
TEST(Accelerator, SanitizerKnowsTheMainStackAfterARun) {
#if !defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "checks the AddressSanitizer build only";
#else
  ArchSpec a = design("int8-baseline");
  a.array.rows = a.array.cols = 8;
  const std::vector<LayerWork> w{work_for(a, 4, 16, 16, Scheme::w8a8)};
  ASSERT_EQ(simulate(a, w, {Fidelity::fast, Fidelity::cycle}).size(), 2u);
  pthread_attr_t attr;
  ASSERT_EQ(pthread_getattr_np(pthread_self(), &attr), 0);
  void* bottom = nullptr;
  std::size_t size = 0;
  ASSERT_EQ(pthread_attr_getstack(&attr, &bottom, &size), 0);
  pthread_attr_destroy(&attr);
  void* fake = nullptr;
  const void* old_bottom = nullptr;
  std::size_t old_size = 0;
  __sanitizer_start_switch_fiber(&fake, bottom, size);
  __sanitizer_finish_switch_fiber(fake, &old_bottom, &old_size);
  const char here = 0;
  const auto lo = reinterpret_cast<std::uintptr_t>(old_bottom);
  const auto sp = reinterpret_cast<std::uintptr_t>(&here);
  EXPECT_TRUE(sp >= lo && sp < lo + old_size)
      << "ASan's stack for this thread is [" << old_bottom << ", +" << old_size
      << "), which does not hold the stack pointer " << static_cast<const void*>(&here);
#endif
}

}  // namespace
}  // namespace quasar::arch

int sc_main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
