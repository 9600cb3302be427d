// configs/tech/units-osu018.yaml (scripts/gen-tech-units.sh): does the committed file parse, and
// does it hold every unit of rtl/synth/units.list with positive area, cells, transistors and
// leakage, each arithmetic unit (MACs, multipliers, dequant_dgq, intscale_acc, floatscale_acc,
// mac_fp16, the block-scale accumulators mx_fixed_acc, mx_fp32_acc (u = 10, and their _u2 and _u12
// rows) and nvfp4_fp32_acc, the block
// dot units mx_dot_*, the register files per read and per write, and the vector unit's fp32_add,
// fp32_mul and exp_q) with a positive, finite energy per op on both operand streams whose parts
// add up, each with a source, and the row's flow options (units.list's SYNTH=, ABC_FRAIG_C=) as
// its synth_options?
// Regenerating it byte-identically is the opt-in test tech_units_regenerate (QUASAR_SYNTH_TESTS).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/yaml_value.hpp"

namespace {

const std::string kYaml = QUASAR_SOURCE_DIR "/configs/tech/units-osu018.yaml";

// Unit names of rtl/synth/units.list (first column of every non-comment line).
std::vector<std::string> listed_units() {
  std::ifstream in(QUASAR_SOURCE_DIR "/rtl/synth/units.list");
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    std::istringstream s(line);
    std::string name;
    if (s >> name && name[0] != '#') names.push_back(name);
  }
  return names;
}

// A row's flow options (the reserved keys SYNTH= and ABC_FRAIG_C= of scripts/units-list.sh), as
// written, single spaces; "" when it has none.
std::string listed_options(const std::string& unit) {
  std::ifstream in(QUASAR_SOURCE_DIR "/rtl/synth/units.list");
  for (std::string line; std::getline(in, line);) {
    std::istringstream s(line);
    std::string name, opts;
    if (!(s >> name) || name != unit) continue;
    for (std::string t; s >> t;) {
      if (t.rfind("SYNTH=", 0) == 0 || t.rfind("ABC_FRAIG_C=", 0) == 0)
        opts += (opts.empty() ? "" : " ") + t;
    }
    return opts;
  }
  return "";
}

TEST(TechUnits, EveryListedUnitHasPositiveAreaCellsTransistorsLeakage) {
  const auto doc = quasar::config::Value::load_file(kYaml);
  EXPECT_GT(doc.at("supply_v").as_double(), 0.0);
  const auto units = doc.at("units");
  const auto names = listed_units();
  ASSERT_GE(names.size(), 4u);
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(units.has(name));
    const auto u = units.at(name);
    EXPECT_GT(u.at("area_um2").as_double(), 0.0);
    EXPECT_GT(u.at("cells").as_uint(), 0u);
    EXPECT_GT(u.at("transistors").as_uint(), 0u);
    EXPECT_GT(u.at("leakage_nw").as_double(), 0.0);
    EXPECT_NE(u.at("source").as_string().find("gen-tech-units.sh"), std::string::npos);
    const std::string opts = listed_options(name);
    EXPECT_EQ(u.has("synth_options"), !opts.empty());
    if (!opts.empty()) {
      EXPECT_EQ(u.at("synth_options").as_string(), opts);
    }
  }
  EXPECT_EQ(units.keys().size(), names.size());
}

