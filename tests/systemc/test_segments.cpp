// A run cut where the accelerator is idle (arch/segment) equals the run simulated whole,
// statistic by statistic, on every kind of design and trace; a segment found in the memo is
// the segment simulated again. Every simulation runs in a forked child (simulate_in_child), so
// one test process runs many. libsystemc defines main() and calls sc_main (toolchain trap 1).
#include <gtest/gtest.h>

#include <systemc>

#include <string>
#include <vector>

#include "arch/segment/segment.hpp"
#include "config/arch_config.hpp"
#include "mapping/workload.hpp"
#include "numerics/error.hpp"
#include "report/run_report.hpp"
#include "shipped.hpp"

namespace quasar {
namespace {

using arch::LayerWork;
using arch::RunStats;

using test::expect_same;
using test::shipped;

trace::Trace small_trace(const arch::ArchSpec& a, trace::Phase phase, std::uint64_t context) {
  test::SmallModel s;
  s.phase = phase;
  s.context = context;
  return test::small_model_trace(a, s);
}

RunStats whole(const arch::ArchSpec& a, const mapping::PlannedTrace& p, arch::Fidelity f) {
  arch::SimJob j{&a, nullptr, f, &p.cores};
  return simulate_in_child({j}).at(0);
}

// Hand-made graphs: a cut before j needs every layer before j read (through `after`) by every
// layer from j on.
TEST(Segments, CutsAreWhereEveryLaterLayerReadsEveryEarlierOne) {
  auto graph = [](const std::vector<std::vector<std::size_t>>& after) {
    std::vector<LayerWork> w(after.size());
    for (std::size_t i = 0; i < after.size(); ++i) w[i].after = after[i];
    return std::vector<std::vector<LayerWork>>{w};
  };
  // 0 -> 1 -> 2 -> 3: a chain, cut everywhere.
  EXPECT_EQ(arch::segment_cuts(graph({{}, {0}, {1}, {2}})), (std::vector<std::size_t>{1, 2, 3}));
  // 0 -> {1, 2} -> 3 (q and k from one input, then their consumer): 2 does not read 1.
  EXPECT_EQ(arch::segment_cuts(graph({{}, {0}, {0}, {1, 2}})), (std::vector<std::size_t>{1, 3}));
  // 0 and 1 independent, 2 reads both: only before 2.
  EXPECT_EQ(arch::segment_cuts(graph({{}, {}, {0, 1}})), (std::vector<std::size_t>{2}));
  // 3 reads only 2, which reads 1: 0 is read by nobody after it, so no cut passes it.
  EXPECT_EQ(arch::segment_cuts(graph({{}, {}, {1}, {2}})), (std::vector<std::size_t>{}));
  // A later layer in `after`, or waves out of list order: no cut.
  EXPECT_TRUE(arch::segment_cuts(graph({{}, {2}, {1}})).empty());
  std::vector<std::vector<LayerWork>> waves = graph({{}, {0}, {1}});
  waves[0][1].wave = 2;
  EXPECT_TRUE(arch::segment_cuts(waves).empty());
  // A segment's own `after` renumbered, the closed layers before it dropped.
  const auto seg = arch::segment_work(graph({{}, {0}, {0}, {1, 2}}), 1, 4);
  EXPECT_TRUE(seg[0][0].after.empty());
  EXPECT_EQ(seg[0][2].after, (std::vector<std::size_t>{0, 1}));
}

TEST(Segments, RefreshAndFractionalClocksAreNotCut) {
  EXPECT_EQ(arch::why_not_segmented(shipped("intscale")), "");
  EXPECT_NE(arch::why_not_segmented(shipped("intscale-x4")).find("refresh"), std::string::npos);
  arch::ArchSpec a = shipped("intscale");
  a.clock_mhz = 1500;
  EXPECT_NE(arch::why_not_segmented(a).find("whole number of picoseconds"), std::string::npos);
  EXPECT_THROW(SegmentedRunner(shipped("intscale-x4"), arch::Fidelity::fast), Error);
}

struct Case {
  std::string name;
  arch::ArchSpec a;
};

// Designs of every kind the model runs: the shipped ones (a vector unit, fp32 or int8
// attention, double-buffered weights, every edge unit), several channels with a bus turnaround
// (the carried directions matter), four cores sharing them, an interconnect, an
// output-stationary array.
std::vector<Case> cases() {
  std::vector<Case> c;
  for (const char* n : {"intscale", "int8-baseline", "dgq", "floatscale", "fp16-w4a16", "mxfp4"})
    c.push_back({n, shipped(n)});
  arch::ArchSpec t = shipped("intscale");
  t.dram.channels = 4;
  t.dram.turnaround_ns = 9;
  t.dram.burst_bytes = 32;
  c.push_back({"intscale-4ch-turnaround", t});
  arch::ArchSpec x4 = shipped("intscale-x4");
  x4.dram.trefi_ns = x4.dram.trfc_ns = 0;
  x4.dram.turnaround_ns = 7;
  c.push_back({"intscale-x4-no-refresh", x4});
  arch::ArchSpec net = t;
  net.interconnect.latency_cycles = 3;
  net.interconnect.bytes_per_cycle = 16;
  c.push_back({"intscale-interconnect", net});
  c.push_back({"int8-os-int8-attention", test::int8_os_int8_attention()});
  return c;
}

// Every case, a prefill and a decode layer, both fidelities: the cut run equals the whole run.
TEST(Segments, CutRunsEqualWholeRuns) {
  for (const Case& k : cases()) {
    for (const trace::Phase ph : {trace::Phase::prefill, trace::Phase::decode}) {
      const trace::Trace t = small_trace(k.a, ph, 100);
      const mapping::PlannedTrace p = mapping::plan_trace(k.a, t);
      ASSERT_GE(arch::segment_cuts(p.cores).size(), 5u) << k.name;
      for (const arch::Fidelity f : {arch::Fidelity::fast, arch::Fidelity::cycle}) {
        const std::string where = k.name + " " + (ph == trace::Phase::prefill ? "prefill" : "decode") +
                                  " " + arch::fidelity_name(f);
        SegmentedRunner seg(k.a, f);
        expect_same(whole(k.a, p, f), seg.run(p.cores), where);
        EXPECT_EQ(seg.reused(), 0u) << where;
      }
    }
  }
}

// Decode steps attending 100, 101 and 100 keys through one runner: the third is the first
// again (every segment found in the memo), the second shares all but its attention; each
// equals its whole run.
TEST(Segments, ReusedSegmentsEqualSimulatedOnes) {
  for (const char* n : {"intscale", "intscale-4ch-turnaround"}) {
    const Case k = [&] {
      for (const Case& c : cases()) {
        if (c.name == n) return c;
      }
      throw Error("no case");
    }();
    SegmentedRunner seg(k.a, arch::Fidelity::fast);
    std::uint64_t after_second = 0;
    const std::uint64_t contexts[] = {100, 101, 100};
    for (int i = 0; i < 3; ++i) {
      const mapping::PlannedTrace p =
          mapping::plan_trace(k.a, small_trace(k.a, trace::Phase::decode, contexts[i]));
      expect_same(whole(k.a, p, arch::Fidelity::fast), seg.run(p.cores),
                  k.name + " context " + std::to_string(contexts[i]));
      if (i == 1) {
        EXPECT_GT(seg.reused(), 0u) << k.name;
        after_second = seg.simulated();
      }
    }
    const std::uint64_t segments = arch::segment_cuts(
        mapping::plan_trace(k.a, small_trace(k.a, trace::Phase::decode, 100)).cores).size() + 1;
    EXPECT_EQ(seg.simulated() + seg.reused(), 3 * segments) << k.name;
    EXPECT_EQ(seg.simulated(), after_second) << k.name << ": the third step is the first again";
    EXPECT_LT(seg.simulated(), 2 * segments) << k.name;
  }
}

// The same run with its first layer (a norm on the vector unit) given 1 to 8 rows more: its
// later segments are the same work, but each starts from the DRAM state the changed norm left
// (its count of serving cycles moves the round-robin requester). A memo keyed on work alone
// hands them another state's statistics; keyed on work and state, each equals its whole run.
TEST(Segments, ASegmentFromAnotherDramStateIsSimulatedAgain) {
  const arch::ArchSpec a = shipped("intscale");
  const mapping::PlannedTrace p = mapping::plan_trace(a, small_trace(a, trace::Phase::decode, 100));
  ASSERT_TRUE(p.cores[0][0].vector.present());
  ASSERT_EQ(arch::segment_cuts(p.cores).front(), 1u);
  SegmentedRunner seg(a, arch::Fidelity::fast);
  for (std::uint64_t more = 0; more < 8; ++more) {
    std::vector<std::vector<LayerWork>> w = p.cores;
    w[0][0].vector.rows += more;
    arch::SimJob j{&a, nullptr, arch::Fidelity::fast, &w};
    expect_same(simulate_in_child({j}).at(0), seg.run(w), "rows + " + std::to_string(more));
  }
}

// Steps of growing contexts through one runner, as a request runs them: their attention
// segments differ and the segments after them are found in the memo; every step must still
// equal its whole run. (Here the segments after attention happen to start from the same DRAM
// state in every step, so a memo keyed on work alone passes this test too: the test above is
// the one that catches that.)
TEST(Segments, GrowingContextsThroughOneRunnerEqualWholeRuns) {
  for (const Case& k : cases()) {
    if (k.name != "intscale" && k.name != "intscale-4ch-turnaround" &&
        k.name != "intscale-x4-no-refresh")
      continue;
    SegmentedRunner seg(k.a, arch::Fidelity::fast);
    for (std::uint64_t ctx = 100; ctx < 124; ++ctx) {
      const mapping::PlannedTrace p =
          mapping::plan_trace(k.a, small_trace(k.a, trace::Phase::decode, ctx));
      expect_same(whole(k.a, p, arch::Fidelity::fast), seg.run(p.cores),
                  k.name + " context " + std::to_string(ctx));
    }
  }
}

}  // namespace
}  // namespace quasar

int sc_main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
