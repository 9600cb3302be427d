#include "arch/dram/dram_controller.hpp"

#include <algorithm>
#include <cmath>

#include "numerics/error.hpp"

namespace quasar::arch {
namespace {

std::uint64_t now_cycle() {
  // Whole cycles: the controller serves 1 ps after a cycle boundary, which this rounds away.
  return static_cast<std::uint64_t>(sc_core::sc_time_stamp() / sc_core::sc_time(1, sc_core::SC_NS));
}

}  // namespace

DramController::DramController(sc_core::sc_module_name n, const DramSpec& d, double clock_mhz,
                               std::uint32_t requesters)
    : sc_module(n), timing_(d), clock_mhz_(clock_mhz), requesters_(std::max(requesters, 1u)) {
  SC_THREAD(serve);
}

std::uint64_t DramController::cycle_to_ps(std::uint64_t c) const {
  return static_cast<std::uint64_t>(std::llround(static_cast<long double>(c) * 1e6L / clock_mhz_));
}

std::uint64_t DramController::ps_to_cycle(std::uint64_t p) const {
  // The first cycle boundary at or after p (a boundary within 1e-6 ps counts as reached).
  const long double c = static_cast<long double>(p) * clock_mhz_ / 1e6L;
  return static_cast<std::uint64_t>(std::ceil(c - 1e-9L));
}

void DramController::submit(DramRequest& r) {
  if (r.requester >= requesters_)
    throw Error("dram controller: requester " + std::to_string(r.requester) + " of " +
                std::to_string(requesters_));
  r.resolved = false;
  pending_.push_back(&r);
  arrived_.notify(sc_core::sc_time(1, sc_core::SC_PS));
}

void DramController::wait_done(DramRequest& r) {
  while (!r.complete(now_cycle())) sc_core::wait(r.done);
}

void DramController::serve() {
  for (;;) {
    sc_core::wait(arrived_);
    const std::uint64_t cycle = now_cycle();
    // Round-robin over requesters, then submission order (stable sort keeps it).
    const std::uint32_t first = rr_first_, n = requesters_;
    std::stable_sort(pending_.begin(), pending_.end(),
                     [first, n](const DramRequest* a, const DramRequest* b) {
                       return (a->requester + n - first) % n < (b->requester + n - first) % n;
                     });
    rr_first_ = (rr_first_ + 1) % n;
    const std::uint64_t at = cycle_to_ps(cycle);
    for (DramRequest* r : pending_) {
      const std::uint64_t end = timing_.serve(at, r->bytes, r->dir);
      r->done_cycle = std::max(cycle + 1, ps_to_cycle(end));
      r->resolved = true;
      r->done.notify(sc_core::sc_time(static_cast<double>(r->done_cycle), sc_core::SC_NS) -
                     sc_core::sc_time_stamp());
    }
    pending_.clear();
  }
}

}  // namespace quasar::arch
