// The fast fidelity's own kernel (arch/event_loop) against the same model on SystemC: every
// statistic of every layer and core, the cycles and the DRAM state left at the end are equal,
// on every shipped design, on designs that stress what the kernel reorders (several channels
// with a bus turnaround, refresh, an interconnect with latency and link bandwidth, four cores,
// single-buffered and output-stationary arrays, a run resumed from a carried DRAM state), and on
// a seeded corpus of random designs and workloads.
//
// Each test builds every case's two jobs and runs them in one simulate_jobs call: the SystemC
// jobs elaborate side by side (one elaboration per process), the event-loop jobs run on their
// own. libsystemc defines main() and calls sc_main, so this file defines sc_main (trap 1).
#include <gtest/gtest.h>

#include <systemc>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "arch/accelerator.hpp"
#include "numerics/error.hpp"
#include "shipped.hpp"

namespace quasar {
namespace {

using arch::FastKernel;
using arch::RunStats;
using test::shipped;

const char* const kShipped[] = {"dgq",    "dint",  "floatscale", "fp16-w4a16", "int8-baseline",
                                "intscale", "intscale-x4", "mxfp4", "mxint8", "nvfp4"};

struct Case {
  std::string name;
  arch::ArchSpec a;
  test::SmallModel shape;
  bool resumed = false;  // the DRAM starts from a carried state (a later segment)
};

// Runs every case on both kernels in one call and compares them.
void expect_kernels_agree(const std::vector<Case>& cases) {
  std::vector<mapping::PlannedTrace> plans;
  plans.reserve(cases.size());
  for (const Case& c : cases)
    plans.push_back(mapping::plan_trace(c.a, test::small_model_trace(c.a, c.shape)));
  std::vector<arch::DramCarry> starts(cases.size()), carries(2 * cases.size());
  std::vector<arch::SimJob> jobs;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    ASSERT_FALSE(plans[i].empty()) << cases[i].name;
    if (cases[i].resumed) {
      // Every channel used, half of them last writing, the next burst on channel 1, the
      // round-robin at requester 1: a state no fresh run starts from.
      arch::DramCarry& s = starts[i];
      s.last.assign(cases[i].a.dram.channels, 1);
      for (std::size_t ch = 0; ch < s.last.size(); ch += 2) s.last[ch] = 2;
      s.next_channel = cases[i].a.dram.channels > 1 ? 1 : 0;
      s.rr_first = 1;
    }
    for (const FastKernel k : {FastKernel::systemc, FastKernel::event_loop}) {
      arch::SimJob j{&cases[i].a, nullptr, arch::Fidelity::fast, &plans[i].cores};
      j.kernel = k;
      j.resume = cases[i].resumed ? &starts[i] : nullptr;
      j.carry = &carries[2 * i + (k == FastKernel::systemc ? 0 : 1)];
      jobs.push_back(j);
    }
  }
  const std::vector<RunStats> r = arch::simulate_jobs(jobs);
  arch::restore_sanitizer_stack();
  ASSERT_EQ(r.size(), jobs.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const RunStats& sc = r[2 * i];
    const RunStats& el = r[2 * i + 1];
    const std::string& where = cases[i].name;
    EXPECT_GT(sc.cycles, 0u) << where;
    test::expect_same(sc, el, where);
    EXPECT_TRUE(carries[2 * i] == carries[2 * i + 1]) << where << ": the DRAM state left";
  }
}

// Every shipped design, a prefill and a decode step of a small LLaMA-shaped model (GQA, every
// record: the vector unit's norms, RoPE, softmax and KV appends, attention as the design runs
// it), and intscale-x4 resumed from a carried DRAM state.
TEST(EventLoop, EqualsSystemCOnEveryShippedDesign) {
  std::vector<Case> cases;
  for (const char* n : kShipped) {
    for (const trace::Phase ph : {trace::Phase::prefill, trace::Phase::decode}) {
      Case c{std::string(n) + (ph == trace::Phase::prefill ? " prefill" : " decode"), shipped(n),
             {}};
      c.shape.phase = ph;
      cases.push_back(c);
    }
  }
  Case r{"intscale-x4 decode, resumed", shipped("intscale-x4"), {}, true};
  r.shape.phase = trace::Phase::decode;
  cases.push_back(r);
  expect_kernels_agree(cases);
}

// Designs built to exercise what the kernel decides: the DRAM's order within a cycle (several
// requesters and channels, a turnaround that makes order matter), refresh, an interconnect
// (latency 0 and 3, link bandwidth), single-buffered and output-stationary arrays, shallow
// prefetch, one and four cores.
TEST(EventLoop, EqualsSystemCWhereOrderMatters) {
  std::vector<Case> cases;
  arch::ArchSpec t = shipped("intscale");
  t.dram.channels = 4;
  t.dram.turnaround_ns = 9;
  t.dram.burst_bytes = 32;
  cases.push_back({"4 channels, turnaround", t, {}});
  arch::ArchSpec net = t;
  net.interconnect.latency_cycles = 3;
  net.interconnect.bytes_per_cycle = 16;
  cases.push_back({"interconnect latency 3", net, {}});
  net.interconnect.latency_cycles = 0;
  cases.push_back({"interconnect latency 0", net, {}});
  arch::ArchSpec x4 = shipped("intscale-x4");
  x4.dram.turnaround_ns = 7;
  x4.dram.channels = 3;
  x4.interconnect.latency_cycles = 2;
  x4.interconnect.bytes_per_cycle = 24;
  cases.push_back({"x4, 3 channels, interconnect", x4, {}});
  arch::ArchSpec single = shipped("int8-baseline");
  single.array.double_buffer = false;
  single.buffers.prefetch_depth = 1;
  cases.push_back({"single-buffered, prefetch 1", single, {}});
  const arch::ArchSpec os = test::int8_os_int8_attention();
  cases.push_back({"output-stationary, int8 attention, unfused", os, {}});
  arch::ArchSpec os_db = os;
  os_db.array.double_buffer = true;
  cases.push_back({"output-stationary, shadow accumulators", os_db, {}});
  std::vector<Case> both;
  for (const Case& c : cases) {
    for (const trace::Phase ph : {trace::Phase::prefill, trace::Phase::decode}) {
      Case k = c;
      k.shape.phase = ph;
      k.name += ph == trace::Phase::prefill ? " prefill" : " decode";
      both.push_back(k);
    }
  }
  expect_kernels_agree(both);
}

// A seeded corpus: random shipped designs with random DRAM (channels, bandwidth, burst,
// turnaround, refresh), interconnect, prefetch depth and weight banks, on random model shapes
// and phases. QUASAR_EVENT_LOOP_SEED=N draws another corpus (the seed is printed on failure).
TEST(EventLoop, EqualsSystemCOnARandomCorpus) {
  const char* env = std::getenv("QUASAR_EVENT_LOOP_SEED");
  const unsigned seed = env ? static_cast<unsigned>(std::strtoul(env, nullptr, 10)) : 1u;
  std::mt19937_64 rng(seed);
  const auto pick = [&](std::uint64_t n) { return static_cast<std::uint64_t>(rng() % n); };
  std::vector<Case> cases;
  for (int i = 0; i < 24; ++i) {
    const char* n = kShipped[pick(std::size(kShipped))];
    Case c{"seed " + std::to_string(seed) + " case " + std::to_string(i) + " (" + n + ")",
           shipped(n), {}};
    arch::ArchSpec& a = c.a;
    a.dram.channels = static_cast<std::uint32_t>(1u << pick(4));
    a.dram.bandwidth_gbps = 8.0 * static_cast<double>(1 + pick(40));
    a.dram.burst_bytes = static_cast<std::uint32_t>(32u << pick(2));
    a.dram.turnaround_ns = static_cast<double>(pick(12));
    if (pick(2)) {
      a.dram.trefi_ns = 3900;
      a.dram.trfc_ns = static_cast<double>(100 + pick(300));
    } else {
      a.dram.trefi_ns = a.dram.trfc_ns = 0;
    }
    if (pick(3) == 0) {
      a.interconnect.latency_cycles = static_cast<std::uint32_t>(pick(4));
      a.interconnect.bytes_per_cycle = static_cast<double>(pick(3) * 16);
    }
    a.buffers.prefetch_depth = static_cast<std::uint32_t>(1 + pick(4));
    if (a.array.dataflow == arch::Dataflow::ws) a.array.double_buffer = pick(2) == 1;
    test::SmallModel& s = c.shape;
    s.heads = 4u << pick(2);
    s.kv_heads = s.heads >> pick(2);
    s.hidden = s.heads * 64;
    s.intermediate = 256 + 128 * pick(8);
    s.batch = 1 + pick(3);
    s.seq = 8 + pick(40);
    s.context = 16 + pick(100);
    s.layers = 1 + pick(2);
    s.phase = pick(2) ? trace::Phase::prefill : trace::Phase::decode;
    c.resumed = pick(4) == 0;
    cases.push_back(c);
  }
  expect_kernels_agree(cases);
}

TEST(EventLoop, TheKernelVariableIsChecked) {
  ASSERT_EQ(setenv("QUASAR_FAST_KERNEL", "systemc", 1), 0);
  EXPECT_EQ(arch::resolve(FastKernel::from_env), FastKernel::systemc);
  EXPECT_EQ(arch::resolve(FastKernel::event_loop), FastKernel::event_loop);
  ASSERT_EQ(setenv("QUASAR_FAST_KERNEL", "event-loop", 1), 0);
  EXPECT_EQ(arch::resolve(FastKernel::from_env), FastKernel::event_loop);
  ASSERT_EQ(setenv("QUASAR_FAST_KERNEL", "sc", 1), 0);
  try {
    arch::resolve(FastKernel::from_env);
    FAIL() << "an unknown kernel was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("QUASAR_FAST_KERNEL"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("event-loop, systemc"), std::string::npos) << e.what();
  }
  unsetenv("QUASAR_FAST_KERNEL");
  EXPECT_EQ(arch::resolve(FastKernel::from_env), FastKernel::event_loop);
}

}  // namespace
}  // namespace quasar

int sc_main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
