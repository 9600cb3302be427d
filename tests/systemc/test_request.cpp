// End-to-end requests (sim/request): the prefill and every decode step, the figures by their
// printed definitions, and reuse only where it is exact. One simulation per process: ctest
// runs each test alone. libsystemc defines main() and calls sc_main (toolchain trap 1).
#include <gtest/gtest.h>

#include <systemc>

#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "config/arch_config.hpp"
#include "numerics/error.hpp"
#include "report/run_report.hpp"
#include "request/request.hpp"
#include "trace/generate.hpp"

namespace quasar::request {
namespace {

arch::ArchSpec intscale() {
  return config::read_arch_config(std::string(QUASAR_SOURCE_DIR) + "/configs/arch/intscale.yaml");
}

RequestSpec small(const trace::ModelConfig& m) {
  RequestSpec s;
  s.model = m;
  s.prompt = 64;
  s.generate = 3;
  s.batch = 2;
  s.decoder_layers = 1;
  s.linear_scheme.scheme = Scheme::w4a8_is;
  return s;
}

// Prompt 64, 3 tokens: the prefill, then 2 decode steps attending 65 and 66 keys. TTFT, TPOT,
// tokens/s and J/token follow their definitions; the op classes add up to the steps.
TEST(Request, FiguresFollowTheirDefinitions) {
  const RequestReport r =
      run_request(intscale(), small(trace::embedded_model("llama-2-7b")), arch::Fidelity::fast);
  ASSERT_EQ(r.steps.size(), 3u);
  EXPECT_EQ(r.steps[0].phase, "prefill");
  EXPECT_EQ(r.steps[1].context, 65u);
  EXPECT_EQ(r.steps[2].context, 66u);
  ASSERT_EQ(r.runs.size(), 3u);  // every step distinct: the cache grows
  const double pre = r.runs[0].cost->seconds, d1 = r.runs[1].cost->seconds,
               d2 = r.runs[2].cost->seconds;
  EXPECT_DOUBLE_EQ(r.ttft_s, pre);
  EXPECT_DOUBLE_EQ(r.tpot_s, (d1 + d2) / 2);
  EXPECT_DOUBLE_EQ(r.total_s, pre + d1 + d2);
  EXPECT_DOUBLE_EQ(r.tokens_per_s, 6 / r.total_s);
  const double j = (r.runs[0].cost->energy_pj + r.runs[1].cost->energy_pj +
                    r.runs[2].cost->energy_pj) * 1e-12;
  EXPECT_NEAR(r.joules, j, 1e-12);
  EXPECT_NEAR(r.j_per_token, j / 6, 1e-12);
  // One more key to attend: a longer step.
  EXPECT_GT(r.runs[2].stats.cycles, r.runs[1].stats.cycles);
  double sec = 0, joules = 0;
  for (int c = 0; c < kOpClasses; ++c) {
    sec += r.prefill.seconds[c] + r.decode.seconds[c];
    joules += r.prefill.joules[c] + r.decode.joules[c];
  }
  EXPECT_NEAR(sec, r.total_s, 1e-12);
  EXPECT_NEAR(joules, r.joules, 1e-9);
  EXPECT_GT(r.decode.seconds[static_cast<int>(OpClass::attention)], 0.0);
  EXPECT_GT(r.prefill.joules[static_cast<int>(OpClass::data_movement)], 0.0);
}

// The simulations shared among forked workers (quasar run --model -j N) give the report one
// simulation of them all gives, byte for byte: the steps' accelerators share nothing. Workers
// first (this process elaborates nothing then), the in-process run last.
TEST(Request, ParallelStepsEqualOneSimulation) {
  RequestSpec s = small(trace::embedded_model("llama-2-7b"));
  s.generate = 4;  // four distinct runs
  s.reuse_segments = false;  // whole steps: the workers share them
  std::vector<std::string> texts;
  // (workers, traces a worker's share): two workers of two runs each; three of 2 + 1 + 1; four
  // groups of one, two at a time (the pool); then one simulation here.
  for (const auto& [w, per] : {std::pair{2u, 4u}, std::pair{3u, 4u}, std::pair{2u, 1u},
                               std::pair{1u, 4u}}) {
    s.workers = w;
    s.traces_per_worker = per;
    std::ostringstream os;
    print_request_json(os, run_request(intscale(), s, arch::Fidelity::fast));
    texts.push_back(os.str());
  }
  for (std::size_t i = 0; i + 1 < texts.size(); ++i) EXPECT_EQ(texts[i], texts.back()) << i;
  EXPECT_NE(texts.back().find("\"decode\""), std::string::npos);
}

// Steps cut where the accelerator is idle, segments an earlier step ran reused (the default):
// the report equals the one of every step simulated whole, byte for byte but for the line that
// says which was done. On a design with DRAM refresh steps run whole, and the report says why.
TEST(Request, ReusedSegmentsGiveTheWholeStepsReport) {
  RequestSpec s = small(trace::embedded_model("llama-2-7b"));
  s.generate = 6;
  s.decoder_layers = 2;
  std::string text[2];
  RequestReport r[2];
  for (int whole = 0; whole < 2; ++whole) {
    s.reuse_segments = whole == 0;
    r[whole] = run_request(intscale(), s, arch::Fidelity::fast);
    std::ostringstream os;
    print_request_json(os, r[whole]);
    text[whole] = os.str();
    const std::size_t at = text[whole].find("\"segments\"");
    ASSERT_NE(at, std::string::npos);
    text[whole].erase(at, text[whole].find('}', at) + 1 - at);
  }
  EXPECT_EQ(text[0], text[1]);
  EXPECT_TRUE(r[0].segmented);
  EXPECT_GT(r[0].segments_reused, r[0].segments_simulated);  // 5 decode steps share most
  EXPECT_FALSE(r[1].segmented);
  EXPECT_EQ(r[1].whole_steps_why, "not asked");
  arch::ArchSpec x4 =
      config::read_arch_config(std::string(QUASAR_SOURCE_DIR) + "/configs/arch/intscale-x4.yaml");
  s.reuse_segments = true;
  s.generate = 2;
  const RequestReport q = run_request(x4, s, arch::Fidelity::fast);
  EXPECT_FALSE(q.segmented);
  EXPECT_NE(q.whole_steps_why.find("refresh"), std::string::npos);
  std::ostringstream os;
  print_request_table(os, q);
  EXPECT_NE(os.str().find("every run simulated whole (not cut into segments: its DRAM refreshes"),
            std::string::npos);
}

// A sliding-window model past its window attends the same 64 keys every step: the steps'
// records are equal, so the second decode step reuses the first's run. That reuse is exact:
// the same two traces simulated separately (two accelerators in one simulation) give equal
// statistics.
TEST(Request, EqualStepsAreSimulatedOnceAndThatIsExact) {
  trace::ModelConfig m = trace::embedded_model("llama-2-7b");
  m.sliding_window = 64;
  const RequestReport r = run_request(intscale(), small(m), arch::Fidelity::fast);
  ASSERT_EQ(r.steps.size(), 3u);
  EXPECT_FALSE(r.steps[1].reused);
  EXPECT_TRUE(r.steps[2].reused);
  EXPECT_EQ(r.steps[2].run, r.steps[1].run);
  EXPECT_EQ(r.runs.size(), 2u);
  EXPECT_DOUBLE_EQ(r.tpot_s, r.runs[1].cost->seconds);
}

TEST(Request, SimulatingEqualStepsTwiceGivesTheSameStatistics) {
  trace::ModelConfig m = trace::embedded_model("llama-2-7b");
  m.sliding_window = 64;
  trace::GenSpec g;
  g.model = m;
  g.phase = trace::Phase::decode;
  g.batch = 2;
  g.decoder_layers = 1;
  g.linear_scheme.scheme = Scheme::w4a8_is;
  g.context = 65;
  const trace::Trace a = trace::generate(g);
  g.context = 66;
  const trace::Trace b = trace::generate(g);
  const std::vector<RunReport> r = run_traces(intscale(), {a, b}, arch::Fidelity::fast);
  ASSERT_EQ(r[0].stats.layers.size(), r[1].stats.layers.size());
  EXPECT_EQ(r[0].stats.cycles, r[1].stats.cycles);
  for (std::size_t i = 0; i < r[0].stats.layers.size(); ++i)
    EXPECT_TRUE(r[0].stats.layers[i] == r[1].stats.layers[i]) << r[0].stats.layers[i].name;
}

TEST(Request, AContextPastTheModelsPositionsIsAnError) {
  RequestSpec s = small(trace::embedded_model("llama-2-7b"));
  s.prompt = 4000;
  s.generate = 200;
  try {
    (void)run_request(intscale(), s, arch::Fidelity::fast);
    FAIL() << "4199 positions on a 4096-position model";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "--prompt 4000 + --generate 200 needs 4199 positions; llama-2-7b has 4096 "
                 "(max_position_embeddings)");
  }
}

}  // namespace
}  // namespace quasar::request

int sc_main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
