// The DRAM controller module through its TLM-2.0 sockets, counted by hand: transactions of one
// cycle are served round-robin over requesters (never in the kernel's process order), each
// requester learns its completion cycle, and reads and writes share one bus. Changing the
// arbitration rule (fixed priority, or the kernel's order) fails RoundRobinByHand.
//
// One elaboration per process: ctest runs each case alone; sc_main is defined here (trap 1).
#include <gtest/gtest.h>

#include <systemc>

#include <cstdint>
#include <memory>
#include <vector>

#include "arch/accelerator.hpp"
#include "arch/dram/dram_controller.hpp"
#include "arch/interconnect/interconnect.hpp"

namespace quasar::arch {
namespace {

// Requester `id` sends `bytes` at each cycle of `at`, in direction `dir`, and records when
// each transaction completes.
SC_MODULE(Requester) {
  SC_HAS_PROCESS(Requester);
  Requester(sc_core::sc_module_name n, std::vector<std::uint64_t> at, std::uint64_t bytes,
            DramDir dir)
      : sc_module(n), port("port"), at_(std::move(at)), bytes_(bytes), dir_(dir) {
    SC_THREAD(run);
  }
  DramPort port;
  std::vector<std::uint64_t> done;

 private:
  void run() {
    std::vector<std::unique_ptr<DramRequest>> reqs;
    for (std::uint64_t t : at_) {
      wait(sc_core::sc_time(static_cast<double>(t), sc_core::SC_NS) - sc_core::sc_time_stamp());
      reqs.push_back(std::make_unique<DramRequest>());
      reqs.back()->bytes = bytes_;
      reqs.back()->dir = dir_;
      port.submit(*reqs.back());
    }
    for (auto& r : reqs) {
      DramPort::wait_done(*r);
      done.push_back(r->done_cycle);
    }
  }
  std::vector<std::uint64_t> at_;
  std::uint64_t bytes_;
  DramDir dir_;
};

DramSpec one_channel() {
  DramSpec d;
  d.channels = 1;
  d.bandwidth_gbps = 64.0;  // at 1 GHz: a 64 B burst is one cycle
  d.burst_bytes = 64;
  d.latency_ns = 0;
  return d;
}

// Two requesters send 128 B (2 cycles of bus) in the same cycles 0, 10 and 20. Round-robin:
// cycle 0 serves requester 0 first (done 2, then 4), cycle 10 requester 1 first (12, then 14),
// cycle 20 requester 0 first again (22, 24). Requester 1 is elaborated first, so the kernel's
// order would favour it.
TEST(DramController, RoundRobinByHand) {
  DramController dram("dram", one_channel(), 1000.0);
  Requester b("b", {0, 10, 20}, 128, DramDir::read);
  Requester a("a", {0, 10, 20}, 128, DramDir::read);
  a.port.socket.bind(dram.socket);  // requester 0
  b.port.socket.bind(dram.socket);  // requester 1
  sc_core::sc_start();
  EXPECT_EQ(a.done, (std::vector<std::uint64_t>{2, 14, 22}));
  EXPECT_EQ(b.done, (std::vector<std::uint64_t>{4, 12, 24}));
  EXPECT_EQ(dram.counters().transactions, 6u);
}

// A write after a read on the same bus waits for it and for the turnaround (5 ns = 5 cycles):
// read 0..2, switch 2..7, write 7..8; the latency (10 ns) follows each.
TEST(DramController, WritesShareTheBusWithReads) {
  DramSpec d = one_channel();
  d.turnaround_ns = 5.0;
  d.latency_ns = 10.0;
  DramController dram("dram", d, 1000.0);
  Requester r("r", {0}, 128, DramDir::read);
  Requester w("w", {0}, 64, DramDir::write);
  r.port.socket.bind(dram.socket);
  w.port.socket.bind(dram.socket);
  sc_core::sc_start();
  EXPECT_EQ(r.done, std::vector<std::uint64_t>{12});
  EXPECT_EQ(w.done, std::vector<std::uint64_t>{18});
  EXPECT_EQ(dram.counters().turnarounds, 1u);
}

// The clock only converts: at 500 MHz a cycle is 2 ns, so 64 B at 64 GB/s (1 ns) plus 10 ns
// latency is done in the 6th cycle (11 ns -> 12 ns boundary).
TEST(DramController, BandwidthIsIndependentOfTheClock) {
  DramSpec d = one_channel();
  d.latency_ns = 10.0;
  DramController dram("dram", d, 500.0);
  Requester r("r", {0}, 64, DramDir::read);
  r.port.socket.bind(dram.socket);
  sc_core::sc_start();
  EXPECT_EQ(r.done, std::vector<std::uint64_t>{6});
}

// Through the interconnect (3 cycles each way, 32 B a cycle per core link): core 0's fetch
// (a) and write (b) share link 0, core 1's fetch (c) has link 1; 128 B each at cycle 0.
// All reach the controller at cycle 3 and are served a, b, c: the DRAM is done at 5, 7, 9.
// Links: a [3, 7), b [7, 11) behind it, c [3, 7). Done = max(DRAM, link) + 3: 10, 14, 12.
TEST(Interconnect, LatencyAndLinksByHand) {
  DramController dram("dram", one_channel(), 1000.0);
  InterconnectSpec s;
  s.latency_cycles = 3, s.bytes_per_cycle = 32;
  Interconnect net("net", s, {0, 0, 1});
  Requester a("a", {0}, 128, DramDir::read);
  Requester b("b", {0}, 128, DramDir::write);
  Requester c("c", {0}, 128, DramDir::read);
  for (Requester* r : {&a, &b, &c}) {
    r->port.socket.bind(net.in);
    net.out.bind(dram.socket);
  }
  sc_core::sc_start();
  EXPECT_EQ(a.done, std::vector<std::uint64_t>{10});
  EXPECT_EQ(b.done, std::vector<std::uint64_t>{14});
  EXPECT_EQ(c.done, std::vector<std::uint64_t>{12});
}

}  // namespace
}  // namespace quasar::arch

int sc_main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const int rc = RUN_ALL_TESTS();
  // The tests run sc_start themselves: give ASan this thread's stack back before exit, as
  // arch::simulate_jobs does (the LeakSanitizer crash of docs/limits.md, "Sanitizers").
  quasar::arch::restore_sanitizer_stack();
  return rc;
}
