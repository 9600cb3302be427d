// The DRAM controller as a SystemC module shared by every requester (each core's DMA and its
// output writer). Requesters submit transactions and wait on their `done` event; the controller
// serves them in an order that depends only on the inputs, never on which SystemC process the
// kernel happened to run first: every transaction submitted in cycle t is collected and served
// 1 ps after t (once every process of cycle t has run), sorted by requester in round-robin
// order (the first requester of the round moves on by one each cycle that serves anything),
// then by submission order. Timing rules: DramTiming (plain C++).
//
// Time: 1 ns of simulated time is one accelerator cycle (every module's convention); the DRAM
// computes in picoseconds from its clock-independent GB/s and ns, and a transaction is done at
// the first cycle boundary at or after its data is complete.
#pragma once

#include <systemc>

#include <cstdint>
#include <vector>

#include "arch/dram/dram_timing.hpp"

namespace quasar::arch {

struct DramRequest {
  std::uint64_t bytes = 0;
  DramDir dir = DramDir::read;
  std::uint32_t requester = 0;
  // Set by the controller:
  bool resolved = false;
  std::uint64_t done_cycle = 0;
  sc_core::sc_event done;  // notified at done_cycle
  bool complete(std::uint64_t now_cycle) const { return resolved && done_cycle <= now_cycle; }
};

class DramController : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(DramController);
  DramController(sc_core::sc_module_name n, const DramSpec& d, double clock_mhz,
                 std::uint32_t requesters);

  // Queues `r` (bytes > 0) at the current cycle; r must stay alive until r.done fires.
  void submit(DramRequest& r);
  // Blocks the calling thread until r is complete.
  static void wait_done(DramRequest& r);

  const DramCounters& counters() const { return timing_.counters(); }

 private:
  void serve();
  std::uint64_t cycle_to_ps(std::uint64_t c) const;
  std::uint64_t ps_to_cycle(std::uint64_t p) const;

  DramTiming timing_;
  double clock_mhz_;
  std::uint32_t requesters_;
  std::uint32_t rr_first_ = 0;
  std::vector<DramRequest*> pending_;
  sc_core::sc_event arrived_;
};

}  // namespace quasar::arch
