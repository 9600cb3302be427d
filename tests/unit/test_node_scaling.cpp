// The node and voltage scaling table (cost/node_scaling.hpp): its coefficients reproduce the
// paper's own worked example, it agrees with the 180 -> 45 nm factors the literature table was
// built from, every fit behaves over the range a design may use, and the cost model applies it
// to everything on chip and to nothing off chip.
#include <gtest/gtest.h>

#include <string>

#include "config/arch_config.hpp"
#include "config/tech_config.hpp"
#include "cost/cost_model.hpp"
#include "cost/node_scaling.hpp"
#include "numerics/error.hpp"

namespace quasar::cost {
namespace {

// Stillmaker & Baas's erratum to Sec. 4.2.1 works its example with Table 5's energy rows:
// EnergyFactor(HP32, 0.9 V) = 0.4571 and EnergyFactor(65 nm, 1.3 V) = 2.604.
TEST(NodeScaling, ReproducesThePapersWorkedExample) {
  EXPECT_NEAR(energy_factor(32, 0.9), 0.4571, 5e-5);
  EXPECT_NEAR(energy_factor(65, 1.3), 2.604, 5e-4);
}

// configs/tech/literature-45nm.yaml prices the osu018 units at 45 nm with energy 0.0265 and
// area 0.053 from 180 nm at 1.8 V to HP45 at 0.9 V: the same table gives the same factors.
TEST(NodeScaling, AgreesWithTheLiteratureTablesFactors) {
  const NodeFactors k = node_factors(180, 1.8, 45, 0.9);
  EXPECT_NEAR(k.energy, 0.0265, 5e-5);
  EXPECT_NEAR(k.area, 0.053, 5e-4);
  EXPECT_TRUE(node_factors(45, 0.9, 45, 0.9).identity());
}

// Over each node's range a higher supply is never slower and always costs more energy per
// operation; nodes shrink area and energy at their nominal supplies.
TEST(NodeScaling, EveryFitIsMonotoneOverItsRange) {
  double last_e = 1e9;
  for (const NodeFit& f : node_fits()) {
    SCOPED_TRACE(f.model);
    EXPECT_LT(f.v_min, f.v_nominal);
    EXPECT_EQ(voltage_problem(f.nm, f.v_min), "");
    EXPECT_EQ(voltage_problem(f.nm, f.v_nominal), "");
    for (double v = f.v_min; v + 0.01 <= f.v_nominal; v += 0.01) {
      EXPECT_LE(delay_factor(f.nm, v + 0.01), delay_factor(f.nm, v)) << v;
      EXPECT_GT(energy_factor(f.nm, v + 0.01), energy_factor(f.nm, v)) << v;
      EXPECT_GT(energy_factor(f.nm, v), 0.0);
    }
    const double e = energy_factor(f.nm, f.v_nominal);
    EXPECT_LT(e, last_e);
    last_e = e;
  }
}

TEST(NodeScaling, RejectsUnknownNodesAndVoltagesOutsideTheRange) {
  try {
    node_fit(22);
    FAIL() << "22 nm accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("180, 130, 90, 65, 45, 32, 20, 16, 14, 10, 7"),
              std::string::npos);
  }
  EXPECT_NE(voltage_problem(16, 0.9).find("[0.595, 0.85]"), std::string::npos);
  EXPECT_NE(voltage_problem(16, 0.5), "");
  EXPECT_THROW(node_factors(45, 0.9, 7, 1.0), Error);
}

// A design's process from its YAML: the node's nominal supply when none is given; a bad key is
// an error naming the file, line and key.
TEST(NodeScaling, DesignsSetTheirProcess) {
  const std::string base = R"(quasar_arch: 2
name: p
clock_mhz: 1000
array: {rows: 2, cols: 2, dataflow: ws, pe: int8}
schemes: [w8a8]
buffers:
  ifmap:  {size_kib: 4, banks: 1, bytes_per_cycle: 64, double_buffered: true}
  weight: {size_kib: 4, banks: 1, bytes_per_cycle: 64, double_buffered: true}
  ofmap:  {size_kib: 4, banks: 1, bytes_per_cycle: 64, double_buffered: true}
dram: {preset: lpddr5}
)";
  EXPECT_EQ(config::parse_arch_config(base, "d.yaml").process.node_nm, 45u);
  EXPECT_DOUBLE_EQ(config::parse_arch_config(base, "d.yaml").process.voltage_v, 0.9);
  const arch::ArchSpec a = config::parse_arch_config(base + "process: {node_nm: 7}\n", "d.yaml");
  EXPECT_EQ(a.process.node_nm, 7u);
  EXPECT_DOUBLE_EQ(a.process.voltage_v, 0.7);
  try {
    config::parse_arch_config(base + "process: {node_nm: 16, voltage_v: 0.95}\n", "d.yaml");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("d.yaml:11: process.voltage_v: 0.95 V is outside"),
              std::string::npos)
        << e.what();
  }
}

// The cost model at 16 nm, 0.8 V against the same run at 45 nm, 0.9 V: every on-chip energy
// line by E16(0.8) / E45(0.9), area by the area table's 0.19, leakage by 0.19 x 0.8 / 0.9; DRAM
// energy, a chip of its own, not at all.
TEST(NodeScaling, TheCostModelScalesOnChipCostsOnly) {
  const Tech t = config::load_tech();
  arch::ArchSpec a = config::load_arch("intscale");
  arch::RunStats s;
  s.cycles = 1000;
  arch::LayerStats l;
  l.name = "g";
  l.cycles = 1000;
  l.macs = 4096;
  l.intscale_ops = 64;
  l.epilogue_ops = 32;
  l.ifmap_read_bytes = 512;
  l.dram_read_bytes = 1024;
  s.layers.push_back(l);
  const CostReport base = price_run(a, s, t);
  a.process = {16, 0.8};
  const CostReport at16 = price_run(a, s, t);
  const double ke = energy_factor(16, 0.8) / energy_factor(45, 0.9);
  EXPECT_LT(ke, 0.5);
  EXPECT_NEAR(at16.area_um2, base.area_um2 * 0.19, base.area_um2 * 1e-12);
  EXPECT_NEAR(at16.leakage_w, base.leakage_w * 0.19 * 0.8 / 0.9, base.leakage_w * 1e-12);
  ASSERT_EQ(at16.energy.size(), base.energy.size());
  for (std::size_t i = 0; i < base.energy.size(); ++i) {
    const CostLine& b = base.energy[i];
    const CostLine& n = at16.energy[i];
    SCOPED_TRACE(b.component + " " + b.item);
    if (b.component == "dram") {
      EXPECT_DOUBLE_EQ(n.each, b.each);
    } else if (b.component == "leakage") {
      EXPECT_NEAR(n.total, b.total * 0.19 * 0.8 / 0.9, b.total * 1e-12);
    } else {
      EXPECT_NEAR(n.each, b.each * ke, b.each * 1e-12);
      EXPECT_NE(n.source.find("16 nm 0.8 V"), std::string::npos) << n.source;
    }
  }
  EXPECT_EQ(at16.node_nm, 16);
  EXPECT_DOUBLE_EQ(at16.voltage_v, 0.8);
}

}  // namespace
}  // namespace quasar::cost
