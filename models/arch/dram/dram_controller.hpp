// The DRAM controller as a SystemC module shared by every requester (each core's fetch engine
// and its output writer), reached through TLM-2.0: a multi-passthrough target socket that
// every requester's initiator socket binds to, in requester order (socket index = requester).
//
// Protocol (TLM-2.0 base protocol, approximately timed): a requester sends BEGIN_REQ with no
// annotated delay; the controller accepts at once (TLM_UPDATED, END_REQ). Every transaction
// that arrives in cycle t is collected and served 1 ps after t (once every process of cycle t
// has run), sorted by requester in round-robin order (the first requester moves on by one each
// cycle that serves anything), then by arrival: the order never depends on which process the
// SystemC kernel ran first. Serving computes when the data is complete (DramTiming) and sends
// BEGIN_RESP back at once with that time as its annotated delay, so the requester knows the
// completion cycle from then on; it answers TLM_COMPLETED.
//
// Timing only: the payload's length is the bytes moved; its data pointer does not hold them
// and the controller never reads it. A target that stores data (DRAMSys with storage on) needs
// a data-bearing initiator.
//
// Time: 1 ns of simulated time is one accelerator cycle (every module's convention); the DRAM
// computes in picoseconds from its clock-independent GB/s and ns, and a transaction is done at
// the first cycle boundary at or after its data is complete.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/simple_initiator_socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "arch/dram/dram_timing.hpp"

namespace quasar::arch {

// One transaction in flight: the TLM payload and what its requester learns of it.
struct DramRequest : tlm::tlm_generic_payload {
  std::uint64_t bytes = 0;
  DramDir dir = DramDir::read;
  bool resolved = false;        // the controller has said when it completes
  std::uint64_t done_cycle = 0;
  // Notified at done_cycle, only when a thread waits on it before the controller answers
  // (`waiting`): most requests are answered before anyone waits (their requester reads
  // done_cycle and waits for that time), and an event nobody waits on still costs the kernel's
  // timed queue an entry (a fifth of a decode step's host time, perf).
  sc_core::sc_event done;
  bool waiting = false;
  bool complete(std::uint64_t now_cycle) const { return resolved && done_cycle <= now_cycle; }
};

// A requester's side: one initiator socket, bound to the controller's target socket.
class DramPort {
 public:
  explicit DramPort(const char* name);
  tlm_utils::simple_initiator_socket<DramPort> socket;
  // Sends `r` (bytes > 0) at the current cycle; r must stay alive until it is complete.
  void submit(DramRequest& r);
  // Blocks the calling thread until r is complete.
  static void wait_done(DramRequest& r);

 private:
  tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload& t, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay);
};

class DramController : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(DramController);
  DramController(sc_core::sc_module_name n, const DramSpec& d, double clock_mhz);

  tlm_utils::multi_passthrough_target_socket<DramController> socket;

  const DramCounters& counters() const { return timing_.counters(); }
  // The state a later segment of the run starts from (DramCarry), and starting from one.
  DramCarry carry() const;
  void resume(const DramCarry& c);

 private:
  struct Pending {
    int requester;
    tlm::tlm_generic_payload* trans;
  };
  tlm::tlm_sync_enum nb_transport_fw(int requester, tlm::tlm_generic_payload& t,
                                     tlm::tlm_phase& phase, sc_core::sc_time& delay);
  void serve();

  DramTiming timing_;
  CycleClock clock_;
  unsigned rr_first_ = 0;
  std::vector<Pending> pending_;
  sc_core::sc_event arrived_;
};

}  // namespace quasar::arch
