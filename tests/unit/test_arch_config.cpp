// Are accelerator configs read right, and is every bad one rejected naming file:line and key?
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/arch_config.hpp"
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
  std::size_t count = 0;
  for (const auto& f :
       std::filesystem::directory_iterator(std::string(QUASAR_SOURCE_DIR) + "/configs/arch")) {
    if (f.path().extension() != ".yaml") continue;
    const arch::ArchSpec a = read_arch_config(f.path().string());
    EXPECT_EQ(a.array.rows, 32u) << f.path();
    EXPECT_EQ(a.array.cols, 32u) << f.path();
    EXPECT_EQ(a.buffers.weight.size_bytes, 512u * 1024u) << f.path();
    EXPECT_EQ(a.dram.bytes_per_cycle, 64.0) << f.path();
    ++count;
  }
  EXPECT_EQ(count, 6u);
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
                        "dataflow, pe, acc_bits, ws_order)"));
  EXPECT_THAT(error_of(with("dataflow: ws", "dataflow: os\n  ws_order: m_blocked")),
              HasSubstr("array.ws_order: the loop order is a weight-stationary choice"));
  EXPECT_THAT(error_of(with("dataflow: ws", "dataflow: ws\n  ws_order: k_outer")),
              HasSubstr("array.ws_order: 'k_outer' is not accepted; accepted: n_outer, "
                        "m_blocked, min_dram"));
  EXPECT_THAT(error_of(with("  rows: 32", "  rows: 0")),
              HasSubstr("array.rows: 0 is out of range; accepted: 1..4096"));
  EXPECT_THAT(error_of(with("  rows: 32", "  rows: many")),
              HasSubstr("array.rows: 'many' is not a non-negative integer"));
  EXPECT_THAT(error_of(with("dataflow: ws", "dataflow: is")),
              HasSubstr("array.dataflow: 'is' is not accepted; accepted: ws, os"));
  EXPECT_THAT(error_of(with("quasar_arch: 1", "quasar_arch: 9")),
              HasSubstr("config format version 9 is not supported"));
  EXPECT_THAT(error_of(with("schemes: [w4a8-is]", "schemes: [w4a8-dint]")),
              HasSubstr("a.yaml: schemes: w4a8-dint cannot run on w4a8 PEs"));
  EXPECT_THAT(error_of(with("  intscale_units: 32", "  intscale_units: 0")),
              HasSubstr("edge.intscale_units: w4a8-is needs integer-scale accumulators"));
  EXPECT_THAT(
      error_of(with("bytes_per_cycle: 64           # 64 GB/s at 1 GHz", "bytes_per_cycle: -1")),
      HasSubstr("dram.bytes_per_cycle: must be in [0.01, 1e6] bytes per cycle"));
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
              ::testing::ThrowsMessage<Error>(HasSubstr("cannot open for reading")));
}

// Anchors and aliases are walked once each: nine nested levels of ten aliases (10^9 paths) are
// checked in linear time, and repeated keys behind an alias are still found.
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

TEST(ArchSpec, PeKindsRunTheirSchemes) {
  EXPECT_TRUE(arch::pe_runs(arch::PeKind::int8, Scheme::w4a8_dgq));
  EXPECT_TRUE(arch::pe_runs(arch::PeKind::w4a8, Scheme::w4a8_is));
  EXPECT_FALSE(arch::pe_runs(arch::PeKind::w4a8, Scheme::w8a8));
  EXPECT_FALSE(arch::pe_runs(arch::PeKind::dint4, Scheme::w4a8_fs));
  EXPECT_TRUE(arch::pe_runs(arch::PeKind::fp16, Scheme::w4a16));
}

}  // namespace
}  // namespace quasar::config
