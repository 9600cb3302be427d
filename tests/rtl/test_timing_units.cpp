// configs/tech/timing-osu018.yaml (scripts/sta-units.sh, OpenSTA on the osu018 netlists): does
// the committed file parse, does every unit of rtl/synth/units.list have exactly one timing row
// (or a not_timed reason), are the delays positive and fmax and stages_at_1ghz consistent with
// them, does each row carry its speed-mapped area and its area-mapped comparison, are the flop's
// area and energy consistent, and does re-timing one unit through the script give its committed
// row byte for byte? One more test prints the delays scaled to 45 nm / 0.9 V by the model's own
// factor (docs/validation.md's table).
// The re-timing test skips where yosys, OpenSTA (`sta`) or the Liberty file is missing; it never
// downloads (--no-fetch). Regenerating the whole file is the opt-in test timing_units_regenerate
// (QUASAR_SYNTH_TESTS).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/yaml_value.hpp"
#include "cost/node_scaling.hpp"

namespace {

const std::string kSource = QUASAR_SOURCE_DIR;
const std::string kYaml = kSource + "/configs/tech/timing-osu018.yaml";

struct Listed {
  std::string name, top, params, options;
};

// The rows of rtl/synth/units.list: name, top module, parameters (the rest of the line, single
// spaces) and the row's flow options (the reserved keys SYNTH= and ABC_FRAIG_C=, after the
// parameters: scripts/units-list.sh), which the timing row lists as synth_options.
std::vector<Listed> listed_units() {
  std::ifstream in(kSource + "/rtl/synth/units.list");
  std::vector<Listed> units;
  for (std::string line; std::getline(in, line);) {
    std::istringstream s(line);
    Listed u;
    if (!(s >> u.name) || u.name[0] == '#') continue;
    s >> u.top;
    for (std::string p; s >> p;) {
      const bool option = p.rfind("SYNTH=", 0) == 0 || p.rfind("ABC_FRAIG_C=", 0) == 0;
      std::string& to = option ? u.options : u.params;
      to += (to.empty() ? "" : " ") + p;
    }
    units.push_back(u);
  }
  return units;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream s(text);
  for (std::string line; std::getline(s, line);) lines.push_back(line);
  return lines;
}

// The lines of the block that starts with the line `head` (e.g. "  mac_w4a8:") and runs while the
// lines are indented deeper than it; empty when there is no such line.
std::string block(const std::string& text, const std::string& head) {
  const auto lines = lines_of(text);
  const std::size_t indent = head.find_first_not_of(' ');
  std::string out;
  bool inside = false;
  for (const auto& line : lines) {
    if (!inside) {
      if (line == head) {
        inside = true;
        out += line + "\n";
      }
      continue;
    }
    if (line.find_first_not_of(' ') <= indent) break;
    out += line + "\n";
  }
  return out;
}

TEST(TimingUnits, EveryListedUnitHasExactlyOneConsistentRow) {
  const auto doc = quasar::config::Value::load_file(kYaml);
  EXPECT_EQ(doc.at("technology").as_string(), "osu018");
  EXPECT_NE(doc.at("command").as_string().find("scripts/sta-units.sh"), std::string::npos);
  EXPECT_NE(doc.at("tools").as_string().find("OpenSTA"), std::string::npos);
  EXPECT_NE(doc.at("library").as_string().find("osu018_stdcells.lib"), std::string::npos);
  const auto dff = doc.at("dff");
  const double clk_to_q = dff.at("clk_to_q_ps").as_double();
  const double setup = dff.at("setup_ps").as_double();
  EXPECT_GT(clk_to_q, 0.0);
  EXPECT_GT(setup, 0.0);
  // The flop as a pipeline register bit: the Liberty area and the energy per bit per cycle, the
  // sum of its parts (each printed to 1e-6 pJ).
  EXPECT_GT(dff.at("area_um2").as_double(), 0.0);
  const double e_bit = dff.at("energy_pj_per_bit_cycle").as_double();
  EXPECT_GT(e_bit, 0.0);
  const auto parts = dff.at("energy_breakdown_pj");
  parts.require_keys_in({"clock_pin", "clock_internal", "d_pin", "d_internal", "q_internal"});
  double sum = 0.0;
  for (const auto& k : parts.keys()) {
    EXPECT_GT(parts.at(k).as_double(), 0.0) << k;
    sum += parts.at(k).as_double();
  }
  EXPECT_EQ(parts.keys().size(), 5u);
  EXPECT_NEAR(sum, e_bit, 5e-6);
  EXPECT_NE(dff.at("energy_conditions").as_string().find("probability 0.5"), std::string::npos);
  // The rows describe the speed mapping (delay target, buffering, sizing); the area mapping is
  // the comparison.
  const auto mapping = doc.at("mapping");
  mapping.require_keys_in({"speed", "speed_balanced", "speed_plain", "area"});
  EXPECT_NE(mapping.at("speed").as_string().find("abc -D "), std::string::npos);
  EXPECT_NE(mapping.at("speed").as_string().find("-constr"), std::string::npos);
  for (const char* script : {"speed_balanced", "speed_plain"}) {
    for (const char* word : {"&nf -p -D ", "buffer -p", "upsize -D ", "dnsize -D "}) {
      EXPECT_NE(mapping.at(script).as_string().find(word), std::string::npos) << script << word;
    }
  }
  EXPECT_NE(mapping.at("speed_balanced").as_string().find("&sopb;&dsdb"), std::string::npos);

  const auto units = doc.at("units");
  const auto not_timed = doc.at("not_timed");
  const auto listed = listed_units();
  ASSERT_GE(listed.size(), 30u);
  // Exactly one row per unit: a YAML map keeps one of two equal keys silently, so count the
  // row heads in the text as well.
  const auto lines = lines_of(read_text(kYaml));
  std::set<std::string> names;
  for (const auto& u : listed) {
    SCOPED_TRACE(u.name);
    names.insert(u.name);
    std::size_t heads = 0;
    for (const auto& line : lines) heads += line == "  " + u.name + ":";
    if (not_timed.has(u.name)) {
      EXPECT_FALSE(units.has(u.name)) << "both timed and not_timed";
      EXPECT_EQ(heads, 0u);
      EXPECT_NE(not_timed.at(u.name).as_string().find("not timed: "), std::string::npos);
      continue;
    }
    ASSERT_TRUE(units.has(u.name)) << "no timing row and no not_timed reason";
    EXPECT_EQ(heads, 1u);
    const auto row = units.at(u.name);
    row.require_keys_in({"top", "parameters", "critical_path_ps", "startpoint", "endpoint",
                         "registered", "fmax_mhz", "stages_at_1ghz", "paths_ps", "logic_levels",
                         "slowest_stage", "overloaded_stages", "area_um2", "cells", "speed_script",
                         "area_mapped_critical_path_ps", "area_mapped_area_um2",
                         "area_mapped_overloaded_stages", "synth_options"});
    EXPECT_EQ(row.at("top").as_string(), u.top);
    EXPECT_EQ(row.at("parameters").as_string(), u.params);
    // synth_options only on the rows that have flow options, and exactly those.
    EXPECT_EQ(row.has("synth_options"), !u.options.empty());
    if (!u.options.empty()) {
      EXPECT_EQ(row.at("synth_options").as_string(), u.options);
    }
    const auto cp = row.at("critical_path_ps").as_uint(1);
    const auto start = row.at("startpoint").as_choice({"input", "register"});
    const auto end = row.at("endpoint").as_choice({"register", "output"});
    EXPECT_EQ(row.at("stages_at_1ghz").as_uint(), (cp + 999) / 1000);
    const bool registered = row.at("registered").as_bool();
    if (registered) {
      // fmax_mhz = 1e6 / critical_path_ps, printed to 0.1 MHz.
      ASSERT_TRUE(row.has("fmax_mhz"));
      EXPECT_NEAR(row.at("fmax_mhz").as_double(), 1e6 / static_cast<double>(cp), 0.05 + 1e-9);
    } else {
      EXPECT_FALSE(row.has("fmax_mhz")) << "a combinational unit has a delay, no fmax";
      EXPECT_EQ(start, "input");
      EXPECT_EQ(end, "output");
    }
    // The critical path is the worst path kind, and its kind is the row's start and end.
    const auto paths = row.at("paths_ps");
    paths.require_keys_in({"reg_to_reg", "in_to_reg", "reg_to_out", "in_to_out"});
    std::uint64_t worst = 0;
    for (const auto& k : paths.keys()) {
      const auto d = paths.at(k).as_uint(1);
      if (d > worst) worst = d;
      // A register at either end: the unit has a clock. (No bound from the dff figures: a
      // flop's clk-to-q and setup depend on its load and slews, which differ per path.)
      if (k.rfind("reg_", 0) == 0 || k.compare(k.size() - 4, 4, "_reg") == 0) {
        EXPECT_TRUE(registered) << k;
      }
    }
    EXPECT_EQ(worst, cp);
    const std::string kind =
        std::string(start == "input" ? "in" : "reg") + "_to_" + (end == "output" ? "out" : "reg");
    EXPECT_EQ(paths.at(kind).as_uint(), cp) << "startpoint/endpoint are not the worst path's";
    // The slowest cell of the critical path is part of it; overloaded stages are counted on it.
    const auto slowest = row.at("slowest_stage");
    slowest.require_keys_in({"cell", "delay_ps", "load_pf"});
    EXPECT_FALSE(slowest.at("cell").as_string().empty());
    EXPECT_LE(slowest.at("delay_ps").as_uint(), cp);
    EXPECT_GT(slowest.at("load_pf").as_double(), 0.0);
    const auto levels = row.at("logic_levels").as_uint(1);
    EXPECT_LE(row.at("overloaded_stages").as_uint(), levels);
    // The speed-mapped netlist's area (at least its cells' smallest, 16 µm² each) and the
    // area-mapped comparison.
    const auto area = row.at("area_um2").as_uint(1);
    EXPECT_GE(area, 16 * row.at("cells").as_uint(1));
    const auto area_cp = row.at("area_mapped_critical_path_ps").as_uint(1);
    const auto area_area = row.at("area_mapped_area_um2").as_uint(1);
    row.at("area_mapped_overloaded_stages").as_uint();
    EXPECT_TRUE(mapping.has("speed_" + row.at("speed_script").as_choice({"balanced", "plain"})));
    // Speed costs area, and buys delay: a speed-mapped netlist neither smaller than the area
    // mapping's nor slower than it. (Not laws of abc, but what the table must show to be the
    // timing-driven netlists it claims; a row breaking it is worth a look before committing.)
    EXPECT_GE(area, area_area);
    EXPECT_LE(cp, area_cp);
  }
  for (const auto& k : units.keys()) EXPECT_TRUE(names.count(k)) << k << " is not in units.list";
  for (const auto& k : not_timed.keys()) EXPECT_TRUE(names.count(k)) << k << " is not in units.list";
  EXPECT_EQ(units.keys().size() + not_timed.keys().size(), listed.size());
}

// The delays scaled to 45 nm / 0.9 V with the factor the cost model uses for delay
// (cost::delay_factor, Stillmaker & Baas), printed for docs/validation.md's table: unit, speed-
// and area-mapped ps and areas at 0.18 µm, stages at 1 GHz there and at 45 nm (ceil(delay /
// 1000 ps), the table's rule), and for a combinational unit its delay at 45 nm between flops
// (+ the dff's clk-to-q + setup, scaled alike).
TEST(TimingUnits, ScaledTo45nmWithTheModelsFactor) {
  const auto doc = quasar::config::Value::load_file(kYaml);
  const double f = quasar::cost::delay_factor(45, 0.9) / quasar::cost::delay_factor(180, 1.8);
  EXPECT_GT(f, 0.0);
  EXPECT_LT(f, 1.0);
  const auto dff = doc.at("dff");
  const double flops = dff.at("clk_to_q_ps").as_double() + dff.at("setup_ps").as_double();
  std::printf("delay factor 180 nm/1.8 V -> 45 nm/0.9 V: %.6f\n", f);
  std::printf("| unit | speed ps | area-mapped ps | speed um2 | area-mapped um2 | stages 1 GHz "
              "180 | ps at 45 nm | stages 1 GHz 45 | 45 nm between flops |\n");
  const auto units = doc.at("units");
  for (const auto& name : units.keys()) {
    const auto row = units.at(name);
    const double cp = row.at("critical_path_ps").as_double();
    const double cp45 = cp * f;
    const auto stages45 = static_cast<unsigned>(std::ceil(cp45 / 1000.0));
    EXPECT_GE(stages45, 1u);
    EXPECT_LE(stages45, row.at("stages_at_1ghz").as_uint());
    const bool comb = !row.at("registered").as_bool();
    std::printf("| %s | %llu | %llu | %llu | %llu | %llu | %.0f | %u | %s |\n", name.c_str(),
                static_cast<unsigned long long>(row.at("critical_path_ps").as_uint()),
                static_cast<unsigned long long>(row.at("area_mapped_critical_path_ps").as_uint()),
                static_cast<unsigned long long>(row.at("area_um2").as_uint()),
                static_cast<unsigned long long>(row.at("area_mapped_area_um2").as_uint()),
                static_cast<unsigned long long>(row.at("stages_at_1ghz").as_uint()), cp45,
                stages45,
                comb ? std::to_string(static_cast<long>(std::lround((cp + flops) * f))).c_str()
                     : "-");
  }
}

bool on_path(const std::string& tool) {
  return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0;
}

// One small registered unit (all four path kinds: a multiplier, the accumulator register and the
// combinational sum) re-timed through the script's own code path: synth_unit.tcl, sta_unit.tcl,
// the row's formatting. Its row and the dff figures must be the committed bytes.
TEST(TimingUnits, RetimingOneUnitGivesItsCommittedRow) {
  const char* env_lib = std::getenv("QUASAR_LIBERTY");
  const std::string liberty = env_lib && *env_lib
                                  ? std::string(env_lib)
                                  : kSource + "/build/tech/osu018/usr/share/qflow/tech/osu018/"
                                              "osu018_stdcells.lib";
  for (const char* tool : {"yosys", "sta"}) {
    if (!on_path(tool)) GTEST_SKIP() << tool << " not found (scripts/install-deps.sh)";
  }
  if (!std::ifstream(liberty)) {
    GTEST_SKIP() << "no Liberty file at " << liberty
                 << " (scripts/synth-units.sh or scripts/sta-units.sh fetches it)";
  }
  const std::string unit = "mac_w4a8";
  const std::string work = QUASAR_BINARY_DIR "/sta-units-test";
  const std::string out = work + "/one.yaml";
  std::remove(out.c_str());
  const std::string cmd = kSource + "/scripts/sta-units.sh --no-fetch --only '^" + unit +
                          "$' --work " + work + " --out " + out + " > " + work + ".log 2>&1";
  ASSERT_EQ(std::system(("mkdir -p " + work).c_str()), 0);
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd << "\n" << read_text(work + ".log");
  const std::string fresh = read_text(out);
  const std::string committed = read_text(kYaml);
  const std::string row = block(committed, "  " + unit + ":");
  ASSERT_FALSE(row.empty()) << "no committed row for " << unit;
  EXPECT_EQ(block(fresh, "  " + unit + ":"), row);
  EXPECT_EQ(block(fresh, "dff:"), block(committed, "dff:"));
  EXPECT_EQ(block(fresh, "conditions:"), block(committed, "conditions:"));
}

}  // namespace
