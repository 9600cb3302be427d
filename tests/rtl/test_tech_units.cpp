// configs/tech/units-osu018.yaml (scripts/gen-tech-units.sh): does the committed file parse, and
// does it hold every unit of rtl/synth/units.list with positive area, cells, transistors and
// leakage, the MACs with a positive energy per op on both operand streams, each with a source?
// Regenerating it byte-identically is the opt-in test tech_units_regenerate (QUASAR_SYNTH_TESTS).
#include <gtest/gtest.h>

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
  }
  EXPECT_EQ(units.keys().size(), names.size());
}

TEST(TechUnits, MacsHavePositiveEnergyOnBothStreams) {
  const auto units = quasar::config::Value::load_file(kYaml).at("units");
  for (const char* name : {"mac_int8", "mac_w4a8", "mac_dint4_a", "mac_dint4_b"}) {
    SCOPED_TRACE(name);
    const auto e = units.at(name).at("energy_pj_per_op");
    for (const char* stream : {"random", "llm"}) {
      const double pj = e.at(stream).as_double();
      EXPECT_GT(pj, 0.0);
      // The parts must add up to the total (to the 6 printed decimals).
      const auto b = units.at(name).at("energy_breakdown_pj_per_op").at(stream);
      EXPECT_NEAR(
          b.at("net").as_double() + b.at("internal").as_double() + b.at("clock").as_double(), pj,
          1e-5);
    }
  }
}

}  // namespace
