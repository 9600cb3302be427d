#include "arch/dram/dram_controller.hpp"

#include <algorithm>
#include <cmath>

#include "arch/sim_clock.hpp"
#include "numerics/error.hpp"

namespace quasar::arch {
namespace {


// Timing-only payloads point here: the controller never reads or writes their data.
unsigned char g_no_data = 0;

}  // namespace

// ---- DramPort (initiator) ----------------------------------------------------------------------

DramPort::DramPort(const char* name) : socket(name) {
  socket.register_nb_transport_bw(this, &DramPort::nb_transport_bw);
}

void DramPort::submit(DramRequest& r) {
  if (r.bytes == 0) throw Error("dram port: a transaction of 0 bytes");
  r.resolved = false;
  r.waiting = false;
  r.set_command(r.dir == DramDir::read ? tlm::TLM_READ_COMMAND : tlm::TLM_WRITE_COMMAND);
  r.set_address(0);
  r.set_data_ptr(&g_no_data);
  // TLM lengths are 32-bit: a larger transfer is still one transaction of r.bytes.
  r.set_data_length(static_cast<unsigned>(std::min<std::uint64_t>(r.bytes, 0xffffffffu)));
  r.set_streaming_width(r.get_data_length());
  r.set_byte_enable_ptr(nullptr);
  r.set_dmi_allowed(false);
  r.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  tlm::tlm_phase phase = tlm::BEGIN_REQ;
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  const tlm::tlm_sync_enum s = socket->nb_transport_fw(r, phase, delay);
  if (s != tlm::TLM_UPDATED || phase != tlm::END_REQ)
    throw Error("dram port: the target did not accept the request at once");
}

void DramPort::wait_done(DramRequest& r) {
  if (!r.resolved) {
    // The controller has not answered yet (it serves 1 ps into the cycle): it notifies `done`
    // at the completion time once it knows it.
    r.waiting = true;
    while (!r.resolved) sc_core::wait(r.done);
  }
  // Answered: wake at the cycle boundary the event would have fired at.
  const sc_core::sc_time at = cycles(r.done_cycle);
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  if (at > now) sc_core::wait(at - now);
}

tlm::tlm_sync_enum DramPort::nb_transport_bw(tlm::tlm_generic_payload& t, tlm::tlm_phase& phase,
                                             sc_core::sc_time& delay) {
  if (phase != tlm::BEGIN_RESP) throw Error("dram port: unexpected phase from the target");
  // Every payload this port sends is a DramRequest (submit takes nothing else).
  auto& r = static_cast<DramRequest&>(t);
  const sc_core::sc_time at = sc_core::sc_time_stamp() + delay;
  r.done_cycle = cycle_of(at);
  r.resolved = true;
  if (r.waiting) r.done.notify(delay);
  return tlm::TLM_COMPLETED;
}

// ---- DramController (target) -------------------------------------------------------------------

DramController::DramController(sc_core::sc_module_name n, const DramSpec& d, double clock_mhz)
    : sc_module(n), socket("socket"), timing_(d), clock_(clock_mhz) {
  socket.register_nb_transport_fw(this, &DramController::nb_transport_fw);
  // A method, not a thread: it never waits inside, and a method's activation costs no
  // coroutine switch (the same results; the gain is within this machine's noise).
  SC_METHOD(serve);
  sensitive << arrived_;
  dont_initialize();
}

DramCarry DramController::carry() const {
  DramCarry c;
  timing_.carry_into(c);
  c.rr_first = rr_first_;
  return c;
}

void DramController::resume(const DramCarry& c) {
  timing_.resume(c);
  rr_first_ = c.rr_first;
}

tlm::tlm_sync_enum DramController::nb_transport_fw(int requester, tlm::tlm_generic_payload& t,
                                                   tlm::tlm_phase& phase,
                                                   sc_core::sc_time& delay) {
  if (phase != tlm::BEGIN_REQ || delay != sc_core::SC_ZERO_TIME)
    throw Error("dram controller: requests are BEGIN_REQ without an annotated delay");
  pending_.push_back({requester, &t});
  arrived_.notify(one_ps());
  phase = tlm::END_REQ;
  return tlm::TLM_UPDATED;
}

void DramController::serve() {
  const std::uint64_t cycle = sim_cycle();
  // Round-robin over requesters (socket indices), then arrival order (stable sort keeps it).
  const unsigned n = std::max(1u, socket.size());
  const unsigned first = rr_first_;
  round_robin_order(pending_, first, n);
  rr_first_ = (rr_first_ + 1) % n;
  const std::uint64_t at = clock_.cycle_to_ps(cycle);
  for (const Pending& p : pending_) {
    // DramPort sends DramRequests, whose byte count may exceed a TLM length's 32 bits.
    const auto* r = dynamic_cast<const DramRequest*>(p.trans);
    const std::uint64_t bytes = r ? r->bytes : p.trans->get_data_length();
    const DramDir dir = p.trans->is_write() ? DramDir::write : DramDir::read;
    const std::uint64_t end = timing_.serve(at, bytes, dir);
    const std::uint64_t done = clock_.done_cycle(cycle, end);
    p.trans->set_response_status(tlm::TLM_OK_RESPONSE);
    tlm::tlm_phase phase = tlm::BEGIN_RESP;
    sc_core::sc_time delay = cycles(done) - sc_core::sc_time_stamp();
    socket[p.requester]->nb_transport_bw(*p.trans, phase, delay);
  }
  pending_.clear();
}

}  // namespace quasar::arch
