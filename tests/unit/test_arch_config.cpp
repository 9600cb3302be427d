// Are accelerator configs read right, and is every bad one rejected naming file:line and key?
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/arch_config.hpp"
#include "config/sweep_config.hpp"
#include "config/yaml_value.hpp"
#include "numerics/error.hpp"

namespace quasar::config {
namespace {

using ::testing::HasSubstr;

std::string shipped(const std::string& name) {
  return std::string(QUASAR_SOURCE_DIR) + "/configs/arch/" + name + ".yaml";
}

std::string text_of(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string error_of(const std::string& yaml) {
  try {
    parse_arch_config(yaml, "a.yaml");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ArchConfig, EveryShippedDesignParsesAndMatchesTheOthers) {
  // The nine one-core designs (six, and the block-scaled mxfp4, nvfp4, mxint8) compare like for
  // like; intscale-x4 is intscale's core four times on an HBM3 stack.
  std::size_t count = 0;
  for (const auto& f :
       std::filesystem::directory_iterator(std::string(QUASAR_SOURCE_DIR) + "/configs/arch")) {
    if (f.path().extension() != ".yaml") continue;
    const arch::ArchSpec a = read_arch_config(f.path().string());
    EXPECT_EQ(a.array.rows, 32u) << f.path();
    EXPECT_EQ(a.array.cols, 32u) << f.path();
    EXPECT_EQ(a.buffers.weight.size_bytes, 512u * 1024u) << f.path();
    if (a.cores == 1) {
      EXPECT_EQ(a.dram.bandwidth_gbps, 64.0) << f.path();  // 64 B/cycle at 1 GHz
      ++count;
    }
  }
  EXPECT_EQ(count, 9u);
  const arch::ArchSpec x4 = read_arch_config(shipped("intscale-x4"));
  EXPECT_EQ(x4.cores, 4u);
  EXPECT_EQ(x4.dram.channels, 32u);  // the HBM3 preset
  EXPECT_EQ(x4.attention.kv, KvFormat::int8);
  const arch::ArchSpec is = read_arch_config(shipped("intscale"));
  EXPECT_EQ(is.array.pe, arch::PeKind::w4a8);
  EXPECT_EQ(is.schemes, std::vector<Scheme>{Scheme::w4a8_is});
  EXPECT_EQ(is.edge.intscale_units, 32u);
  EXPECT_EQ(is.edge.floatscale_units, 0u);
  EXPECT_EQ(read_arch_config(shipped("dgq")).schemes.size(), 2u);
  EXPECT_EQ(read_arch_config(shipped("dgq")).array.ws_order, arch::WsOrder::n_outer);  // default
}

TEST(ArchConfig, RejectsBadConfigsNamingWhereAndWhat) {
  const std::string good = text_of(shipped("intscale"));
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const auto at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  EXPECT_THAT(error_of(with("  rows: 32", "  rows: 32\n  colour: red")),
              HasSubstr("a.yaml:9: array.colour: unknown key 'colour' (accepted: rows, cols, "
                        "dataflow, pe, acc_bits, ws_order, double_buffer, pe_stages)"));
  EXPECT_THAT(error_of(with("dataflow: ws", "dataflow: os\n  ws_order: m_blocked")),
              HasSubstr("array.ws_order: the loop order is a weight-stationary choice"));
  EXPECT_THAT(error_of(with("dataflow: ws", "dataflow: ws\n  ws_order: k_outer")),
              HasSubstr("array.ws_order: 'k_outer' is not accepted; accepted: n_outer, "
                        "m_blocked, min_dram"));
  EXPECT_THAT(error_of(with("  rows: 32", "  rows: 0")),
              HasSubstr("array.rows: 0 is out of range; accepted: 1..4096"));
  EXPECT_THAT(error_of(with("  rows: 32", "  rows: many")),
              HasSubstr("array.rows: 'many' is not a non-negative integer"));
  EXPECT_THAT(error_of(with("dataflow: ws", "dataflow: xs")),
              HasSubstr("array.dataflow: 'xs' is not accepted; accepted: ws, os, is"));
  EXPECT_THAT(error_of(with("quasar_arch: 2", "quasar_arch: 9")),
              HasSubstr("config format version 9 is not supported; this quasar reads versions 1 to 2"));
  EXPECT_THAT(error_of(with("schemes: [w4a8-is]", "schemes: [w4a8-dint]")),
              HasSubstr("a.yaml: schemes: w4a8-dint cannot run on w4a8 PEs"));
  EXPECT_THAT(error_of(with("  intscale_units: 32", "  intscale_units: 0")),
              HasSubstr("edge.intscale_units: w4a8-is needs integer-scale accumulators"));
  EXPECT_THAT(
      error_of(with("bandwidth_gbps: 64             # 64 B a cycle at 1 GHz", "bandwidth_gbps: -1")),
      HasSubstr("dram.bandwidth_gbps: must be in [0.01, 1e6] GB/s"));
  EXPECT_THAT(error_of(with("  channels: 1", "  preset: gddr6")),
              HasSubstr("dram.preset: 'gddr6' is not accepted; accepted: hbm2e, hbm3, lpddr5, ddr5"));
  EXPECT_THAT(error_of(with("  channels: 1", "  channels: 0")),
              HasSubstr("dram.channels:"));
  EXPECT_THAT(error_of(with("  latency_ns: 100", "  latency_ns: 100\n  refresh: {trefi_ns: 300, "
                                                 "trfc_ns: 350}")),
              HasSubstr("dram.refresh: tREFI and tRFC are both 0 (no refresh), or 0 < tRFC < tREFI"));
  EXPECT_THAT(error_of(with("  bandwidth_gbps: 64             # 64 B a cycle at 1 GHz\n", "")),
              HasSubstr("dram: without a preset (hbm2e, hbm3, lpddr5, ddr5) the DRAM needs "
                        "'bandwidth_gbps'"));
  EXPECT_THAT(error_of(with("dataflow: ws", "dataflow: is")),
              HasSubstr("array.dataflow: input-stationary is counted with SCALE-Sim's closed form "
                        "only: add 'accounting: scalesim'"));
  EXPECT_EQ(parse_arch_config(with("dataflow: ws", "dataflow: os"), "os.yaml").array.double_buffer,
            true);  // OS: double-buffered accumulators
  EXPECT_THAT(error_of(with("  weight: {size_kib", "  prefetch_depth: 0\n  weight: {size_kib")),
              HasSubstr("buffers.prefetch_depth:"));
  EXPECT_THAT(error_of(with("clock_mhz: 1000", "clock_mhz: 1000\ncores: 0")), HasSubstr("a.yaml:7: cores: 0 is out of range; accepted: 1..1024"));
  EXPECT_THAT(error_of(with("clock_mhz: 1000", "clock_mhz: 1000\ncores: 2\npartition: {linear: split_k}")),
              HasSubstr("partition.linear: 'split_k' is not accepted; accepted: split_n, split_m"));
  EXPECT_THAT(error_of(with("clock_mhz: 1000", "clock_mhz: 1000\ncores: 2\npartition: {layers: sideways}")),
              HasSubstr("a.yaml:8: partition.layers: 'sideways' is not accepted; accepted: split, whole"));
  EXPECT_THAT(error_of(with("clock_mhz: 1000", "clock_mhz: 1000\ncores: 2\npartition: {layer: whole}")),
              HasSubstr("partition.layer: unknown key 'layer' (accepted: linear, layers)"));
  EXPECT_THAT(error_of(with("clock_mhz: 1000", "clock_mhz: 1000\ncores: 2\naccounting: scalesim")),
              HasSubstr("cores: SCALE-Sim accounting counts one array"));
  {
    const arch::ArchSpec m = parse_arch_config(
        with("clock_mhz: 1000", "clock_mhz: 1000\ncores: 4\npartition: {linear: split_m}"), "m.yaml");
    EXPECT_EQ(m.cores, 4u);
    EXPECT_EQ(m.linear_partition, arch::Partition::split_m);
    EXPECT_EQ(m.layer_partition, arch::LayerPartition::split);  // the default: today's
    const arch::ArchSpec w = parse_arch_config(
        with("clock_mhz: 1000", "clock_mhz: 1000\ncores: 4\npartition: {linear: split_m, layers: whole}"),
        "w.yaml");
    EXPECT_EQ(w.linear_partition, arch::Partition::split_m);
    EXPECT_EQ(w.layer_partition, arch::LayerPartition::whole);
    EXPECT_FALSE(m.interconnect.present());
    const arch::ArchSpec n = parse_arch_config(
        with("clock_mhz: 1000", "clock_mhz: 1000\ninterconnect: {latency_cycles: 4, bytes_per_cycle: 16}"),
        "n.yaml");
    EXPECT_EQ(n.interconnect.latency_cycles, 4u);
    EXPECT_EQ(n.interconnect.bytes_per_cycle, 16.0);
  }
  EXPECT_THAT(error_of(with("clock_mhz: 1000", "clock_mhz: 1000\ninterconnect: {bytes_per_cycle: -2}")),
              HasSubstr("interconnect.bytes_per_cycle: must be in [0, 1e6] bytes per cycle per core"));
  EXPECT_THAT(error_of(with("burst_bytes: 64", "burst_bytes: 48")),
              HasSubstr("dram.burst_bytes: must be a power of two"));
  EXPECT_THAT(error_of(with("standard: hbm2e", "standard: HBM-2")),
              HasSubstr("dram.standard: 'HBM-2' is not a DRAM standard name: lower-case letters"));
  EXPECT_THAT(error_of(with("  intscale_acc_bits: 32", "  intscale_acc_bits: 36")),
              HasSubstr("accepted: 32, 40, 48, 56 or 64 bits"));
  EXPECT_THAT(error_of(with("clock_mhz: 1000", "clock_mhz: 0")),
              HasSubstr("clock_mhz: must be in [1, 100000] MHz"));
  EXPECT_THAT(error_of("quasar_arch: 1\nname: x\n"), HasSubstr("missing required key 'clock_mhz'"));
  EXPECT_THAT(error_of("- a\n- b\n"), HasSubstr("an accelerator config is a mapping"));
  // A repeated key would silently lose one of the two values (YAML keeps one).
  EXPECT_THAT(error_of(with("clock_mhz: 1000", "clock_mhz: 1000\nclock_mhz: 500")),
              HasSubstr("clock_mhz: key given twice (first at line"));
  EXPECT_THAT(error_of(with("rows: 32", "rows: 32\n  rows: 16")),
              HasSubstr("array.rows: key given twice"));
  EXPECT_THAT([] { read_arch_config("/nonexistent.yaml"); },
              ::testing::ThrowsMessage<Error>(HasSubstr("does not exist")));
}

// Anchors and aliases are walked once each: nine nested levels of ten aliases (10^9 paths) are
// checked in linear time, and repeated keys behind an alias are still found.
// Format 1 files are still read: bandwidth per cycle and latency in cycles are converted at the
// file's clock (500 MHz: 64 B a cycle is 32 GB/s, 100 cycles 200 ns) to one channel.
// The vector unit and attention keys: read, defaulted, and every combination the design cannot
// run refused naming the key and what it needs.
TEST(ArchConfig, VectorUnitAndAttention) {
  const std::string shipped_text = text_of(shipped("int8-baseline"));
  const arch::ArchSpec ship = parse_arch_config(shipped_text, "a.yaml");
  EXPECT_EQ(ship.vector.lanes, 128u);
  EXPECT_EQ(ship.attention.tile, 128u);
  // Without the two sections: no vector unit, fp32 attention on an fp16 cache, unfused.
  const std::string good = shipped_text.substr(0, shipped_text.find("vector:"));
  const arch::ArchSpec plain = parse_arch_config(good, "a.yaml");
  EXPECT_FALSE(plain.vector.present());
  EXPECT_EQ(plain.attention.tile, 0u);
  EXPECT_EQ(plain.attention.mode, arch::AttentionMode::fp32);
  EXPECT_EQ(plain.attention.kv, KvFormat::fp16);
  const arch::ArchSpec v = parse_arch_config(
      good + "vector: {lanes: 64, sfu_lanes: 4, latency_cycles: 16, buffer_kib: 32}\n"
             "attention: {mode: int8, kv: int8}\n",
      "a.yaml");
  EXPECT_EQ(v.vector.lanes, 64u);
  EXPECT_EQ(v.vector.sfu_lanes, 4u);
  EXPECT_EQ(v.vector.latency_cycles, 16u);  // written, and at least what timing needs
  // Fewer cycles than the SFU's exp_q needs at the design's clock: refused, naming the key.
  EXPECT_THAT(error_of(good + "vector: {lanes: 64, latency_cycles: 6}\n"),
              HasSubstr("vector.latency_cycles: 6 cycles of pipeline fill is fewer than the"));
  EXPECT_THAT(error_of(good + "vector: {lanes: 64, latency_cycles: 6}\n"), HasSubstr("exp_q"));
  EXPECT_EQ(v.vector.buffer_kib, 32u);
  EXPECT_EQ(v.attention.mode, arch::AttentionMode::int8);
  EXPECT_EQ(v.attention.kv, KvFormat::int8);
  EXPECT_THAT(error_of(good + "vector: {lanes: 64, width: 3}\n"),
              HasSubstr("vector.width: unknown key 'width' (accepted: lanes, sfu_lanes, "
                        "latency_cycles, buffer_kib)"));
  EXPECT_THAT(error_of(good + "vector: {lanes: 64, sfu_lanes: 0}\n"),
              HasSubstr("vector.sfu_lanes: 0 is out of range; accepted: 1..65536"));
  EXPECT_THAT(error_of(good + "attention: {kv: int2}\n"),
              HasSubstr("attention.kv: 'int2' is not accepted; accepted: fp16, int8, int4"));
  EXPECT_THAT(error_of(good + "attention: {mode: int8, kv: int4}\n"),
              HasSubstr("attention: mode int8 runs QK^T and PV on int8 KV codes: it needs kv: "
                        "int8 (not int4)"));
  EXPECT_THAT(error_of(good + "attention: {mode: int8, kv: int8, tile: 128}\n"),
              HasSubstr("it is unfused: tile: 0"));
  const std::string dint = text_of(shipped("dint"));
  EXPECT_THAT(error_of(dint.substr(0, dint.find("attention:")) +
                       "attention: {mode: int8, kv: int8}\n"),
              HasSubstr("dint4 PEs cannot (use mode: fp32)"));
}

TEST(ArchConfig, ReadsFormatOneAndPresets) {
  const std::string v1 = R"(quasar_arch: 1
name: old
clock_mhz: 500
array: {rows: 8, cols: 8, dataflow: ws, pe: int8}
schemes: [w8a8]
buffers:
  ifmap: {size_kib: 64}
  weight: {size_kib: 64}
  ofmap: {size_kib: 64}
dram: {standard: lpddr5, bytes_per_cycle: 64, latency_cycles: 100, burst_bytes: 32}
)";
  const arch::ArchSpec a = parse_arch_config(v1, "old.yaml");
  EXPECT_EQ(a.dram.bandwidth_gbps, 32.0);
  EXPECT_EQ(a.dram.latency_ns, 200.0);
  EXPECT_EQ(a.dram.channels, 1u);
  EXPECT_EQ(a.dram.burst_bytes, 32u);
  EXPECT_EQ(a.dram.trefi_ns, 0.0);
  EXPECT_FALSE(a.array.double_buffer);
  std::string v2 = v1;
  v2.replace(v2.find("quasar_arch: 1"), 14, "quasar_arch: 2");
  v2.replace(v2.find("dram: {"), std::string::npos,
             "dram: {preset: lpddr5, bandwidth_gbps: 25.6}\n");
  const arch::ArchSpec b = parse_arch_config(v2, "new.yaml");
  EXPECT_EQ(b.dram.standard, "lpddr5");
  EXPECT_EQ(b.dram.channels, 4u);           // the preset's
  EXPECT_EQ(b.dram.bandwidth_gbps, 25.6);   // overridden
  EXPECT_EQ(b.dram.trfc_ns, 280.0);
  EXPECT_EQ(b.dram.capacity_gib, 16.0);
  EXPECT_THROW(parse_arch_config(v1.substr(0, v1.find("dram:")) +
                                     "dram: {standard: x, bandwidth_gbps: 1, latency_ns: 1}\n",
                                 "v1-keys.yaml"),
               Error);  // format 1 takes only its own dram keys
}

TEST(YamlValue, DuplicateKeyCheckIsLinearThroughAliases) {
  std::string y = "l0: &l0 {a: 1, b: 2}\n";
  for (int i = 1; i <= 9; ++i) {
    y += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) y += std::string(j ? ", " : "") + "*l" + std::to_string(i - 1);
    y += "]\n";
  }
  EXPECT_TRUE(Value::load_string(y, "laughs.yaml").is_map());
  EXPECT_THAT([] { Value::load_string("a: &x {b: 1, b: 2}\nc: *x\n", "d.yaml"); },
              ::testing::ThrowsMessage<Error>(HasSubstr("d.yaml:1: a.b: key given twice")));
}

// YAML parsers keep a file's first document and drop the rest: a second one is an error naming
// the line of its '---', an empty one after a trailing '---' too; markers around one are fine.
TEST(YamlValue, OneDocumentPerFile) {
  const auto error = [](const std::string& y) {
    try {
      Value::load_string(y, "m.yaml");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_THAT(error("a: 1\n---\nb: 2\n"),
              HasSubstr("m.yaml:2: holds 2 YAML documents; quasar reads one (remove the '---'"));
  // yaml-cpp's LoadAll never returns on "," (empty documents without end, memory growing; found
  // by tests/fuzz): the count stops, and the text is a syntax error.
  EXPECT_THAT(error(","), HasSubstr("m.yaml:1: YAML syntax error: no document can be read"));
  EXPECT_THAT(error("a: 1\nb: 2\n--- {c: 3}\n---\n- 4\n"), HasSubstr("m.yaml:3: holds 3 YAML"));
  EXPECT_THAT(error("a: 1\n---\n"),
              HasSubstr("m.yaml:2: holds 2 YAML documents (an empty one after the '---'"));
  EXPECT_THAT(error("a: 1\n---   # nothing\n# more nothing\n"), HasSubstr("m.yaml:2: holds 2"));
  EXPECT_EQ(error("---\na: 1\n...\n"), "(no error)");
  EXPECT_EQ(error("a: '---'\nb: |\n  ---\n"), "(no error)");
  EXPECT_TRUE(Value::load_string("", "empty.yaml").is_null());
}

TEST(YamlValue, NumbersAreFinite) {
  const Value v = Value::load_string("a: .nan\nb: -.inf\nc: 1.5e3\n", "n.yaml");
  EXPECT_THAT(
      [&] { (void)v.at("a").as_double(); },
      ::testing::ThrowsMessage<Error>(HasSubstr("n.yaml:1: a: '.nan' is not a finite number")));
  EXPECT_THAT([&] { (void)v.at("b").as_double(); },
              ::testing::ThrowsMessage<Error>(HasSubstr("n.yaml:2: b: '-.inf' is not a finite")));
  EXPECT_EQ(v.at("c").as_double(), 1500.0);
}

// Sweep specs: every value an axis takes is finite and distinct as the design reads it, a key
// is on one axis, a constraint's bound is a finite number, decoder_layers is at least 1.
TEST(SweepSpec, RejectsAmbiguousSpecsNamingLineAndKey) {
  const auto error = [](const std::string& rest) {
    const std::string spec =
        "quasar_sweep: 1\nname: t\ndesigns: [int8-baseline]\n"
        "workloads: [{model: llama-2-7b, seq: 16}]\n" +
        rest;
    try {
      parse_sweep_spec(spec, "s.yaml");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_THAT(error("axes: [{key: dram.bandwidth_gbps, range: {start: 8, stop: .nan, step: 8}}]"),
              HasSubstr("s.yaml:5: axes[0].range.stop: '.nan' is not a finite number"));
  EXPECT_THAT(error("axes: [{key: dram.bandwidth_gbps, values: [8, .inf]}]"),
              HasSubstr("s.yaml:5: axes[0].values[1]: '.inf' is not a finite number"));
  EXPECT_THAT(error("constraints: ['area_mm2 <= nan']"),
              HasSubstr("s.yaml:5: constraints[0]: the bound 'nan' is not a finite number"));
  EXPECT_THAT(error("constraints: ['area_mm2 <= 20 30']"),
              HasSubstr("expected 'METRIC OP NUMBER'"));
  EXPECT_THAT(
      error("axes: [{key: array.rows, values: [16, 016]}]"),
      HasSubstr("s.yaml:5: axes[0].values[1]: '016' is the same value as values[0] ('16')"));
  EXPECT_THAT(error("axes: [{key: dram.bandwidth_gbps, values: [16, +16.0]}]"),
              HasSubstr("'+16.0' is the same value as values[0] ('16')"));
  EXPECT_THAT(
      error("axes:\n  - {key: array.rows, values: [8]}\n  - {key: array.rows, values: [16]}"),
      HasSubstr("s.yaml:7: axes[1].key: key array.rows is already swept by axes[0] (line 6)"));
  EXPECT_THAT(error("axes: [{zip: [{key: array.rows, values: [8, 8]}, "
                    "{key: array.cols, values: [8, 8.0]}]}]"),
              HasSubstr("zip entries 0 and 1 set the same values"));
  EXPECT_THAT(error("axes: [{key: workload.decoder_layers, values: [0]}]"),
              HasSubstr("'0' is not accepted for workload.decoder_layers; accepted: 1..1024"));
  EXPECT_THAT(error("axes: [{key: workload.seq, values: ['-1']}]"),
              HasSubstr("'-1' is not accepted for workload.seq"));
  // Different numbers stay different; a zip may repeat a value in one column; a range's
  // values are computed from their index (0.1 + 2 * 0.1 is still in [0.1, 0.3]).
  EXPECT_EQ(error("axes: [{key: array.rows, values: [8, 16, 080]}]"), "(no error)");
  EXPECT_EQ(error("axes: [{zip: [{key: array.rows, values: [8, 8]}, "
                  "{key: array.cols, values: [8, 16]}]}]"),
            "(no error)");
  EXPECT_EQ(error("axes: [{key: dram.bandwidth_gbps, range: {start: 0.1, stop: 0.3, step: 0.1}}]"),
            "(no error)");
  const sweep::SweepSpec s = parse_sweep_spec(
      "quasar_sweep: 1\nname: t\ndesigns: [int8-baseline]\n"
      "workloads: [{model: llama-2-7b, decoder_layers: 2}]\n"
      "axes: [{key: dram.bandwidth_gbps, range: {start: 0.1, stop: 0.3, step: 0.1}}]\n",
      "s.yaml");
  ASSERT_EQ(s.axes.size(), 1u);
  EXPECT_EQ(s.axes[0].values.size(), 3u);
  EXPECT_EQ(s.workloads[0].decoder_layers, 2u);
  const std::string wl = "quasar_sweep: 1\nname: t\ndesigns: [int8-baseline]\nworkloads:\n";
  EXPECT_THAT(
      [&] { parse_sweep_spec(wl + "  - {model: llama-2-7b, decoder_layers: 0}\n", "w.yaml"); },
      ::testing::ThrowsMessage<Error>(
          HasSubstr("w.yaml:5: workloads[0].decoder_layers: 0 is not accepted; accepted: "
                    "1..1024 decoder layers (for the whole model give its layer count")));
}

TEST(ArchSpec, PeKindsRunTheirSchemes) {
  EXPECT_TRUE(arch::pe_runs(arch::PeKind::int8, Scheme::w4a8_dgq));
  EXPECT_TRUE(arch::pe_runs(arch::PeKind::w4a8, Scheme::w4a8_is));
  EXPECT_FALSE(arch::pe_runs(arch::PeKind::w4a8, Scheme::w8a8));
  EXPECT_FALSE(arch::pe_runs(arch::PeKind::dint4, Scheme::w4a8_fs));
  EXPECT_TRUE(arch::pe_runs(arch::PeKind::fp16, Scheme::w4a16));
}

}  // namespace
}  // namespace quasar::config
