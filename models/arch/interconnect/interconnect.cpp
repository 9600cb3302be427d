#include "arch/interconnect/interconnect.hpp"

#include <algorithm>
#include <cmath>

#include "arch/dram/dram_controller.hpp"
#include "arch/sim_clock.hpp"
#include "numerics/error.hpp"

namespace quasar::arch {
LinkTimes::LinkTimes(const InterconnectSpec& s, std::vector<std::uint32_t> link_of)
    : spec_(s), link_of_(std::move(link_of)) {
  std::uint32_t links = 0;
  for (std::uint32_t l : link_of_) links = std::max(links, l + 1);
  link_free_.assign(links, 0);
}

std::uint64_t LinkTimes::done(std::size_t r, std::uint64_t at_dram, std::uint64_t dram_done,
                              std::uint64_t bytes) {
  std::uint64_t done = dram_done;
  if (spec_.bytes_per_cycle > 0) {
    std::uint64_t& free = link_free_[link_of_[r]];
    const std::uint64_t start = std::max(free, at_dram);
    free = start + static_cast<std::uint64_t>(
                       std::ceil(static_cast<double>(bytes) / spec_.bytes_per_cycle - 1e-9));
    done = std::max(done, free);
  }
  return done + spec_.latency_cycles;
}

Interconnect::Interconnect(sc_core::sc_module_name n, const InterconnectSpec& s,
                           std::vector<std::uint32_t> link_of)
    : sc_module(n), in("in"), out("out"), spec_(s), links_(s, std::move(link_of)),
      to_dram_("to_dram") {
  in.register_nb_transport_fw(this, &Interconnect::nb_transport_fw);
  out.register_nb_transport_bw(this, &Interconnect::nb_transport_bw);
  SC_THREAD(forward);
}

tlm::tlm_sync_enum Interconnect::nb_transport_fw(int r, tlm::tlm_generic_payload& t,
                                                 tlm::tlm_phase& phase, sc_core::sc_time& delay) {
  if (phase != tlm::BEGIN_REQ || delay != sc_core::SC_ZERO_TIME)
    throw Error("interconnect: requests are BEGIN_REQ without an annotated delay");
  if (static_cast<std::size_t>(r) >= links_.requesters())
    throw Error("interconnect: requester " + std::to_string(r) + " has no link");
  flight_[&t] = {r, sim_cycle() + spec_.latency_cycles};
  // With no latency, a delta notification, not an immediate one: an immediate notification is
  // lost when the forwarding thread is not yet waiting (the requests of the first cycle, issued
  // before it first ran, then never reached the DRAM and the run stuck).
  to_dram_.notify(t, cycles(spec_.latency_cycles));
  phase = tlm::END_REQ;
  return tlm::TLM_UPDATED;
}

void Interconnect::forward() {
  for (;;) {
    sc_core::wait(to_dram_.get_event());
    while (tlm::tlm_generic_payload* t = to_dram_.get_next_transaction()) {
      tlm::tlm_phase phase = tlm::BEGIN_REQ;
      sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
      const tlm::tlm_sync_enum s = out[flight_.at(t).requester]->nb_transport_fw(*t, phase, delay);
      if (s != tlm::TLM_UPDATED || phase != tlm::END_REQ)
        throw Error("interconnect: the DRAM controller did not accept a request at once");
    }
  }
}

tlm::tlm_sync_enum Interconnect::nb_transport_bw(int, tlm::tlm_generic_payload& t,
                                                 tlm::tlm_phase& phase, sc_core::sc_time& delay) {
  if (phase != tlm::BEGIN_RESP) throw Error("interconnect: unexpected phase from the DRAM");
  const InFlight f = flight_.at(&t);
  flight_.erase(&t);
  const std::uint64_t dram_done =
      cycle_of(sc_core::sc_time_stamp() + delay);
  // A DramRequest's byte count may exceed a TLM length's 32 bits.
  const auto* r = dynamic_cast<const DramRequest*>(&t);
  const std::uint64_t bytes = r ? r->bytes : t.get_data_length();
  const std::uint64_t done =
      links_.done(static_cast<std::size_t>(f.requester), f.at_dram, dram_done, bytes);
  tlm::tlm_phase up = tlm::BEGIN_RESP;
  sc_core::sc_time up_delay = cycles(done) - sc_core::sc_time_stamp();
  in[f.requester]->nb_transport_bw(t, up, up_delay);
  return tlm::TLM_COMPLETED;
}

}  // namespace quasar::arch
