// Clock limits from static timing (cost/timing.hpp, issue 18): a unit's register-to-register
// delay completes each path kind with the flip-flop delays it lacks, scales with the node and
// supply, and gives the stages a clock needs; a design's PEs must meet the clock in one cycle,
// its edge units get (or must be given) their stages as latency. The design loader applies it
// with the shipped table; its errors name the key and line to change.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "config/arch_config.hpp"
#include "config/tech_config.hpp"
#include "cost/node_scaling.hpp"
#include "cost/timing.hpp"
#include "numerics/error.hpp"

namespace quasar::cost {
namespace {

using ::testing::HasSubstr;

// A table at 180 nm, 1.8 V: flip-flops 100 + 50 ps; a PE whose worst path is input->register.
const char* kTable = R"(technology: osu018
dff: {clk_to_q_ps: 100, setup_ps: 50}
units:
  mac_int8:
    registered: true
    paths_ps: {reg_to_reg: 900, in_to_reg: 1000, reg_to_out: 800, in_to_out: 700}
  floatscale_acc:
    registered: true
    paths_ps: {reg_to_reg: 3150}
  dequant_dgq:
    registered: false
    paths_ps: {in_to_out: 350}
)";

TimingTable table() { return config::parse_timing_table(kTable, "t.yaml"); }

TEST(TimingModel, RegisterToRegisterDelayCompletesEachPathKind) {
  const TimingTable t = table();
  // in->reg 1000 + clk_to_q 100 beats reg->reg 900, reg->out 800 + 50, in->out 700 + 150.
  EXPECT_DOUBLE_EQ(reg_to_reg_ps(t, "mac_int8"), 1100);
  EXPECT_DOUBLE_EQ(reg_to_reg_ps(t, "dequant_dgq"), 500);
  EXPECT_THAT([&] { reg_to_reg_ps(t, "nope"); },
              ::testing::ThrowsMessage<Error>(HasSubstr("timing table 't.yaml' has no unit 'nope'")));
}

TEST(TimingModel, StagesFollowTheClockNodeAndSupply) {
  const TimingTable t = table();
  // At the table's own node and supply: floatscale logic 3000 ps, flip-flops 150 ps.
  UnitStages s = unit_stages(t, "floatscale_acc", 180, 1.8, 100);  // 10,000 ps
  EXPECT_DOUBLE_EQ(s.logic_ps, 3000);
  EXPECT_DOUBLE_EQ(s.overhead_ps, 150);
  EXPECT_EQ(s.stages, 1u);
  EXPECT_NEAR(s.fmax_one_stage_mhz, 1e6 / 3150, 1e-9);
  EXPECT_EQ(unit_stages(t, "floatscale_acc", 180, 1.8, 1e6 / 3150).stages, 1u);  // exactly fmax
  EXPECT_EQ(unit_stages(t, "floatscale_acc", 180, 1.8, 1e6 / 1650).stages, 2u);  // 1500 + 150
  EXPECT_EQ(unit_stages(t, "floatscale_acc", 180, 1.8, 1e6 / 1649).stages, 3u);
  EXPECT_EQ(unit_stages(t, "floatscale_acc", 180, 1.8, 1e6 / 150).stages, 0u);  // flip-flops only
  // Another node scales logic and flip-flops by the Stillmaker & Baas delay ratio.
  const double f = delay_factor(45, 0.9) / delay_factor(180, 1.8);
  s = unit_stages(t, "floatscale_acc", 45, 0.9, 1000);
  EXPECT_NEAR(s.logic_ps, 3000 * f, 1e-9);
  EXPECT_NEAR(s.overhead_ps, 150 * f, 1e-9);
  EXPECT_EQ(s.stages, static_cast<std::uint32_t>(std::ceil(3000 * f / (1000 - 150 * f))));
  // A higher supply is faster: never more stages.
  for (double clock : {500.0, 1000.0, 2000.0, 4000.0}) {
    EXPECT_LE(unit_stages(t, "floatscale_acc", 45, 1.0, clock).stages,
              unit_stages(t, "floatscale_acc", 45, 0.8, clock).stages)
        << clock;
  }
}

arch::ArchSpec floatscale_design(double clock_mhz) {
  arch::ArchSpec a;
  a.clock_mhz = clock_mhz;
  a.process = {180, 1.8};
  a.array.pe = PeKind::int8;
  a.edge.floatscale_units = 32;
  a.edge.floatscale_latency_cycles = 1;
  a.edge.dequant_units = 4;
  return a;
}

TEST(TimingModel, DesignsDeriveEdgeLatenciesAndRefusePesThatMissTheClock) {
  const TimingTable t = table();
  arch::ArchSpec a = floatscale_design(1e6 / 1650);  // floatscale needs 2 stages, the PE 1
  DesignTiming d = design_timing(a, t);
  ASSERT_EQ(d.units.size(), 3u);
  EXPECT_EQ(d.units[0].role, "pe");
  EXPECT_EQ(d.units[0].need.unit, "mac_int8");
  EXPECT_EQ(d.units[1].role, "floatscale");
  EXPECT_EQ(d.units[1].register_bits, 32u);
  EXPECT_EQ(d.units[2].role, "dequant");
  EXPECT_THAT(d.not_timed, ::testing::Contains("epilogue"));
  EXPECT_THAT(timing_problem(a, d),
              HasSubstr("edge.floatscale_latency_cycles: 1 cycles is fewer than the 2 stages"));
  derive_latencies(a, t);
  EXPECT_EQ(a.edge.floatscale_latency_cycles, 2u);
  EXPECT_EQ(timing_problem(a, design_timing(a, t)), "");
  // 950 + 150 ps of the PE in a 1,000 ps period: two stages. A weight-stationary array
  // pipelines it (derived), and a written pe_stages below that is refused by its key.
  a = floatscale_design(1000);
  derive_latencies(a, t);
  EXPECT_EQ(a.array.pe_stages, 2u);
  EXPECT_EQ(timing_problem(a, design_timing(a, t)), "");
  a.array.pe_stages = 1;
  EXPECT_THAT(timing_problem(a, design_timing(a, t)),
              HasSubstr("array.pe_stages: 1 is fewer than the 2 stages at 1000 MHz of the PE's "
                        "multiply-accumulate (mac_int8 at 180 nm, 1.8 V: 950 ps of logic + 150 ps "
                        "of flip-flops)"));
  // An output-stationary array (or SCALE-Sim's closed form) cannot: refused with the clock to use.
  for (const bool os : {true, false}) {
    a = floatscale_design(1000);
    (os ? a.array.dataflow = arch::Dataflow::os : a.array.dataflow = arch::Dataflow::ws);
    if (!os) a.accounting = arch::Accounting::scalesim;
    derive_latencies(a, t);
    EXPECT_EQ(a.array.pe_stages, 1u);
    EXPECT_THAT(timing_problem(a, design_timing(a, t)),
                HasSubstr("clock_mhz: at 1000 MHz the PE's multiply-accumulate (mac_int8 at 180 "
                          "nm, 1.8 V: 950 ps of logic + 150 ps of flip-flops) needs 2 pipeline "
                          "stages, and the array model runs it in one cycle (only a "
                          "weight-stationary array under native accounting pipelines its PEs): "
                          "lower clock_mhz to 909 MHz"));
  }
}

// The epilogue (fp32_mul then fp32_add, one chain) and the vector unit (the slower lane unit
// and the SFU's exp_q, within its pipeline fill) at 180 nm, 1.8 V, 1 GHz: budget 850 ps a
// stage. Chain logic 1000 + 1000 ps: 3 stages; lane 1000: 2; exp_q 10,000: 12, above the
// default fill of 8, which derive raises; a fill written below is refused by its key.
TEST(TimingModel, TheEpilogueAndTheVectorUnitAreTimed) {
  TimingTable t = config::parse_timing_table(std::string(kTable) + R"(  fp32_mul:
    registered: false
    paths_ps: {in_to_out: 1000}
  fp32_add:
    registered: false
    paths_ps: {in_to_out: 1000}
  exp_q:
    registered: false
    paths_ps: {in_to_out: 10000}
)", "t.yaml");
  arch::ArchSpec a = floatscale_design(1000);
  a.vector.lanes = 16;
  DesignTiming d = design_timing(a, t);
  EXPECT_THAT(d.not_timed, ::testing::Not(::testing::Contains("epilogue")));
  auto role = [&](const DesignTiming& x, const std::string& r) {
    for (const DesignUnitTiming& u : x.units)
      if (u.role == r) return u;
    ADD_FAILURE() << r;
    return DesignUnitTiming{};
  };
  EXPECT_EQ(role(d, "epilogue").need.unit, "fp32_mul + fp32_add");
  EXPECT_DOUBLE_EQ(role(d, "epilogue").need.logic_ps, 2000);
  EXPECT_EQ(role(d, "epilogue").need.stages, 3u);
  EXPECT_EQ(role(d, "vector_lane").need.stages, 2u);
  EXPECT_EQ(role(d, "vector_sfu").need.unit, "exp_q");
  EXPECT_EQ(role(d, "vector_sfu").need.stages, 12u);
  derive_latencies(a, t);
  EXPECT_EQ(a.edge.epilogue_latency_cycles, 3u);
  EXPECT_EQ(a.vector.latency_cycles, 12u);
  a.vector.latency_cycles = 10;
  EXPECT_THAT(timing_problem(a, design_timing(a, t)),
              HasSubstr("vector.latency_cycles: 10 cycles of pipeline fill is fewer than the 12 "
                        "stages at 1000 MHz of the vector unit's exp_q at 180 nm, 1.8 V"));
  a.vector.latency_cycles = 16;  // a longer fill than the units need is kept
  derive_latencies(a, t);
  EXPECT_EQ(a.vector.latency_cycles, 16u);
  // Without the rows: listed as not timed.
  d = design_timing(a, table());
  EXPECT_THAT(d.not_timed, ::testing::Contains("epilogue"));
  EXPECT_THAT(d.not_timed, ::testing::Contains("vector unit"));
}

// The shipped table through the loader: a design file's edge latencies are derived unless
// written, a written one below the stages is refused at its line, `given` turns it off, and a
// clock no PE meets names clock_mhz.
TEST(TimingModel, TheLoaderDerivesAndChecksWithTheShippedTable) {
  const TimingTable t = config::load_timing_table();
  auto design = [](const std::string& clock, const std::string& extra,
                   const std::string& latencies = "derived", const std::string& array = "ws") {
    return "quasar_arch: 2\nname: t\nclock_mhz: " + clock +
           "\narray: {rows: 8, cols: 8, dataflow: " + array + ", pe: w4a8}\nschemes: [w4a8-fs]\n"
           "edge: {floatscale_units: 8" + extra + "}\n"
           "buffers:\n  ifmap: {size_kib: 64}\n  weight: {size_kib: 64}\n  ofmap: {size_kib: 64}\n"
           "dram: {standard: hbm2e, bandwidth_gbps: 64, latency_ns: 100, burst_bytes: 64}\n"
           "timing: {latencies: " + latencies + "}\n";
  };
  const double low = 100;
  const arch::ArchSpec a = config::parse_arch_config(design("100", ""), "d.yaml");
  EXPECT_EQ(a.timing.latencies, arch::LatencySource::derived);
  EXPECT_EQ(a.edge.floatscale_latency_cycles,
            unit_stages(t, "floatscale_acc", 45, 0.9, low).stages);
  const std::uint32_t need = unit_stages(t, "floatscale_acc", 45, 0.9, low).stages;
  // A written latency of at least the stages is kept; below them it is refused at its line.
  EXPECT_EQ(config::parse_arch_config(design("100", ", floatscale_latency_cycles: " +
                                                        std::to_string(need + 3)),
                                      "d.yaml")
                .edge.floatscale_latency_cycles,
            need + 3);
  const double fast = 2 * unit_stages(t, "floatscale_acc", 45, 0.9, 1).fmax_one_stage_mhz;
  const std::uint32_t need_fast = unit_stages(t, "floatscale_acc", 45, 0.9, fast).stages;
  ASSERT_GE(need_fast, 2u);
  EXPECT_THAT([&] {
    config::parse_arch_config(design(std::to_string(fast), ", floatscale_latency_cycles: 1"),
                              "d.yaml");
  },
              ::testing::ThrowsMessage<Error>(HasSubstr(
                  "d.yaml:6: edge.floatscale_latency_cycles: 1 cycles is fewer than the " +
                  std::to_string(need_fast) + " stages")));
  // A clock beyond the PE's one-stage limit pipelines a weight-stationary array's PEs; a written
  // pe_stages below the need is refused at its line, and an output-stationary array names
  // clock_mhz. `given` takes the numbers as written.
  const double too_fast = 1.01 * unit_stages(t, "mac_w4a8", 45, 0.9, 1).fmax_one_stage_mhz;
  EXPECT_EQ(config::parse_arch_config(design(std::to_string(too_fast), ""), "d.yaml")
                .array.pe_stages,
            2u);
  EXPECT_THAT([&] {
    config::parse_arch_config(design(std::to_string(too_fast), "", "derived", "ws, pe_stages: 1"),
                              "d.yaml");
  },
              ::testing::ThrowsMessage<Error>(
                  HasSubstr("d.yaml:4: array.pe_stages: 1 is fewer than the 2 stages")));
  EXPECT_THAT([&] {
    config::parse_arch_config(design(std::to_string(too_fast), "", "derived", "os"), "d.yaml");
  },
              ::testing::ThrowsMessage<Error>(
                  HasSubstr("d.yaml:3: clock_mhz: at " + std::to_string(static_cast<int>(too_fast)) +
                            " MHz the PE's multiply-accumulate (mac_w4a8 at 45 nm, 0.9 V")));
  const arch::ArchSpec g = config::parse_arch_config(
      design(std::to_string(too_fast), ", floatscale_latency_cycles: 1", "given"),
      "d.yaml");
  EXPECT_EQ(g.timing.latencies, arch::LatencySource::given);
  EXPECT_EQ(g.edge.floatscale_latency_cycles, 1u);
}

}  // namespace
}  // namespace quasar::cost
