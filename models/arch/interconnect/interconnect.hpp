// The interconnect between the cores and the DRAM controller: one link per core, with a
// latency each way and a bandwidth, as a TLM-2.0 module in the middle of every transaction.
//
//   request   a requester's BEGIN_REQ is accepted at once and reaches the DRAM controller
//             `latency_cycles` later, on the controller socket of the same index (so the
//             controller's round-robin still sees requesters, not the interconnect);
//   data      the transaction's bytes cross the core's link (shared by its fetches and writes)
//             at `bytes_per_cycle`, in the order the controller serves them, no earlier than
//             the request reached the controller; the data is there when both the DRAM and the
//             link are done, plus `latency_cycles` back.
// Deterministic like the controller: the link's order is the controller's serving order.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/peq_with_get.h>

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "arch/arch_spec.hpp"

namespace quasar::arch {

// The links' data times (plain C++: the Interconnect module and the event-loop kernel).
class LinkTimes {
 public:
  // link_of[r]: the link requester r's data crosses (a core's two ports share one).
  LinkTimes(const InterconnectSpec& s, std::vector<std::uint32_t> link_of);
  std::size_t requesters() const { return link_of_.size(); }
  // Requester r's transaction of `bytes` reached the DRAM controller at cycle at_dram, and the
  // DRAM had its data at dram_done (taken in the controller's serving order): the cycle the
  // data is back at the requester.
  std::uint64_t done(std::size_t r, std::uint64_t at_dram, std::uint64_t dram_done,
                     std::uint64_t bytes);

 private:
  InterconnectSpec spec_;
  std::vector<std::uint32_t> link_of_;
  std::vector<std::uint64_t> link_free_;  // cycle each link is free of data
};

class Interconnect : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Interconnect);
  // link_of[r]: the link requester r's data crosses (a core's two ports share one).
  Interconnect(sc_core::sc_module_name n, const InterconnectSpec& s,
               std::vector<std::uint32_t> link_of);

  tlm_utils::multi_passthrough_target_socket<Interconnect> in;      // requester r binds r-th
  tlm_utils::multi_passthrough_initiator_socket<Interconnect> out;  // bind once per requester

 private:
  tlm::tlm_sync_enum nb_transport_fw(int r, tlm::tlm_generic_payload& t, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay);
  tlm::tlm_sync_enum nb_transport_bw(int r, tlm::tlm_generic_payload& t, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay);
  void forward();

  InterconnectSpec spec_;
  LinkTimes links_;
  struct InFlight {
    int requester;
    std::uint64_t at_dram;  // cycle the request reached the controller
  };
  std::unordered_map<tlm::tlm_generic_payload*, InFlight> flight_;
  tlm_utils::peq_with_get<tlm::tlm_generic_payload> to_dram_;
};

}  // namespace quasar::arch
