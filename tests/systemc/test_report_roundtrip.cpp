// Can a run be reproduced from its report? report.json's `arch` must hold every key of the
// design, and quasar cost/compare's reader must restore each one (before schema 4 the writer
// dropped the edge latencies and the reader the DRAM latency, burst size and accounting; since
// schema 6 one table does both: report/arch_json.cpp).
// libsystemc defines main() and calls sc_main (toolchain trap 1).
#include <gtest/gtest.h>

#include <filesystem>
#include <systemc>

#include "config/arch_config.hpp"
#include "report/arch_json.hpp"
#include "report/run_record.hpp"
#include "report/run_report.hpp"
#include "trace/trace.hpp"

namespace quasar {
namespace {

TEST(RunReport, DesignRoundTripsThroughReportJson) {
  // Every key away from its default, so a key the writer or reader drops shows.
  arch::ArchSpec a = config::load_arch("intscale");
  a.name = "roundtrip";
  a.clock_mhz = 750;
  a.process = {16, 0.8};
  a.array.rows = 16, a.array.cols = 8, a.array.acc_bits = 40;
  a.array.ws_order = arch::WsOrder::m_blocked;
  a.schemes = {Scheme::w4a8_is, Scheme::w4a8_fs};
  a.edge.intscale_units = 3, a.edge.intscale_acc_bits = 48, a.edge.intscale_latency_cycles = 2;
  a.edge.floatscale_units = 5, a.edge.floatscale_latency_cycles = 6;
  a.edge.dequant_units = 7, a.edge.epilogue_units = 9, a.edge.epilogue_latency_cycles = 3;
  a.buffers.weight = {64 * 1024, 4, 16, false};
  a.buffers.ifmap = {128 * 1024, 2, 32, true};
  a.buffers.ofmap = {256 * 1024, 8, 64, true};
  a.array.double_buffer = true;
  a.cores = 3, a.linear_partition = arch::Partition::split_m;
  a.layer_partition = arch::LayerPartition::whole;
  a.buffers.prefetch_depth = 5;
  a.interconnect.latency_cycles = 7, a.interconnect.bytes_per_cycle = 12.5;
  a.dram.channels = 3, a.dram.bandwidth_gbps = 12.5, a.dram.burst_bytes = 128;
  a.dram.latency_ns = 77.5, a.dram.turnaround_ns = 6.25;
  a.dram.trefi_ns = 3900, a.dram.trfc_ns = 295, a.dram.capacity_gib = 24;
  a.vector.lanes = 96, a.vector.sfu_lanes = 6, a.vector.latency_cycles = 5, a.vector.buffer_kib = 48;
  a.attention.kv = KvFormat::int4, a.attention.tile = 96;
  ASSERT_EQ(arch::check_consistency(a), "");

  trace::Trace t;
  t.name = "one";
  trace::Layer l;
  l.name = "g", l.op = trace::Op::linear, l.m = 4, l.k = 128, l.n = 16;
  trace::LayerScheme s;
  s.scheme = Scheme::w4a8_is, s.group_size = 64;
  l.scheme = s;
  t.layers = {l};
  const RunReport r = run_trace(a, t, arch::Fidelity::fast);
  const std::string dir =
      (std::filesystem::temp_directory_path() / "quasar_report_roundtrip").string();
  std::filesystem::remove_all(dir);
  write_run_outputs(dir, r);
  const auto back = read_run_report(dir + "/report.json");
  const arch::ArchSpec b = back.arch;
  ASSERT_EQ(r.stats.cores.size(), 3u);
  ASSERT_EQ(back.stats.cores.size(), 3u);
  for (std::size_t c = 0; c < 3; ++c) EXPECT_TRUE(back.stats.cores[c] == r.stats.cores[c]) << c;

  EXPECT_EQ(b.name, a.name);
  EXPECT_EQ(b.clock_mhz, a.clock_mhz);
  EXPECT_EQ(b.process.node_nm, a.process.node_nm);
  EXPECT_EQ(b.process.voltage_v, a.process.voltage_v);
  EXPECT_EQ(b.accounting, a.accounting);
  EXPECT_EQ(b.array.rows, a.array.rows);
  EXPECT_EQ(b.array.cols, a.array.cols);
  EXPECT_EQ(b.array.dataflow, a.array.dataflow);
  EXPECT_EQ(b.array.pe, a.array.pe);
  EXPECT_EQ(b.array.acc_bits, a.array.acc_bits);
  EXPECT_EQ(b.array.ws_order, a.array.ws_order);
  EXPECT_EQ(b.schemes, a.schemes);
  EXPECT_EQ(b.edge.intscale_units, a.edge.intscale_units);
  EXPECT_EQ(b.edge.intscale_acc_bits, a.edge.intscale_acc_bits);
  EXPECT_EQ(b.edge.intscale_latency_cycles, a.edge.intscale_latency_cycles);
  EXPECT_EQ(b.edge.floatscale_units, a.edge.floatscale_units);
  EXPECT_EQ(b.edge.floatscale_latency_cycles, a.edge.floatscale_latency_cycles);
  EXPECT_EQ(b.edge.dequant_units, a.edge.dequant_units);
  EXPECT_EQ(b.edge.epilogue_units, a.edge.epilogue_units);
  EXPECT_EQ(b.edge.epilogue_latency_cycles, a.edge.epilogue_latency_cycles);
  for (auto [x, y] : {std::pair{&a.buffers.ifmap, &b.buffers.ifmap},
                      std::pair{&a.buffers.weight, &b.buffers.weight},
                      std::pair{&a.buffers.ofmap, &b.buffers.ofmap}}) {
    EXPECT_EQ(y->size_bytes, x->size_bytes);
    EXPECT_EQ(y->banks, x->banks);
    EXPECT_EQ(y->bytes_per_cycle, x->bytes_per_cycle);
    EXPECT_EQ(y->double_buffered, x->double_buffered);
  }
  EXPECT_EQ(b.dram.standard, a.dram.standard);
  EXPECT_EQ(b.array.double_buffer, a.array.double_buffer);
  EXPECT_EQ(b.cores, a.cores);
  EXPECT_EQ(b.linear_partition, a.linear_partition);
  EXPECT_EQ(b.layer_partition, a.layer_partition);
  EXPECT_EQ(b.buffers.prefetch_depth, a.buffers.prefetch_depth);
  EXPECT_EQ(b.interconnect.latency_cycles, a.interconnect.latency_cycles);
  EXPECT_EQ(b.interconnect.bytes_per_cycle, a.interconnect.bytes_per_cycle);
  EXPECT_EQ(b.dram.channels, a.dram.channels);
  EXPECT_EQ(b.dram.bandwidth_gbps, a.dram.bandwidth_gbps);
  EXPECT_EQ(b.dram.latency_ns, a.dram.latency_ns);
  EXPECT_EQ(b.dram.turnaround_ns, a.dram.turnaround_ns);
  EXPECT_EQ(b.dram.trefi_ns, a.dram.trefi_ns);
  EXPECT_EQ(b.dram.trfc_ns, a.dram.trfc_ns);
  EXPECT_EQ(b.dram.capacity_gib, a.dram.capacity_gib);
  EXPECT_EQ(b.dram.burst_bytes, a.dram.burst_bytes);
  EXPECT_EQ(b.vector.lanes, a.vector.lanes);
  EXPECT_EQ(b.vector.sfu_lanes, a.vector.sfu_lanes);
  EXPECT_EQ(b.vector.latency_cycles, a.vector.latency_cycles);
  EXPECT_EQ(b.vector.buffer_kib, a.vector.buffer_kib);
  EXPECT_EQ(b.attention.mode, a.attention.mode);
  EXPECT_EQ(b.attention.kv, a.attention.kv);
  EXPECT_EQ(b.attention.tile, a.attention.tile);
  // One table writes and reads the design (report/arch_json.cpp): what is read back writes the
  // same JSON.
  EXPECT_EQ(arch_to_json(b).dump(), arch_to_json(a).dump());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace quasar

int sc_main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
