// The register-level weight-stationary array model (units::SystolicWsArray) that the cycle mode
// ticks: PE-cycles per second with data (data-bearing runs, the RTL-equivalence tests) and
// timing-only (valid bits only: the accelerator's cycle mode). Results: docs/performance.md.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "units/systolic_ws.hpp"

namespace {

void tick_array(benchmark::State& state, bool timing_only) {
  const int n = static_cast<int>(state.range(0));
  quasar::units::SystolicWsArray a(n, n);
  a.timing_only(timing_only);
  quasar::units::SystolicWsInputs in;
  in.w_in.assign(static_cast<std::size_t>(n), 3);
  in.x_in.assign(static_cast<std::size_t>(n), -5);
  in.psum_in.assign(static_cast<std::size_t>(n), 7);
  in.x_valid = true;
  std::uint64_t valid = 0;
  for (auto _ : state) {
    a.tick(in);
    valid += a.y_valid() ? 1 : 0;
  }
  benchmark::DoNotOptimize(valid);
  state.counters["PE_cycles_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * n * n, benchmark::Counter::kIsRate);
}

void BM_TickData(benchmark::State& s) { tick_array(s, false); }
void BM_TickTimingOnly(benchmark::State& s) { tick_array(s, true); }

BENCHMARK(BM_TickData)->Arg(8)->Arg(32)->Arg(128);
BENCHMARK(BM_TickTimingOnly)->Arg(8)->Arg(32)->Arg(128);

}  // namespace

BENCHMARK_MAIN();
