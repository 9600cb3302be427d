// The accelerator model (SystemC): a controller that walks the tile command stream of every
// layer, a DMA that prefetches each tile's operands into the (double-buffered) buffers over a
// DRAM read channel, a weight-stationary array that loads, streams and drains each tile, and
// edge units (rescale, epilogue) that take each drained tile and write finished outputs back
// over a DRAM write channel.
//
// Two fidelities with the same results: `fast` advances simulated time by whole phases (the
// array's closed-form load/stream/drain cycles, units::systolic_ws_timing); `cycle` runs the
// array as a clocked process that ticks the register-level array model (units::
// SystolicWsArray, proven equal to the Verilog) every cycle and ends each phase when the model
// says so. Scheduling (DMA, buffers, edge) is one plain-C++ policy shared by both, in cycles.
//
// One simulation per process (SystemC 2.3 cannot elaborate twice): simulate() builds the
// modules, runs to the end and returns the statistics.
#pragma once

#include <functional>
#include <vector>

#include "arch/arch_spec.hpp"
#include "arch/workload.hpp"

namespace quasar::arch {

// Runs `work` on `spec` with each fidelity in `modes` (all elaborated side by side in one
// simulation), returning one RunStats per mode in that order.
// `progress`, when set, is called with the fraction of tiles done (0..1], at most about four
// times a second of wall time, and once at the end.
using Progress = std::function<void(double fraction_done)>;
std::vector<RunStats> simulate(const ArchSpec& spec, const std::vector<LayerWork>& work,
                               const std::vector<Fidelity>& modes, const Progress& progress = {});

// Independent runs, possibly of different designs, elaborated side by side in one simulation
// (the only way to run several in one process). The pointers must outlive the call.
struct SimJob {
  const ArchSpec* spec = nullptr;
  const std::vector<LayerWork>* work = nullptr;
  Fidelity mode = Fidelity::fast;
};
std::vector<RunStats> simulate_jobs(const std::vector<SimJob>& jobs, const Progress& progress = {});

}  // namespace quasar::arch
