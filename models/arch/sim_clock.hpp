// The model's clock (every module's convention: 1 ns of simulated time is one accelerator
// cycle), in integer time units. Building an sc_time from a double and a unit, and dividing
// sc_times as doubles, took a sixth of a fast-mode run's host time (perf, one decode step);
// these helpers build the cycle once and work on sc_time's integer value.
#pragma once

#include <systemc>

#include <cstdint>

namespace quasar::arch {

inline const sc_core::sc_time& cycle_time() {
  static const sc_core::sc_time t(1, sc_core::SC_NS);
  return t;
}
inline const sc_core::sc_time& one_ps() {
  static const sc_core::sc_time t(1, sc_core::SC_PS);
  return t;
}
// The cycle a time falls in (a time 1 ps past a boundary is still that cycle).
inline std::uint64_t cycle_of(const sc_core::sc_time& t) {
  return t.value() / cycle_time().value();
}
// n cycles as a duration.
inline sc_core::sc_time cycles(std::uint64_t n) {
  return sc_core::sc_time::from_value(n * cycle_time().value());
}
inline std::uint64_t sim_cycle() { return cycle_of(sc_core::sc_time_stamp()); }
// Called from a thread process: returns at cycle t (at once when t has passed).
inline void wait_until_cycle(std::uint64_t t) {
  const std::uint64_t n = sim_cycle();
  if (t > n) sc_core::wait(cycles(t - n));
}

}  // namespace quasar::arch