// The units of units.list that must carry energy: every arithmetic unit and register file (the
// cost model prices reads and writes); the systolic arrays are optional (no energy yet).
bool needs_energy(const std::string& name) {
  for (const char* prefix :
       {"mac_", "mul_", "dequant_dgq", "intscale_acc", "floatscale_acc", "mx_", "nvfp4_",
        "regfile_", "fp32_", "exp_q"}) {
    if (name.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

TEST(TechUnits, ArithmeticUnitsHavePositiveFiniteEnergyOnBothStreams) {
  const auto units = quasar::config::Value::load_file(kYaml).at("units");
  std::size_t checked = 0;
  for (const auto& name : listed_units()) {
    SCOPED_TRACE(name);
    if (!needs_energy(name)) continue;
    ++checked;
    ASSERT_TRUE(units.at(name).has("energy_pj_per_op"));
    EXPECT_FALSE(units.at(name).at("energy_stream").as_string().empty());
    const auto e = units.at(name).at("energy_pj_per_op");
    for (const char* stream : {"random", "llm"}) {
      SCOPED_TRACE(stream);
      const double pj = e.at(stream).as_double();
      EXPECT_TRUE(std::isfinite(pj));
      EXPECT_GT(pj, 0.0);
      // The parts must add up to the total (to the 6 printed decimals).
      const auto b = units.at(name).at("energy_breakdown_pj_per_op").at(stream);
      for (const char* part : {"net", "internal", "clock"}) {
        EXPECT_TRUE(std::isfinite(b.at(part).as_double()));
        EXPECT_GE(b.at(part).as_double(), 0.0);
      }
      EXPECT_NEAR(
          b.at("net").as_double() + b.at("internal").as_double() + b.at("clock").as_double(), pj,
          1e-5);
    }
  }
  // The 4 integer MACs, 4 multipliers, dequant_dgq, 5 intscale_acc, floatscale_acc, mac_fp16,
  // the 4 register files' read and write rows, the block formats' 2 MACs and 7 accumulators (MX
  // fixed and fp32 at u = 10, 2 and 12; NVFP4), their 4 dot units, and the vector unit's
  // fp32_add, fp32_mul and exp_q.
  EXPECT_GE(checked, 40u);
  // The block formats' rows by name: the cost model prices their PEs and edge units from them.
  for (const char* name :
       {"mac_e2m1xe4m3", "mac_e2m1xe2m1", "mx_fixed_acc", "mx_fp32_acc", "mx_fixed_acc_u2",
        "mx_fixed_acc_u12", "mx_fp32_acc_u2", "mx_fp32_acc_u12", "nvfp4_fp32_acc",
        "mx_dot_e2m1_e4m3", "mx_dot_e2m1_e2m1_32", "mx_dot_e2m1_e2m1_16", "mx_dot_int8"}) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(units.has(name));
    EXPECT_TRUE(units.at(name).has("energy_pj_per_op"));
  }
}

// The block dot units are combinational (one block per evaluation, no register): no clock
// energy, and the 16-lane E2M1 unit is the smaller of the two E2M1 rows.
TEST(TechUnits, BlockDotUnitsAreCombinational) {
  const auto units = quasar::config::Value::load_file(kYaml).at("units");
  for (const char* name :
       {"mx_dot_e2m1_e4m3", "mx_dot_e2m1_e2m1_32", "mx_dot_e2m1_e2m1_16", "mx_dot_int8"}) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(units.has(name));
    for (const char* stream : {"random", "llm"}) {
      EXPECT_EQ(units.at(name).at("energy_breakdown_pj_per_op").at(stream).at("clock").as_double(),
                0.0);
    }
  }
  EXPECT_LT(units.at("mx_dot_e2m1_e2m1_16").at("area_um2").as_double(),
            units.at("mx_dot_e2m1_e2m1_32").at("area_um2").as_double());
}

// The vector unit's rows (issue 16): combinational (no clock energy), each measured on its own
// stream, and exp_q, a chain of five fp32 multiplies and five fp32 adds, larger than one of each.
TEST(TechUnits, VectorUnitsAreCombinationalFp32Units) {
  const auto units = quasar::config::Value::load_file(kYaml).at("units");
  for (const char* name : {"fp32_add", "fp32_mul", "exp_q"}) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(units.has(name));
    EXPECT_EQ(units.at(name).at("energy_stream").as_string(), name);
    for (const char* stream : {"random", "llm"}) {
      EXPECT_EQ(units.at(name).at("energy_breakdown_pj_per_op").at(stream).at("clock").as_double(),
                0.0);
    }
  }
  EXPECT_GT(units.at("exp_q").at("area_um2").as_double(),
            units.at("fp32_add").at("area_um2").as_double() +
                units.at("fp32_mul").at("area_um2").as_double());
}

// The MX accumulators' _uU rows (rtl/synth/units.list) are the unsuffixed u = 10 rows' units at
// UNIT=U, every other parameter the same (the fixed rows all 48 bits, 24 fraction bits: the cost
// model's width notes assume it), each with its own energy stream (mx_fixed_uU / mx_fp32_uU).
TEST(TechUnits, MxAccumulatorRowsDifferOnlyInUnit) {
  const auto units = quasar::config::Value::load_file(kYaml).at("units");
  for (const std::string base : {"mx_fixed_acc", "mx_fp32_acc"}) {
    const std::string kind = base == "mx_fixed_acc" ? "mx_fixed_u" : "mx_fp32_u";
    const std::string params10 = units.at(base).at("parameters").as_string();
    ASSERT_EQ(params10.rfind("UNIT=10", 0), 0u) << base << ": " << params10;
    EXPECT_EQ(units.at(base).at("energy_stream").as_string(), kind + "10");
    for (const std::string u : {"2", "12"}) {
      const std::string name = base + "_u" + u;
      SCOPED_TRACE(name);
      ASSERT_TRUE(units.has(name));
      EXPECT_EQ(units.at(name).at("top").as_string(), units.at(base).at("top").as_string());
      EXPECT_EQ(units.at(name).at("parameters").as_string(),
                "UNIT=" + u + params10.substr(std::string("UNIT=10").size()));
      EXPECT_EQ(units.at(name).at("energy_stream").as_string(), kind + u);
    }
  }
}

// A register file's _read and _write rows are one netlist measured on two streams: the same
// area, cells and leakage, and the same clock energy per op (every flop's clock pin, once a
// cycle, whatever the operation).
TEST(TechUnits, RegisterFileReadAndWriteRowsAreOneNetlist) {
  const auto units = quasar::config::Value::load_file(kYaml).at("units");
  std::size_t sizes = 0;
  for (const auto& name : listed_units()) {
    const std::string suffix = "_read";
    if (name.rfind("regfile_", 0) != 0 || name.size() < suffix.size() ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    SCOPED_TRACE(name);
    ++sizes;
    const std::string write = name.substr(0, name.size() - suffix.size()) + "_write";
    const auto r = units.at(name);
    const auto w = units.at(write);
    EXPECT_EQ(r.at("area_um2").as_double(), w.at("area_um2").as_double());
    EXPECT_EQ(r.at("cells").as_uint(), w.at("cells").as_uint());
    EXPECT_EQ(r.at("leakage_nw").as_double(), w.at("leakage_nw").as_double());
    for (const char* stream : {"random", "llm"}) {
      EXPECT_EQ(r.at("energy_breakdown_pj_per_op").at(stream).at("clock").as_double(),
                w.at("energy_breakdown_pj_per_op").at(stream).at("clock").as_double());
    }
  }
  EXPECT_EQ(sizes, 4u);
}

}  // namespace
